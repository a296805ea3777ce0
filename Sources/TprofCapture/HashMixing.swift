/// The 64-bit finalizer of MurmurHash3: spreads every bit of `value` over the result, so a hash built from
/// multiplied fields can be masked to its low bits. Used by the writer's open-addressing tables and by the synthetic
/// backend's generators; inlinable because the writer calls it once a sample.
@inlinable @inline(__always)
public func murmurFinalize(_ value: UInt64) -> UInt64 {
    var h = value
    h ^= h >> 33
    h = h &* 0xff51_afd7_ed55_8ccd
    h ^= h >> 33
    h = h &* 0xc4ce_b9fe_1a85_ec53
    h ^= h >> 33
    return h
}
