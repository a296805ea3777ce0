import Foundation
import TprofCapture
import TprofStore
import TprofFinish

/// The banner printed when recording ends, like perf's, with a loud warning when anything was lost.
struct Summary {
    var output: BytePath
    var fileSize: Int64
    var statistics: [BufferList.CPUStatistics]
    var events: [EventSpec]
    var eventTotals: [EventTotals]
    var samplesPerEvent: [UInt64]
    var rate: SamplingRate
    var duration: Double
    var symbols: SymbolOutcome?
    var unwinding: StackUnwinding.Outcome?

    func print(to stderr: StandardError) {
        let total = statistics.reduce(CaptureCounters()) { $0 + $1.counters }
        let written = statistics.reduce(UInt64(0)) { $0 + $1.written }
        let unwritten = statistics.reduce(UInt64(0)) { $0 + $1.unwritten }
        stderr.line("[ tprof-record: wrote \(written) samples to \(output) ("
            + String(format: "%.3f MB) in %.2f s ]", Double(fileSize) / 1e6, duration))
        for (index, event) in events.enumerated() {
            let samples = index < samplesPerEvent.count ? samplesPerEvent[index] : 0
            if event.offCPU != nil {
                // Every switch and wake-up is recorded, not a sample of them: the kernel's count says how many.
                let count = index < eventTotals.count ? eventTotals[index].count : 0
                let what = event.name == SchedTracepoints.offCPUName ? "switch-outs with call chains" : "wake-ups"
                stderr.line("[ tprof-record: event \(event.name): \(count) \(what) ]")
                continue
            }
            var achieved = "n/a"
            if index < eventTotals.count, eventTotals[index].timeRunning > 0 {
                achieved = String(format: "%.1f Hz", Double(samples) / (Double(eventTotals[index].timeRunning) / 1e9))
            }
            let requested: String
            switch rate {
            case .frequency(let hz): requested = "\(hz) Hz requested"
            case .period(let period): requested = "period \(period)"
            }
            stderr.line("[ tprof-record: event \(event.name): \(samples) samples, \(requested), \(achieved) achieved ]")
        }
        if let symbols {
            stderr.line("[ tprof-record: resolved \(symbols.addresses) addresses (\(symbols.withSymbol) to symbols, "
                + "\(symbols.libraryOnly) to a library only, \(symbols.unknown) unknown) in "
                + String(format: "%.2f s ]", symbols.seconds))
        }
        if let unwinding {
            let complete = unwinding.outcomes["complete"] ?? 0
            stderr.line("[ tprof-record: unwound \(unwinding.samples) user stacks, \(complete) to their root ]")
        }
        let dropped = total.dropped + unwritten
        if dropped > 0 || total.kernelDropped > 0 || total.throttle > 0 || total.sidebandDropped > 0
            || total.malformedRecords > 0 {
            var parts: [String] = []
            if total.kernelDropped > 0 { parts.append("\(total.kernelDropped) lost by the kernel (ring buffer full)") }
            if total.dropbufSample > 0 {
                parts.append("\(total.dropbufSample) dropped in \(total.dropbuf) buffers (writer behind)")
            }
            if total.overflow > 0 { parts.append("\(total.overflow) overflowed (no free buffer)") }
            if unwritten > 0 { parts.append("\(unwritten) not written (database error)") }
            if total.throttle > 0 { parts.append("sampling throttled \(total.throttle) times by the kernel") }
            if total.sidebandDropped > 0 { parts.append("\(total.sidebandDropped) side-band records dropped") }
            if total.malformedRecords > 0 {
                parts.append("\(total.malformedRecords) malformed ring records (\(total.malformedBytes) bytes skipped)")
            }
            let advice = total.dropped + total.kernelDropped + total.throttle > 0
                ? "; try a lower -F, a larger -m or --buffer-limit" : ""
            stderr.line("tprof-record: WARNING: samples were lost: " + parts.joined(separator: "; ")
                + ". See 'tprof-report --stat \(output)'\(advice).")
        }
    }
}
