/// Walks the records of a perf ring buffer's data area between `tail` and `head`.
///
/// `head` and `tail` are byte counters that never wrap; the position in the ring is the counter masked with
/// `size - 1`. A record that straddles the end of the ring is copied into `scratch` so the body always sees it whole.
public struct RingBufferReader {
    /// The outcome of one drain.
    public struct Drained: Equatable {
        /// The new tail: store it back with release ordering.
        public var tail: UInt64
        /// Records handed to the body.
        public var records: Int
        /// True when a malformed header (size below 8, not a multiple of 8, or past `head`), or a head more than the
        /// ring's size ahead of the tail, made the reader skip to `head`.
        public var malformed: Bool
        /// Bytes skipped from the malformed header up to `head`: whatever records they held are lost unread.
        public var skippedBytes: UInt64 = 0
    }

    private var scratch: [UInt8] = []

    public init() {}

    /// Calls `body` with each whole record (header included) from `tail` up to `head`.
    /// - Parameters:
    ///   - data: the data area (the pages after the control page), `size` bytes, a power of two.
    public mutating func drain(data: UnsafeRawPointer, size: Int, tail: UInt64, head: UInt64,
                               _ body: (UnsafeRawBufferPointer) -> Void) -> Drained {
        precondition(size > 0 && size & (size - 1) == 0, "ring size must be a power of two")
        let mask = UInt64(size - 1)
        var position = tail
        var records = 0
        func skipped() -> Drained {
            Drained(tail: head, records: records, malformed: true, skippedBytes: head - position)
        }
        // The kernel never writes more than the ring holds ahead of the tail: anything else is not a ring to read.
        if head > tail && head - tail > UInt64(size) { return skipped() }
        while position < head {
            let available = head - position
            guard available >= 8 else { return skipped() }
            let offset = Int(position & mask)
            let recordSize = UInt64(readUInt16(data: data, size: size, offset: (offset + 6) & Int(mask)))
            guard recordSize >= 8, recordSize % 8 == 0, recordSize <= available else {
                return skipped()
            }
            let length = Int(recordSize)
            if offset + length <= size {
                body(UnsafeRawBufferPointer(start: data + offset, count: length))
            } else {
                let first = size - offset
                if scratch.count < length { scratch = [UInt8](repeating: 0, count: max(length, 256)) }
                scratch.withUnsafeMutableBytes { buffer in
                    guard let base = buffer.baseAddress else { return }
                    base.copyMemory(from: data + offset, byteCount: first)
                    (base + first).copyMemory(from: data, byteCount: length - first)
                    body(UnsafeRawBufferPointer(start: base, count: length))
                }
            }
            position += recordSize
            records += 1
        }
        return Drained(tail: position, records: records, malformed: false)
    }

    private func readUInt16(data: UnsafeRawPointer, size: Int, offset: Int) -> UInt16 {
        if offset + 2 <= size { return data.loadUnaligned(fromByteOffset: offset, as: UInt16.self) }
        let low = UInt16(data.load(fromByteOffset: offset, as: UInt8.self))
        let high = UInt16(data.load(fromByteOffset: 0, as: UInt8.self))
        return low | high << 8
    }
}
