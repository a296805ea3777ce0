import Foundation

/// Command-line arguments as the kernel passed them: bytes, which need not be UTF-8.
///
/// `CommandLine.arguments` replaces invalid UTF-8 with U+FFFD, so a profiled command or a file name would get other
/// bytes than were given. The strings made here keep every byte: a byte that is not part of valid UTF-8 becomes one
/// scalar of the escape range U+10FF80...U+10FFFF (the end of a private-use plane), and so does each byte of a
/// character already in that range, so `bytes(of:)` gives back exactly the bytes of the argument. Valid text is
/// unchanged, so the argument parser reads options and numbers as usual.
public enum ArgumentBytes {
    private static let escapeBase: UInt32 = 0x10FF00
    private static let escapeRange: ClosedRange<UInt32> = 0x10FF80...0x10FFFF

    /// The arguments after argv[0], each as a string that keeps its bytes.
    public static func arguments() -> [String] {
        (1..<Int(CommandLine.argc)).map { index in
            guard let argument = CommandLine.unsafeArgv[index] else { return "" }
            return string(from: Array(UnsafeBufferPointer(start: argument, count: strlen(argument)))
                .map { UInt8(bitPattern: $0) })
        }
    }

    /// `bytes` as a string from which `bytes(of:)` gives them back.
    static func string<Bytes: Collection<UInt8>>(from bytes: Bytes) -> String {
        var scalars = String.UnicodeScalarView()
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        func escape<Escaped: Sequence<UInt8>>(_ escaped: Escaped) {
            for byte in escaped { scalars.append(Unicode.Scalar(escapeBase + UInt32(byte)) ?? "\u{FFFD}") }
        }
        var consumed = bytes.startIndex
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                if escapeRange.contains(scalar.value) { escape(encoded) } else { scalars.append(scalar) }
                consumed = bytes.index(consumed, offsetBy: encoded.count)
            case .error(let length):
                let end = bytes.index(consumed, offsetBy: length)
                escape(bytes[consumed..<end])
                consumed = end
            case .emptyInput:
                break loop
            }
        }
        return String(scalars)
    }

    /// The bytes `text` stands for: escaped bytes as themselves, everything else as UTF-8.
    public static func bytes(of text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for scalar in text.unicodeScalars {
            if escapeRange.contains(scalar.value) {
                bytes.append(UInt8(scalar.value - escapeBase))
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        return bytes
    }
}
