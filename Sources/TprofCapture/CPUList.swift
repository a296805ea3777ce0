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
