import Foundation
import Glibc
import TprofCapture
import TprofStore
import TprofSymbols

/// `--resymbolize`: resolves a database's addresses again with the files available now, for example after
/// installing debug symbols or after the recorder was killed. The one report mode that writes to the file, because
/// the user asked it to; it reads only the files that ran (their recorded build ids) and keeps every name it cannot
/// improve on.
public enum Resymbolizer {
    public static func run(path: BytePath) throws -> SymbolResolver.Outcome {
        // The checks every report makes (a tprof database, a schema this tool knows), before anything is written.
        _ = try ReportDatabase(path: path)
        // The claim is held while the file is rewritten, so a recorder cannot start on it meanwhile either.
        let claimFD = path.open(O_RDONLY | O_CLOEXEC)
        guard claimFD >= 0 else {
            throw ReportError("cannot resymbolize \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(claimFD) }
        guard RecorderClaim.take(fd: claimFD) else {
            throw ReportError("cannot resymbolize \(path): tprof-record is still writing it; wait until it ends")
        }
        do {
            let db = try SQLiteDatabase(path: path, mode: .readWrite)
            let recordedKernel = try db.prepare("SELECT kernel_release FROM run WHERE id = 1")
            var release: String?
            if try recordedKernel.step() { release = recordedKernel.text(0) }
            var name = utsname()
            uname(&name)
            let running = withUnsafeBytes(of: name.release) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            let resolver = try SymbolResolver(database: db, useRunningKernel: release == running)
            return try resolver.run()
        } catch {
            throw ReportError("cannot resymbolize \(path): \(error)")
        }
    }
}
