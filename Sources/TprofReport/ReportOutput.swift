import CTprofLinux
import Foundation
import Glibc
import TprofCapture
import TprofCLI
import TprofDatabase

/// A file a report writes (`--flamegraph`, `--pprof`, `--speedscope`, `--timeline FILE.svg`), or standard output
/// for `-`. A file appears whole or not at all: it is written under a temporary name beside the destination, synced
/// and renamed into place, so a failure (or a signal) leaves neither a half-written output nor the temporary file.
///
/// What the user owns is never destroyed: an output that is one of the report's own inputs (same device and inode,
/// through any link) is refused even with `--force`; an existing file is refused unless `--force`, which replaces
/// a regular file or a symlink itself (never the link's target) and nothing else.
public struct ReportOutput {
    public enum Destination: Equatable {
        case standardOutput
        case file(BytePath)
    }

    public let destination: Destination
    /// `--force`: an existing regular file or symlink may be replaced.
    public let replacing: Bool
    /// The files the report reads, which the output must never be, with the names they were given by.
    private let inputs: [FileIdentity: BytePath]

    /// - Parameters:
    ///   - path: the file to write; `-` for standard output.
    ///   - replacing: `--force`.
    ///   - databases: every database the report reads (the -wal, -shm and -journal beside each are protected too).
    public init(path: BytePath, replacing: Bool, databases: [BytePath]) {
        destination = path == "-" ? .standardOutput : .file(path)
        self.replacing = replacing
        inputs = Dictionary(databases.flatMap(FileIdentity.ofDatabase), uniquingKeysWith: { first, _ in first })
    }

    /// What to call the output in messages.
    public var name: String {
        switch destination {
        case .standardOutput: return "standard output"
        case .file(let path): return path.description
        }
    }

    /// Refuses a destination that must not be written, before the report does its work; `write` checks again.
    public func check() throws {
        guard case .file(let path) = destination else { return }
        if let existing = FileIdentity(path: path), let input = inputs[existing] {
            let which = input == path ? "" : " (\(input))"
            throw ToolFailure("refusing to write \(path): it is a file this report reads\(which); choose another "
                + "output file")
        }
        guard let info = path.status() else {
            if errno == ENOENT { return }
            throw ToolFailure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        let kind = FileKind(info)
        guard replacing else {
            throw Self.exists(path, detail: kind == .symlink ? " (a symbolic link, which is never followed)" : "")
        }
        guard kind.isReplaceable else {
            throw ToolFailure("refusing to replace \(path): it is not a regular file (--force replaces only a file "
                + "or a symbolic link)")
        }
    }

    /// Writes `data` whole to the destination.
    public func write(_ data: Data) throws {
        switch destination {
        case .standardOutput:
            do {
                try Self.writeAll(data, to: STDOUT_FILENO)
            } catch {
                throw ToolFailure("cannot write to standard output: \(error)")
            }
        case .file(let path):
            try check()
            try Self.withStopSignalsHeld {
                try writeReplacing(path, data)
            }
        }
    }

    private static func exists(_ path: BytePath, detail: String = "") -> ToolFailure {
        ToolFailure("\(path) already exists\(detail); use --force to replace it or choose another file")
    }

    /// Writes a temporary file beside `path` and renames it into place; the temporary file is gone on failure.
    private func writeReplacing(_ path: BytePath, _ data: Data) throws {
        guard let (temporary, fd) = path.createSibling(tag: "tprof") else {
            throw ToolFailure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        do {
            defer { close(fd) }
            // The mode databases get (0600), whatever the umask: outputs hold the same profiled names.
            guard fchmod(fd, 0o600) == 0 else { throw SystemError("fchmod") }
            try Self.writeAll(data, to: fd)
            guard retryingEINTR({ fsync(fd) }) == 0 else { throw SystemError("fsync") }
            try check()
            let renamed = replacing ? temporary.rename(to: path)
                : CTprofLinux_rename_noreplace(temporary.cString, path.cString)
            if renamed != 0 {
                if errno == EEXIST { throw Self.exists(path) }
                throw SystemError("rename")
            }
        } catch {
            temporary.unlink()
            if let error = error as? ToolFailure { throw error }
            throw ToolFailure("cannot write \(path): \(error)")
        }
        // The rename itself is durable once the directory is synced; the output is complete either way.
        let directoryFD = path.split.directory.open(O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    private static func writeAll(_ data: Data, to fd: Int32) throws {
        try data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count, let base = buffer.baseAddress {
                let written = retryingEINTR { Glibc.write(fd, base + offset, buffer.count - offset) }
                guard written > 0 else { throw SystemError("write") }
                offset += written
            }
        }
    }

    /// Runs `body` with SIGINT, SIGTERM, SIGHUP and SIGQUIT held, so a stop signal cannot end the process between
    /// creating the temporary file and renaming or removing it; one that arrived meanwhile acts afterwards.
    private static func withStopSignalsHeld<T>(_ body: () throws -> T) rethrows -> T {
        var held = sigset_t()
        var previous = sigset_t()
        sigemptyset(&held)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&held, signal) }
        pthread_sigmask(SIG_BLOCK, &held, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }
}
