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
}
