import CElf
import Foundation
import Glibc

/// Debug files fetched by build id from the debuginfod servers of `DEBUGINFOD_URLS` (elfutils' libdebuginfod,
/// with its cache: `DEBUGINFOD_CACHE_PATH`, else `~/.cache/debuginfod_client`).
public final class DebuginfodClient {
    /// Seconds a server may take to start answering, unless `DEBUGINFOD_TIMEOUT` says otherwise (libdebuginfod's
    /// own default is 90).
    public static let defaultTimeoutSeconds = 10

    private let client: OpaquePointer
    /// Told the path and build id of each file before its debug file is asked for, for a progress line.
    public var willFetch: ((_ path: String, _ buildID: String) -> Void)?
    /// Build ids asked for, with the file found (nil: none), so no server is asked twice.
    private var fetched: [String: String?] = [:]
    /// Debug files the servers (or the cache) gave, and build ids they did not have, in the order asked.
    public private(set) var found: [(buildID: String, file: String)] = []
    public private(set) var missing: [String] = []
    /// Why the servers stopped being asked: the first error other than "not found" (a timeout, a refused
    /// connection), after which every other file would wait as long for nothing.
    public private(set) var failure: String?

    /// A client when `DEBUGINFOD_URLS` names a server; nil otherwise.
    public init?(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let urls = environment["DEBUGINFOD_URLS"], !urls.trimmingCharacters(in: .whitespaces).isEmpty
        else { return nil }
        if environment["DEBUGINFOD_TIMEOUT"] == nil { setenv("DEBUGINFOD_TIMEOUT", "\(Self.defaultTimeoutSeconds)", 0) }
        guard let client = debuginfod_begin() else { return nil }
        self.client = client
    }

    deinit { debuginfod_end(client) }

    /// The path of the debug file for `buildID` (hex) of the file at `path`, downloaded into the cache when it is
    /// not there yet; nil when no server has it.
    func debugFile(buildID: String, for path: String) -> String? {
        if let known = fetched[buildID] { return known }
        guard failure == nil else { return nil }
        willFetch?(path, buildID)
        var result: UnsafeMutablePointer<CChar>?
        // A length of 0: the build id is given as hex text.
        let fd = buildID.withCString { hex in
            hex.withMemoryRebound(to: UInt8.self, capacity: buildID.utf8.count) {
                debuginfod_find_debuginfo(client, $0, 0, &result)
            }
        }
        var file: String?
        if fd >= 0 {
            close(fd)
            file = result.map { String(cString: $0) }
        } else if fd != -ENOENT {
            failure = String(cString: strerror(-fd))
        }
        free(result)
        fetched[buildID] = file
        if let file { found.append((buildID, file)) } else { missing.append(buildID) }
        return file
    }
}
