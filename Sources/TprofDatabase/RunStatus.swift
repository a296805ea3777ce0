/// Where a run stands, `run.status`; the raw values are the schema's CHECK values.
public enum RunStatus: String, Sendable {
    /// Samples are still being written (or the recorder died before it could say otherwise).
    case recording
    /// The command exited, the duration passed or the processes ended.
    case complete
    /// A stop signal ended the recording.
    case interrupted
    /// Writing or finishing the database failed; `run.status_reason` says why.
    case failed
}

/// What a run profiled, `run.target`; the raw values are the schema's CHECK values.
public enum RunTarget: String, Sendable {
    /// A command tprof-record started.
    case command
    /// Existing processes (`-p`).
    case pid
    /// The whole system (`-a`).
    case system
}
