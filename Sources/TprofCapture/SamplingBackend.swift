/// A source of samples, in the spirit of NetBSD tprof's `tprof_backend_ops` (estimate frequency, start, stop).
public protocol SamplingBackend: AnyObject {
    /// A short name recorded with the run.
    var name: String { get }
    /// The CPUs the backend samples; one sink is given for each.
    var cpus: [Int] { get }
    /// Samples per second one CPU is expected to deliver, to size buffers (`tbo_estimate_freq`).
    func estimateFrequency() -> UInt64
    /// Starts delivering samples, each CPU's into the sink with that CPU's number.
    func start(sinks: [CPUSampleSink]) throws
    /// Stops sampling; when it returns, every sample read has been added to a sink and every sink flushed.
    func stop()
}
