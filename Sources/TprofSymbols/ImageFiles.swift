import Glibc
import TprofCapture

/// The ELF files symbols are read from, each opened once, and checked to be the files that ran.
final class ImageFiles {
    private var images: [String: ElfImage?] = [:]
    /// Per path and expected build id: the image to read, nil when there is none or it was skipped.
    private var verifiedImages: [String: ElfImage?] = [:]
    private var vdsoImage: ElfImage?
    /// Files whose build id is not the one recorded, in the order met.
    private(set) var skipped: [SkippedFile] = []
    private let readsSymbols: Bool
    private let debuginfod: DebuginfodClient?

    /// - Parameters:
    ///   - readsSymbols: false when only code and lines are read from the files.
    ///   - debuginfod: asked for debug files by build id.
    init(readsSymbols: Bool = true, debuginfod: DebuginfodClient? = nil) {
        self.readsSymbols = readsSymbols
        self.debuginfod = debuginfod
    }

    /// The file at `path` when it is the one that ran (its build id is `expected`, when one is known); else, when
    /// it is missing or another file, a debug file with that build id (installed, or from debuginfod), or nil,
    /// noting the skipped file once.
    func verified(_ path: String, buildID expected: String?) -> ElfImage? {
        let key = path + "\u{0}" + (expected ?? "")
        if let checked = verifiedImages[key] { return checked }
        var image = self.image(path)
        if let expected, image?.buildID != expected {
            let standIn = debugFile(buildID: expected, of: path)
            if standIn == nil, let found = image,
               !skipped.contains(where: { $0.path == path && $0.recordedBuildID == expected }) {
                skipped.append(SkippedFile(path: path, recordedBuildID: expected, foundBuildID: found.buildID))
            }
            image = standIn
        }
        verifiedImages[key] = image
        return image
    }

    /// Closes every file image (the vdso, in this process's memory, stays); what was skipped stays noted.
    func releaseImages() {
        images.removeAll(keepingCapacity: false)
        verifiedImages.removeAll(keepingCapacity: false)
    }

    /// Closes the file image of `path` (and any debug file read for it), for a caller that keeps a bounded set.
    func releaseImage(_ path: String) {
        images[path] = nil
        verifiedImages = verifiedImages.filter { !$0.key.hasPrefix(path + "\u{0}") }
    }

    /// A debug file keeps the program headers of its file, so it names the file's addresses in its place.
    private func debugFile(buildID: String, of path: String) -> ElfImage? {
        let installed = image("/usr/lib/debug/.build-id/\(buildID.prefix(2))/\(buildID.dropFirst(2)).debug")
        if let installed, installed.buildID == buildID {
            installed.markStandIn(from: .debugFile)
            return installed
        }
        guard let debuginfod, let fetched = debuginfod.debugFile(buildID: buildID, for: path) else { return nil }
        if let cached = images[fetched] { return cached }
        let image = ElfImage(path: fetched, searchDebugFiles: false).flatMap { $0.buildID == buildID ? $0 : nil }
        image?.markStandIn(from: .debuginfod)
        images[fetched] = image
        return image
    }

    private func image(_ path: String) -> ElfImage? {
        if let cached = images[path] { return cached }
        let image = ElfImage(path: path, readsSymbols: readsSymbols, debuginfod: debuginfod)
        images[path] = image
        return image
    }

    /// This process's vdso: the kernel maps the same image into every process.
    func vdso() -> ElfImage? {
        if let vdsoImage { return vdsoImage }
        guard let maps = readSmallFile("/proc/self/maps"),
              let line = maps.split(separator: "\n").first(where: { $0.hasSuffix("[vdso]") }),
              let range = line.split(separator: " ").first?.split(separator: "-"), range.count == 2,
              let start = UInt64(range[0], radix: 16), let end = UInt64(range[1], radix: 16), end > start,
              let pointer = UnsafeMutableRawPointer(bitPattern: UInt(start)) else { return nil }
        vdsoImage = ElfImage(memory: pointer, size: Int(end - start), name: "[vdso]")
        return vdsoImage
    }
}
