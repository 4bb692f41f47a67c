import ForgeKit
import Foundation
import GRDB
import Testing

@Suite("Rows written with a few multi-row statements")
struct MultiRowWriteTests {
    @Test("every row is written in order (the later of two with one key wins), whatever the count: 0, 1, 100, 237 rows")
    func rowsInOrder() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE point (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            let insert = { (values: [DatabaseValue]) in
                try db.executeRows("INSERT INTO point (k, v) VALUES ", row: "(?, ?)", " ON CONFLICT(k) DO UPDATE SET v = excluded.v",
                                   values: values, columns: 2)
            }
            try insert([])
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM point") == 0)
            for count in [1, 100, 237] {
                try db.execute(sql: "DELETE FROM point")
                // Keys 0..<count, then key 0 again last: its value must be the last one.
                let rows = (0..<count).map { [$0.databaseValue, "v\($0)".databaseValue] } + [[0.databaseValue, "last".databaseValue]]
                try insert(rows.flatMap { $0 })
                #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM point") == count, "\(count) rows")
                #expect(try String.fetchOne(db, sql: "SELECT v FROM point WHERE k = 0") == "last", "\(count) rows")
                #expect(try String.fetchOne(db, sql: "SELECT v FROM point WHERE k = ?", arguments: [count - 1]) == (count == 1 ? "last" : "v\(count - 1)"))
            }
        }
    }

    @Test("values of every kind arrive as bound; a failing statement throws and the next write works; observers of the table see the rows")
    func boundValuesAndObservation() throws {
        let queue = try DatabaseQueue()
        final class Seen: TransactionObserver, @unchecked Sendable {
            var changes = 0
            func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { eventKind.tableName == "kinds" }
            func databaseDidChange(with event: DatabaseEvent) { changes += 1 }
            func databaseDidCommit(_ db: Database) {}
            func databaseDidRollback(_ db: Database) {}
        }
        let seen = Seen()
        queue.add(transactionObserver: seen, extent: .observerLifetime)
        let blob = Data([0, 1, 2, 255])
        let row: [DatabaseValue] = [1.databaseValue, DatabaseValue.null, 2.5.databaseValue, "上海精密\"机械\"".databaseValue, blob.databaseValue]
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE kinds (k INTEGER PRIMARY KEY, n, d REAL, t TEXT, b BLOB)")
            try db.executeRows("INSERT INTO kinds (k, n, d, t, b) VALUES ", row: "(?, ?, ?, ?, ?)", values: row, columns: 5)
            let read = try Row.fetchOne(db, sql: "SELECT k, n, d, t, b FROM kinds")!
            #expect(read[0] as Int == 1 && read[1] as DatabaseValue == .null && read[2] as Double == 2.5)
            #expect(read[3] as String == "上海精密\"机械\"" && read[4] as Data == blob)
            // The same key again: the statement fails and GRDB drops it from its cache.
            #expect(throws: DatabaseError.self) {
                try db.executeRows("INSERT INTO kinds (k, n, d, t, b) VALUES ", row: "(?, ?, ?, ?, ?)", values: row, columns: 5)
            }
            try db.executeRows("INSERT INTO kinds (k, n, d, t, b) VALUES ", row: "(?, ?, ?, ?, ?)", values: [2.databaseValue] + row.dropFirst(), columns: 5)
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM kinds") == 2)
        }
        #expect(seen.changes == 2)
    }
}
