import CElf
import Glibc
import TprofCapture

/// The running kernel's memory as `/proc/kcore` shows it: an ELF core file whose PT_LOAD segments map kernel
/// addresses (the kernel's text, its modules) to offsets in the file. Reading it needs root (CAP_SYS_RAWIO).
final class KernelCore {
    private let fd: Int32
    private var segments: [ElfImage.LoadSegment] = []
    /// Why nothing can be read, when nothing can.
    private(set) var failure: String?

    init(path: String = "/proc/kcore") {
        fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else {
            failure = "the kernel's code cannot be read from \(path): \(String(cString: strerror(errno)))"
            return
        }
        // Read, not mapped: the file's size is the whole kernel address space.
        guard ElfImage.initialized, let elf = elf_begin(fd, ELF_C_READ, nil) else {
            failure = "the kernel's code cannot be read from \(path): not an ELF core file"
            return
        }
        defer { elf_end(elf) }
        segments = ElfImage.loadSegments(of: elf)
        if segments.isEmpty { failure = "the kernel's code cannot be read from \(path): it maps no memory" }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Up to `count` bytes from kernel `address`, within the segment that covers it; nil when none does or the
    /// read fails.
    func code(at address: UInt64, count: Int) -> [UInt8]? {
        guard failure == nil,
              let segment = segments.first(where: { address >= $0.vaddr && address - $0.vaddr < $0.fileSize })
        else { return nil }
        let length = Int(min(UInt64(count), segment.fileSize - (address - segment.vaddr)))
        let (offset, overflow) = segment.offset.addingReportingOverflow(address - segment.vaddr)
        guard !overflow, offset <= UInt64(Int64.max) else { return nil }
        var bytes = [UInt8](repeating: 0, count: length)
        let read = bytes.withUnsafeMutableBytes { buffer in
            retryingEINTR { pread(fd, buffer.baseAddress, length, off_t(offset)) }
        }
        guard read > 0 else { return nil }
        return Array(bytes.prefix(read))
    }
}
