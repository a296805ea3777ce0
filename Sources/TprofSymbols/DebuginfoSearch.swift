import CElf
import Foundation
import Glibc

/// libdwfl's search for a separate debug file, behind a check of every place it looks.
///
/// `dwfl_standard_find_debuginfo` opens each candidate with a plain open(2): a FIFO (or a device) put where a
/// debug file could be, by a profiled program or anyone who can write beside its binary, would block the recorder
/// for ever. So every path the search can try is looked at first, and where anything but a regular file stands,
/// the module goes without separate debug information (its own `.eh_frame` still unwinds it).
enum DebuginfoSearch {
    /// The `find_debuginfo` callback tprof gives libdwfl.
    static let callback: @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafePointer<CChar>?, Dwarf_Addr,
        UnsafePointer<CChar>?, UnsafePointer<CChar>?, GElf_Word, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
    ) -> Int32 = { module, userdata, moduleName, base, fileName, debuglink, crc, debuginfoFileName in
        let file = fileName.map { String(cString: $0) }
        let link = debuglink.map { String(cString: $0) }
        guard DebuginfoSearch.candidatesAreSafe(file: file, debuglink: link, buildID: DebuginfoSearch.buildID(module))
        else { return -1 }
        return dwfl_standard_find_debuginfo(module, userdata, moduleName, base, fileName, debuglink, crc,
                                            debuginfoFileName)
    }

    /// True when nothing but regular files (or nothing at all) stands at the paths libdwfl's default search
    /// (`:.debug:/usr/lib/debug`, and the build-id tree) can open for this module.
    static func candidatesAreSafe(file: String?, debuglink: String?, buildID: [UInt8]?) -> Bool {
        candidates(file: file, debuglink: debuglink, buildID: buildID).allSatisfy { path in
            var info = stat()
            return stat(path, &info) != 0 || info.st_mode & S_IFMT == S_IFREG
        }
    }

    /// Every path the default search may open, as elfutils' find-debuginfo.c builds them.
    static func candidates(file: String?, debuglink: String?, buildID: [UInt8]?) -> [String] {
        var paths: [String] = []
        if let buildID, buildID.count >= 2 {
            let hex = buildID.map { String(format: "%02x", $0) }.joined()
            paths.append("/usr/lib/debug/.build-id/\(hex.prefix(2))/\(hex.dropFirst(2)).debug")
        }
        guard let file else { return paths }
        let url = URL(fileURLWithPath: file)
        let directory = url.deletingLastPathComponent().path
        var names = [debuglink ?? url.lastPathComponent + ".debug"]
        if debuglink == nil { names.append(url.lastPathComponent) }
        for name in names {
            paths += [directory + "/" + name, directory + "/.debug/" + name, "/usr/lib/debug" + directory + "/" + name,
                      "/usr/lib/debug/" + name]
        }
        return paths.filter { $0 != file }
    }

    /// The module's build id, as libdwfl read it from the file.
    private static func buildID(_ module: OpaquePointer?) -> [UInt8]? {
        guard let module else { return nil }
        var bits: UnsafePointer<UInt8>?
        var address: GElf_Addr = 0
        let length = dwfl_module_build_id(module, &bits, &address)
        guard length > 0, let bits else { return nil }
        return Array(UnsafeBufferPointer(start: bits, count: Int(length)))
    }
}
