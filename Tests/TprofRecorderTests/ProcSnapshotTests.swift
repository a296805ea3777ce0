import Foundation
import TprofCapture
@testable import TprofRecorder
import XCTest

/// The /proc snapshot's reading of `/proc/PID/maps` lines, and of the test process itself.
final class ProcSnapshotTests: XCTestCase {
    private func parse(_ line: String) -> SidebandRecord.Mapping? {
        var line = line
        return line.withUTF8 { ProcSnapshot.parseMapsLine($0, pid: 42, time: 7) }
    }

    func testAFileMappingHasItsRangePermissionsDeviceInodeAndPath() throws {
        let mapping = try XCTUnwrap(parse(
            "7f3a1c200000-7f3a1c228000 r-xp 00028000 fe:01 1835036                    /usr/lib/x86_64-linux-gnu/libc.so.6"))
        XCTAssertEqual(mapping.start, 0x7f3a_1c20_0000)
        XCTAssertEqual(mapping.length, 0x28000)
        XCTAssertEqual(mapping.pageOffset, 0x28000)
        XCTAssertEqual(mapping.major, 0xfe)
        XCTAssertEqual(mapping.minor, 1)
        XCTAssertEqual(mapping.inode, 1_835_036)
        XCTAssertEqual(mapping.protection, 5)
        XCTAssertEqual(mapping.flags, 2)
        XCTAssertEqual(mapping.filename, "/usr/lib/x86_64-linux-gnu/libc.so.6")
        XCTAssertEqual(mapping.pid, 42)
        XCTAssertEqual(mapping.tid, 42)
        XCTAssertEqual(mapping.time, 7)
        XCTAssertEqual(mapping.source, .proc)
    }

    func testAPathKeepsItsInnerSpacesAndAnAnonymousMappingIsNamedAnon() throws {
        XCTAssertEqual(parse("400000-401000 r--p 00000000 08:02 17 /tmp/a dir/prog (deleted)  ")?.filename,
                       "/tmp/a dir/prog (deleted)")
        XCTAssertEqual(parse("7ffd1000-7ffd2000 rw-p 00000000 00:00 0")?.filename, "//anon")
        XCTAssertEqual(parse("55d0c000-55d2d000 rw-p 00000000 00:00 0                          [heap]")?.filename,
                       "[heap]")
        let shared = try XCTUnwrap(parse("7f00000000-7f00001000 rw-s 00000000 00:01 1024 /dev/zero"))
        XCTAssertEqual(shared.flags, 1)
        XCTAssertEqual(shared.protection, 3)
    }

    func testLinesNotOfTheFormAreLeftOut() {
        for line in ["", "garbage", "400000-3ff000 r--p 00000000 08:02 17 /backwards", "400000 r--p 0 08:02 17",
                     "400000-401000 r--p 00000000 0802 17 /no-colon", "400000-401000 r--p 00000000 08:02 1x7 /bad",
                     "4g0000-401000 r--p 00000000 08:02 17 /bad-hex", "400000-401000 r--p 00000000 08:02",
                     "400000-401000 r--p 00000000 1ffffffff:02 17 /major-too-large",
                     "400000-10000000000000000 r--p 00000000 08:02 17 /end-too-large"] {
            XCTAssertNil(parse(line), line)
        }
    }

    func testTheTestProcessHasItsThreadsNamedAndItsExecutableMapped() throws {
        let pid = getpid()
        let records = ProcSnapshot.records(for: [pid], time: 5)
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        var comms = 0
        var mappedExecutable = false
        for record in records {
            switch record {
            case .comm(let time, let recordPID, _, let name, _, let source):
                XCTAssertEqual(time, 5)
                XCTAssertEqual(recordPID, pid)
                XCTAssertEqual(source, .proc)
                XCTAssertFalse(name.isEmpty || name.hasSuffix("\n"), name)
                comms += 1
            case .mmap(let mapping):
                if mapping.filename == executable && mapping.protection & 4 != 0 { mappedExecutable = true }
            default: XCTFail("unexpected record \(record)")
            }
        }
        XCTAssertEqual(comms, ProcSnapshot.threads(of: pid)?.count)
        XCTAssertTrue(mappedExecutable, "no executable mapping of \(executable)")
    }
}
