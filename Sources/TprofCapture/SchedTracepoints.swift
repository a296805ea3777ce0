import Foundation
import Glibc

/// What an off-CPU event reports (`tprof-record --off-cpu`): the two scheduler tracepoints, opened as sampling events
/// of period 1, and where their raw fields lie.
public enum OffCPURole: Equatable, Sendable {
    /// `sched:sched_switch`: each sample is a thread switching out, taken in that thread with its call chain; the
    /// event also asks for the kernel's switch records (`attr.context_switch`), which say when a thread comes back.
    case switchOut(stateOffset: Int)
    /// `sched:sched_waking`: taken in the waker, with the woken thread's id in the raw data.
    case waking(pidOffset: Int)

    /// What the event records, as its `events.note` says.
    public var note: String {
        switch self {
        case .switchOut:
            return "sched:sched_switch, every switch-out; the period of each is its time off CPU (off_cpu)"
        case .waking: return "sched:sched_waking, every wake-up (off_cpu.waker_pid, waker_tid)"
        }
    }
}

/// A thread's state as it left its CPU, from `sched_switch`'s `prev_state`.
public enum OffCPUState: String, Sendable, CaseIterable {
    /// Waiting for something (TASK_INTERRUPTIBLE, or an idle kernel thread): a sleep, a pipe, a futex.
    case sleeping
    /// TASK_UNINTERRUPTIBLE: usually disk I/O.
    case uninterruptible
    /// Still runnable: another task took the CPU (CPU contention).
    case preempted
    /// Stopped, traced, exiting or parked.
    case other

    /// The state `prev_state` encodes: the kernel reports a preempted thread as 0 or with TASK_REPORT_MAX (0x100)
    /// set, and a blocked one as one bit of its report mask (S 0x1, D 0x2, ..., I 0x80).
    init(prevState: UInt64) {
        switch prevState & 0xff {
        case 0: self = .preempted
        case 0x1, 0x80: self = .sleeping
        case 0x2: self = .uninterruptible
        default: self = .other
        }
    }
}

/// The scheduler tracepoints off-CPU recording opens, read from tracefs, which is mounted when it is not.
public enum SchedTracepoints {
    /// The name the off-CPU samples are stored under, and the one of the wake-up event.
    public static let offCPUName = "off-cpu"
    public static let wakerName = "off-cpu-waker"
    /// PERF_TYPE_TRACEPOINT.
    static let tracepointType: UInt32 = 2

    /// Why the tracepoints cannot be used.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    /// The two events of `--off-cpu`, switch-outs first; mounts tracefs at /sys/kernel/tracing when no tracefs
    /// holds the scheduler's events (as root), and unmounts it once their ids and fields are read: the events are
    /// opened by id, and the machine is left as it was.
    public static func events() throws(Unavailable) -> [EventSpec] {
        let (root, mounted) = try tracefs()
        defer { if mounted { _ = umount2(root, 0) } }
        func field(_ event: String, _ name: String) throws(Unavailable) -> (id: UInt64, offset: Int) {
            let directory = root + "/events/sched/" + event
            guard let idText = readSmallFile(directory + "/id"),
                  let id = UInt64(idText.trimmingCharacters(in: .whitespacesAndNewlines)),
                  let format = readSmallFile(directory + "/format"),
                  let offset = offset(of: name, in: format) else {
                throw Unavailable(description: "cannot read the tracepoint sched:\(event) in \(directory)")
            }
            return (id, offset)
        }
        let switchOut = try field("sched_switch", "prev_state")
        let waking = try field("sched_waking", "pid")
        return [
            EventSpec(name: offCPUName, baseName: offCPUName, type: tracepointType, config: switchOut.id,
                      excludeUser: false, excludeKernel: false, offCPU: .switchOut(stateOffset: switchOut.offset)),
            EventSpec(name: wakerName, baseName: wakerName, type: tracepointType, config: waking.id,
                      excludeUser: false, excludeKernel: false, offCPU: .waking(pidOffset: waking.offset)),
        ]
    }

    /// The directory of a tracefs with the scheduler's events, mounting one when none is, and whether it did.
    private static func tracefs() throws(Unavailable) -> (root: String, mounted: Bool) {
        let candidates = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]
        if let found = candidates.first(where: { access($0 + "/events/sched/sched_switch/id", R_OK) == 0 }) {
            return (found, false)
        }
        // Mounted, but closed to this user (tracefs is root's, mode 0700).
        if let closed = candidates.first(where: { access($0 + "/events", F_OK) != 0 && errno == EACCES }) {
            throw Unavailable(description: "--off-cpu needs the scheduler tracepoints in \(closed), which this user "
                + "cannot read: record as root")
        }
        guard mount("nodev", candidates[0], "tracefs", 0, nil) == 0 else {
            let error = SystemError("mount")
            throw Unavailable(description: "--off-cpu needs the scheduler tracepoints, and no tracefs is mounted: "
                + "mounting one on \(candidates[0]) failed (\(error.reason)); as root run "
                + "'mount -t tracefs nodev \(candidates[0])'")
        }
        guard access(candidates[0] + "/events/sched/sched_switch/id", R_OK) == 0 else {
            _ = umount2(candidates[0], 0)
            throw Unavailable(description: "--off-cpu needs the tracepoint sched:sched_switch, which this kernel's "
                + "tracefs (\(candidates[0])) does not have")
        }
        return (candidates[0], true)
    }

    /// The byte offset of `field` in a tracepoint's `format` text (`field:long prev_state;\toffset:32;...`).
    static func offset(of field: String, in format: String) -> Int? {
        for line in format.split(separator: "\n") where line.contains("field:") {
            let parts = line.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count >= 2, let declaration = parts.first,
                  declaration.split(separator: " ").last.map({ $0.split(separator: "[")[0] }) == Substring(field),
                  parts[1].hasPrefix("offset:") else { continue }
            return Int(parts[1].dropFirst("offset:".count))
        }
        return nil
    }
}
