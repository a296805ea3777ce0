import Foundation
import TprofReport

/// The speedscope JSON file format (https://www.speedscope.app/file-format-schema.json): shared frames and one
/// sampled profile per thread, stacks root first, weights in samples.
public enum SpeedscopeExport {
    public static let schemaURL = "https://www.speedscope.app/file-format-schema.json"

    /// The document's top level (speedscope's `SerializedFile`).
    struct Document: Codable {
        var schema = SpeedscopeExport.schemaURL
        var shared: Shared
        var profiles: [SampledProfile]
        var name: String
        var activeProfileIndex = 0
        var exporter = "tprof"

        enum CodingKeys: String, CodingKey {
            case schema = "$schema"
            case shared, profiles, name, activeProfileIndex, exporter
        }
    }

    struct Shared: Codable {
        var frames: [Frame]
    }

    struct Frame: Codable {
        var name: String
        var file: String
    }

    /// One thread's stacks: each sample a list of indexes into the shared frames, root first, with its weight.
    struct SampledProfile: Codable {
        var type = "sampled"
        var name: String
        var unit = "none"
        var startValue: Int64 = 0
        var endValue: Int64
        var samples: [[Int]]
        var weights: [Int64]
    }

    /// The JSON document for `profile`.
    public static func json(_ profile: StackProfile, name: String) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(document(profile, name: name))
    }

    static func document(_ profile: StackProfile, name: String) -> Document {
        var frameIndex: [StackProfile.Frame: Int] = [:]
        var frames: [Frame] = []
        struct Thread: Hashable { var pid: Int64; var tid: Int64; var name: String }
        var threads: [Thread: (samples: [[Int]], weights: [Int64])] = [:]
        for stack in profile.stacks {
            let indexes = stack.frames.map { frame -> Int in
                if let index = frameIndex[frame] { return index }
                frameIndex[frame] = frames.count
                frames.append(Frame(name: frame.name + (frame.kernel ? " [k]" : ""), file: frame.dso))
                return frames.count - 1
            }
            let thread = Thread(pid: stack.pid, tid: stack.tid, name: stack.threadComm)
            threads[thread, default: ([], [])].samples.append(indexes)
            threads[thread, default: ([], [])].weights.append(stack.samples)
        }
        let ordered = threads.sorted { $0.value.weights.reduce(0, +) > $1.value.weights.reduce(0, +) }
        let profiles = ordered.map { thread, data in
            // Time weights are microseconds (`StackProfile`); speedscope shows them as times.
            SampledProfile(name: "\(thread.name) (pid \(thread.pid), tid \(thread.tid))",
                           unit: profile.weight.isTime ? "microseconds" : "none",
                           endValue: data.weights.reduce(0, +), samples: data.samples, weights: data.weights)
        }
        return Document(shared: Shared(frames: frames), profiles: profiles, name: name)
    }
}
