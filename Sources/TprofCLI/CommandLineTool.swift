import ArgumentParser
import Foundation

/// Runs a command so that every error is one line on stderr: `tool: message`, with a non-zero exit.
public enum CommandLineTool {
    public static func main<Command: ParsableCommand>(_ type: Command.Type, name: String,
                                                      arguments: [String]? = nil) -> Never {
        if (arguments ?? Array(CommandLine.arguments.dropFirst())) == ["--experimental-dump-help"] {
            print(toolInfo(type))
            exit(0)
        }
        do {
            var command = try type.parseAsRoot(arguments)
            try command.run()
            exit(0)
        } catch let code as ExitCode {
            exit(code.rawValue)
        } catch let failure as ToolFailure {
            FileHandle.standardError.write(Data("\(name): \(oneLine(failure.message))\n".utf8))
            exit(failure.exitStatus)
        } catch {
            let code = type.exitCode(for: error)
            if code == .success {
                print(type.fullMessage(for: error))
                exit(0)
            }
            let message = type.message(for: error)
                .split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("\(name): \(oneLine(message.replacingOccurrences(of: "Error: ", with: "")))\n".utf8))
            exit(code.rawValue)
        }
    }

    /// The tool description that the generate-manual plugin reads (`--experimental-dump-help`), without the `help`
    /// subcommand the parser lists for every root command: these tools have no subcommands, and a man page that
    /// shows `tprof-record subcommand` and a `help` entry describes a command line that does not exist.
    static func toolInfo<Command: ParsableCommand>(_ type: Command.Type) -> String {
        let dump = type._dumpHelp()
        guard var root = (try? JSONSerialization.jsonObject(with: Data(dump.utf8))) as? [String: Any],
              var command = root["command"] as? [String: Any] else { return dump }
        let subcommands = command["subcommands"] as? [[String: Any]] ?? []
        guard subcommands.allSatisfy({ $0["commandName"] as? String == "help" }) else { return dump }
        command["subcommands"] = nil
        root["command"] = command
        guard let data = try? JSONSerialization.data(withJSONObject: root, options: [.sortedKeys]) else { return dump }
        return String(decoding: data, as: UTF8.self)
    }

    /// The message on one line: line breaks (SQLite quotes damaged schema text with its line breaks) become single
    /// spaces, other control characters become '?', so an error is always exactly one line on stderr.
    static func oneLine(_ message: String) -> String {
        message.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
            .joined(separator: " ")
            .map { $0.unicodeScalars.allSatisfy { $0.properties.generalCategory == .control } ? "?" : String($0) }
            .joined()
    }
}
