import Foundation
import Glibc
import TprofCapture
import TprofFinish
import TprofRecorder
import TprofReport

/// tprof-top's wait loop over the recorder's session: polls the keys, the signals and the refresh timer; at each
/// refresh reads the samples committed since the last one from the database being written, names their addresses
/// live, and shows the view.
final class TopMonitor: RecordingMonitor {
    private let interval: UInt64
    private let refreshLimit: Int?
    private let display: TopDisplay
    private var settings = ViewSettings()
    private var totals = TopTotals(cpus: [])
    /// The totals the view shows while paused (taken when the pause began); nil shows the live ones. A copy only
    /// while paused: a refresh must not copy totals that grow with what ran.
    private var frozenTotals: TopTotals?
    /// The facts of the last refresh made while not paused.
    private var shownFacts = IntervalFacts(events: [], asked: "", elapsed: 0, seconds: 0, samples: 0, lost: 0)

    var watchesResize: Bool { display.isInteractive }

    init(interval: Double, refreshes: Int?, display: TopDisplay) {
        self.interval = UInt64(interval * 1e9)
        refreshLimit = refreshes
        self.display = display
    }

    func monitor(_ recording: LiveRecording) -> RecordingEnd {
        // The terminal is given back before the recorder says anything on stderr, whatever the way out.
        defer { display.close() }
        do {
            return try watch(recording)
        } catch {
            display.close()
            return recording.fail("\(error)")
        }
    }

    private func watch(_ recording: LiveRecording) throws -> RecordingEnd {
        let database = try ReportDatabase(path: recording.path)
        let tail = try SampleTail(database: database)
        let symbols = try LiveSymbols(database: database.connection)
        totals = TopTotals(cpus: recording.cpus)
        try display.open()
        var refreshes = 0
        var last = (time: recording.startMonotonic, counters: CaptureCounters())
        var nextRefresh = recording.startMonotonic + interval
        shownFacts = IntervalFacts(events: recording.events.map(\.name), asked: Self.asked(recording.rate),
                                   elapsed: 0, seconds: 0, samples: 0, lost: 0)
        if display.isInteractive { draw() }
        while true {
            let now = monotonicNanoseconds()
            if now >= nextRefresh {
                let counters = recording.counters
                try refresh(tail: tail, symbols: symbols)
                // Wrapping: the kernel's lost counts are any u64, saturated in the sums.
                let lost = (counters.dropped &- last.counters.dropped) &+ (counters.kernelDropped
                    &- last.counters.kernelDropped)
                let facts = IntervalFacts(
                    events: recording.events.map(\.name), asked: Self.asked(recording.rate),
                    elapsed: Double(now - recording.startMonotonic) / 1e9, seconds: Double(now - last.time) / 1e9,
                    samples: counters.read &- last.counters.read, lost: lost)
                last = (now, counters)
                if !settings.paused { shownFacts = facts }
                draw()
                refreshes += 1
                if let refreshLimit, refreshes >= refreshLimit {
                    display.close()
                    return recording.stop(reason: "\(refreshLimit) refreshes shown")
                }
                // A refresh that came late (a stopped terminal, a busy machine) does not make the next ones hurry.
                nextRefresh = max(nextRefresh + interval, now + interval / 2)
            }
            var pollSet = [pollfd(fd: recording.signalDescriptor, events: Int16(POLLIN), revents: 0)]
            if let keys = display.keyDescriptor { pollSet.append(pollfd(fd: keys, events: Int16(POLLIN), revents: 0)) }
            let wait = (nextRefresh - min(nextRefresh, monotonicNanoseconds()) + 999_999) / 1_000_000
            _ = retryingEINTR { poll(&pollSet, nfds_t(pollSet.count), Int32(max(1, wait))) }
            while let signal = recording.nextSignal() {
                if signal == SIGWINCH {
                    display.resize()
                    draw()
                    continue
                }
                display.close()
                return recording.stop(signal: signal)
            }
            if pollSet.count > 1, pollSet[1].revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
                display.close()
                return recording.stop(reason: "the terminal went away")
            }
            for key in display.keys() {
                if key == "q" {
                    display.close()
                    return recording.stop(reason: "quit")
                }
                if key == "z" {
                    totals.clear()
                    frozenTotals?.clear()
                } else if !settings.apply(key) {
                    continue
                }
                if settings.paused != (frozenTotals != nil) { frozenTotals = settings.paused ? totals : nil }
                draw()
            }
            if let end = recording.ended() {
                display.close()
                return end
            }
        }
    }

    /// Adds the samples committed since the last refresh, the first event's, named against the mappings of the
    /// moment.
    private func refresh(tail: SampleTail, symbols: LiveSymbols) throws {
        try symbols.update()
        totals.beginInterval()
        for group in try tail.next() where group.event == 0 {
            let frame = symbols.frame(pid: group.pid, pc: group.pc, kernelMode: group.kernelMode)
            let library = frame.dso?.path ?? "[unknown]"
            totals.add(SampleKey(pid: group.pid, command: symbols.command(of: group.pid) ?? "[\(group.pid)]",
                                 kernel: group.kernelMode, symbol: frame.name, library: library),
                       cpu: group.cpu, samples: group.samples)
        }
    }

    private func draw() {
        let facts = shownFacts
        display.show { width, rowLimit in
            TopText.lines(facts, totals: self.frozenTotals ?? self.totals, settings: self.settings, width: width, rowLimit: rowLimit,
                          interactive: self.display.isInteractive)
        }
    }

    private static func asked(_ rate: SamplingRate) -> String {
        switch rate {
        case .frequency(let hz): return "\(hz) Hz"
        case .period(let period): return "every \(period) events"
        }
    }
}
