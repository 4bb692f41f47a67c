import AsyncHTTPClient
import Crypto
import ForgeContracts
@testable import ForgeGateway
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Hummingbird
import Logging
import NIOCore
import SwiftProtobuf
import Synchronization
import Testing

/// A receiver of webhooks on loopback: records every request and answers the status it is told.
final class Receiver: Sendable {
    struct Received: Sendable {
        let headers: [String: String]
        let body: Data
    }

    let received = Mutex<[Received]>([])
    let answer = Mutex<Int>(200)

    func run(port: Int) async throws -> Task<Void, any Error> {
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = Data(try await request.body.collect(upTo: 1 << 20).readableBytesView)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            self.received.withLock { $0.append(Received(headers: headers, body: body)) }
            return Response(status: .init(code: self.answer.withLock { $0 }))
        }
        let ready = AsyncStream<Void>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
                              onServerRunning: { _ in ready.continuation.yield() })
        let task = Task { try await app.runService() }
        var iterator = ready.stream.makeAsyncIterator()
        await iterator.next()
        return task
    }
}

@Suite("Webhooks: signed deliveries, retries with backoff, dead letters and replay", .timeLimit(.minutes(1)))
struct WebhookTests {
    @Test("a matching event is POSTed once with an HMAC-SHA256 signature; a failure is retried after the backoff; out of attempts it is dead until replayed")
    func deliveries() async throws {
        let database = try ForgeDatabase.temporary { IdentityStore.migrations(&$0); WebhookStore.migrations(&$0) }
        let clock = ManualClock()
        let store = WebhookStore(database: database)
        let receiver = Receiver()
        let server = try await receiver.run(port: 24150)
        defer { server.cancel() }
        let sender = WebhookSender(database: database, http: HTTPClient.shared, clock: clock)
        let scheduler = JobScheduler(database: database, clock: clock, handlers: [
            WebhookStore.jobKind: { payload, job in try await sender.send(deliveryID: String(decoding: payload, as: UTF8.self), job: job) },
        ])
        let admin = IdentityFixture.context("admin", [Role.admin])
        let secret = "whsec_test_secret_0123456789"
        let webhook = try await store.create(.with {
            $0.id = "whk_1"
            $0.url = "http://127.0.0.1:24150/hook"
            $0.eventTypes = ["AccountCreated"]
        }, secret: secret, context: admin, at: clock.now())

        let created = Forge_Common_V1_Event.with {
            $0.eventID = "evt_1"
            $0.type = "AccountCreated"
            $0.accountID = "acc_1"
            $0.occurredAt = .init(date: clock.now())
            $0.payload = try! Forge_Accounts_V1_AccountCreated.with { $0.account = .with { $0.id = "acc_1"; $0.name = "宁波模具城" } }.serializedData()
        }
        try await database.write { db in
            try WebhookStore.enqueue(db, created, at: clock.now())
            try WebhookStore.enqueue(db, .with { $0.eventID = "evt_2"; $0.type = "ActivityLogged" }, at: clock.now())
            // The same event again (a consumer retry) is not queued twice.
            try WebhookStore.enqueue(db, created, at: clock.now())
        }

        // First attempt: the receiver is down (503); the delivery waits for its backoff.
        receiver.answer.withLock { $0 = 503 }
        #expect(try await scheduler.runDue() == 1)
        #expect(try await store.deliveries(webhookID: webhook.id, state: "pending", limit: 10).first?.lastStatus == 503)
        #expect(try await scheduler.runDue() == 0, "not before the backoff")
        receiver.answer.withLock { $0 = 200 }
        clock.advance(by: 30)
        #expect(try await scheduler.runDue() == 1)
        let delivered = try await store.deliveries(webhookID: webhook.id, state: "delivered", limit: 10)
        #expect(delivered.count == 1 && delivered[0].attempts == 2)

        let requests = receiver.received.withLock { $0 }
        #expect(requests.count == 2)
        let last = try #require(requests.last)
        #expect(last.headers["x-forge-event"] == "AccountCreated")
        let timestamp = try #require(last.headers["x-forge-timestamp"])
        var signed = Data("\(timestamp).".utf8)
        signed.append(last.body)
        let expected = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8))).map { String(format: "%02x", $0) }.joined()
        #expect(last.headers["x-forge-signature"] == "t=\(timestamp),v1=\(expected)")
        let body = try #require(try JSONSerialization.jsonObject(with: last.body) as? [String: Any])
        #expect(body["type"] as? String == "AccountCreated" && body["id"] as? String == "evt_1")
        #expect(((body["data"] as? [String: Any])?["account"] as? [String: Any])?["name"] as? String == "宁波模具城")

        // A receiver that keeps failing: after the last attempt the delivery is dead.
        try await database.write { db in
            try WebhookStore.enqueue(db, .with { $0.eventID = "evt_3"; $0.type = "AccountCreated"; $0.accountID = "acc_3" }, at: clock.now())
        }
        receiver.answer.withLock { $0 = 500 }
        for _ in 0..<WebhookStore.maxAttempts {
            _ = try await scheduler.runDue()
            clock.advance(by: 3600)
        }
        let dead = try await store.deliveries(webhookID: "", state: "dead", limit: 10)
        #expect(dead.map(\.eventID) == ["evt_3"])
        #expect(dead.first?.attempts == Int32(WebhookStore.maxAttempts))
        #expect(try await scheduler.runDue() == 0, "dead deliveries are not retried on their own")

        // An admin replays it once the receiver is back.
        receiver.answer.withLock { $0 = 204 }
        let replayed = try await store.replay(id: dead[0].id, context: admin, at: clock.now())
        #expect(replayed.state == "pending")
        #expect(try await scheduler.runDue() == 1)
        #expect(try await store.deliveries(webhookID: "", state: "delivered", limit: 10).count == 2)
    }

    @Test("an endpoint that is down costs one attempt per backoff: its other deliveries wait without an attempt, and the jobs queued behind them run now")
    func downEndpointIsHeld() async throws {
        let database = try ForgeDatabase.temporary { IdentityStore.migrations(&$0); WebhookStore.migrations(&$0) }
        let clock = ManualClock()
        _ = try await WebhookStore(database: database).create(.with { $0.id = "whk_down"; $0.url = "http://127.0.0.1:9/hook"; $0.eventTypes = ["*"] },
                                                              secret: "whsec_test_secret_0123456789", context: IdentityFixture.context("admin", [Role.admin]), at: clock.now())
        let sender = WebhookSender(database: database, http: HTTPClient.shared, clock: clock)
        let others = Mutex(0)
        let scheduler = JobScheduler(database: database, clock: clock, handlers: [
            WebhookStore.jobKind: { payload, job in try await sender.send(deliveryID: String(decoding: payload, as: UTF8.self), job: job) },
            "notification": { _, _ in others.withLock { $0 += 1 } },
        ])
        try await database.write { db in
            for n in 1...5 { try WebhookStore.enqueue(db, .with { $0.eventID = "evt_\(n)"; $0.type = "AccountCreated"; $0.accountID = "acc_\(n)" }, at: clock.now()) }
            try JobScheduler.schedule(db, kind: "notification", dueAt: clock.now(), id: "mail-1", now: clock.now())
        }
        #expect(try await scheduler.runDue() == 6)
        #expect(others.withLock { $0 } == 1, "the job behind the deliveries ran")
        let attempts = try await database.read { db in try Int.fetchAll(db, sql: "SELECT attempts FROM jobs WHERE kind = ? ORDER BY attempts DESC", arguments: [WebhookStore.jobKind]) }
        #expect(attempts == [1, 0, 0, 0, 0], "one delivery tried; the other four waited without an attempt")
        let due = try await database.read { db in try Set(Double.fetchAll(db, sql: "SELECT due_at FROM jobs WHERE kind = ? AND state = 'pending'", arguments: [WebhookStore.jobKind])) }
        #expect(due == [clock.now().addingTimeInterval(30).timeIntervalSince1970], "all five wait for the failed one's next try")
        clock.advance(by: 30)
        #expect(try await scheduler.runDue() == 5)
        let after = try await database.read { db in try Int.fetchAll(db, sql: "SELECT attempts FROM jobs WHERE kind = ? ORDER BY attempts DESC", arguments: [WebhookStore.jobKind]) }
        #expect(after.reduce(0, +) == 2, "one more attempt in the next round, not five: \(after)")
    }

    @Test("an erased contact leaves no trace in the webhook deliveries that carried them, waiting or sent; others' stay as they were")
    func erasureStripsDeliveries() async throws {
        let database = try ForgeDatabase.temporary { IdentityStore.migrations(&$0); WebhookStore.migrations(&$0) }
        let clock = ManualClock()
        _ = try await WebhookStore(database: database).create(.with { $0.id = "whk_1"; $0.url = "https://hooks.example.cn/crm"; $0.eventTypes = ["*"] },
                                                              secret: "whsec_test_secret_0123456789", context: IdentityFixture.context("admin", [Role.admin]), at: clock.now())
        @Sendable func contactEvent(_ id: String, _ contact: Forge_Accounts_V1_Contact, updated: Bool = false) -> Forge_Common_V1_Event {
            .with {
                $0.eventID = id
                $0.type = updated ? "ContactUpdated" : "ContactCreated"
                $0.accountID = "acc_1"
                $0.payload = updated ? try! Forge_Accounts_V1_ContactUpdated.with { $0.contact = contact }.serializedData()
                    : try! Forge_Accounts_V1_ContactCreated.with { $0.contact = contact }.serializedData()
            }
        }
        let liu = Forge_Accounts_V1_Contact.with { $0.id = "con_1"; $0.accountID = "acc_1"; $0.name = "刘海涛"; $0.phone = "13900001111"; $0.email = "liu@yantai.example.cn" }
        let zhao = Forge_Accounts_V1_Contact.with { $0.id = "con_2"; $0.accountID = "acc_1"; $0.name = "赵敏"; $0.phone = "13900002222" }
        try await database.write { db in
            try WebhookStore.enqueue(db, contactEvent("evt_1", liu), at: clock.now())
            try WebhookStore.enqueue(db, contactEvent("evt_2", liu, updated: true), at: clock.now())
            try WebhookStore.enqueue(db, contactEvent("evt_3", zhao), at: clock.now())
            try db.execute(sql: "UPDATE delivery SET state = 'delivered' WHERE event_id = 'evt_1'")
            try WebhookStore.forget(db, .with { $0.type = "ContactErased"; $0.payload = try! Forge_Accounts_V1_ContactErased.with { $0.contactID = "con_1"; $0.accountID = "acc_1" }.serializedData() })
        }
        let payloads = try await database.read { db in try Data.fetchAll(db, sql: "SELECT payload FROM delivery ORDER BY event_id") }
        #expect(payloads.count == 3)
        for payload in payloads.prefix(2) {
            #expect(payload.range(of: Data("13900001111".utf8)) == nil && payload.range(of: Data("liu@yantai".utf8)) == nil && payload.range(of: Data("刘海涛".utf8)) == nil)
        }
        #expect(try Forge_Accounts_V1_ContactCreated(serializedBytes: payloads[0]).contact.id == "con_1")
        #expect(try Forge_Accounts_V1_ContactCreated(serializedBytes: payloads[2]).contact == zhao, "another person's delivery is untouched")
    }

    @Test("the body is one JSON object: the envelope's fields, data in the event's JSON mapping, or base64 protobuf for an unknown type")
    func body() throws {
        let created = Forge_Accounts_V1_AccountCreated.with { $0.account = .with { $0.id = "acc_1"; $0.name = "宁波\"模具\"城/东" } }
        let event = Forge_Common_V1_Event.with {
            $0.eventID = "evt_1"; $0.type = "AccountCreated"; $0.accountID = "acc_1"
            $0.occurredAt = .init(date: Date(timeIntervalSince1970: 1_795_422_697))
            $0.payload = try! created.serializedData()
        }
        let object = try #require(try JSONSerialization.jsonObject(with: WebhookSender.body(event)) as? [String: Any])
        #expect(object["id"] as? String == "evt_1")
        #expect(object["type"] as? String == "AccountCreated")
        #expect(object["account_id"] as? String == "acc_1")
        #expect(object["occurred_at"] as? String == "2026-11-23T08:31:37Z")
        #expect(((object["data"] as? [String: Any])?["account"] as? [String: Any])?["name"] as? String == "宁波\"模具\"城/东")

        var unknown = event
        unknown.type = "SomethingNew"
        unknown.payload = Data([0x08, 0x96, 0x01])
        let fallback = try #require(try JSONSerialization.jsonObject(with: WebhookSender.body(unknown)) as? [String: Any])
        #expect((fallback["data"] as? [String: Any])?["protobuf_base64"] as? String == "CJYB")
        #expect(Set(fallback.keys) == ["id", "type", "account_id", "occurred_at", "data"])
    }
}
