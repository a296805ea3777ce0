import Foundation

/// Where the view goes: the full-screen terminal view, or plain text on stdout (-b).
protocol TopDisplay: AnyObject {
    /// True for the full-screen view: keys are read, the help line is shown, names are cut to the width.
    var isInteractive: Bool { get }
    /// The file descriptor keys come from, polled beside the signals; nil without keys.
    var keyDescriptor: Int32? { get }
    /// Takes over the terminal; throws when it cannot.
    func open() throws
    /// Shows the view: the whole screen, or one refresh's block of text.
    func show(_ lines: (_ width: Int?, _ rowLimit: Int) -> [ScreenLine])
    /// The keys typed since the last call.
    func keys() -> [Character]
    /// Follows a terminal resize (SIGWINCH).
    func resize()
    /// Gives the terminal back as it was; safe to call more than once.
    func close()
}

/// -b: each refresh as plain text on stdout, separated by an empty line.
final class BatchDisplay: TopDisplay {
    /// The rows of one refresh, as `top -b` lists the busiest.
    static let rowLimit = 40
    let isInteractive = false
    let keyDescriptor: Int32? = nil
    private var shown = 0

    func open() throws {}

    func show(_ lines: (Int?, Int) -> [ScreenLine]) {
        var text = shown > 0 ? "\n" : ""
        for line in lines(nil, Self.rowLimit) { text += line.text + "\n" }
        FileHandle.standardOutput.write(Data(text.utf8))
        shown += 1
    }

    func keys() -> [Character] { [] }
    func resize() {}
    func close() {}
}
