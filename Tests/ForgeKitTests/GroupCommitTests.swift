import ForgeContracts
@testable import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Synchronization
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

    @Test("a group-committed write keeps its idempotency key in its own savepoint: stored with the answer when it commits, gone with it when it throws while others in its group commit")
    func idempotencyKeys() async throws {
        let database = try ForgeDatabase.temporary()
        let commits = GroupCommit(database: database)
        let interceptor = IdempotencyInterceptor(database: database, clock: ManualClock())
        let runs = Mutex(0)
        let call: @Sendable (String, Bool) async throws -> Data = { key, refuse in
            var context = ServerContext.test(Forge_Orders_V1_OrdersService.Method.createOrder)
            context.metadata["idempotency-key"] = key
            return try await interceptor.intercept(request: Data(key.utf8), context: context) { handlerContext in
                let order = try await commits.write(recordingIdempotencyOf: handlerContext, at: Date()) { _ in
                    let run = runs.withLock { $0 += 1; return $0 }
                    if refuse { throw Refused() }
                    return Forge_Orders_V1_Order.with { $0.id = "ord_\(run)" }
                }
                return try Forge_Orders_V1_CreateOrderResponse.with { $0.order = order }.serializedData()
            }
        }
        let answers = await withTaskGroup(of: (String, Data?).self) { group in
            for index in 0..<20 {
                group.addTask { ("k\(index)", try? await call("k\(index)", index % 5 == 0)) }
            }
            return await group.reduce(into: [String: Data?]()) { $0[$1.0] = $1.1 }
        }
        #expect(runs.withLock { $0 } == 20 && answers.values.filter { $0 == nil }.count == 4)
        #expect(await commits.transactions < 20)
        let stored = try await database.read { db in try String.fetchAll(db, sql: "SELECT key FROM idempotency_keys ORDER BY key") }
        #expect(Set(stored) == Set((0..<20).filter { $0 % 5 != 0 }.map { "k\($0)" }), "only the committed writes' keys")
        // A retry of a committed call answers what it answered; a retry of a refused one runs again.
        #expect(try await call("k1", false) == answers["k1"]!)
        #expect(runs.withLock { $0 } == 20)
        _ = try await call("k0", false)
        #expect(runs.withLock { $0 } == 21)
    }

    /// A log sync the test holds until it lets it go (or fails it).
    final class HeldSync: LogSync {
        private let waiting = Mutex<[CheckedContinuation<Void, any Error>]>([])
        let calls = Atomic<Int>(0)

        func sync() async throws {
            calls.add(1, ordering: .relaxed)
            try await withCheckedThrowingContinuation { continuation in waiting.withLock { $0.append(continuation) } }
        }

        var held: Int { waiting.withLock { $0.count } }

        func release(throwing error: (any Error)? = nil) {
            for continuation in waiting.withLock({ held in defer { held = [] }; return held }) {
                if let error { continuation.resume(throwing: error) } else { continuation.resume() }
            }
        }

        /// Waits (at most 10 s) until `count` syncs are held.
        func waitUntilHeld(_ count: Int) async throws {
            for _ in 0..<1_000 where held < count { try await Task.sleep(for: .milliseconds(10)) }
            #expect(held == count)
        }
    }

    struct SyncFailed: Error {}

    final class Answered: Sendable {
        let count = Atomic<Int>(0)
    }

    static func fullDatabase() throws -> DatabasePool {
        try ForgeDatabase.open(path: NSTemporaryDirectory() + "forge-test-\(UUID().uuidString).sqlite", durability: .full) { migrator in
            migrator.registerMigration("t") { db in try db.execute(sql: "CREATE TABLE answer (id INTEGER PRIMARY KEY)") }
        }
    }

    @Test("durable: a group is answered only once its log is synced, and the writer commits the next group meanwhile; a failed sync fails its writes")
    func answeredAfterTheLogSync() async throws {
        let database = try Self.fullDatabase()
        let log = HeldSync()
        let commits = GroupCommit(database: database, log: log)
        let count: @Sendable () async throws -> Int = { try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM answer")! } }
        let answered = Answered()
        let first = Task {
            try await commits.write { db in try db.execute(sql: "INSERT INTO answer (id) VALUES (1)") }
            answered.count.add(1, ordering: .relaxed)
        }
        try await log.waitUntilHeld(1)
        #expect(try await count() == 1, "committed")
        #expect(answered.count.load(ordering: .relaxed) == 0, "not answered before the log is on disk")
        let second = Task {
            try await commits.write { db in try db.execute(sql: "INSERT INTO answer (id) VALUES (2)") }
            answered.count.add(1, ordering: .relaxed)
        }
        try await log.waitUntilHeld(2)
        #expect(try await count() == 2, "the next group committed while the first one's sync was held")
        #expect(answered.count.load(ordering: .relaxed) == 0)
        log.release()
        try await first.value
        try await second.value
        #expect(answered.count.load(ordering: .relaxed) == 2)

        let third = Task { try await commits.write { db in try db.execute(sql: "INSERT INTO answer (id) VALUES (3)") } }
        try await log.waitUntilHeld(1)
        log.release(throwing: SyncFailed())
        await #expect(throws: SyncFailed.self) { try await third.value }
        // The connection is back at FULL for every other write.
        #expect(try await database.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)

        // A database configured not to sync commits (durability normal) is not synced here either.
        let unsynced = HeldSync()
        let normal = GroupCommit(database: try ForgeDatabase.temporary(), log: unsynced)
        try await normal.write { db in try db.execute(sql: "CREATE TABLE t (x)") }
        #expect(unsynced.calls.load(ordering: .relaxed) == 0)
    }

    @Test("the real log sync: concurrent durable writes are all answered and stored; syncs that arrive together share an fsync")
    func walFileSync() async throws {
        let database = try Self.fullDatabase()
        let commits = GroupCommit(database: database)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask { try await commits.write { db in try db.execute(sql: "INSERT INTO answer (id) VALUES (?)", arguments: [index]) } }
            }
            try await group.waitForAll()
        }
        #expect(try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM answer") } == 100)
        let log = WALFileSync(databasePath: database.path)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { try await log.sync() } }
            try await group.waitForAll()
        }
        let missing = WALFileSync(databasePath: database.path + "-nowhere")
        await #expect(throws: LogSyncError.self) { try await missing.sync() }
    }
}
