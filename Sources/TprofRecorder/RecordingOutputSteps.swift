import TprofStore
import TprofCLI

/// The recorder's steps of the output file's lifecycle (see `RecordingOutput`): created under a temporary name
/// before anything starts, moved into place once the command runs. tprof-count writes its file the same way.
enum OutputSteps {
    /// Checks the output path and creates the claimed temporary file beside it.
    /// - Parameter executable: the command's executable, which is never the output.
    static func create(_ path: BytePath, existing policy: ExistingOutputPolicy,
                       protecting executable: [UInt8]?) throws -> RecordingOutput {
        do {
            return try RecordingOutput(creating: path, existing: policy,
                                       protecting: executable.map(BytePath.init(bytes:)))
        } catch let error as OutputError {
            throw ToolFailure(error.description)
        } catch {
            throw ToolFailure("cannot create \(path): \(error)")
        }
    }

    /// Moves the prepared recording to the output path and opens it there.
    static func publish(_ output: RecordingOutput) throws -> RecordingDatabase {
        do {
            try output.publish()
            return try RecordingDatabase(opening: output)
        } catch let error as OutputError {
            throw ToolFailure(error.description)
        } catch {
            throw ToolFailure("cannot open \(output.path): \(error)")
        }
    }
}

extension Recorder {
    /// What an existing output becomes: kept as FILE.old under the default name (as perf keeps perf.data.old),
    /// replaced with --force, refused otherwise.
    var existingOutputPolicy: ExistingOutputPolicy {
        if options.outputIsDefault { return .keepAsOld }
        return options.force ? .replace : .refuse
    }

    /// Checks the output path and creates the claimed temporary file beside it.
    /// - Parameter executable: the command's executable, which is never the output.
    func createOutput(protecting executable: [UInt8]?) throws -> RecordingOutput {
        try OutputSteps.create(options.output, existing: existingOutputPolicy, protecting: executable)
    }

    /// Moves the prepared recording to the output path and opens it there.
    func publish(_ output: RecordingOutput) throws -> RecordingDatabase {
        try OutputSteps.publish(output)
    }
}
