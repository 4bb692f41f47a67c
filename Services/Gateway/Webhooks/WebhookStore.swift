import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Webhook subscriptions and their delivery log. A matching event becomes a delivery row and a
/// durable job in the same transaction as the consumer's cursor, so each event is queued once;
/// the job retries with the scheduler's exponential backoff and, out of attempts, leaves the
/// delivery "dead" (the dead-letter list) until an admin replays it.
struct WebhookStore: Sendable {
    static let jobKind = "webhook-delivery"
    static let maxAttempts = 8

    let database: DatabasePool

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("gateway-v2-webhooks") { db in
            try db.create(table: "webhook") { t in
                t.primaryKey("id", .text)
                t.column("url", .text).notNull()
                t.column("event_types", .text).notNull()
                t.column("secret", .text).notNull()
                t.column("created_by", .text).notNull()
                t.column("created_at", .double).notNull()
            }
            try db.create(table: "delivery") { t in
                t.primaryKey("id", .text)
                t.column("webhook_id", .text).notNull().indexed().references("webhook", onDelete: .cascade)
                t.column("event_id", .text).notNull()
                t.column("event_type", .text).notNull()
                t.column("account_id", .text).notNull()
                t.column("occurred_at", .double).notNull()
                t.column("payload", .blob).notNull()
                t.column("state", .text).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("last_status", .integer).notNull().defaults(to: 0)
                t.column("last_error", .text).notNull().defaults(to: "")
                t.column("created_at", .double).notNull()
                t.column("delivered_at", .double)
                t.uniqueKey(["webhook_id", "event_id"])
            }
        }
    }

    func create(_ webhook: Forge_Gateway_V1_Webhook, secret: String, context: ServerContext, at now: Date) async throws -> Forge_Gateway_V1_Webhook {
        _ = try await database.write(recordingIdempotencyOf: context, at: now) { db in
            try db.execute(sql: "INSERT INTO webhook (id, url, event_types, secret, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [webhook.id, webhook.url, webhook.eventTypes.joined(separator: ","), secret, webhook.createdBy, now.timeIntervalSince1970])
            try AuditLog.record(db, context: context, recordID: webhook.id, changes: ["url": webhook.url, "event_types": webhook.eventTypes.joined(separator: ",")], at: now)
            // What a repeat of this call gets: the webhook without its secret.
            return Forge_Gateway_V1_CreateWebhookResponse.with { $0.webhook = webhook }
        }
        return webhook
    }

    func webhooks() async throws -> [Forge_Gateway_V1_Webhook] {
        try await database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM webhook ORDER BY created_at").map(Self.webhook(from:)) }
    }

    func delete(id: String, context: ServerContext, at now: Date) async throws {
        _ = try await database.write(recordingIdempotencyOf: context, at: now) { db in
            // Its queued deliveries go with it.
            try db.execute(sql: "DELETE FROM jobs WHERE kind = ? AND state = 'pending' AND id IN (SELECT id FROM delivery WHERE webhook_id = ?)",
                           arguments: [Self.jobKind, id])
            try db.execute(sql: "DELETE FROM webhook WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { throw RPCError(.notFound, "webhook \(id) not found") }
            try AuditLog.record(db, context: context, recordID: id, changes: ["deleted": "true"], at: now)
            return Forge_Gateway_V1_DeleteWebhookResponse()
        }
    }

    /// The consumer's apply: one delivery (and its job) per webhook that wants this event.
    /// Runs for every event of every feed the gateway follows (thousands a second while a
    /// service takes writes), almost always finding no webhook that wants it: the statements
    /// are kept prepared and the columns read by position.
    static func enqueue(_ db: Database, _ event: Forge_Common_V1_Event, at now: Date) throws {
        let webhooks = try Row.fetchCursor(db.cachedStatement(sql: "SELECT id, event_types FROM webhook"))
        var wanting: [String] = []
        while let row = try webhooks.next() {
            let types: String = row[1]
            if types.split(separator: ",").contains(where: { $0 == "*" || $0 == event.type }) { wanting.append(row[0]) }
        }
        for webhookID in wanting {
            let id = EventID.make(prefix: "whd", at: now)
            try db.execute(
                cached: """
                    INSERT OR IGNORE INTO delivery (id, webhook_id, event_id, event_type, account_id, occurred_at, payload, state, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)
                    """,
                arguments: [id, webhookID, event.eventID, event.type, event.accountID, event.occurredAt.timeIntervalSince1970,
                            event.payload, now.timeIntervalSince1970]
            )
            if db.changesCount > 0 {
                try JobScheduler.schedule(db, kind: jobKind, payload: Data(id.utf8), dueAt: now, id: id, maxAttempts: maxAttempts, now: now)
            }
        }
    }

    /// An erased person (ContactErased from accounts): the deliveries that carry them — waiting
    /// or kept in the log — keep only the contact's id and account, so nothing sends or shows
    /// the person after the erasure. The ContactErased event itself goes to its subscribers.
    static func forget(_ db: Database, _ event: Forge_Common_V1_Event) throws {
        guard event.type == "ContactErased" else { return }
        let erased = try Forge_Accounts_V1_ContactErased(serializedBytes: event.payload)
        guard !erased.contactID.isEmpty else { return }
        func stripped(_ contact: Forge_Accounts_V1_Contact) -> Forge_Accounts_V1_Contact {
            .with { $0.id = contact.id; $0.accountID = contact.accountID; $0.name = ErasedContact.name; $0.version = contact.version }
        }
        // What the deliveries knew of the person (their contact events): other events that
        // carried the same details — a lead's phone and e-mail — lose them too.
        var details: Set<String> = []
        for row in try Row.fetchAll(db, sql: """
            SELECT event_type, payload FROM delivery WHERE event_type IN ('ContactCreated', 'ContactUpdated') AND instr(payload, CAST(? AS BLOB)) > 0
            """, arguments: [erased.contactID]) {
            let contact = try contactEvent(row["event_type"], row["payload"]).contact
            guard contact.id == erased.contactID else { continue }
            details.formUnion([contact.phone, contact.email, contact.wechatID].filter { $0.count >= 5 })
        }
        for detail in details {
            for row in try Row.fetchAll(db, sql: """
                SELECT id, event_type, payload FROM delivery WHERE event_type NOT IN ('ContactCreated', 'ContactUpdated') AND instr(payload, CAST(? AS BLOB)) > 0
                """, arguments: [detail]) {
                // Through the event's JSON mapping: every field holding the detail is emptied.
                guard let type = WebhookSender.eventTypes[row["event_type"]],
                      let message = try? type.init(serializedBytes: row["payload"] as Data),
                      let json = try? message.jsonString() else { continue }
                let quoted = "\"" + detail.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
                guard let scrubbed = try? type.init(jsonString: json.replacingOccurrences(of: quoted, with: "\"\"")) else { continue }
                try db.execute(sql: "UPDATE delivery SET payload = ? WHERE id = ?", arguments: [try scrubbed.serializedData(), row["id"] as String])
            }
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT id, event_type, payload FROM delivery WHERE event_type IN ('ContactCreated', 'ContactUpdated') AND instr(payload, CAST(? AS BLOB)) > 0
            """, arguments: [erased.contactID]) {
            let event = try contactEvent(row["event_type"], row["payload"])
            guard event.contact.id == erased.contactID else { continue }
            try db.execute(sql: "UPDATE delivery SET payload = ? WHERE id = ?", arguments: [try event.replacing(stripped(event.contact)), row["id"] as String])
        }
    }

    /// A ContactCreated or ContactUpdated payload: its contact, and the payload with another.
    static func contactEvent(_ type: String, _ payload: Data) throws -> (contact: Forge_Accounts_V1_Contact, replacing: (Forge_Accounts_V1_Contact) throws -> Data) {
        if type == "ContactCreated" {
            let created = try Forge_Accounts_V1_ContactCreated(serializedBytes: payload)
            return (created.contact, { contact in var event = created; event.contact = contact; return try event.serializedData() })
        }
        let updated = try Forge_Accounts_V1_ContactUpdated(serializedBytes: payload)
        return (updated.contact, { contact in var event = updated; event.contact = contact; return try event.serializedData() })
    }

    func deliveries(webhookID: String, state: String, limit: Int) async throws -> [Forge_Gateway_V1_Delivery] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if !webhookID.isEmpty {
            clauses.append("webhook_id = ?")
            arguments += [webhookID]
        }
        if !state.isEmpty {
            clauses.append("state = ?")
            arguments += [state]
        }
        let sql = "SELECT * FROM delivery \(clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")) ORDER BY created_at DESC, id DESC LIMIT ?"
        arguments += [limit]
        let finalArguments = arguments
        return try await database.read { db in try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(Self.delivery(from:)) }
    }

    /// Puts a delivery back in the queue with its attempts reset.
    func replay(id: String, context: ServerContext, at now: Date) async throws -> Forge_Gateway_V1_Delivery {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM delivery WHERE id = ?", arguments: [id]) == true else {
                throw RPCError(.notFound, "delivery \(id) not found")
            }
            if try JobScheduler.retry(db, id: id, now: now) == nil {
                throw RPCError(.failedPrecondition, "delivery \(id) is being sent right now")
            }
            try db.execute(sql: "UPDATE delivery SET state = 'pending', attempts = 0 WHERE id = ?", arguments: [id])
            try AuditLog.record(db, context: context, recordID: id, changes: ["replayed": "true"], at: now)
            let row = try Row.fetchOne(db, sql: "SELECT * FROM delivery WHERE id = ?", arguments: [id])
            return Forge_Gateway_V1_ReplayDeliveryResponse.with { $0.delivery = row.map(Self.delivery(from:)) ?? .init() }
        }.delivery
    }

    static func webhook(from row: Row) -> Forge_Gateway_V1_Webhook {
        .with {
            $0.id = row["id"]
            $0.url = row["url"]
            $0.eventTypes = (row["event_types"] as String).split(separator: ",").map(String.init)
            $0.createdBy = row["created_by"]
            $0.createdAt = .init(date: Date(timeIntervalSince1970: row["created_at"]))
        }
    }

    static func delivery(from row: Row) -> Forge_Gateway_V1_Delivery {
        .with {
            $0.id = row["id"]
            $0.webhookID = row["webhook_id"]
            $0.eventID = row["event_id"]
            $0.eventType = row["event_type"]
            $0.state = row["state"]
            $0.attempts = row["attempts"]
            $0.lastStatus = row["last_status"]
            $0.lastError = row["last_error"]
            $0.createdAt = .init(date: Date(timeIntervalSince1970: row["created_at"]))
            if let delivered = row["delivered_at"] as Double? { $0.deliveredAt = .init(date: Date(timeIntervalSince1970: delivered)) }
        }
    }
}
