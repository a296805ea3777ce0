import Glibc
import TprofStore
import TprofCLI

/// The scratch database that holds copied user stacks (`--call-graph dwarf`) until they are unwound.
extension Recorder {
    static let scratchSchema = "scratch"

    /// Attaches a new scratch file beside the output, as `scratchSchema`, with the user stacks table.
    ///
    /// The file gets a name of its own (`.NAME.stacks-XXXXXX`, O_EXCL, no-follow, mode 0600 since it holds raw stack
    /// memory of the profiled program), so it never replaces anything, and it is unlinked as soon as SQLite has it
    /// open: it goes when the connection closes, or when the recorder dies, and no file is ever left behind or
    /// removed by name later. Beside the output rather than in /tmp, because stack copies can be large.
    func attachScratchStacks(_ database: RecordingDatabase) throws {
        guard let (path, fd) = options.output.createSibling(tag: "stacks") else {
            throw ToolFailure("cannot create a scratch file beside \(options.output): "
                + String(cString: strerror(errno)))
        }
        var info = stat()
        let created = fstat(fd, &info) == 0 ? FileIdentity(info) : nil
        // Closed before SQLite opens the file: closing a descriptor drops every POSIX lock the process holds on it.
        close(fd)
        let connection = database.connection
        // Removed only while the name still leads to the file created here.
        defer { if let created, path.status().map(FileIdentity.init) == created { path.unlink() } }
        try connection.attach(path, as: Self.scratchSchema)
        guard connection.isUnmoved(schema: Self.scratchSchema), created != nil,
              path.status().map(FileIdentity.init) == created else {
            try? connection.execute("DETACH DATABASE \(Self.scratchSchema)")
            throw ToolFailure("the scratch file \(path) was replaced by another file while it was opened")
        }
        // No journal: the scratch file is thrown away, and with no journal SQLite never needs its name again.
        try connection.execute("PRAGMA \(Self.scratchSchema).journal_mode = OFF")
        try connection.execute(EmbeddedSchema.userStacksTable(schema: Self.scratchSchema))
    }
}
