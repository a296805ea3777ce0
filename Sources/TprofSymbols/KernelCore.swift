import CElf
import Glibc
import TprofCapture

/// The running kernel's memory as `/proc/kcore` shows it: an ELF core file whose PT_LOAD segments map kernel
/// addresses (the kernel's text, its modules) to offsets in the file. Reading it needs root (CAP_SYS_RAWIO).
final class KernelCore {
    private let fd: Int32
    private var segments: [(address: UInt64, offset: UInt64, size: UInt64)] = []
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
            failure = "\(path): not an ELF core file"
            return
        }
        defer { elf_end(elf) }
        var count = 0
        if elf_getphdrnum(elf, &count) == 0 {
            for index in 0..<min(count, Int(Int32.max)) {
                var header = GElf_Phdr()
                guard gelf_getphdr(elf, Int32(index), &header) != nil else { break }
                if header.p_type == UInt32(PT_LOAD) {
                    segments.append((header.p_vaddr, header.p_offset, header.p_filesz))
                }
            }
        }
        if segments.isEmpty { failure = "\(path): no kernel memory segments" }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Up to `count` bytes from kernel `address`, within the segment that covers it; nil when none does or the
    /// read fails.
    func code(at address: UInt64, count: Int) -> [UInt8]? {
        guard failure == nil,
              let segment = segments.first(where: { address >= $0.address && address - $0.address < $0.size })
        else { return nil }
        let length = Int(min(UInt64(count), segment.size - (address - segment.address)))
        let (offset, overflow) = segment.offset.addingReportingOverflow(address - segment.address)
        guard !overflow, offset <= UInt64(Int64.max) else { return nil }
        var bytes = [UInt8](repeating: 0, count: length)
        let read = bytes.withUnsafeMutableBytes { buffer in
            retryingEINTR { pread(fd, buffer.baseAddress, length, off_t(offset)) }
        }
        guard read > 0 else { return nil }
        return Array(bytes.prefix(read))
    }
}
