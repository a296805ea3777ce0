import Foundation
import TprofCapture
import TprofStore

/// The finish phase: the capture stopped, the run's outcome written, symbols resolved, the summary printed.
extension Recorder {
    /// Ends `session` as `end` says and returns tprof-record's exit status.
    func finish(_ session: RecordingSession, end: RecordingEnd) -> Int32 {
        var end = end
        session.backend.stop()
        session.list.close()
        session.writer.finish()
        statusLine?.clear()
        if let failure = session.writer.failure {
            end = RecordingEnd(status: .failed, reason: "writing the database failed: \(failure)", exitCode: 1)
        }
        let stopped = monotonicNanoseconds()
        let statistics = session.list.statistics()
        var finishError: Error?
        do {
            try session.writer.writeCounters()
            try session.database.finish(RunOutcome(
                status: end.status, reason: end.reason, endTimeNs: Int64(Date().timeIntervalSince1970 * 1e9),
                durationNs: Int64(stopped - session.startMonotonic), exitStatus: session.command?.exit?.status,
                exitSignal: session.command?.exit?.signal, eventTotals: session.backend.eventTotals),
                samplesPerEvent: session.writer.samplesPerEvent, resolveSymbols: options.resolvesSymbols ? unwindAndResolveSymbols : { _ in })
        } catch {
            finishError = error
            try? session.database.markFailed(reason: "cannot finish the database: \(error)")
        }
        if end.status == .failed, let reason = end.reason { stderr.line("\(options.toolName): \(reason)") }
        if let finishError {
            stderr.line("\(options.toolName): cannot finish \(options.output): \(finishError)")
            if end.exitCode == 0 { end.exitCode = 1 }
        }
        if let loss = session.output.loss {
            let samples = session.writer.samplesPerEvent.reduce(0, +)
            stderr.line("\(options.toolName): \(loss.message(output: options.output, samples: samples))")
            return end.exitCode == 0 ? 1 : end.exitCode
        }
        if !options.quiet {
            Summary(output: options.output, fileSize: session.database.fileSize, statistics: statistics,
                    events: session.events, eventTotals: session.backend.eventTotals,
                    samplesPerEvent: session.writer.samplesPerEvent, rate: options.rate,
                    duration: Double(stopped - session.startMonotonic) / 1e9, symbols: symbolOutcome,
                    unwinding: unwindOutcome).print(to: stderr)
        }
        return end.exitCode
    }
}
