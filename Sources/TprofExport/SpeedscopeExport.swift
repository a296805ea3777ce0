import Foundation
import TprofReport

/// The speedscope JSON file format (https://www.speedscope.app/file-format-schema.json): shared frames and one
/// sampled profile per thread, stacks root first, weights in samples.
public enum SpeedscopeExport {
    public static let schemaURL = "https://www.speedscope.app/file-format-schema.json"

    /// The JSON document for `profile`.
    public static func json(_ profile: StackProfile, name: String) throws -> Data {
        var frameIndex: [StackProfile.Frame: Int] = [:]
        var frames: [[String: Any]] = []
        struct Thread: Hashable { var pid: Int64; var tid: Int64; var name: String }
        var threads: [Thread: (samples: [[Int]], weights: [Int64])] = [:]
        for stack in profile.stacks {
            let indexes = stack.frames.map { frame -> Int in
                if let index = frameIndex[frame] { return index }
                frameIndex[frame] = frames.count
                frames.append(["name": frame.name + (frame.kernel ? " [k]" : ""), "file": frame.dso])
                return frames.count - 1
            }
            let thread = Thread(pid: stack.pid, tid: stack.tid, name: stack.threadComm)
            threads[thread, default: ([], [])].samples.append(indexes)
            threads[thread, default: ([], [])].weights.append(stack.samples)
        }
        let ordered = threads.sorted { $0.value.weights.reduce(0, +) > $1.value.weights.reduce(0, +) }
        let profiles: [[String: Any]] = ordered.map { thread, data in
            [
                "type": "sampled",
                "name": "\(thread.name) (pid \(thread.pid), tid \(thread.tid))",
                "unit": "none",
                "startValue": 0,
                "endValue": data.weights.reduce(0, +),
                "samples": data.samples,
                "weights": data.weights,
            ]
        }
        let document: [String: Any] = [
            "$schema": schemaURL,
            "shared": ["frames": frames],
            "profiles": profiles,
            "name": name,
            "activeProfileIndex": 0,
            "exporter": "tprof",
        ]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes])
    }
}
