import Foundation
import Glibc
import TprofCapture

/// Facts about the machine recorded with every run.
public struct HostInfo {
    public var host: String
    public var kernelRelease: String
    public var machine: String
    public var cpuModel: String?
    public var onlineCPUs: [Int]

    /// Reads uname(2), /proc/cpuinfo and the online CPU list.
    public static func current() -> HostInfo {
        var name = utsname()
        uname(&name)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        let cpuModel = readSmallFile("/proc/cpuinfo")?
            .split(separator: "\n")
            .first(where: { $0.hasPrefix("model name") })
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        let online = readSmallFile("/sys/devices/system/cpu/online")
            .flatMap { try? CPUList.parse($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let fallback = Array(0..<max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
        return HostInfo(host: field(name.nodename), kernelRelease: field(name.release), machine: field(name.machine),
                        cpuModel: cpuModel, onlineCPUs: online ?? fallback)
    }
}

/// CPU lists as the kernel and perf write them: `0-3,5,7-8`.
public enum CPUList {
    public struct ParseError: Error, CustomStringConvertible {
        public var text: String
        public var description: String { "bad CPU list '\(text)' (expected numbers and ranges such as 0-3,6)" }
    }

    /// The CPUs in the list, sorted and without repeats.
    public static func parse(_ text: String) throws -> [Int] {
        var cpus = Set<Int>()
        guard !text.isEmpty else { throw ParseError(text: text) }
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = Int(bounds[0]), low >= 0, low < 1 << 16 else {
                throw ParseError(text: text)
            }
            let high = bounds.count == 2 ? Int(bounds[1]) : low
            guard let high, high >= low, high < 1 << 16 else { throw ParseError(text: text) }
            cpus.formUnion(low...high)
        }
        return cpus.sorted()
    }
}
