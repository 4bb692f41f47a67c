import ForgeKit
import Foundation
import GRDB
import Testing

@Suite("Group commit")
struct GroupCommitTests {
    struct Refused: Error {}

    @Test("concurrent writes share transactions; a write that throws is rolled back alone and its caller gets the error; the others commit")
    func batches() async throws {
        let database = try ForgeDatabase.temporary { migrator in
            migrator.registerMigration("t") { db in try db.execute(sql: "CREATE TABLE answer (id INTEGER PRIMARY KEY, score INTEGER NOT NULL)") }
        }
        let commits = GroupCommit(database: database)
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<200 {
                group.addTask {
                    do {
                        try await commits.write { db in
                            try db.execute(sql: "INSERT INTO answer (id, score) VALUES (?, ?)", arguments: [index, index % 11])
                            if index % 10 == 3 { throw Refused() }
                        }
                        return true
                    } catch {
                        return false
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 180 && outcomes.filter { !$0 }.count == 20)
        let stored = try await database.read { db in try Int.fetchAll(db, sql: "SELECT id FROM answer ORDER BY id") }
        #expect(stored.count == 180 && !stored.contains { $0 % 10 == 3 }, "the refused writes left nothing")
        let (transactions, writes) = (await commits.transactions, await commits.writes)
        #expect(writes == 200 && transactions < 200, "\(transactions) transactions for 200 concurrent writes")
        // One write alone is one transaction, answered with its value.
        let value = try await commits.write { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM answer")! }
        #expect(value == 180)
    }
}
