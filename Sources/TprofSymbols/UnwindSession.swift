import CElf
import Foundation
import Glibc
import TprofCapture

/// Unwinds user stacks copied with samples (`--call-graph dwarf`) with elfutils' libdwfl and the CFI (.eh_frame,
/// .debug_frame) of the mapped files. One session per address space: its modules reported once, each sample's
/// registers and stack swapped in.
public final class UnwindSession {
    public let pid: Int32
    private var dwfl: OpaquePointer?
    private var attached = false
    /// The current sample's registers in DWARF order (rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip).
    var dwarfRegisters = [Dwarf_Word](repeating: 0, count: 17)
    var stack = UnsafeRawBufferPointer(start: nil, count: 0)
    var stackPointer: UInt64 = 0
    var frames: [UInt64] = []
    var maxFrames = 127

    private static let callbacks: UnsafeMutablePointer<Dwfl_Callbacks> = {
        let pointer = UnsafeMutablePointer<Dwfl_Callbacks>.allocate(capacity: 1)
        pointer.initialize(to: Dwfl_Callbacks(
            find_elf: dwfl_build_id_find_elf, find_debuginfo: dwfl_standard_find_debuginfo,
            section_address: dwfl_offline_section_address, debuginfo_path: nil))
        return pointer
    }()

    private static let threadCallbacks: UnsafeMutablePointer<Dwfl_Thread_Callbacks> = {
        let pointer = UnsafeMutablePointer<Dwfl_Thread_Callbacks>.allocate(capacity: 1)
        var callbacks = Dwfl_Thread_Callbacks()
        callbacks.next_thread = { _, arg, threadArg in
            guard let arg, let threadArg, threadArg.pointee == nil else { return 0 }
            threadArg.pointee = arg
            return Unmanaged<UnwindSession>.fromOpaque(arg).takeUnretainedValue().pid
        }
        callbacks.memory_read = { _, address, result, arg in
            guard let arg, let result else { return false }
            let session = Unmanaged<UnwindSession>.fromOpaque(arg).takeUnretainedValue()
            guard let offset = session.stackOffset(of: address) else { return false }
            result.pointee = session.stack.loadUnaligned(fromByteOffset: offset, as: Dwarf_Word.self)
            return true
        }
        callbacks.set_initial_registers = { thread, arg in
            guard let arg, let thread else { return false }
            let session = Unmanaged<UnwindSession>.fromOpaque(arg).takeUnretainedValue()
            return session.dwarfRegisters.withUnsafeBufferPointer { registers in
                guard let base = registers.baseAddress else { return false }
                return dwfl_thread_state_registers(thread, 0, 17, base)
            }
        }
        pointer.initialize(to: callbacks)
        return pointer
    }()

    public init(pid: Int32, mappings: [MappingRecord]) {
        self.pid = pid
        dwfl = dwfl_begin(Self.callbacks)
        guard let dwfl else { return }
        dwfl_report_begin(dwfl)
        var reported = Set<String>()
        for mapping in mappings.sorted(by: { $0.start < $1.start }) {
            var path = mapping.filename
            if path.hasSuffix(" (deleted)") { path = String(path.dropLast(" (deleted)".count)) }
            // Only a regular file: libdwfl's own open of a FIFO put in the binary's place would never return.
            guard !reported.contains(path), let fd = openRegularFile(path) else { continue }
            close(fd)
            reported.insert(path)
            _ = dwfl_report_elf(dwfl, (path as NSString).lastPathComponent, path, -1,
                                Dwarf_Addr(mapping.start &- mapping.pageOffset), false)
        }
        dwfl_report_end(dwfl, nil, nil)
    }

    deinit {
        if let dwfl { dwfl_end(dwfl) }
    }

    /// Where the 8 bytes at `address` lie in the stack copy, or nil when they are not all inside it. The stack
    /// pointer and the addresses libdwfl asks for come from the profiled program: any UInt64 at all.
    func stackOffset(of address: UInt64) -> Int? {
        guard address >= stackPointer else { return nil }
        let distance = address - stackPointer
        guard stack.count >= 8, distance <= UInt64(stack.count - 8) else { return nil }
        return Int(distance)
    }

    /// Unwinds one sample: user frames from its pc outwards, and why unwinding stopped early, if it did.
    public func unwind(registers: UnsafeRawBufferPointer, stack: UnsafeRawBufferPointer,
                maxFrames: Int) -> (frames: [UInt64], failure: String?) {
        guard let dwfl else { return ([], "libdwfl could not start") }
        guard registers.count >= 17 * 8 else { return ([], "no user registers") }
        // perf's order: ax bx cx dx si di bp sp ip r8-r15. DWARF's: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip.
        let perf = (0..<17).map { registers.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self) }
        dwarfRegisters = [perf[0], perf[3], perf[2], perf[1], perf[4], perf[5], perf[6], perf[7]]
            + Array(perf[9...16]) + [perf[8]]
        stackPointer = perf[7]
        self.stack = stack
        self.maxFrames = maxFrames
        frames = []
        let context = Unmanaged.passUnretained(self).toOpaque()
        if !attached {
            guard dwfl_attach_state(dwfl, nil, pid, Self.threadCallbacks, context) else {
                return ([perf[8]], "cannot attach: " + String(cString: dwfl_errmsg(-1)))
            }
            attached = true
        }
        let result = dwfl_getthread_frames(dwfl, pid, { state, arg in
            guard let arg, let state else { return Int32(DWARF_CB_ABORT) }
            let session = Unmanaged<UnwindSession>.fromOpaque(arg).takeUnretainedValue()
            var pc: Dwarf_Addr = 0
            var activation = false
            guard dwfl_frame_pc(state, &pc, &activation) else { return Int32(DWARF_CB_ABORT) }
            session.frames.append(pc)
            return Int32(session.frames.count >= session.maxFrames ? DWARF_CB_ABORT : DWARF_CB_OK)
        }, context)
        if frames.isEmpty { frames = [perf[8]] }
        if result != 0 && frames.count < maxFrames {
            let message = String(cString: dwfl_errmsg(-1))
            // Reaching the outermost frame ends cleanly; anything else left the stack partial.
            return (frames, message.isEmpty ? "unwinding stopped" : message)
        }
        return (frames, nil)
    }
}
