import Foundation
import TprofStore
import XCTest

/// The schema compiled into the binaries is exactly `Schema/`: editing Schema/ without running
/// scripts/embed-schema.py fails here.
final class EmbeddedSchemaTests: XCTestCase {
    /// The package root, three levels above this file (Tests/TprofStoreTests/EmbeddedSchemaTests.swift).
    private let schemaDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Schema")

    /// The text of a Schema/ file as the embedding script stores it: without trailing newlines.
    private func schemaText(_ name: String) throws -> String {
        var text = try String(contentsOf: schemaDirectory.appendingPathComponent(name), encoding: .utf8)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    private func migrationFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: schemaDirectory.path)
            .filter { $0.range(of: #"^[0-9]{3}-.*\.sql$"#, options: .regularExpression) != nil }
            .sorted()
    }

    func testEveryMigrationFileIsEmbeddedInOrder() throws {
        let files = try migrationFiles()

        XCTAssertFalse(files.isEmpty, "no Schema/NNN-*.sql files in \(schemaDirectory.path)")
        XCTAssertEqual(EmbeddedSchema.migrations.map(\.file), files,
                       "Schema/ and EmbeddedSchema.swift list different files: run scripts/embed-schema.py")
        XCTAssertEqual(EmbeddedSchema.migrations.map(\.version), files.compactMap { Int($0.prefix(3)) })
    }

    func testEveryMigrationTextEqualsItsFile() throws {
        for migration in EmbeddedSchema.migrations {
            XCTAssertEqual(migration.sql, try schemaText(migration.file),
                           "\(migration.file) differs from its embedded copy: run scripts/embed-schema.py")
        }
    }

    func testIndexesEqualIndexesFile() throws {
        XCTAssertEqual(EmbeddedSchema.indexes, try schemaText("indexes.sql"),
                       "indexes.sql differs from its embedded copy: run scripts/embed-schema.py")
    }

    func testSchemaVersionIsTheLastMigration() {
        XCTAssertEqual(RecordingDatabase.schemaVersion, EmbeddedSchema.migrations.last?.version)
        XCTAssertEqual(EmbeddedSchema.migrations.map(\.version), Array(1...EmbeddedSchema.migrations.count),
                       "migrations must be numbered 1, 2, 3, ... without gaps")
    }
}
