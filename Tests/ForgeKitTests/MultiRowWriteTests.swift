import ForgeKit
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
}
