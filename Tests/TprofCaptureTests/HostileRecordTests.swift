import TprofCapture
import TprofTestSupport
import XCTest

/// Ring records are decoded in the recorder, so a truncated record, a call chain whose `nr` runs past the record or
/// a stack copy whose sizes lie must never trap, and what the decoder returns lies inside the record.
final class HostileRecordTests: XCTestCase {
    private let types: [UInt32] = [9, 3, 10, 2, 13, 4, 7, 5, 6, 1, 14, 0, 0xffff_ffff]

    /// A record of `type` with `length` bytes after the header, random, with boundary values at the offsets the
    /// decoder reads sizes from (call chain `nr`, the stack copy's size and dynamic size).
    private func hostileRecord(type: UInt32, length: Int, using generator: inout SeededGenerator) -> [UInt8] {
        var body = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for offset in stride(from: 40, to: length - 7, by: 8) where Bool.random(using: &generator) {
            let value = boundaryValues.randomElement(using: &generator) ?? 0
            body.replaceSubrange(offset..<(offset + 8), with: PerfRecordBytes.le(value))
        }
        let size = UInt16(truncatingIfNeeded: 8 + length)
        return PerfRecordBytes.le(type) + PerfRecordBytes.le(UInt16.random(in: 0...0xffff, using: &generator))
            + PerfRecordBytes.le(size) + body
    }

    private func assertInside(_ part: UnsafeRawBufferPointer?, _ record: UnsafeRawBufferPointer, _ what: String,
                              file: StaticString = #filePath, line: UInt = #line) {
        guard let part, part.count > 0, let base = part.baseAddress, let recordBase = record.baseAddress else { return }
        XCTAssertTrue(base >= recordBase && base + part.count <= recordBase + record.count,
                      "\(what) lies outside its record", file: file, line: line)
    }

    func testHostileRecordsDecodeWithoutTrapAndInsideTheRecord() {
        var generator = SeededGenerator(seed: 0xbad_4ec0)
        let decoders = [PerfRecordDecoder(event: 0), PerfRecordDecoder(event: 1, callchain: true),
                        PerfRecordDecoder(event: 2, userStack: true),
                        PerfRecordDecoder(event: 3, callchain: true, userStack: true)]
        for round in 0..<3000 {
            let type = types[round % types.count]
            let length = round % 7 == 0 ? Int.random(in: 0...8, using: &generator)
                : Int.random(in: 0...600, using: &generator)
            let record = hostileRecord(type: type, length: length, using: &generator)
            record.withUnsafeBytes { bytes in
                for decoder in decoders {
                    _ = decoder.decode(bytes)
                    assertInside(decoder.callchain(in: bytes), bytes, "the call chain")
                    if let userStack = decoder.userStack(in: bytes) {
                        assertInside(userStack.registers, bytes, "the registers")
                        assertInside(userStack.stack, bytes, "the stack copy")
                    }
                }
            }
        }
    }

    func testHostileRingsDrainToTheHeadWithEverySampleAccounted() throws {
        var generator = SeededGenerator(seed: 0x41_6e67)
        for round in 0..<500 {
            var ring = FakeRing(size: 512, start: UInt64.random(in: 0...(1 << 40), using: &generator))
            let tail = ring.head
            while ring.head - tail < 400 {
                let record = hostileRecord(type: types.randomElement(using: &generator) ?? 9,
                                           length: 8 * Int.random(in: 0...12, using: &generator), using: &generator)
                ring.append(record)
            }
            let head = round % 5 == 0 ? tail + UInt64.random(in: 0...(1 << 20), using: &generator) : ring.head
            let list = BufferList(cpus: [0], configuration: .init(bufferCapacity: 8, limit: 2, frameCapacity: 64,
                                                                   userDataCapacity: 1 << 16))
            let sink = CPUSampleSink(cpu: 0, list: list, flushInterval: 0, now: 0)
            var reader = RingBufferReader()
            let decoder = PerfRecordDecoder(event: 0, callchain: round % 2 == 0, userStack: round % 3 == 0)
            let newTail = try ring.data.withUnsafeBytes { buffer -> UInt64 in
                guard let base = buffer.baseAddress else { throw FakeRing.RingError.empty }
                return reader.deliver(data: base, size: buffer.count, tail: tail, head: head, decoder: decoder,
                                      into: sink, now: 0)
            }
            sink.flush(now: 0)
            let counters = try XCTUnwrap(list.statistics().first).counters

            XCTAssertEqual(newTail, head, "round \(round): the tail reaches the head")
            XCTAssertLessThanOrEqual(counters.malformedBytes, head - tail, "round \(round)")
            XCTAssertEqual(counters.read, counters.sample + counters.overflow + counters.dropbufSample,
                           "round \(round)")
        }
    }
}
