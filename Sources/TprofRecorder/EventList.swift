import Foundation
import TprofCapture

/// The events `--list-events` prints: each catalog event, tried on this machine.
public enum EventList {
    /// One line per event: name, aliases, whether this machine can open it, and what it counts.
    public static func lines() -> [String] {
        var lines = ["Events this machine can open (tried on this process, user mode):"]
        for entry in EventSpec.catalog {
            let event = EventSpec(name: entry.name, baseName: entry.name, type: entry.type, config: entry.config,
                                  excludeUser: false, excludeKernel: false)
            let state: String
            do {
                try PerfEventBackend.probe(event)
                state = "available"
            } catch {
                state = "not available (\(error.reason))"
            }
            let names = ([entry.name] + entry.aliases).joined(separator: ", ")
            lines.append("  " + names.padding(toLength: 34, withPad: " ", startingAt: 0)
                + state.padding(toLength: 42, withPad: " ", startingAt: 0) + entry.about)
        }
        lines.append("Modifiers: NAME:u (user only), NAME:k (kernel only).")
        return lines
    }
}
