import TprofStore
import TprofTestSupport
import XCTest

/// A bind SQLite refuses is never silently dropped: the statement would run with the previous value in its place.
final class SQLiteBindTests: XCTestCase {
    /// SQLITE_RANGE: a parameter index the statement does not have.
    private let rangeError: Int32 = 25

    func testRefusedBindIsThrownByTheNextStepAndOnlyOnce() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-sqlite")
        let db = try SQLiteDatabase(path: BytePath(directory.file("bind.db")), mode: .create)
        try db.execute("CREATE TABLE t (a INTEGER)")
        let insert = try db.prepare("INSERT INTO t (a) VALUES (?)")
        insert.bind(1, 7)
        insert.bind(2, 8)
        XCTAssertThrowsError(try insert.runBound()) { XCTAssertEqual(($0 as? SQLiteError)?.code, self.rangeError) }
        XCTAssertEqual(try db.scalarInt("SELECT count(*) FROM t"), 0, "the statement did not run")

        insert.bind(1, 9)
        try insert.runBound()
        XCTAssertEqual(try db.scalarInt("SELECT a FROM t"), 9, "the statement is usable again")
    }

    func testBindingAListThrowsAtOnce() throws {
        let directory = try TemporaryDirectory(prefix: "tprof-sqlite")
        let db = try SQLiteDatabase(path: BytePath(directory.file("bind.db")), mode: .create)
        try db.execute("CREATE TABLE t (a INTEGER)")
        let insert = try db.prepare("INSERT INTO t (a) VALUES (?)")
        XCTAssertThrowsError(try insert.run([.integer(1), .integer(2)])) {
            XCTAssertEqual(($0 as? SQLiteError)?.code, self.rangeError)
        }
        try insert.run([.integer(3)])
        XCTAssertEqual(try db.scalarInt("SELECT group_concat(a) FROM t"), 3)
    }
}
