import Glibc
import TprofCapture

/// Unbuffered writes to stderr, so a line is out before a crash or a signal could lose it.
struct StandardError {
    func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count {
                let n = retryingEINTR { Glibc.write(STDERR_FILENO, base + offset, bytes.count - offset) }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    func line(_ text: String) { write(text + "\n") }
}
