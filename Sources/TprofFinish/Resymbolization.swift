import Glibc
import TprofCapture
import TprofStore
import TprofSymbols

/// `tprof-report --resymbolize`: resolves a finished database's addresses again with the files available now, for
/// example after installing debug symbols, after the recorder was killed, or after its resolution was skipped. It
/// reads only the files that ran (their recorded build ids) and keeps every name it cannot improve on. A file of an
/// older schema is brought to this build's first.
public enum Resymbolization {
    /// An error with the one line to print.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What `run` did.
    public struct Outcome {
        /// Set when the file held copied stacks that were never unwound, and they were.
        public var unwinding: StackUnwinding.Outcome?
        public var symbols: SymbolOutcome
        /// Why debuginfod stopped being asked, when it failed.
        public var debuginfodFailure: String?
    }

    /// Unwinds the copied stacks a skipped finishing left in the file, if any, then resolves `path` again; the caller
    /// has checked that it is a tprof database of a schema this tool knows.
    /// - Parameters:
    ///   - usesDebuginfod: fetches missing debug files from the servers of `DEBUGINFOD_URLS`, when it is set.
    ///   - willFetch: told the path and build id of each file whose debug file is fetched.
    public static func run(path: BytePath, usesDebuginfod: Bool = false,
                           willFetch: ((_ path: String, _ buildID: String) -> Void)? = nil) throws -> Outcome {
        let debuginfod = usesDebuginfod ? DebuginfodClient() : nil
        debuginfod?.willFetch = willFetch
        // The claim is held while the file is rewritten, so a recorder cannot start on it meanwhile either.
        let claimFD = path.open(O_RDONLY | O_CLOEXEC)
        guard claimFD >= 0 else {
            throw Failure(description: "cannot resymbolize \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(claimFD) }
        guard RecorderClaim.take(fd: claimFD) else {
            throw Failure(description: "cannot resymbolize \(path): tprof-record is still writing it; wait until it ends")
        }
        do {
            let db = try SQLiteDatabase(path: path, mode: .readWrite)
            try RecordingDatabase.upgrade(db)
            let release = try recordedKernelRelease(db)
            var name = utsname()
            uname(&name)
            let running = withUnsafeBytes(of: name.release) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            var unwinding: StackUnwinding.Outcome?
            if try UserStackTables.needUnwinding(in: db) {
                unwinding = try StackUnwinding.run(database: db, userStacksSchema: "main")
            }
            // A recorded text start (schema 10) must match too: the same release moves at every boot with KASLR.
            let textStart = try recordedKernelTextStart(db)
            let sameKernel = release == running && (textStart == nil || textStart == runningKernelTextStart())
            let symbols = try SymbolResolution(database: db, useRunningKernel: sameKernel, debuginfod: debuginfod).run()
            try CodeCapture(database: db, useRunningKernel: sameKernel).run()
            return Outcome(unwinding: unwinding, symbols: symbols, debuginfodFailure: debuginfod?.failure)
        } catch {
            throw Failure(description: "cannot resymbolize \(path): \(error)")
        }
    }

    /// Where the recorded kernel's text started; nil in files before schema 10 or when it was not readable.
    private static func recordedKernelTextStart(_ db: SQLiteDatabase) throws -> UInt64? {
        let statement = try db.prepare("SELECT kernel_text_start FROM run WHERE id = 1")
        guard try statement.step(), !statement.isNull(0) else { return nil }
        return UInt64(bitPattern: statement.int64(0))
    }

    /// The kernel the file was recorded on; its statement is done when this returns (an unfinished statement would
    /// keep the scratch tables from being dropped).
    private static func recordedKernelRelease(_ db: SQLiteDatabase) throws -> String? {
        let statement = try db.prepare("SELECT kernel_release FROM run WHERE id = 1")
        return try statement.step() ? statement.text(0) : nil
    }
}
