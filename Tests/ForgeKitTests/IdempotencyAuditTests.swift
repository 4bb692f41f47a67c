import ForgeContracts
@testable import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Synchronization
import Testing

@Suite("Idempotency and audit")
struct IdempotencyAuditTests {
    private func context(key: String?) -> ServerContext {
        var context = ServerContext.test(MethodDescriptor(service: "forge.test.v1.Test", method: "CreateNote"))
        context.metadata["idempotency-key"] = key
        return context
    }

    @Test("a repeated call with the same key returns the stored response without running again")
    func repeatReturnsStored() async throws {
        let database = try ForgeDatabase.temporary()
        let interceptor = IdempotencyInterceptor(database: database, clock: ManualClock())
        let runs = Mutex(0)
        let handler: @Sendable (ServerContext) async throws -> Data = { _ in
            Data("response \(runs.withLock { $0 += 1; return $0 })".utf8)
        }
        let first = try await interceptor.intercept(request: Data("create A".utf8), context: context(key: "k1"), next: handler)
        let second = try await interceptor.intercept(request: Data("create A".utf8), context: context(key: "k1"), next: handler)
        #expect(first == second)
        #expect(runs.withLock { $0 } == 1)

        // Without a key every call runs.
        _ = try await interceptor.intercept(request: Data("create A".utf8), context: context(key: nil), next: handler)
        #expect(runs.withLock { $0 } == 2)
    }

    @Test("a handler whose transaction returns a record, not the response, still answers a repeat with the response it gave; a repeat before that answer is recorded is told the call was applied")
    func recordReturningHandler() async throws {
        let database = try ForgeDatabase.temporary()
        let interceptor = IdempotencyInterceptor(database: database, clock: ManualClock())
        // A real method whose store returns the record (an Order) and whose handler wraps it.
        var context = ServerContext.test(Forge_Orders_V1_OrdersService.Method.createOrder)
        context.metadata["idempotency-key"] = "order-1"
        let runs = Mutex(0)
        let handler: @Sendable (ServerContext) async throws -> Data = { handlerContext in
            let order = try await database.write(recordingIdempotencyOf: handlerContext, at: Date()) { _ in
                Forge_Orders_V1_Order.with { $0.id = "ord_\(runs.withLock { $0 += 1; return $0 })" }
            }
            return try Forge_Orders_V1_CreateOrderResponse.with { $0.order = order }.serializedData()
        }
        let first = try await interceptor.intercept(request: Data("create".utf8), context: context, next: handler)
        let second = try await interceptor.intercept(request: Data("create".utf8), context: context, next: handler)
        #expect(first == second && runs.withLock { $0 } == 1)
        #expect(try Forge_Orders_V1_CreateOrderResponse(serializedBytes: second).order.id == "ord_1")

        // The change committed, the process stopped before the answer was recorded.
        context.metadata["idempotency-key"] = "order-2"
        let crashing: @Sendable (ServerContext) async throws -> Data = { handlerContext in
            _ = try await database.write(recordingIdempotencyOf: handlerContext, at: Date()) { _ in Forge_Orders_V1_Order.with { $0.id = "ord_x" } }
            throw CancellationError()
        }
        _ = try? await interceptor.intercept(request: Data("create".utf8), context: context, next: crashing)
        let error = await #expect(throws: RPCError.self) {
            _ = try await interceptor.intercept(request: Data("create".utf8), context: context, next: handler)
        }
        #expect(error?.code == .aborted && runs.withLock { $0 } == 1, "applied once; the repeat is told so")
    }

    @Test("the same key with a different request fails with FAILED_PRECONDITION")
    func differentRequest() async throws {
        let database = try ForgeDatabase.temporary()
        let interceptor = IdempotencyInterceptor(database: database, clock: ManualClock())
        _ = try await interceptor.intercept(request: Data("create A".utf8), context: context(key: "k2")) { _ in Data("ok".utf8) }
        let error = await #expect(throws: RPCError.self) {
            _ = try await interceptor.intercept(request: Data("create B".utf8), context: context(key: "k2")) { _ in Data("ok".utf8) }
        }
        #expect(error?.code == .failedPrecondition)
    }

    @Test("a failed call stores nothing: repeating it runs it again")
    func failuresNotStored() async throws {
        let database = try ForgeDatabase.temporary()
        let interceptor = IdempotencyInterceptor(database: database, clock: ManualClock())
        await #expect(throws: RPCError.self) {
            _ = try await interceptor.intercept(request: Data(), context: context(key: "k3")) { _ in throw RPCError(.unavailable, "later") }
        }
        let response = try await interceptor.intercept(request: Data(), context: context(key: "k3")) { _ in Data("done".utf8) }
        #expect(response == Data("done".utf8))
    }

    @Test("a mutation's audit row records who, when, which method, which record and what changed")
    func auditRows() async throws {
        let database = try ForgeDatabase.temporary(migrations: testMigrations)
        let clock = ManualClock()
        let context = ServerContext.test(
            MethodDescriptor(service: "forge.test.v1.Test", method: "RenameNote"),
            principal: Principal(subject: "rep-7", roles: ["sales_rep"])
        )
        try await database.write { db in
            try db.execute(sql: "INSERT INTO note (id, text) VALUES ('n1', '上海精密机械')")
            try AuditLog.record(db, context: context, recordID: "n1", changes: ["text": "上海精密机械"], at: clock.now())
        }
        let entries = try await database.read { db in try AuditLog.entries(db, recordID: "n1") }
        #expect(entries == [AuditEntry(at: clock.now(), actor: "rep-7", method: "/forge.test.v1.Test/RenameNote", recordID: "n1", changes: ["text": "上海精密机械"])])
    }

    @Test("stored answers are kept a week, then the sweep job forgets them and schedules its next run; a repeat after that runs anew")
    func sweepAfterAWeek() async throws {
        let database = try ForgeDatabase.temporary()
        let clock = ManualClock()
        let interceptor = IdempotencyInterceptor(database: database, clock: clock)
        let runs = Mutex(0)
        let handler: @Sendable (ServerContext) async throws -> Data = { _ in Data("response \(runs.withLock { $0 += 1; return $0 })".utf8) }
        _ = try await interceptor.intercept(request: Data("create A".utf8), context: context(key: "old"), next: handler)
        clock.advance(by: 6 * 86_400)
        _ = try await interceptor.intercept(request: Data("create B".utf8), context: context(key: "recent"), next: handler)
        try await IdempotencySweep.scheduleIfAbsent(database, now: clock.now())
        let scheduler = JobScheduler(database: database, clock: clock, handlers: [IdempotencySweep.kind: IdempotencySweep.handler(database: database, clock: clock)])

        clock.advance(by: IdempotencySweep.interval - 1)
        #expect(try await scheduler.runDue() == 0)
        #expect(try await database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM idempotency_keys") } == 2)
        clock.advance(by: 86_400)  // "old" is now 7 days and 6 hours old, "recent" a day and 6 hours.
        #expect(try await scheduler.runDue() == 1)
        #expect(try await database.read { db in try String.fetchAll(db, sql: "SELECT key FROM idempotency_keys") } == ["recent"])
        let next = try await database.read { db in try Double.fetchOne(db, sql: "SELECT due_at FROM jobs WHERE kind = ? AND state = 'pending'", arguments: [IdempotencySweep.kind]) }
        #expect(next == clock.now().addingTimeInterval(IdempotencySweep.interval).timeIntervalSince1970, "the next sweep is scheduled")
        try await IdempotencySweep.scheduleIfAbsent(database, now: clock.now())
        #expect(try await database.read { db in try Double.fetchAll(db, sql: "SELECT due_at FROM jobs WHERE kind = ? AND state = 'pending'", arguments: [IdempotencySweep.kind]) } == [next ?? 0],
                "a restart keeps the pending run")
        // The old key's repeat runs again (a new call); the recent one's is still answered from the store.
        _ = try await interceptor.intercept(request: Data("create A".utf8), context: context(key: "old"), next: handler)
        _ = try await interceptor.intercept(request: Data("create B".utf8), context: context(key: "recent"), next: handler)
        #expect(runs.withLock { $0 } == 3)
    }

    @Test("the sweep forgets jobs done more than a week ago; recent ones, dead ones and pending ones stay, and a forgotten id can be scheduled again")
    func sweepDoneJobs() async throws {
        struct Refused: Error {}
        let database = try ForgeDatabase.temporary()
        let clock = ManualClock()
        let scheduler = JobScheduler(database: database, clock: clock, handlers: [
            "mail": { _, _ in },
            "refused": { _, _ in throw Refused() },
        ])
        let start = clock.now()
        try await database.write { db in
            _ = try JobScheduler.schedule(db, kind: "mail", dueAt: start, id: "old-mail", now: start)
            _ = try JobScheduler.schedule(db, kind: "refused", dueAt: start, id: "dead", maxAttempts: 1, now: start)
            _ = try JobScheduler.schedule(db, kind: "mail", dueAt: start.addingTimeInterval(30 * 86_400), id: "next-month", now: start)
        }
        _ = try await scheduler.runDue()
        clock.advance(by: 6 * 86_400)
        try await database.write { db in _ = try JobScheduler.schedule(db, kind: "mail", dueAt: clock.now(), id: "recent-mail", now: clock.now()) }
        _ = try await scheduler.runDue()
        let states = { try await database.read { db in try [String: String](uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, state FROM jobs").map { ($0["id"], $0["state"]) }) } }
        #expect(try await states() == ["old-mail": "done", "dead": "dead", "next-month": "pending", "recent-mail": "done"])

        clock.advance(by: 86_400 + 3600)  // old-mail done 7 days and an hour ago, recent-mail a day and an hour.
        #expect(try await IdempotencySweep.sweepDoneJobs(database, now: clock.now()) == 1)
        #expect(try await states() == ["dead": "dead", "next-month": "pending", "recent-mail": "done"])
        try await database.write { db in _ = try JobScheduler.schedule(db, kind: "mail", dueAt: clock.now(), id: "old-mail", now: clock.now()) }
        #expect(try await scheduler.runDue() == 1, "the forgotten id runs again when scheduled again")
    }
}
