import Glibc

/// Where the running kernel's text starts (`_stext` in /proc/kallsyms), or nil when the addresses are hidden
/// (kptr_restrict, not root) or it cannot be read. With KASLR it moves at every boot: a recording's kernel addresses
/// can be named with the running kernel's symbols only when the release and this address are the same.
public func runningKernelTextStart() -> UInt64? {
    guard let file = fopen("/proc/kallsyms", "re") else { return nil }
    defer { fclose(file) }
    var line: UnsafeMutablePointer<CChar>?
    var capacity = 0
    defer { free(line) }
    // Near the top: the file is sorted by address and the text comes first.
    for _ in 0..<4096 {
        guard getline(&line, &capacity, file) > 0, let line else { return nil }
        let fields = String(cString: line).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 3, fields[2] == "_stext" else { continue }
        let address = UInt64(fields[0], radix: 16) ?? 0
        return address == 0 ? nil : address
    }
    return nil
}
