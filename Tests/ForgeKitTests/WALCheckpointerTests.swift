import ForgeKit
import Foundation
import GRDB
import Testing

@Suite("WAL checkpoints beside the write path")
struct WALCheckpointerTests {
    /// 60 commits of ~40 pages each: 2,400 pages, past SQLite's 1,000-page checkpoint line.
    func writeBurst(_ database: DatabasePool) async throws {
        for index in 0..<60 {
            try await database.write { db in
                try db.execute(sql: "INSERT INTO blob (id, data) VALUES (?, ?)", arguments: [index, Data(repeating: UInt8(index), count: 160_000)])
            }
        }
    }

    func logBytes(_ database: DatabasePool) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: database.path + "-wal")[.size] as? Int) ?? 0
    }

    func makeDatabase() throws -> DatabasePool {
        try ForgeDatabase.temporary { migrator in
            migrator.registerMigration("blob") { db in try db.execute(sql: "CREATE TABLE blob (id INTEGER PRIMARY KEY, data BLOB NOT NULL)") }
        }
    }

    @Test("taken over, commits no longer checkpoint (the log grows past 1,000 pages); one checkpoint copies all of it and the next write starts the log over")
    func takenOver() async throws {
        let committing = try makeDatabase()
        try await writeBurst(committing)
        #expect(logBytes(committing) < 8_000_000, "left alone, a commit checkpoints at 1,000 pages and the log is reused")

        let database = try makeDatabase()
        let checkpointer = try WALCheckpointer(database: database)
        try checkpointer.takeOver()
        try await writeBurst(database)
        #expect(logBytes(database) > 9_000_000, "no commit checkpointed: \(logBytes(database)) bytes of log")
        let (frames, copied) = try checkpointer.checkpoint()
        #expect(frames > 2_000 && copied == frames)
        #expect(try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM blob") } == 60)
        try await database.write { db in try db.execute(sql: "DELETE FROM blob WHERE id = 0") }
        #expect(try checkpointer.checkpoint().logFrames < 100, "the write after a full checkpoint starts the log over")
    }
}
