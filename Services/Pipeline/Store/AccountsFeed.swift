import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Where accounts' events reach pipeline: the shared account directory (names and owners) plus
/// the contacts' keys, which lead de-duplication compares with and an existing customer's
/// inquiry is routed by; a merge re-points leads, opportunities and tasks; an erased contact
/// is anonymised on the leads that name them; an account entering the revisit pool opens a
/// revisit lead for its owner.
enum AccountsFeed {
    static let eventTypes = AccountDirectory.eventTypes + ["ContactCreated", "ContactErased", "AccountEnteredRevisitPool"]

    struct Match: Equatable {
        var accountID: String
        var name: String
        var ownerID: String
        var team: String
        var reason: String
    }

    /// The account a lead belongs to, by company name, then a contact's phone or email, then
    /// the company's email domain.
    static func match(_ db: Database, keys: LeadRules.Keys) throws -> Match? {
        var found: (String, String)?
        if !keys.name.isEmpty, let id = try String.fetchOne(db.cachedStatement(sql: "SELECT account_id FROM account_directory WHERE normalized_name = ? LIMIT 1"), arguments: [keys.name]) {
            found = (id, "same normalised name")
        }
        for (column, value, reason) in [("phone_key", keys.phone, "same phone"), ("email_key", keys.email, "same email"),
                                        ("email_domain", keys.domain, "same email domain")] where found == nil && !value.isEmpty {
            if let id = try String.fetchOne(db.cachedStatement(sql: "SELECT account_id FROM account_contact_key WHERE \(column) = ? LIMIT 1"), arguments: [value]) {
                found = (id, reason)
            }
        }
        guard let (id, reason) = found,
              let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM account_directory WHERE account_id = ?"), arguments: [id])
        else { return nil }
        return Match(accountID: id, name: row["name"], ownerID: row["owner_id"], team: row["team"], reason: reason)
    }

    /// Applies one accounts event inside the consumer's transaction.
    static func apply(_ db: Database, _ event: Forge_Common_V1_Event, clock: any WallClock) throws {
        let now = clock.now()
        try AccountDirectory.apply(db, event)
        switch event.type {
        case "ContactCreated":
            let contact = try Forge_Accounts_V1_ContactCreated(serializedBytes: event.payload).contact
            let digits = ContactKeys.phone(contact.phone)
            try db.execute(sql: """
                INSERT OR REPLACE INTO account_contact_key (contact_id, account_id, phone_key, email_key, email_domain) VALUES (?, ?, ?, ?, ?)
                """, arguments: [contact.id, contact.accountID, digits.count >= 7 ? digits : "",
                                 ContactKeys.emailDomain(contact.email).isEmpty ? "" : contact.email.trimmingCharacters(in: .whitespaces).lowercased(),
                                 ContactKeys.companyEmailDomain(contact.email)])
        case "ContactErased":
            let erased = try Forge_Accounts_V1_ContactErased(serializedBytes: event.payload)
            // The person's phone and mail, as pipeline knew them, find the open leads that
            // name them too (an inquiry never converted).
            let keys = try Row.fetchOne(db, sql: "SELECT phone_key, email_key FROM account_contact_key WHERE contact_id = ?", arguments: [erased.contactID])
            try db.execute(sql: "DELETE FROM account_contact_key WHERE contact_id = ?", arguments: [erased.contactID])
            try anonymise(db, contactID: erased.contactID, phone: keys?["phone_key"] ?? "", email: keys?["email_key"] ?? "", now: now)
        case "AccountMerged":
            let merged = try Forge_Accounts_V1_AccountMerged(serializedBytes: event.payload)
            try repoint(db, from: merged.mergedIds, to: merged.survivorID, now: now)
        case "AccountEnteredRevisitPool":
            let pool = try Forge_Accounts_V1_AccountEnteredRevisitPool(serializedBytes: event.payload)
            try openRevisitLead(db, accountID: pool.accountID, ownerID: pool.ownerID, daysSilent: pool.daysSilent, now: now)
        default:
            break
        }
    }

    /// Leads converted into an erased person, or naming their phone or mail, keep no trace of them.
    static func anonymise(_ db: Database, contactID: String, phone: String, email: String, now: Date) throws {
        for payload in try Data.fetchAll(db, sql: """
            SELECT payload FROM lead WHERE contact_id = ? OR (phone_key = ? AND ? != '') OR (email_key = ? AND ? != '')
            """, arguments: [contactID, phone, phone, email, email]) {
            var lead = try Forge_Pipeline_V1_Lead(serializedBytes: payload)
            lead.contactName = "（已删除）"
            lead.phone = ""
            lead.email = ""
            lead.wechatID = ""
            lead.updatedAt = .init(date: now)
            lead.version += 1
            try LeadStore.write(db, lead)
            // What an import's rows and retried calls would answer carried the lead as it was.
            try LeadImports.replace(db, lead: lead)
            try IdempotencyInterceptor.forgetResponses(db, containing: lead.id)
            try redactHistory(db, lead: lead)
        }
        try IdempotencyInterceptor.forgetResponses(db, containing: contactID)
        try OpportunityStore.clearContact(db, contactID: contactID, now: now)
    }

    /// Pipeline's own feed carried the lead with the person's details: its past lead events get
    /// the anonymised lead (a consumer replaying from the start never sees them).
    static func redactHistory(_ db: Database, lead: Forge_Pipeline_V1_Lead) throws {
        let types = ["LeadCaptured", "LeadRepeatInquiry", "LeadTouched", "LeadEscalated", "LeadDisqualified", "LeadConverted"]
        try Outbox.redact(db, types: types, mentioning: lead.id) { type, payload in
            func replaced<Event: SwiftProtobuf.Message>(_ kind: Event.Type, _ path: WritableKeyPath<Event, Forge_Pipeline_V1_Lead>) throws -> Data? {
                var event = try Event(serializedBytes: payload)
                guard event[keyPath: path].id == lead.id else { return nil }
                event[keyPath: path] = lead
                return try event.serializedData()
            }
            switch type {
            case "LeadCaptured": return try replaced(Forge_Pipeline_V1_LeadCaptured.self, \.lead)
            case "LeadRepeatInquiry": return try replaced(Forge_Pipeline_V1_LeadRepeatInquiry.self, \.lead)
            case "LeadTouched": return try replaced(Forge_Pipeline_V1_LeadTouched.self, \.lead)
            case "LeadEscalated": return try replaced(Forge_Pipeline_V1_LeadEscalated.self, \.lead)
            case "LeadDisqualified": return try replaced(Forge_Pipeline_V1_LeadDisqualified.self, \.lead)
            default: return try replaced(Forge_Pipeline_V1_LeadConverted.self, \.lead)
            }
        }
    }

    /// A merge folds accounts into a survivor: every lead, opportunity and task follows it.
    static func repoint(_ db: Database, from merged: [String], to survivor: String, now: Date) throws {
        guard !merged.isEmpty else { return }
        let marks = databaseQuestionMarks(count: merged.count)
        try db.execute(sql: "UPDATE account_contact_key SET account_id = ? WHERE account_id IN (\(marks))", arguments: [survivor] + StatementArguments(merged))
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM lead WHERE account_id IN (\(marks))", arguments: StatementArguments(merged)) {
            var lead = try Forge_Pipeline_V1_Lead(serializedBytes: payload)
            lead.accountID = survivor
            lead.version += 1
            try LeadStore.write(db, lead)
        }
        try OpportunityStore.repoint(db, from: merged, to: survivor, now: now)
        try PipelineStore.updateTasks(db, where: "account_id IN (\(marks))", StatementArguments(merged)) { $0.accountID = survivor }
    }

    /// An account silent for 60 days: a revisit lead for its owner, once while one is open.
    static func openRevisitLead(_ db: Database, accountID: String, ownerID: String, daysSilent: Int32, now: Date) throws {
        let open = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM lead WHERE account_id = ? AND status IN (1, 2))", arguments: [accountID]) ?? false
        guard !open else { return }
        let entry = try AccountDirectory.entry(db, accountID: accountID)
        var lead = Forge_Pipeline_V1_Lead.with {
            $0.id = EventID.make(prefix: "lead", at: now)
            $0.companyName = entry?.name ?? accountID
            $0.source = .revisitPool
            $0.need = "客户已 \(daysSilent) 天无联系，进入回访池"
            $0.receivedAt = .init(date: now)
            $0.accountID = accountID
        }
        let team = entry?.team ?? ""
        let owner = ownerID.isEmpty ? entry?.ownerID ?? "" : ownerID
        try LeadStore.create(db, &lead, decision: .init(ownerID: owner, team: team, how: "revisit_pool"),
                             settings: PipelineStore.Prepared(try PipelineStore.settings(db)), by: "accounts", now: now)
    }
}
