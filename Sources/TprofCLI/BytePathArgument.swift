import ArgumentParser
import TprofStore

/// A file name on the command line is read as the bytes it was given (see `ArgumentBytes`), so a database or an
/// output named with bytes that are not UTF-8 is the file of exactly that name.
extension BytePath: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(bytes: ArgumentBytes.bytes(of: argument))
    }
}
