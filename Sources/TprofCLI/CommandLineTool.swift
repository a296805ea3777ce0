import ArgumentParser
import Foundation

/// Runs a command so that every error is one line on stderr: `tool: message`, with a non-zero exit.
public enum CommandLineTool {
    public static func main<Command: ParsableCommand>(_ type: Command.Type, name: String) -> Never {
        do {
            var command = try type.parseAsRoot()
            try command.run()
            exit(0)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch {
            let code = type.exitCode(for: error)
            if code == .success {
                print(type.fullMessage(for: error))
                exit(0)
            }
            let message = type.message(for: error)
                .split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("\(name): \(message.replacingOccurrences(of: "Error: ", with: ""))\n".utf8))
            exit(code.rawValue)
        }
    }
}
