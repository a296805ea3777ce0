import TprofStore
import TprofSymbols

/// Names (pid, address) pairs while a recording is being written, against the mappings of the moment: the side-band
/// rows the writer has committed (the /proc snapshot of processes that ran before, then the kernel's records).
///
/// Memory stays bounded however long it runs: named frames are cached by (pid, address) up to `cacheLimit`, the ELF
/// images read stay open up to `imageLimit` files, and an exited process's mappings, name and frames go one update
/// after its exit (its last samples may still be named then).
public final class LiveSymbols {
    private let changes: SideBandChanges
    /// Names only: the source lines of a large binary cost seconds of DWARF reading that no refresh shows.
    private let symbolizer = Symbolizer(useRunningKernel: true, readsSourceLines: false)
    private let cacheLimit: Int
    private let imageLimit: Int
    /// Each process's mappings in record order; the latest that covers an address names it.
    private var mappings: [Int32: [MappingRecord]] = [:]
    /// Each process's name: its main thread's, else its first named thread's.
    private var names: [Int32: (name: String, main: Bool)] = [:]
    private var frames: [Int32: [UInt64: ResolvedFrame]] = [:]
    /// Frames by file and offset, shared by the processes that run the same file (a build starts thousands).
    private var fileFrames: [FilePlace: ResolvedFrame] = [:]

    private struct FilePlace: Hashable {
        var path: String
        /// The mapping's, when the kernel gave one: a file rebuilt at the same path is another file.
        var buildID: String?
        var offset: UInt64
    }
    /// Kernel frames, the same in every process.
    private var kernelFrames: [UInt64: ResolvedFrame] = [:]
    private var cachedFrames = 0
    /// The ELF images open, least recently used first.
    private var openImages: [String] = []
    private var exited: [Int32] = []

    public init(database: SQLiteDatabase, cacheLimit: Int = 65_536, imageLimit: Int = 64) throws {
        changes = try SideBandChanges(database: database)
        self.cacheLimit = cacheLimit
        self.imageLimit = imageLimit
    }

    /// Reads the side-band rows committed since the last update.
    public func update() throws {
        for pid in exited { forget(pid) }
        exited = []
        for change in try changes.next() {
            switch change {
            case .mapping(let m):
                mappings[m.pid, default: []].append(MappingRecord(
                    time: m.time, start: m.start, end: m.start &+ m.length, pageOffset: m.pageOffset,
                    filename: m.filename, buildID: m.buildID))
                // Frames named before this mapping may have been in no mapping, or in the one it replaces.
                dropFrames(of: m.pid)
            case .comm(let pid, let tid, let name, let exec):
                if exec {
                    mappings[pid] = nil
                    dropFrames(of: pid)
                }
                if tid == pid || names[pid]?.main != true { names[pid] = (name, tid == pid) }
            case .fork(let pid, let parent):
                mappings[pid] = mappings[parent]
                names[pid] = names[parent].map { ($0.name, false) }
                dropFrames(of: pid)
            case .exit(let pid):
                exited.append(pid)
            }
        }
    }

    /// The name of process `pid` (its command), if a record gave one; the idle task is swapper, as in perf.
    public func command(of pid: Int32) -> String? {
        pid == 0 ? "swapper" : names[pid]?.name
    }

    /// The frame at `pc` in process `pid`, sampled in kernel mode or not.
    public func frame(pid: Int32, pc: UInt64, kernelMode: Bool) -> ResolvedFrame {
        if Symbolizer.isKernel(pc, kernelMode: kernelMode) {
            if let known = kernelFrames[pc] { return known }
            let frame = symbolizer.resolveKernel(pc)
            remember { kernelFrames[pc] = frame }
            return frame
        }
        if let known = frames[pid]?[pc] { return known }
        let mapping = mappings[pid]?.last { $0.start <= pc && pc < $0.end }
        var place: FilePlace?
        if let mapping, let path = Symbolizer.imagePath(of: mapping) {
            let filePlace = FilePlace(path: path, buildID: mapping.buildID,
                                      offset: pc &- mapping.start &+ mapping.pageOffset)
            if let known = fileFrames[filePlace] {
                remember { frames[pid, default: [:]][pc] = known }
                return known
            }
            use(path)
            place = filePlace
        }
        let frame = symbolizer.resolveUser(pid: pid, pc: pc, mapping: mapping)
        if let place { remember { fileFrames[place] = frame } }
        // An address outside every known mapping is asked again: its mapping may be in the next commit.
        if mapping != nil { remember { frames[pid, default: [:]][pc] = frame } }
        return frame
    }

    /// Marks the image of `path` the most recently used, closing the least recently used beyond the limit.
    private func use(_ path: String) {
        if let index = openImages.lastIndex(of: path) {
            if index != openImages.count - 1 { openImages.append(openImages.remove(at: index)) }
            return
        }
        if openImages.count >= imageLimit { symbolizer.releaseImage(openImages.removeFirst()) }
        openImages.append(path)
    }

    /// Adds a frame to the caches, which start again once full.
    private func remember(_ add: () -> Void) {
        if cachedFrames >= cacheLimit {
            frames = [:]
            fileFrames = [:]
            kernelFrames = [:]
            cachedFrames = 0
        }
        add()
        cachedFrames += 1
    }

    private func dropFrames(of pid: Int32) {
        if let dropped = frames.removeValue(forKey: pid) { cachedFrames -= dropped.count }
    }

    private func forget(_ pid: Int32) {
        mappings[pid] = nil
        names[pid] = nil
        dropFrames(of: pid)
    }
}
