import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Contacts and the activity timeline of accounts, in the accounts database.
struct TimelineStore: Sendable {
    let database: DatabasePool
    var policy = StalePolicy()

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("accounts-v3-contacts-activities") { db in
            try db.create(table: "contact") { t in
                t.primaryKey("id", .text)
                t.column("account_id", .text).notNull().indexed().references("account")
                t.column("payload", .blob).notNull()
                t.column("phone", .text).notNull().defaults(to: "")
                t.column("email_domain", .text).notNull().defaults(to: "")
                t.column("version", .integer).notNull()
            }
            try db.create(table: "activity") { t in
                t.autoIncrementedPrimaryKey("rowid")
                t.column("id", .text).notNull().unique()
                t.column("account_id", .text).notNull().references("account")
                t.column("occurred_at", .double).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "activity_timeline", on: "activity", columns: ["account_id", "occurred_at"])
            // Trigram tokens make substring search work for Chinese, which has no spaces.
            try db.execute(cached: "CREATE VIRTUAL TABLE activity_fts USING fts5(subject, body, tokenize = 'trigram')")
        }
    }

    // MARK: Contacts

    func createContact(_ contact: Forge_Accounts_V1_Contact, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_CreateContactResponse {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var contact = contact
            // A merged account's id stands for its survivor.
            contact.accountID = try AccountStore.visibleAccount(db, id: contact.accountID, principal: context.principal).id
            try Self.insert(db, contact, context: context, at: now)
            return .with { $0.contact = contact }
        }
    }

    /// The rows of a new contact: the contact, `ContactCreated` and the audit row.
    static func insert(_ db: Database, _ contact: Forge_Accounts_V1_Contact, context: ServerContext, at now: Date) throws {
        try db.execute(
            cached: "INSERT INTO contact (id, account_id, payload, phone, email_domain, version) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [contact.id, contact.accountID, try contact.serializedData(), ContactKeys.phone(contact.phone),
                        ContactKeys.emailDomain(contact.email), contact.version]
        )
        try Outbox.append(db, Forge_Accounts_V1_ContactCreated.with { $0.contact = contact }, accountID: contact.accountID, at: now)
        try AuditLog.record(db, context: context, recordID: contact.id, changes: ["name": contact.name, "account_id": contact.accountID], at: now)
    }

    func updateContact(_ contact: Forge_Accounts_V1_Contact, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_UpdateContactResponse {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            guard let current = try Self.contact(db, id: contact.id) else {
                throw RPCError(.notFound, "contact \(contact.id) not found")
            }
            _ = try AccountStore.visibleAccount(db, id: current.accountID, principal: context.principal, missing: "contact \(contact.id) not found")
            guard current.version == contact.version else {
                throw RPCError(.aborted, "contact \(contact.id) changed since version \(contact.version) (now \(current.version)); read it again")
            }
            var updated = contact
            updated.accountID = current.accountID
            updated.version = current.version + 1
            try Self.write(db, updated, changed: ContactRules.changedFields(from: current, to: updated), context: context, at: now)
            return .with { $0.contact = updated }
        }
    }

    /// Writes an edited contact, `ContactUpdated` and the audit row.
    static func write(_ db: Database, _ updated: Forge_Accounts_V1_Contact, changed: [String: String], context: ServerContext, at now: Date) throws {
        try db.execute(
            cached: "UPDATE contact SET payload = ?, phone = ?, email_domain = ?, version = ? WHERE id = ?",
            arguments: [try updated.serializedData(), ContactKeys.phone(updated.phone), ContactKeys.emailDomain(updated.email),
                        updated.version, updated.id]
        )
        try Outbox.append(db, Forge_Accounts_V1_ContactUpdated.with {
            $0.contact = updated
            $0.changedFields = changed.keys.sorted()
        }, accountID: updated.accountID, at: now)
        try AuditLog.record(db, context: context, recordID: updated.id, changes: changed, at: now)
    }

    /// Deletes a contact of an account the caller may see, with its event and audit row.
    func deleteContact(id: String, version: Int64, context: ServerContext, at now: Date) async throws {
        _ = try await database.write(recordingIdempotencyOf: context, at: now) { db in
            guard let current = try Self.contact(db, id: id) else { throw RPCError(.notFound, "contact \(id) not found") }
            _ = try AccountStore.visibleAccount(db, id: current.accountID, principal: context.principal, missing: "contact \(id) not found")
            guard current.version == version else {
                throw RPCError(.aborted, "contact \(id) changed since version \(version) (now \(current.version)); read it again")
            }
            try db.execute(sql: "DELETE FROM contact WHERE id = ?", arguments: [id])
            try Outbox.append(db, Forge_Accounts_V1_ContactDeleted.with {
                $0.contactID = id
                $0.accountID = current.accountID
            }, accountID: current.accountID, at: now)
            try AuditLog.record(db, context: context, recordID: id, changes: ["deleted": current.name], at: now)
            return Forge_Accounts_V1_DeleteContactResponse()
        }
    }

    func contact(id: String, principal: Principal) async throws -> Forge_Accounts_V1_Contact? {
        try await database.read { db in
            guard let contact = try Self.contact(db, id: id),
                  (try? AccountStore.visibleAccount(db, id: contact.accountID, principal: principal)) != nil
            else { return nil }
            return contact
        }
    }

    func contacts(accountID: String, page: Page, principal: Principal) async throws -> [Forge_Accounts_V1_Contact] {
        try database.pointRead { db in
            try Self.contacts(db, of: try AccountStore.visibleAccount(db, id: accountID, principal: principal), page: page)
        }
    }

    /// One page of a (visible) account's contacts, by id.
    static func contacts(_ db: Database, of account: Forge_Accounts_V1_Account, page: Page) throws -> [Forge_Accounts_V1_Contact] {
        try Data.fetchAll(
            db.cachedStatement(sql: "SELECT payload FROM contact WHERE account_id = ? AND id > ? ORDER BY id LIMIT ?"),
            arguments: [account.id, page.after, page.size]
        ).map { try Forge_Accounts_V1_Contact(serializedBytes: $0) }
    }

    /// The account, a page of its contacts and a page of its timeline, in one read (the 360°
    /// view's accounts sections, `GetAccountOverview`).
    func overview(accountID: String, contacts contactsPage: Page, activities activitiesPage: Page, principal: Principal) throws
        -> (account: Forge_Accounts_V1_Account, contacts: [Forge_Accounts_V1_Contact], activities: [(rowid: Int64, activity: Forge_Accounts_V1_Activity)])
    {
        try database.pointRead { db in
            let account = try AccountStore.visibleAccount(db, id: accountID, principal: principal)
            return (account, try Self.contacts(db, of: account, page: contactsPage),
                    try Self.timeline(db, of: account, size: activitiesPage.size, before: activitiesPage.beforePosition))
        }
    }

    static func contact(_ db: Database, id: String) throws -> Forge_Accounts_V1_Contact? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT payload FROM contact WHERE id = ?"), arguments: [id]).map {
            try Forge_Accounts_V1_Contact(serializedBytes: $0)
        }
    }

    // MARK: Activities

    /// Logs an activity: the timeline row, its full-text entry, the account's last activity
    /// time and `ActivityLogged`, in one transaction.
    /// Logs the activities in one transaction, each on an account `context`'s caller may see
    /// (NOT_FOUND otherwise, and nothing is logged); answers with `response` of them, their
    /// accounts resolved through merges.
    func log<Response: SwiftProtobuf.Message>(
        _ activities: [Forge_Accounts_V1_Activity], context: ServerContext, at now: Date,
        response: @escaping @Sendable ([Forge_Accounts_V1_Activity]) -> Response
    ) async throws -> Response {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var visible: [String: String] = [:]
            return response(try activities.map { requested in
                var activity = requested
                if let id = visible[activity.accountID] {
                    activity.accountID = id
                } else {
                    let id = try AccountStore.visibleAccount(db, id: activity.accountID, principal: context.principal).id
                    visible[activity.accountID] = id
                    activity.accountID = id
                }
                try insert(db, activity, at: now)
                return activity
            })
        }
    }

    /// One activity's rows, the account's staleness reset, `ActivityLogged`, and the account's
    /// open hand-over task closed.
    private func insert(_ db: Database, _ activity: Forge_Accounts_V1_Activity, at now: Date) throws {
        try db.execute(
            cached: "INSERT INTO activity (id, account_id, occurred_at, payload) VALUES (?, ?, ?, ?)",
            arguments: [activity.id, activity.accountID, activity.occurredAt.timeIntervalSince1970, try activity.serializedData()]
        )
        try db.execute(
            cached: "INSERT INTO activity_fts (rowid, subject, body) VALUES (?, ?, ?)",
            arguments: [db.lastInsertedRowID, activity.subject, activity.body]
        )
        let lastTouch = try Double.fetchOne(
            db.cachedStatement(sql: "UPDATE account SET last_activity_at = MAX(COALESCE(last_activity_at, 0), ?), staleness = ? WHERE id = ? RETURNING last_activity_at"),
            arguments: [activity.occurredAt.timeIntervalSince1970, Forge_Accounts_V1_Staleness.none.rawValue, activity.accountID]
        ) ?? now.timeIntervalSince1970
        // The quiet spell is over: the next check counts from this touch.
        try StaleAccounts.schedule(db, accountID: activity.accountID, lastTouch: Date(timeIntervalSince1970: lastTouch), reached: .none, policy: policy, now: now)
        try Outbox.append(db, Forge_Accounts_V1_ActivityLogged.with { $0.activity = activity }, accountID: activity.accountID, at: now)
        try HandoverTasks.close(db, accountID: activity.accountID, by: activity.authorID, resolution: "activity logged", at: now)
    }

    /// One account's timeline, newest first; the page token is the rowid to continue below.
    func timeline(accountID: String, size: Int, before: (occurredAt: Double, rowid: Int64)?, principal: Principal) async throws -> [(rowid: Int64, activity: Forge_Accounts_V1_Activity)] {
        try database.pointRead { db in
            try Self.timeline(db, of: try AccountStore.visibleAccount(db, id: accountID, principal: principal), size: size, before: before)
        }
    }

    static func timeline(_ db: Database, of account: Forge_Accounts_V1_Account, size: Int, before: (occurredAt: Double, rowid: Int64)?) throws
        -> [(rowid: Int64, activity: Forge_Accounts_V1_Activity)]
    {
        let position = before ?? (.infinity, .max)
        return try Row.fetchAll(
            db.cachedStatement(sql: """
                SELECT rowid, payload FROM activity
                WHERE account_id = ? AND (occurred_at < ? OR (occurred_at = ? AND rowid < ?))
                ORDER BY occurred_at DESC, rowid DESC LIMIT ?
                """),
            arguments: [account.id, position.occurredAt, position.occurredAt, position.rowid, size]
        ).map { ($0["rowid"], try Forge_Accounts_V1_Activity(serializedBytes: $0["payload"] as Data)) }
    }

    /// Activities whose subject or body contains `query`, among accounts `principal` may see.
    func search(query: String, size: Int, before: Int64, principal: Principal) async throws -> [(rowid: Int64, activity: Forge_Accounts_V1_Activity)] {
        var clauses = ["activity_fts MATCH ?", "activity_fts.rowid < ?"]
        // A quoted FTS5 string: the query is matched as a phrase, never parsed as syntax. FTS5's
        // parser ends a string at a NUL (an "unterminated string" error): no text holds one, so
        // it is dropped.
        let phrase = query.replacingOccurrences(of: "\u{0}", with: "").replacingOccurrences(of: "\"", with: "\"\"")
        var arguments: StatementArguments = ["\"" + phrase + "\"", before]
        AccountRules.visibility(for: principal, table: "acc", clauses: &clauses, arguments: &arguments)
        arguments += [size]
        let sql = """
            SELECT a.rowid AS rowid, a.payload AS payload FROM activity_fts
            JOIN activity a ON a.rowid = activity_fts.rowid
            JOIN account acc ON acc.id = a.account_id
            WHERE \(clauses.joined(separator: " AND ")) ORDER BY activity_fts.rowid DESC LIMIT ?
            """
        let finalArguments = arguments
        return try await database.read { db in
            try Row.fetchAll(db, sql: sql, arguments: finalArguments).map {
                ($0["rowid"], try Forge_Accounts_V1_Activity(serializedBytes: $0["payload"] as Data))
            }
        }
    }

}
