import Foundation
import CTprofLinux
import Glibc
import TprofCapture

/// The events `--list-events` prints: each catalog event, tried on this machine.
public enum EventList {
    /// One line per event: name, aliases, whether this machine can open it, and what it counts.
    public static func lines() -> [String] {
        var lines = ["Events this machine can open (tried on this process, user mode):"]
        for entry in EventSpec.catalog {
            var attr = perf_event_attr()
            attr.type = entry.type
            attr.size = UInt32(MemoryLayout<perf_event_attr>.size)
            attr.config = entry.config
            attr.disabled = 1
            attr.exclude_kernel = 1
            attr.exclude_hv = 1
            let fd = CTprofLinux_perf_event_open(&attr, 0, -1, -1, UInt(PERF_FLAG_FD_CLOEXEC))
            let state: String
            if fd >= 0 {
                close(fd)
                state = "available"
            } else {
                state = "not available (\(String(cString: strerror(errno))))"
            }
            let names = ([entry.name] + entry.aliases).joined(separator: ", ")
            lines.append("  " + names.padding(toLength: 34, withPad: " ", startingAt: 0)
                + state.padding(toLength: 42, withPad: " ", startingAt: 0) + entry.about)
        }
        lines.append("Modifiers: NAME:u (user only), NAME:k (kernel only).")
        return lines
    }
}
