import Foundation
import TprofCapture
import TprofStore
import TprofTestSupport
import XCTest

/// The rows a recording stores for given call chains and user stack copies, through the capture buffers and the
/// writer as tprof-record runs them. The expected rows were taken from the writer that interned the kernel's raw
/// chains itself (before capture handed on frames with their flags), so they pin the stored `stacks` table,
/// the samples' stacks and the stack copies byte for byte.
final class StoredStackRowsTests: XCTestCase {
    private let kernel = UInt64(bitPattern: -128)
    private let user = UInt64(bitPattern: -512)
    private let hypervisor = UInt64(bitPattern: -32)
    private let guestKernel = UInt64(bitPattern: -2176)
    private let guestUser = UInt64(bitPattern: -2560)
    /// PERF_CONTEXT_MAX itself (a marker) and the entry just below it (an address).
    private let contextMax = UInt64(bitPattern: -4095)

    /// The copied user registers (17 of 8 bytes) and stack of the samples that have them.
    private let registers = (0..<136).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    private let stack = (0..<40).map { UInt8(truncatingIfNeeded: 200 &- $0) }

    /// The chains, leaf first with the kernel's context markers, one sample each.
    private var chains: [[UInt64]] {
        [
            [kernel, 0xffff_ffff_8100_0010, 0xffff_ffff_8100_0020, 0xffff_ffff_8100_0030, user, 0x40_1000, 0x40_2000,
             0x40_3000],
            // The same chain again, then the same frames under the guest kernel's marker: one leaf for all three.
            [kernel, 0xffff_ffff_8100_0010, 0xffff_ffff_8100_0020, 0xffff_ffff_8100_0030, user, 0x40_1000, 0x40_2000,
             0x40_3000],
            [guestKernel, 0xffff_ffff_8100_0010, 0xffff_ffff_8100_0020, 0xffff_ffff_8100_0030, user, 0x40_1000,
             0x40_2000, 0x40_3000],
            [user, 0x40_1000, 0x40_2000, 0x40_3000],
            [user, 0x40_2000, 0x40_3000],
            // No marker first: user frames, the first one the sampled pc.
            [0x40_2000, 0x40_3000],
            // Markers together, and one at the end.
            [kernel, kernel, 0xffff_ffff_8100_0040, user],
            // Every kind of context, each starting again with a sampled pc.
            [kernel, 0xffff_ffff_8100_0050, guestKernel, 0xffff_ffff_8100_0060, 0xffff_ffff_8100_0070, user, 0x40_4000,
             hypervisor, 0x40_5000, guestUser, 0x40_6000, 0x40_7000],
            // User frames first, then kernel ones.
            [user, 0x40_1000, kernel, 0xffff_ffff_8100_0010, 0xffff_ffff_8100_0020],
            // Damaged: PERF_CONTEXT_MAX itself, all ones, zero, the entry just below PERF_CONTEXT_MAX.
            [kernel, contextMax, 0xffff_ffff_8100_0080, UInt64.max, 0, contextMax - 1, user, 0, 0x40_8000],
            // Only markers, and no chain at all: no stack.
            [kernel, user],
            [],
        ]
    }

    /// Writes one sample per chain, then two with user stack copies, and returns the database's path.
    private func record() throws -> String {
        let directory = try makeTemporaryDirectory(prefix: "tprof-store-stack-rows")
        let path = directory.file("run.db")
        let database = try RecordingDatabase(creating: path, force: false)
        let list = BufferList(cpus: [0], configuration: .init(bufferCapacity: 4, limit: 64, frameCapacity: 4096,
                                                              userDataCapacity: 4096))
        let writer = try SampleWriter(database: database, list: list, startMonotonic: 0, eventCount: 1,
                                      userStacksSchema: "main")
        let sink = CPUSampleSink(cpu: 0, list: list, flushInterval: UInt64.max, now: 0)
        writer.start()
        for (n, chain) in chains.enumerated() {
            let sample = Sample(time: UInt64(n), pid: 7, tid: 7, cpu: 0, event: 0, mode: .user, pc: 0x40_1000,
                                period: 1)
            chain.withUnsafeBytes { sink.add(sample, callchain: $0, now: 0) }
        }
        let withKernel: [UInt64] = [kernel, 0xffff_ffff_8100_0090, 0xffff_ffff_8100_00a0]
        registers.withUnsafeBytes { registers in
            stack.withUnsafeBytes { stack in
                withKernel.withUnsafeBytes { chain in
                    sink.add(Sample(time: 100, pid: 7, tid: 7, cpu: 0, event: 0, mode: .kernel, pc: 0x10, period: 1),
                             callchain: chain, userStack: (registers, stack), now: 0)
                }
                sink.add(Sample(time: 101, pid: 7, tid: 7, cpu: 0, event: 0, mode: .user, pc: 0x20, period: 1),
                         callchain: nil, userStack: (registers, UnsafeRawBufferPointer(rebasing: stack[0..<8])),
                         now: 0)
            }
        }
        sink.flush(now: 0)
        list.close()
        writer.finish()
        XCTAssertNil(writer.failure)
        return path
    }

    /// Each row of `sql` (one text column) as its text.
    private func lines(_ db: Database, _ sql: String) throws -> [String] {
        try db.rows(sql).map { row in
            guard case .text(let line) = row.first else { return "not text: \(row)" }
            return line
        }
    }

    func testStoredStacksAreTheRowsOfTheKernelsChains() throws {
        let db = try Database(path: try record())
        let stacks = try lines(db, """
            SELECT printf('%d %d %x %d %d %d', id, parent_id, address, kernel, return_address, depth)
            FROM stacks ORDER BY id
            """)
        // id, parent, address, kernel, return address, depth.
        XCTAssertEqual(stacks, [
            "1 0 403000 0 1 0", "2 1 402000 0 1 1", "3 2 401000 0 0 2", "4 3 ffffffff81000030 1 1 3",
            "5 4 ffffffff81000020 1 1 4", "6 5 ffffffff81000010 1 0 5", "7 1 402000 0 0 1",
            "8 0 ffffffff81000040 1 0 0", "9 0 407000 0 1 0", "10 9 406000 0 0 1", "11 10 405000 0 0 2",
            "12 11 404000 0 0 3", "13 12 ffffffff81000070 1 1 4", "14 13 ffffffff81000060 1 0 5",
            "15 14 ffffffff81000050 1 0 6", "16 0 ffffffff81000020 1 1 0", "17 16 ffffffff81000010 1 0 1",
            "18 17 401000 0 0 2", "19 0 408000 0 1 0", "20 19 0 0 0 1", "21 20 fffffffffffff000 0 1 2",
            "22 21 0 0 0 3", "23 22 ffffffff81000080 0 0 4", "24 0 ffffffff810000a0 1 1 0",
            "25 24 ffffffff81000090 1 0 1",
        ])
        let samples = try lines(db,
                                "SELECT printf('%d %s', time, coalesce(stack_id, 'null')) FROM samples ORDER BY time")
        XCTAssertEqual(samples, [
            "0 6", "1 6", "2 6", "3 3", "4 7", "5 7", "6 8",
            // No chain is stack id 0 (schema 8), never NULL.
            "7 15", "8 18", "9 23", "10 0", "11 0", "100 25", "101 0",
        ])
        let copies = try lines(db, """
            SELECT printf('%d %s %s', s.time, hex(u.registers), hex(u.stack))
            FROM user_stacks u JOIN samples s ON s.rowid = u.sample_id ORDER BY s.time
            """)
        XCTAssertEqual(copies, ["100 \(hex(registers)) \(hex(stack))",
                                "101 \(hex(registers)) \(hex(stack.prefix(8)))"])
    }

    /// Bytes as SQLite's hex() writes them.
    private func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        bytes.map { String(format: "%02X", $0) }.joined()
    }
}
