import Foundation
import Glibc
import TprofStore
import TprofSymbols

/// `--resymbolize`: resolves a finished database's addresses again with the files available now, for example
/// after installing debug symbols. The one report mode that writes to the file, because the user asked it to.
public enum Resymbolizer {
    public static func run(path: String) throws -> SymbolResolver.Outcome {
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
    }
}
