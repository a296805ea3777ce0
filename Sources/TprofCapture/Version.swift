/// The version of tprof: recorded in every database and printed by every tool's `--version`.
public let tprofVersion = "0.1.0"
