/// SplitMix64: a small deterministic generator, so generated hostile input is the same in every run and a failing
/// case can be named by its index.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Integers hostile input likes to carry: zero, one, the edges of the signed and unsigned ranges, and values just
/// below them, where an unchecked `+`, `*` or `Int(...)` traps.
public let boundaryValues: [UInt64] = [
    0, 1, 7, 0xff, 0xffff, 0xffff_ffff, 0x7fff_ffff_ffff_fff8, 0x7fff_ffff_ffff_ffff, 0x8000_0000_0000_0000,
    UInt64.max - 8, UInt64.max - 1, UInt64.max,
]
