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
        let (frames, copied, _) = try checkpointer.checkpoint()
        #expect(frames > 2_000 && copied == frames)
        #expect(try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM blob") } == 60)
        try await database.write { db in try db.execute(sql: "DELETE FROM blob WHERE id = 0") }
        #expect(try checkpointer.checkpoint().logFrames < 100, "the write after a full checkpoint starts the log over")
    }

    @Test("under writes that never pause and reads on other connections, a long log is restarted: it stays short instead of growing with every commit")
    func restartsUnderSustainedWrites() async throws {
        let database = try makeDatabase()
        // Alone on the machine this load grows the log past 9 MB without restarts (a passive
        // checkpoint never finds every frame copied as a write begins: `restartFrames: .max`);
        // under a busy test run a pause may start it over by chance, and the restarts counted
        // vary with the timing, so the log's length is what is asserted.
        let checkpointer = try WALCheckpointer(database: database, restartFrames: 1_000)
        try checkpointer.takeOver()
        let writing = Task {
            // 300 commits of ~10 pages each, back to back: 12 MB of log if it never starts over.
            for index in 0..<300 {
                try await database.write { db in
                    try db.execute(sql: "INSERT INTO blob (id, data) VALUES (?, ?)", arguments: [index, Data(repeating: UInt8(index % 256), count: 40_000)])
                }
            }
        }
        let reading = Task {
            while !Task.isCancelled {
                _ = try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM blob") }
            }
        }
        let checkpointing = Task {
            var restarts = 0
            while !Task.isCancelled {
                if try checkpointer.checkpoint().restarted { restarts += 1 }
                try? await Task.sleep(for: .milliseconds(5))
            }
            return restarts
        }
        try await writing.value
        checkpointing.cancel()
        reading.cancel()
        let restarts = try await checkpointing.value
        let bytes = logBytes(database)
        #expect(bytes < 8_000_000, "\(bytes) bytes of log after \(restarts) restarts")
        #expect(try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM blob") } == 300)
    }

    @Test("a writer finding the write lock taken waits for it, and gives up with BUSY once its limit has passed")
    func busyWait() async throws {
        let database = try makeDatabase()
        var configuration = Configuration()
        configuration.busyMode = ForgeDatabase.busyWait(seconds: 0.3)
        let other = try DatabaseQueue(path: database.path, configuration: configuration)
        defer { try? other.close() }
        // The pool's writer holds the lock until it is let go (or 10 s have passed); the other
        // connection asks for it meanwhile.
        func contend(releaseAfter hold: Double?) async -> Result<Void, any Error> {
            let started = Semaphore()
            let release = DispatchSemaphore(value: 0)
            let holding = Task.detached {
                try database.writeWithoutTransaction { db in
                    try db.execute(sql: "BEGIN IMMEDIATE")
                    started.signal()
                    _ = release.wait(timeout: .now() + (hold ?? 10))
                    try db.execute(sql: "COMMIT")
                }
            }
            await started.wait()
            let result = Result { try other.write { db in try db.execute(sql: "INSERT INTO blob (id, data) VALUES (?, x'00')", arguments: [hold == nil ? 1 : 2]) } }
            release.signal()
            _ = try? await holding.value
            return result
        }
        // Let go after 50 ms: the other write waited for it.
        let waited = await contend(releaseAfter: 0.05)
        #expect(waited.failure == nil, "waited for the lock: \(String(describing: waited.failure))")
        // Held until the other write has given up: BUSY, after its 0.3 s.
        let refused = await contend(releaseAfter: nil)
        #expect((refused.failure as? DatabaseError)?.resultCode == .SQLITE_BUSY)
    }
}

/// Signalled once from any thread, awaited once.
final class Semaphore: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream()
    }

    func signal() { continuation.yield() }

    func wait() async {
        for await _ in stream { return }
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
