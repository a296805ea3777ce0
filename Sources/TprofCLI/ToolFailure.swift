/// The one error type of the command-line tools and of the libraries behind them (recording, reports, exports):
/// ends a tool with `tool: message` on stderr and `exitStatus`.
public struct ToolFailure: Error, CustomStringConvertible {
    public var message: String
    /// 1, or what the tool's manual gives for the case (127 for a command or process that is not there).
    public var exitStatus: Int32

    public init(_ message: String, exitStatus: Int32 = 1) {
        self.message = message
        self.exitStatus = exitStatus
    }

    public var description: String { message }
}
