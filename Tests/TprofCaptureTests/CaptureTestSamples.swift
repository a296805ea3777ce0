import TprofCapture

/// A user sample numbered `n` (its pc and time are `n`), for following samples through the buffers.
func numberedSample(_ n: Int, cpu: Int = 0) -> Sample {
    Sample(time: UInt64(n), pid: 100, tid: 100, cpu: UInt32(cpu), event: 0, mode: .user, pc: UInt64(n), period: 1)
}

extension BufferList {
    /// The statistics of `cpu`.
    func statistics(of cpu: Int) -> BufferList.CPUStatistics? {
        statistics().first { $0.cpu == cpu }
    }
}

extension BufferList.Batch {
    /// The pcs of every sample in the batch, buffer after buffer.
    var samplePCs: [UInt64] { buffers.flatMap { $0.samples.map(\.pc) } }
}
