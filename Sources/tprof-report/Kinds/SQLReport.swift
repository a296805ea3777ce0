import ArgumentParser
import Foundation
import TprofExport
import TprofReport

/// `--sql QUERY`: one read-only statement over the database's tables and views.
struct SQLReport: ParsableArguments, ReportKind {
    // .unconditional: the value may begin with '--', as SQL starting with a comment line does.
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Run one read-only SQL statement ('-' reads it from stdin).", valueName: "query"))
    var sql: String?

    var name: String { "--sql" }
    var isSelected: Bool { sql != nil }
    var takes: SharedInputs { .noFilters }

    func run(_ session: ReportSession) throws {
        guard let sql else { return }
        let database = try session.openDatabase()
        let text = sql == "-" ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) : sql
        try database.connection.makeQueryOnly()
        let statement = try database.connection.prepareSingle(text)
        session.write(session.output.format.render(try ResultTable(collecting: statement), width: terminalWidth()))
    }
}
