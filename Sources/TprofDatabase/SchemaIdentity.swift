/// The `application_id` of a tprof database ('tprf'), so other SQLite files are told apart.
public let tprofApplicationID: Int32 = 0x7470_7266

extension EmbeddedSchema {
    /// The schema version this build writes and reads: its last step's.
    public static var version: Int { migrations.last?.version ?? 0 }
}
