import CZlib
import Foundation
import SwiftProtobuf
import TprofCLI
import TprofReport
import TprofDatabase

/// pprof's profile.proto, gzipped: sample types (samples/count and each event's period), locations leaf first with
/// their lines and inline frames, functions with names and files, mappings with build ids, and the labels pid,
/// tid, comm and cpu on every sample.
public enum PprofExport {
    /// Builds the profile of the samples the filter selects.
    public static func profile(database: ReportDatabase, filter: SampleFilter) throws -> Perftools_Profiles_Profile {
        var builder = Builder()
        let db = database.connection
        var eventName = "samples"
        var eventNames: [Int64: String] = [:]
        var requestedPeriod: Int64 = 0
        var requestedFrequency: Int64 = 0
        func unitOf(_ event: String) -> String {
            // An off-cpu sample's period is the time its thread then spent off CPU.
            ["cpu-clock", "task-clock", SampleWeight.offCPUEvent].contains(event) ? "nanoseconds" : "count"
        }
        // samples/count, then one value per event: the periods of different events (nanoseconds of cpu-clock, page
        // faults, cycles, ...) are not added up in one column.
        var sampleTypes = [builder.valueType("samples", "count")]
        var eventColumns: [Int64: Int] = [:]
        let events = try db.prepare(
            "SELECT id, base_name, coalesce(requested_period, 0), coalesce(requested_frequency, 0) FROM events ORDER BY id")
        while try events.step() {
            let name = events.text(1) ?? "event"
            eventNames[events.int64(0)] = name
            eventColumns[events.int64(0)] = sampleTypes.count
            sampleTypes.append(builder.valueType(name, unitOf(name)))
            if events.int64(0) == 0 {
                eventName = name
                requestedPeriod = events.int64(2)
                requestedFrequency = events.int64(3)
            }
        }
        if sampleTypes.count == 1 { sampleTypes.append(builder.valueType(eventName, unitOf(eventName))) }
        let unit = unitOf(eventName)
        var profile = Perftools_Profiles_Profile()
        profile.sampleType = sampleTypes
        profile.periodType = builder.valueType(eventName, unit)
        if requestedPeriod > 0 {
            profile.period = requestedPeriod
        } else if requestedFrequency > 0 {
            profile.period = unit == "nanoseconds" ? 1_000_000_000 / requestedFrequency : 1
        }
        let run = try db.prepare("SELECT start_time_ns, coalesce(duration_ns, 0) FROM run WHERE id = 1")
        if try run.step() {
            profile.timeNanos = run.int64(0)
            profile.durationNanos = run.int64(1)
        }

        try builder.loadLocations(db)
        let chains = try StackChains(database: db)
        let source = filter.needsSamples ? "sample_symbol_facts" : "symbol_groups"
        let (whereSQL, bindings) = filter.whereClause()
        let groups = try db.prepare("""
            SELECT pid, coalesce(thread_comm, comm, '?'), tid, cpu, event, coalesce(stack_id, 0), address_id,
                   sum(samples), sum(\(filter.periodSQL()))
            FROM \(source) \(whereSQL) GROUP BY 1, 2, 3, 4, 5, 6, 7
            """)
        try groups.bind(bindings)
        while try groups.step() {
            let pid = groups.int64(0)
            var sample = Perftools_Profiles_Sample()
            let addressIDs = groups.int64(5) != 0
                ? chains.frames(pid: pid, leaf: groups.int64(5)).map(\.addressID) : [groups.int64(6)]
            sample.locationID = addressIDs.compactMap { builder.locationIDs[$0] }
            sample.value = [Int64](repeating: 0, count: sampleTypes.count)
            sample.value[0] = groups.int64(7)
            sample.value[eventColumns[groups.int64(4)] ?? 1] = groups.int64(8)
            sample.label = [
                builder.label("pid", number: pid), builder.label("tid", number: groups.int64(2)),
                builder.label("comm", text: groups.text(1) ?? "?"), builder.label("cpu", number: groups.int64(3)),
                builder.label("event", text: eventNames[groups.int64(4)] ?? "event"),
            ]
            profile.sample.append(sample)
        }
        profile.mapping = builder.mappings
        profile.location = builder.locations
        profile.function = builder.functions
        profile.stringTable = builder.strings
        return profile
    }

    /// The profile serialized and gzipped, as pprof files are stored.
    public static func gzippedData(database: ReportDatabase, filter: SampleFilter) throws -> Data {
        try gzip(try profile(database: database, filter: filter).serializedData())
    }

    /// gzip (RFC 1952) through zlib.
    public static func gzip(_ data: Data) throws -> Data {
        var stream = z_stream()
        // windowBits 15 + 16 asks zlib for a gzip header and trailer.
        guard deflateInit2_(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                            Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ToolFailure("zlib could not start compressing")
        }
        defer { deflateEnd(&stream) }
        var input = [UInt8](data)
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        let status = input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer -> Int32 in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw ToolFailure("zlib could not compress the profile (\(status))") }
        return Data(output.prefix(Int(stream.total_out)))
    }

    /// The string table, functions, locations and mappings, each interned once.
    private struct Builder {
        var strings: [String] = [""]
        private var stringIDs: [String: Int64] = ["": 0]
        var functions: [Perftools_Profiles_Function] = []
        private var functionIDs: [String: UInt64] = [:]
        var locations: [Perftools_Profiles_Location] = []
        var locationIDs: [Int64: UInt64] = [:]
        var mappings: [Perftools_Profiles_Mapping] = []
        private var mappingIDs: [Int64: UInt64] = [:]

        mutating func string(_ text: String) -> Int64 {
            if let id = stringIDs[text] { return id }
            let id = Int64(strings.count)
            strings.append(text)
            stringIDs[text] = id
            return id
        }

        mutating func valueType(_ type: String, _ unit: String) -> Perftools_Profiles_ValueType {
            var value = Perftools_Profiles_ValueType()
            value.type = string(type)
            value.unit = string(unit)
            return value
        }

        mutating func label(_ key: String, number: Int64) -> Perftools_Profiles_Label {
            var label = Perftools_Profiles_Label()
            label.key = string(key)
            label.num = number
            // pprof drops a numeric label whose num and num_unit are both 0 (proto3 leaves zeros out, so it
            // cannot tell them from absent): cpu 0, pid 0 and tid 0 would lose their label without a unit.
            label.numUnit = string(key)
            return label
        }

        mutating func label(_ key: String, text: String) -> Perftools_Profiles_Label {
            var label = Perftools_Profiles_Label()
            label.key = string(key)
            label.str = string(text)
            return label
        }

        mutating func function(name: String, systemName: String, file: String) -> UInt64 {
            let key = name + "\u{0}" + systemName + "\u{0}" + file
            if let id = functionIDs[key] { return id }
            var function = Perftools_Profiles_Function()
            function.id = UInt64(functions.count + 1)
            function.name = string(name)
            function.systemName = string(systemName)
            function.filename = string(file)
            functions.append(function)
            functionIDs[key] = function.id
            return function.id
        }

        /// One location per resolved address, with a mapping per library.
        mutating func loadLocations(_ db: SQLiteDatabase) throws {
            var ranges: [String: (start: UInt64, limit: UInt64, offset: UInt64)] = [:]
            let mmaps = try db.prepare("SELECT filename, min(start), max(start + length), min(pgoff) FROM mmap_records GROUP BY filename")
            while try mmaps.step() {
                ranges[mmaps.text(0) ?? ""] = (UInt64(bitPattern: mmaps.int64(1)), UInt64(bitPattern: mmaps.int64(2)),
                                               UInt64(bitPattern: mmaps.int64(3)))
            }
            // pprof takes the first mapping for the main binary.
            let dsos = try db.prepare(
                "SELECT id, path, coalesce(build_id, ''), symbol_source FROM dsos ORDER BY kind != 'executable', id")
            while try dsos.step() {
                var mapping = Perftools_Profiles_Mapping()
                mapping.id = UInt64(mappings.count + 1)
                let path = dsos.text(1) ?? ""
                if let range = ranges[path] {
                    mapping.memoryStart = range.start
                    mapping.memoryLimit = range.limit
                    mapping.fileOffset = range.offset
                }
                mapping.filename = string(path)
                mapping.buildID = string(dsos.text(2) ?? "")
                mapping.hasFunctions_p = (dsos.text(3) ?? "none") != "none"
                mappings.append(mapping)
                mappingIDs[dsos.int64(0)] = mapping.id
            }
            let addresses = try db.prepare("""
                SELECT a.id, a.pc, a.dso_id, a.name, coalesce(s.raw_name, a.name), coalesce(a.file, ''),
                       coalesce(a.line, 0), coalesce(a.inlined, '')
                FROM addresses a LEFT JOIN symbols s ON s.id = a.symbol_id ORDER BY a.id
                """)
            while try addresses.step() {
                var location = Perftools_Profiles_Location()
                location.id = UInt64(locations.count + 1)
                location.address = UInt64(bitPattern: addresses.int64(1))
                if !addresses.isNull(2) { location.mappingID = mappingIDs[addresses.int64(2)] ?? 0 }
                let file = addresses.text(5) ?? ""
                // Inline chain, innermost first, then the function the code was inlined into.
                let inlined = (addresses.text(7) ?? "").components(separatedBy: " <- ").filter { !$0.isEmpty }
                for (index, name) in inlined.enumerated() {
                    var line = Perftools_Profiles_Line()
                    line.functionID = function(name: name, systemName: name, file: file)
                    if index == 0 { line.line = addresses.int64(6) }
                    location.line.append(line)
                }
                var line = Perftools_Profiles_Line()
                line.functionID = function(name: addresses.text(3) ?? "?", systemName: addresses.text(4) ?? "?",
                                           file: file)
                if inlined.isEmpty { line.line = addresses.int64(6) }
                location.line.append(line)
                locations.append(location)
                locationIDs[addresses.int64(0)] = location.id
            }
        }
    }
}
