import Foundation
import SwiftProtobuf
import TprofExport
import TprofTestSupport
import XCTest

/// `tprof-report DB --pprof FILE`: the gzipped profile.proto decoded with swift-protobuf and checked against the
/// database it came from.
final class PprofExportTests: XCTestCase {
    /// Writes the pprof file of `database` (with `extra` report arguments), gunzips and decodes it.
    private func profile(of database: String, _ extra: [String] = []) throws -> Perftools_Profiles_Profile {
        let directory = try makeTemporaryDirectory(prefix: "tprof-pprof")
        let output = directory.file("profile.pb.gz")
        let result = try ExportTools.report([database, "--pprof", output] + extra)
        XCTAssertTrue(result.stderr.contains("wrote \(output)"), result.summary)
        let compressed = try ExportTools.bytes(output)
        XCTAssertEqual(Array(compressed.prefix(2)), [0x1f, 0x8b], "not a gzip file")
        return try Perftools_Profiles_Profile(serializedBytes: try ExportTools.gunzip(output))
    }

    private func string(_ profile: Perftools_Profiles_Profile, _ index: Int64) -> String? {
        guard index >= 0, index < Int64(profile.stringTable.count) else { return nil }
        return profile.stringTable[Int(index)]
    }

    /// The containing function's name of each location (its last line; earlier lines are inlined frames).
    private func functionNames(_ profile: Perftools_Profiles_Profile) -> [UInt64: String] {
        let functions = Dictionary(uniqueKeysWithValues: profile.function.map { ($0.id, $0) })
        var names: [UInt64: String] = [:]
        for location in profile.location {
            if let line = location.line.last, let function = functions[line.functionID] {
                names[location.id] = string(profile, function.name)
            }
        }
        return names
    }

    /// Structure every profile must have: string 0 empty, every reference resolving, labels on every sample.
    private func checkStructure(_ profile: Perftools_Profiles_Profile, file: StaticString = #filePath,
                                line: UInt = #line) {
        XCTAssertEqual(profile.stringTable.first, "", "string_table[0] must be empty", file: file, line: line)
        let locationIDs = Set(profile.location.map(\.id))
        let functionIDs = Set(profile.function.map(\.id))
        let mappingIDs = Set(profile.mapping.map(\.id))
        XCTAssertFalse(locationIDs.contains(0), "location id 0 is reserved", file: file, line: line)
        XCTAssertEqual(locationIDs.count, profile.location.count, "duplicate location ids", file: file, line: line)
        for sample in profile.sample {
            XCTAssertFalse(sample.locationID.isEmpty, "a sample without locations", file: file, line: line)
            for id in sample.locationID where !locationIDs.contains(id) {
                XCTFail("sample refers to missing location \(id)", file: file, line: line)
            }
            XCTAssertEqual(sample.value.count, profile.sampleType.count, file: file, line: line)
            let keys = Set(sample.label.compactMap { string(profile, $0.key) })
            for key in ["pid", "tid", "comm", "cpu"] where !keys.contains(key) {
                XCTFail("a sample lacks the label \(key): \(keys.sorted())", file: file, line: line)
            }
            for label in sample.label where label.str == 0 {
                // pprof keeps a numeric label only when num or num_unit is set (proto3 drops zeros).
                XCTAssertTrue(label.num != 0 || label.numUnit != 0,
                              "numeric label \(string(profile, label.key) ?? "?") = 0 without a unit: pprof drops it",
                              file: file, line: line)
            }
        }
        for location in profile.location {
            if location.mappingID != 0 {
                XCTAssertTrue(mappingIDs.contains(location.mappingID), "location \(location.id) refers to missing "
                    + "mapping \(location.mappingID)", file: file, line: line)
            }
            for entry in location.line where !functionIDs.contains(entry.functionID) {
                XCTFail("location \(location.id) refers to missing function \(entry.functionID)", file: file, line: line)
            }
        }
        for function in profile.function {
            XCTAssertNotNil(string(profile, function.name), file: file, line: line)
            XCTAssertNotNil(string(profile, function.filename), file: file, line: line)
        }
    }

    func testRealRecordingProfileMatchesTheDatabase() throws {
        let workbench = try ExportWorkbench.shared()
        let profile = try profile(of: workbench.base)
        checkStructure(profile)
        let database = try Database(path: workbench.base)

        // Sample types: samples/count, then the event with its unit.
        XCTAssertEqual(profile.sampleType.map { [string(profile, $0.type), string(profile, $0.unit)] },
                       [["samples", "count"], ["cpu-clock", "nanoseconds"]])
        XCTAssertEqual(string(profile, profile.periodType.type), "cpu-clock")
        XCTAssertGreaterThan(profile.period, 0)

        // Every sample of the database, once.
        let samples = try database.scalarInt("SELECT count(*) FROM samples")
        XCTAssertGreaterThan(samples, 500)
        XCTAssertEqual(profile.sample.reduce(Int64(0)) { $0 + $1.value[0] }, samples)
        let period = try database.scalarInt("SELECT sum(period) FROM samples")
        XCTAssertEqual(profile.sample.reduce(Int64(0)) { $0 + $1.value[1] }, period)

        // Function names are the database's names.
        let names = functionNames(profile)
        let databaseNames = Set(try database.rows("SELECT DISTINCT name FROM addresses").compactMap { row -> String? in
            if case .text(let name) = row[0] { return name }
            return nil
        })
        let profileNames = Set(profile.function.compactMap { string(profile, $0.name) })
        XCTAssertTrue(profileNames.isSubset(of: databaseNames),
                      "names not in the addresses table: \(profileNames.subtracting(databaseNames).sorted())")
        for function in ExportWorkload.functions {
            XCTAssertTrue(profileNames.contains(function), "no function \(function) in \(profileNames.sorted())")
        }

        // Leaf first: samples summed by their first location's function give --by-symbol's top symbol, and the
        // samples in leaf list its callers after it, innermost first.
        var byLeaf: [String: Int64] = [:]
        for sample in profile.sample {
            byLeaf[names[sample.locationID[0]] ?? "?", default: 0] += sample.value[0]
        }
        let bySymbol = ExportTools.csvRows(try ExportTools.report([workbench.base, "--by-symbol", "--format", "csv"])
            .stdout)
        let hottest = bySymbol.first?["symbol"]
        XCTAssertEqual(hottest, "leaf")
        XCTAssertEqual(byLeaf.max { $0.value < $1.value }?.key, hottest, "samples per leaf function: \(byLeaf)")
        XCTAssertEqual(byLeaf["leaf"].map(String.init), bySymbol.first?["samples"])
        let heaviest = try XCTUnwrap(profile.sample.max { $0.value[0] < $1.value[0] })
        XCTAssertTrue(["leaf", "twig"].contains(names[heaviest.locationID[0]] ?? "?"),
                      "the heaviest sample's first location is \(names[heaviest.locationID[0]] ?? "?")")
        var leafChains = 0
        for sample in profile.sample where names[sample.locationID[0]] == "leaf" {
            let chain = sample.locationID.map { names[$0] ?? "?" }
            guard let mid = chain.firstIndex(of: "mid"), let outer = chain.firstIndex(of: "outer"),
                  let main = chain.firstIndex(of: "main") else { continue }
            XCTAssertTrue(mid < outer && outer < main, "not leaf first: \(chain)")
            leafChains += 1
        }
        XCTAssertGreaterThan(leafChains, 0, "no sample of leaf lists mid, outer and main")

        // Lines and files of the program's own functions.
        let functionsByID = Dictionary(uniqueKeysWithValues: profile.function.map { ($0.id, $0) })
        var checkedLines = 0
        for location in profile.location {
            guard let entry = location.line.last, let function = functionsByID[entry.functionID],
                  let name = string(profile, function.name), ExportWorkload.functions.contains(name) else { continue }
            XCTAssertGreaterThan(entry.line, 0, "no line for \(name) at 0x\(String(location.address, radix: 16))")
            XCTAssertTrue((string(profile, function.filename) ?? "").hasSuffix("/\(ExportWorkload.name).c"),
                          "\(name) is in \(string(profile, function.filename) ?? "?")")
            checkedLines += 1
        }
        XCTAssertGreaterThan(checkedLines, 5)

        // Mappings: the executable first, with its build id.
        let first = try XCTUnwrap(profile.mapping.first)
        XCTAssertEqual(string(profile, first.filename), workbench.program)
        let buildID = string(profile, first.buildID) ?? ""
        XCTAssertFalse(buildID.isEmpty, "the executable's mapping has no build id")
        XCTAssertEqual(buildID, try database.scalarText("SELECT build_id FROM dsos WHERE kind = 'executable'"))
        XCTAssertTrue(first.hasFunctions_p)
        XCTAssertGreaterThan(first.memoryLimit, first.memoryStart)

        // Labels: pid and comm of the recorded process, tid and cpu from the database.
        let pid = try database.scalarInt("SELECT DISTINCT pid FROM samples")
        let comm = try database.scalarText("SELECT comm FROM processes WHERE pid = \(pid)")
        XCTAssertEqual(comm, ExportWorkload.name)
        let cpus = Set(try database.ints("SELECT DISTINCT cpu FROM samples"))
        for sample in profile.sample {
            for label in sample.label {
                switch string(profile, label.key) {
                case "pid": XCTAssertEqual(label.num, pid)
                case "tid": XCTAssertEqual(label.num, pid)
                case "comm": XCTAssertEqual(string(profile, label.str), comm)
                case "cpu": XCTAssertTrue(cpus.contains(label.num), "cpu label \(label.num) not in \(cpus)")
                default: break
                }
            }
        }
    }

    func testSyntheticProfileTotalsAndPidFilter() throws {
        let workbench = try ExportWorkbench.shared()
        let database = try Database(path: workbench.synthetic)
        let total = try database.scalarInt("SELECT count(*) FROM samples")
        XCTAssertEqual(total, Int64(2 * ExportWorkbench.syntheticSamplesPerCPU))

        let all = try profile(of: workbench.synthetic)
        checkStructure(all)
        XCTAssertEqual(all.sample.reduce(Int64(0)) { $0 + $1.value[0] }, total)
        try checkEventColumns(all, database: database, names: ["synthetic-0", "synthetic-1"],
                              units: ["count", "count"])
        // 8 frames of call chain on every sample: the leaf and 8 callers.
        for sample in all.sample {
            XCTAssertGreaterThanOrEqual(sample.locationID.count, 8)
        }
        // Labels carry the synthetic processes, threads and both CPUs (cpu 0 included).
        var labelled: [String: Set<Int64>] = [:]
        for sample in all.sample {
            for label in sample.label where label.str == 0 {
                labelled[string(all, label.key) ?? "?", default: []].insert(label.num)
            }
        }
        XCTAssertEqual(labelled["pid"], [1000, 1001, 1002, 1003])
        XCTAssertEqual(labelled["cpu"], [0, 1])
        XCTAssertEqual(labelled["tid"]?.count, 8)

        // --pid keeps that process's samples only.
        let pidSamples = try database.scalarInt("SELECT count(*) FROM samples WHERE pid = 1001")
        XCTAssertGreaterThan(pidSamples, 0)
        XCTAssertLessThan(pidSamples, total)
        let one = try profile(of: workbench.synthetic, ["--pid", "1001"])
        checkStructure(one)
        XCTAssertEqual(one.sample.reduce(Int64(0)) { $0 + $1.value[0] }, pidSamples)
        for sample in one.sample {
            let pids = sample.label.filter { string(one, $0.key) == "pid" }.map(\.num)
            XCTAssertEqual(pids, [1001])
        }
        // Two processes: their sum.
        let two = try profile(of: workbench.synthetic, ["--pid", "1001,1003"])
        XCTAssertEqual(two.sample.reduce(Int64(0)) { $0 + $1.value[0] },
                       try database.scalarInt("SELECT count(*) FROM samples WHERE pid IN (1001, 1003)"))
    }

    /// One value column per event after samples/count: each sums that event's periods, and a sample has a
    /// period only in the column of its own event (its `event` label).
    private func checkEventColumns(_ profile: Perftools_Profiles_Profile, database: Database, names: [String],
                                   units: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(profile.sampleType.map { string(profile, $0.type) ?? "?" }, ["samples"] + names,
                       file: file, line: line)
        XCTAssertEqual(profile.sampleType.map { string(profile, $0.unit) ?? "?" }, ["count"] + units,
                       file: file, line: line)
        guard profile.sampleType.count == names.count + 1,
              profile.sample.allSatisfy({ $0.value.count == names.count + 1 }) else {
            XCTFail("not one value per event", file: file, line: line)
            return
        }
        for (index, name) in names.enumerated() {
            let column = index + 1
            XCTAssertEqual(profile.sample.reduce(Int64(0)) { $0 + $1.value[column] },
                           try database.scalarInt("SELECT coalesce(sum(period), 0) FROM samples WHERE event = \(index)"),
                           "periods of \(name)", file: file, line: line)
        }
        for sample in profile.sample {
            let event = sample.label.first { string(profile, $0.key) == "event" }.flatMap { string(profile, $0.str) }
            for (index, name) in names.enumerated() where name != event {
                XCTAssertEqual(sample.value[index + 1], 0, "a \(event ?? "?") sample has a \(name) period",
                               file: file, line: line)
            }
        }
    }

    func testEachEventHasItsOwnValue() throws {
        let workbench = try ExportWorkbench.shared()
        let directory = try makeTemporaryDirectory(prefix: "tprof-pprof-events")
        let path = try ExportWorkbench.record(workbench.program, arguments: ["0.3", "3", "2"],
                                              into: directory.file("events.db"), events: ["cpu-clock", "page-faults"])
        let database = try Database(path: path)
        XCTAssertGreaterThan(try database.scalarInt("SELECT count(*) FROM samples WHERE event = 1"), 0,
                             "no page-fault samples")
        let profile = try profile(of: path)
        checkStructure(profile)
        XCTAssertEqual(profile.sample.reduce(Int64(0)) { $0 + $1.value[0] },
                       try database.scalarInt("SELECT count(*) FROM samples"))
        try checkEventColumns(profile, database: database, names: ["cpu-clock", "page-faults"],
                              units: ["nanoseconds", "count"])
        XCTAssertEqual(string(profile, profile.periodType.type), "cpu-clock")
    }

    func testTimeRangeFilterReducesTheProfile() throws {
        let workbench = try ExportWorkbench.shared()
        let database = try Database(path: workbench.base)
        let expected = try database.scalarInt(
            "SELECT count(*) FROM samples WHERE time >= 200000000 AND time < 700000000")
        XCTAssertGreaterThan(expected, 20)
        XCTAssertLessThan(expected, try database.scalarInt("SELECT count(*) FROM samples"))
        let profile = try profile(of: workbench.base, ["--since", "0.2", "--until", "0.7"])
        checkStructure(profile)
        XCTAssertEqual(profile.sample.reduce(Int64(0)) { $0 + $1.value[0] }, expected)
    }
}
