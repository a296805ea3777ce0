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

