import Crypto
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Customer notifications the services ask for (`NotificationRequested` in their feeds) and
/// their delivery log. The dedupe key is the primary key: a request whose key was seen before
/// (a redelivered event, a second report of the same shipment) queues nothing. Each queued
/// notification is a durable job; failures retry with the scheduler's backoff and, out of
/// attempts, leave it "dead" (the dead-letter list) until an admin retries the job.
enum NotificationStore {
    static let jobKind = "notification-delivery"
    static let maxAttempts = 8

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("gateway-v3-notifications") { db in
            try db.create(table: "notification") { t in
                t.primaryKey("dedupe_key", .text)
                t.column("event_id", .text).notNull()
                t.column("upstream", .text).notNull()
                t.column("contact_id", .text).notNull()
                t.column("account_id", .text).notNull().indexed()
                t.column("channel", .integer).notNull()
                t.column("template", .text).notNull()
                t.column("request", .blob).notNull()
                // pending, sent, skipped (no address, no consent, an unknown template), bridged
                // (SMS/WeChat: delivered by the bridges' webhook subscriptions), dead.
                t.column("state", .text).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("recipient", .text).notNull().defaults(to: "")
                t.column("subject", .text).notNull().defaults(to: "")
                t.column("last_error", .text).notNull().defaults(to: "")
                t.column("created_at", .double).notNull()
                t.column("sent_at", .double)
            }
        }
        // An erasure finds the person's messages by contact.
        migrator.registerMigration("gateway-v4-notification-contact") { db in
            try db.create(index: "notification_contact", on: "notification", columns: ["contact_id"])
        }
    }

    /// An erased person (ContactErased from accounts): the log keeps that a message went and
    /// what it was, not the address it went to. Messages still queued for them find no contact
    /// at sending time and are skipped with that reason.
    static func forget(_ db: Database, _ event: Forge_Common_V1_Event) throws {
        guard event.type == "ContactErased" else { return }
        let erased = try Forge_Accounts_V1_ContactErased(serializedBytes: event.payload)
        try db.execute(sql: "UPDATE notification SET recipient = '' WHERE contact_id = ? AND contact_id != ''", arguments: [erased.contactID])
    }

    /// The consumer's apply: a NotificationRequested event queued once per dedupe key.
    static func enqueue(_ db: Database, _ event: Forge_Common_V1_Event, upstream: String, at now: Date) throws {
        guard event.type == "NotificationRequested" else { return }
        let request = try Forge_Common_V1_NotificationRequested(serializedBytes: event.payload)
        let key = request.dedupeKey.isEmpty ? "event:\(event.eventID)" : "\(upstream):\(request.dedupeKey)"
        try db.execute(sql: """
            INSERT OR IGNORE INTO notification (dedupe_key, event_id, upstream, contact_id, account_id, channel, template, request, state, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)
            """, arguments: [key, event.eventID, upstream, request.recipientContactID, request.accountID.isEmpty ? event.accountID : request.accountID,
                             request.channel.rawValue, request.template, event.payload, now.timeIntervalSince1970])
        guard db.changesCount > 0 else { return }
        try JobScheduler.schedule(db, kind: jobKind, payload: Data(key.utf8), dueAt: now, id: jobID(key), maxAttempts: maxAttempts, now: now)
    }

    /// The delivery job's id: the key's digest (keys can be long and share long prefixes).
    static func jobID(_ key: String) -> String {
        "ntf-" + Array(SHA256.hash(data: Data(key.utf8))).prefix(16).hexadecimal
    }

    struct Entry: Sendable {
        var key: String
        var request: Forge_Common_V1_NotificationRequested
        var state: String
    }

    static func entry(_ db: Database, key: String) throws -> Entry? {
        try Row.fetchOne(db, sql: "SELECT dedupe_key, request, state FROM notification WHERE dedupe_key = ?", arguments: [key]).map {
            Entry(key: $0["dedupe_key"], request: try Forge_Common_V1_NotificationRequested(serializedBytes: $0["request"] as Data), state: $0["state"])
        }
    }

    static func finish(_ db: Database, key: String, state: String, attempts: Int, recipient: String = "", subject: String = "", error: String = "", at now: Date) throws {
        try db.execute(sql: """
            UPDATE notification SET state = ?, attempts = ?, recipient = ?, subject = ?, last_error = ?, sent_at = ? WHERE dedupe_key = ?
            """, arguments: [state, attempts, recipient, subject, error, state == "sent" ? now.timeIntervalSince1970 : nil, key])
    }

    // MARK: The delivery log

    static let states: Set<String> = ["pending", "sent", "skipped", "bridged", "dead"]

    static func list(_ db: Database, accountID: String, state: String, limit: Int) throws -> [Forge_Gateway_V1_Notification] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if !accountID.isEmpty {
            clauses.append("account_id = ?")
            arguments += [accountID]
        }
        if !state.isEmpty {
            clauses.append("state = ?")
            arguments += [state]
        }
        return try Row.fetchAll(db, sql: "SELECT * FROM notification \(clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")) ORDER BY created_at DESC LIMIT ?",
                                arguments: arguments + [limit]).map(notification(from:))
    }

    /// A dead (or stuck pending) notification back in the queue, attempts reset.
    static func retry(_ db: Database, key: String, context: ServerContext, at now: Date) throws -> Forge_Gateway_V1_Notification {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM notification WHERE dedupe_key = ?", arguments: [key]) else {
            throw RPCError(.notFound, "notification \(key) not found")
        }
        let state: String = row["state"]
        guard state == "dead" || state == "pending" else {
            throw RPCError(.failedPrecondition, "notification \(key) is \(state); only a dead or pending one is sent again")
        }
        if try JobScheduler.retry(db, id: jobID(key), now: now) == nil {
            throw RPCError(.failedPrecondition, "notification \(key) is being sent right now")
        }
        try db.execute(sql: "UPDATE notification SET state = 'pending', attempts = 0 WHERE dedupe_key = ?", arguments: [key])
        try AuditLog.record(db, context: context, recordID: key, changes: ["retried": "true"], at: now)
        return notification(from: try Row.fetchOne(db, sql: "SELECT * FROM notification WHERE dedupe_key = ?", arguments: [key])!)
    }

    static func notification(from row: Row) -> Forge_Gateway_V1_Notification {
        .with {
            $0.dedupeKey = row["dedupe_key"]
            $0.accountID = row["account_id"]
            $0.contactID = row["contact_id"]
            $0.template = row["template"]
            $0.state = row["state"]
            $0.attempts = row["attempts"]
            $0.recipient = row["recipient"]
            $0.subject = row["subject"]
            $0.lastError = row["last_error"]
            $0.createdAt = .init(date: Date(timeIntervalSince1970: row["created_at"]))
            if let sent = row["sent_at"] as Double? { $0.sentAt = .init(date: Date(timeIntervalSince1970: sent)) }
        }
    }
}
