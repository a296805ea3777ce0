import Foundation
import TprofDatabase
import TprofReport

/// `--annotate` printed: perf annotate's layout (share, samples, address, instruction) with each source line
/// before the instructions built from it, or one row per instruction (or source line) for csv and json.
public struct AnnotationText {
    /// Escape sequences that start and end the hottest instructions' highlight (colour on a terminal); nil: a
    /// `*` marks them only.
    public var highlight: (start: String, end: String)?
    /// How many of the hottest instructions are marked.
    public static let hottestMarked = 3

    public init(highlight: (start: String, end: String)? = nil) {
        self.highlight = highlight
    }

    /// The function's listing: disassembly interleaved with the source lines kept, or (`sourceOnly`) the source
    /// lines alone with their samples.
    public func render(_ annotation: Annotation, sourceOnly: Bool) -> String {
        let function = annotation.function
        var out = "\(function.name)  \(function.kernel ? "[k]" : "[.]") \(function.dso)"
        if let buildID = function.buildID { out += "  build id \(buildID)" }
        out += "  \(Self.amount(function.samples, annotation.weight))\n"
        if !annotation.otherMatches.isEmpty {
            let others = annotation.otherMatches.prefix(10).map {
                "\($0.name) (\(Self.amount($0.samples, annotation.weight)))"
            }
            let more = annotation.otherMatches.count > 10 ? ", and \(annotation.otherMatches.count - 10) more" : ""
            out += "also matched: \(others.joined(separator: ", "))\(more)\n"
        }
        if let note = annotation.codeNote { out += "note: \(note)\n" }
        if let reason = annotation.codeUnavailable {
            out += "code not shown: \(reason); sampled addresses only\n"
        }
        out += "\n"
        return out + (sourceOnly ? sourceListing(annotation) : instructionListing(annotation))
    }

    private func instructionListing(_ annotation: Annotation) -> String {
        let hottest = Set(annotation.rows.filter { $0.samples > 0 }.sorted { $0.samples > $1.samples }
            .prefix(Self.hottestMarked).map(\.offset))
        let width = String(annotation.rows.last?.address ?? 0, radix: 16).count
        var out = "   percent  \(Self.heading(annotation.weight))  \("address".padding(toLength: max(width, 7) + 1, withPad: " ", startingAt: 0)) "
            + "instruction\n"
        var lastLine: (String?, Int?) = (nil, nil)
        for row in annotation.rows {
            if let file = row.file, let line = row.line, lastLine != (file, line) {
                let text = annotation.sourceText[file]?[line].map { "  " + $0 } ?? ""
                out += "\(String(repeating: " ", count: 20)) \((file as NSString).lastPathComponent):\(line)\(text)\n"
            }
            lastLine = (row.file, row.line)
            let hot = hottest.contains(row.offset)
            let share = row.samples > 0 ? String(format: "%7.2f", row.percent) : String(repeating: " ", count: 7)
            let count = row.samples > 0 ? Self.cell(row.samples, annotation.weight) : ""
            let address = String(row.address, radix: 16)
            var instruction = row.text ?? ""
            if let target = row.branchTarget {
                instruction += annotation.place(of: target).map { "  <\($0)>" } ?? ""
            }
            var line = "\(hot ? "*" : " ") \(share)  \(count.leftPadded(7))  "
                + "\(address.leftPadded(max(width, 7))): \(instruction)"
            if hot, let highlight { line = highlight.start + line + highlight.end }
            out += line + "\n"
        }
        return out
    }

    private func sourceListing(_ annotation: Annotation) -> String {
        var out = "   percent  \(Self.heading(annotation.weight))  line\n"
        var lastFile: String?
        for row in annotation.sourceRows() {
            if row.file != lastFile { out += "\(row.file)\n" }
            lastFile = row.file
            let share = row.samples > 0 ? String(format: "%7.2f", row.percent) : String(repeating: " ", count: 7)
            let count = row.samples > 0 ? Self.cell(row.samples, annotation.weight) : ""
            out += "  \(share)  \(count.leftPadded(7))  \(String(row.line).leftPadded(5))  \(row.text ?? "")\n"
        }
        return out
    }

    /// The listing's column of weights: samples, or milliseconds of off-CPU or wall-clock time.
    private static func heading(_ weight: SampleWeight) -> String {
        weight.isTime ? "     ms" : "samples"
    }

    private static func cell(_ value: Int64, _ weight: SampleWeight) -> String {
        weight.isTime ? String(format: "%.2f", Double(value) / 1e6) : String(value)
    }

    private static func amount(_ value: Int64, _ weight: SampleWeight) -> String {
        weight.isTime ? "\(cell(value, weight)) ms \(weight == .offCPU ? "off CPU" : "wall-clock")" : "\(value) samples"
    }

    /// csv and json give time in nanoseconds, as the database holds it.
    private static func tableColumn(_ weight: SampleWeight) -> String {
        weight.isTime ? "nanoseconds" : "samples"
    }

    /// One row per instruction: address, offset, samples (or nanoseconds), percent, instruction, source file and line.
    public static func instructionTable(_ annotation: Annotation) -> ResultTable {
        ResultTable(columns: ["address", "offset", tableColumn(annotation.weight), "percent", "instruction", "source_file", "source_line"],
                    rows: annotation.rows.map { row in
                        [.text("0x" + String(row.address, radix: 16)), .integer(Int64(row.offset)),
                         .integer(row.samples), .real(row.percent), SQLiteValue(row.text), SQLiteValue(row.file),
                         row.line.map { .integer(Int64($0)) } ?? .null]
                    })
    }

    /// One row per source line: file, line, samples, percent, text.
    public static func sourceTable(_ annotation: Annotation) -> ResultTable {
        ResultTable(columns: ["source_file", "source_line", tableColumn(annotation.weight), "percent", "text"],
                    rows: annotation.sourceRows().map { row in
                        [.text(row.file), .integer(Int64(row.line)), .integer(row.samples), .real(row.percent),
                         SQLiteValue(row.text)]
                    })
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
