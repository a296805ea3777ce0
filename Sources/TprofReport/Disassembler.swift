import CCapstone

/// One machine instruction as capstone decodes it.
public struct Instruction: Equatable {
    /// Bytes from the start of the code.
    public var offset: Int
    public var address: UInt64
    public var size: Int
    /// Mnemonic and operands, as `objdump -d` writes them (Intel syntax on x86).
    public var text: String
    /// The address a direct jump or call goes to.
    public var branchTarget: UInt64?
}

/// Machine code decoded by Debian's capstone, for the recorded machine (`run.machine`).
public struct Disassembler {
    private let arch: cs_arch
    private let mode: cs_mode

    /// Nil for a machine capstone is not set up for here.
    public init?(machine: String) {
        switch machine {
        case "x86_64": (arch, mode) = (CS_ARCH_X86, CS_MODE_64)
        case "i386", "i686": (arch, mode) = (CS_ARCH_X86, CS_MODE_32)
        case "aarch64", "arm64": (arch, mode) = (CS_ARCH_ARM64, CS_MODE_LITTLE_ENDIAN)
        default: return nil
        }
    }

    /// Every instruction of `bytes`, loaded at `address`; bytes that decode as no instruction are shown as data
    /// (`.byte`), so the listing covers the whole code.
    public func instructions(_ bytes: [UInt8], at address: UInt64) -> [Instruction] {
        var handle: csh = 0
        guard cs_open(arch, mode, &handle) == CS_ERR_OK else { return [] }
        defer { cs_close(&handle) }
        cs_option(handle, CS_OPT_DETAIL, Int(CS_OPT_ON.rawValue))
        cs_option(handle, CS_OPT_SKIPDATA, Int(CS_OPT_ON.rawValue))
        var decoded: UnsafeMutablePointer<cs_insn>?
        let count = bytes.withUnsafeBufferPointer { buffer in
            cs_disasm(handle, buffer.baseAddress, buffer.count, address, 0, &decoded)
        }
        guard count > 0, let decoded else { return [] }
        defer { cs_free(decoded, count) }
        return (0..<count).map { index in
            var instruction = decoded[index]
            let mnemonic = withUnsafeBytes(of: &instruction.mnemonic) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let operands = withUnsafeBytes(of: &instruction.op_str) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            var target: UInt64 = 0
            let branches = CCapstone_branch_target(handle, decoded + index, arch, &target) == 1
            return Instruction(offset: Int(instruction.address - address), address: instruction.address,
                               size: Int(instruction.size), text: operands.isEmpty ? mnemonic : mnemonic + " " + operands,
                               branchTarget: branches ? target : nil)
        }
    }
}
