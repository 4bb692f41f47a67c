import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Privacy requests about one person: export everything held, or erase them.
struct PrivacyStore: Sendable {
    static let erasedName = ErasedContact.name

    let database: DatabasePool

    func export(contactID: String, principal: Principal) async throws -> Forge_Accounts_V1_ExportContactDataResponse {
        try await database.read { db in
            guard let contact = try TimelineStore.contact(db, id: contactID) else {
                throw RPCError(.notFound, "contact \(contactID) not found")
            }
            _ = try AccountStore.visibleAccount(db, id: contact.accountID, principal: principal, missing: "contact \(contactID) not found")
            let activities = try Self.activitiesInvolving(db, contact: contact).map(\.activity)
            return .with {
                $0.contact = contact
                $0.activities = activities
            }
        }
    }

    /// Anonymises the contact and redacts their name from the account's activity text, the
    /// full-text index included; emits `ContactErased` so other services anonymise too.
    func erase(contactID: String, reason: String, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_EraseContactResponse {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            guard var contact = try TimelineStore.contact(db, id: contactID) else {
                throw RPCError(.notFound, "contact \(contactID) not found")
            }
            _ = try AccountStore.visibleAccount(db, id: contact.accountID, principal: context.principal, missing: "contact \(contactID) not found")
            let name = contact.name
            var redacted: Int32 = 0
            if name != Self.erasedName {
                for (rowid, var activity) in try Self.activitiesInvolving(db, contact: contact) {
                    activity.subject = activity.subject.replacingOccurrences(of: name, with: Self.erasedName)
                    activity.body = activity.body.replacingOccurrences(of: name, with: Self.erasedName)
                    try db.execute(sql: "UPDATE activity SET payload = ? WHERE rowid = ?", arguments: [try activity.serializedData(), rowid])
                    try db.execute(sql: "UPDATE activity_fts SET subject = ?, body = ? WHERE rowid = ?", arguments: [activity.subject, activity.body, rowid])
                    redacted += 1
                }
            }
            contact.name = Self.erasedName
            contact.phone = ""
            contact.email = ""
            contact.wechatID = ""
            contact.title = ""
            contact.marketingConsent = false
            contact.version += 1
            try db.execute(
                sql: "UPDATE contact SET payload = ?, phone = '', email_domain = '', version = ? WHERE id = ?",
                arguments: [try contact.serializedData(), contact.version, contact.id]
            )
            try IdempotencyInterceptor.forgetResponses(db, containing: contact.id)
            try Self.redactHistory(db, contact: contact, formerName: name)
            try Outbox.append(db, Forge_Accounts_V1_ContactErased.with {
                $0.contactID = contact.id
                $0.accountID = contact.accountID
            }, accountID: contact.accountID, at: now)
            // The audit keeps that an erasure happened and why, not what was erased.
            try AuditLog.record(db, context: context, recordID: contact.id, changes: ["erased": "true", "reason": reason], at: now)
            return .with {
                $0.contact = contact
                $0.activitiesRedacted = redacted
            }
        }
    }

    /// The feed's past events carry the person as they were: the contact's own events get the
    /// anonymised contact, activities about them the redacted text, so a consumer replaying
    /// the feed from the start (a rebuild) never sees the person.
    static func redactHistory(_ db: Database, contact: Forge_Accounts_V1_Contact, formerName: String) throws {
        try Outbox.redact(db, types: ["ContactCreated", "ContactUpdated"], mentioning: contact.id) { type, payload in
            if type == "ContactCreated" {
                var event = try Forge_Accounts_V1_ContactCreated(serializedBytes: payload)
                guard event.contact.id == contact.id else { return nil }
                event.contact = contact
                return try event.serializedData()
            }
            var event = try Forge_Accounts_V1_ContactUpdated(serializedBytes: payload)
            guard event.contact.id == contact.id else { return nil }
            event.contact = contact
            return try event.serializedData()
        }
        guard !formerName.isEmpty, formerName != erasedName else { return }
        try Outbox.redact(db, types: ["ActivityLogged"], mentioning: formerName) { _, payload in
            var event = try Forge_Accounts_V1_ActivityLogged(serializedBytes: payload)
            event.activity.subject = event.activity.subject.replacingOccurrences(of: formerName, with: erasedName)
            event.activity.body = event.activity.body.replacingOccurrences(of: formerName, with: erasedName)
            return try event.serializedData()
        }
    }

    /// The account's activities that list the contact or mention their name.
    static func activitiesInvolving(_ db: Database, contact: Forge_Accounts_V1_Contact) throws -> [(rowid: Int64, activity: Forge_Accounts_V1_Activity)] {
        try Row.fetchAll(db, sql: "SELECT rowid, payload FROM activity WHERE account_id = ? ORDER BY rowid", arguments: [contact.accountID])
            .map { ($0["rowid"] as Int64, try Forge_Accounts_V1_Activity(serializedBytes: $0["payload"] as Data)) }
            .filter { _, activity in
                activity.contactIds.contains(contact.id)
                    || (!contact.name.isEmpty && (activity.body.contains(contact.name) || activity.subject.contains(contact.name)))
            }
    }
}
