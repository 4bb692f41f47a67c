import AsyncHTTPClient
import Crypto
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import NIOCore
import NIOHTTP1
import SwiftProtobuf
import Synchronization

/// Sends one delivery (the job of `WebhookStore.jobKind`): the event as JSON, POSTed with a
/// signature the receiver checks, GitHub/Stripe style:
///   X-Forge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
/// plus X-Forge-Event, X-Forge-Delivery and X-Forge-Timestamp. A 2xx answer delivers it; anything
/// else throws, and the scheduler retries with backoff until the attempts run out (then: dead).
///
/// An endpoint that fails is held: its other deliveries wait (no attempt counted) until the
/// failed one's next try — 30 s, then doubling to an hour — so a receiver that is down costs one
/// attempt per backoff, not one timeout per waiting delivery, and the jobs queued behind them
/// (customers' e-mails among them) are not held up.
struct WebhookSender: Sendable {
    let database: DatabasePool
    let http: HTTPClient
    let clock: any WallClock
    var timeout: TimeAmount = .seconds(10)
    /// Webhook id → until when its deliveries wait.
    let holds = HoldList()

    final class HoldList: Sendable {
        private let until = Mutex<[String: Date]>([:])
        func hold(_ id: String, until date: Date) { until.withLock { $0[id] = date } }
        func release(_ id: String) { _ = until.withLock { $0.removeValue(forKey: id) } }
        func heldUntil(_ id: String, now: Date) -> Date? { until.withLock { $0[id].flatMap { $0 > now ? $0 : nil } } }
    }

    static func holdSeconds(afterAttempts attempts: Int) -> TimeInterval {
        min(3600, 30 * pow(2, Double(max(attempts, 1) - 1)))
    }

    func send(deliveryID: String, job: JobRecord) async throws {
        let loaded = try await database.read { db -> (webhookID: String, url: String, secret: String, event: Forge_Common_V1_Event)? in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT d.*, w.url AS url, w.secret AS secret FROM delivery d JOIN webhook w ON w.id = d.webhook_id WHERE d.id = ?
                """, arguments: [deliveryID]) else { return nil }
            let event = Forge_Common_V1_Event.with {
                $0.eventID = row["event_id"]
                $0.type = row["event_type"]
                $0.accountID = row["account_id"]
                $0.occurredAt = .init(date: Date(timeIntervalSince1970: row["occurred_at"]))
                $0.payload = row["payload"]
            }
            return (row["webhook_id"], row["url"], row["secret"], event)
        }
        // The webhook was deleted: nothing to send.
        guard let loaded else { return }
        let now = clock.now()
        if let until = holds.heldUntil(loaded.webhookID, now: now) { throw JobDeferred(until: until) }
        let body = Self.body(loaded.event)
        let timestamp = Int64(now.timeIntervalSince1970)
        var request = HTTPClientRequest(url: loaded.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "Forge-Webhooks/\(ForgeVersion.current)")
        request.headers.add(name: "X-Forge-Event", value: loaded.event.type)
        request.headers.add(name: "X-Forge-Delivery", value: deliveryID)
        request.headers.add(name: "X-Forge-Timestamp", value: "\(timestamp)")
        request.headers.add(name: "X-Forge-Signature", value: Self.signature(secret: loaded.secret, timestamp: timestamp, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))

        var status = 0
        var failure: String?
        do {
            let response = try await http.execute(request, timeout: timeout)
            status = Int(response.status.code)
            if !(200..<300).contains(status) { failure = "HTTP \(status)" }
        } catch {
            failure = "\(error)"
        }
        let attempts = job.attempts + 1
        let dead = failure != nil && attempts >= job.maxAttempts
        let (finalStatus, finalFailure) = (status, failure)
        try await database.write { db in
            try db.execute(
                sql: "UPDATE delivery SET state = ?, attempts = ?, last_status = ?, last_error = ?, delivered_at = ? WHERE id = ?",
                arguments: [finalFailure == nil ? "delivered" : dead ? "dead" : "pending", attempts, finalStatus, finalFailure ?? "",
                            finalFailure == nil ? now.timeIntervalSince1970 : nil, deliveryID]
            )
        }
        guard let failure else {
            holds.release(loaded.webhookID)
            return
        }
        if !dead { holds.hold(loaded.webhookID, until: now.addingTimeInterval(Self.holdSeconds(afterAttempts: attempts))) }
        throw RPCError(.unavailable, "webhook delivery \(deliveryID) failed: \(failure)")
    }

    /// {"account_id", "id", "occurred_at", "type", "data"}: data is the event in its JSON
    /// mapping when the gateway knows the type, else its protobuf bytes in base64.
    ///
    /// Written as text rather than through JSONSerialization's `.sortedKeys`, which sorts with
    /// NSString's locale-aware compare and so opened an ICU collator for every delivery: the
    /// envelope's fields go through `SortedJSON`, and `data` is the protobuf JSON as it is.
    static func body(_ event: Forge_Common_V1_Event) -> Data {
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        let data: String
        if let type = eventTypes[event.type], let message = try? type.init(serializedBytes: event.payload),
           let json = try? message.jsonString(options: options) {
            data = json
        } else {
            data = SortedJSON.encode(["protobuf_base64": event.payload.base64EncodedString()])
        }
        let envelope = SortedJSON.encode([
            "id": event.eventID, "type": event.type, "account_id": event.accountID,
            "occurred_at": RFC3339.string(from: event.occurredAt.date),
        ])
        // The envelope ends in "}": data goes in as its last field.
        return Data((envelope.dropLast() + #","data":"# + data + "}").utf8)
    }

    static func signature(secret: String, timestamp: Int64, body: Data) -> String {
        var signed = Data("\(timestamp).".utf8)
        signed.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(timestamp),v1=" + mac.hexadecimal
    }

    /// The event messages the gateway can render as JSON, by event type.
    static let eventTypes: [String: any SwiftProtobuf.Message.Type] = [
        "AccountCreated": Forge_Accounts_V1_AccountCreated.self,
        "AccountUpdated": Forge_Accounts_V1_AccountUpdated.self,
        "AccountMerged": Forge_Accounts_V1_AccountMerged.self,
        "AccountOwnerChanged": Forge_Accounts_V1_AccountOwnerChanged.self,
        "ActivityLogged": Forge_Accounts_V1_ActivityLogged.self,
        "AccountStaleWarning": Forge_Accounts_V1_AccountStaleWarning.self,
        "AccountHandoverRequired": Forge_Accounts_V1_AccountHandoverRequired.self,
        "AccountEnteredRevisitPool": Forge_Accounts_V1_AccountEnteredRevisitPool.self,
        "ContactCreated": Forge_Accounts_V1_ContactCreated.self,
        "ContactUpdated": Forge_Accounts_V1_ContactUpdated.self,
        "ContactErased": Forge_Accounts_V1_ContactErased.self,
        "ContactDeleted": Forge_Accounts_V1_ContactDeleted.self,
        "LeadCaptured": Forge_Pipeline_V1_LeadCaptured.self,
        "LeadRepeatInquiry": Forge_Pipeline_V1_LeadRepeatInquiry.self,
        "LeadAssigned": Forge_Pipeline_V1_LeadAssigned.self,
        "LeadTouched": Forge_Pipeline_V1_LeadTouched.self,
        "LeadEscalated": Forge_Pipeline_V1_LeadEscalated.self,
        "LeadDisqualified": Forge_Pipeline_V1_LeadDisqualified.self,
        "LeadConverted": Forge_Pipeline_V1_LeadConverted.self,
        "OpportunityWon": Forge_Pipeline_V1_OpportunityWon.self,
        "OpportunityLost": Forge_Pipeline_V1_OpportunityLost.self,
        "OrderDelivered": Forge_Orders_V1_OrderDelivered.self,
        "ProductionStatusChanged": Forge_Orders_V1_ProductionStatusChanged.self,
        "TicketClosed": Forge_Servicedesk_V1_TicketClosed.self,
        "EquipmentFailurePredicted": Forge_Servicedesk_V1_EquipmentFailurePredicted.self,
        "SurveyAnswered": Forge_Feedback_V1_SurveyAnswered.self,
        "TierChanged": Forge_Loyalty_V1_TierChanged.self,
        "ChurnRiskRaised": Forge_Analytics_V1_ChurnRiskRaised.self,
    ]
}
