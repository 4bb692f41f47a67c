import Crypto
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Feedback's database: migrations, settings, the link-signing secret, and what it keeps of
/// accounts (region, industry, tier: the reports' dimensions) and contacts (who a triggered
/// survey goes to). As in every service each record is kept whole as its protobuf (`payload`)
/// next to the columns queries filter, sort and count by. Shipped migrations are never edited.
enum FeedbackStore {
    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("feedback-v1") { db in
            try AccountDirectory.createTable(db)
            try db.create(table: "account_profile") { t in
                t.primaryKey("account_id", .text)
                t.column("region", .text).notNull()
                t.column("industry", .text).notNull()
                t.column("tier", .text).notNull()
            }
            try db.create(table: "contact") { t in
                t.primaryKey("id", .text)
                t.column("account_id", .text).notNull().indexed()
                t.column("name", .text).notNull()
                t.column("buying_role", .integer).notNull()
                t.column("strength", .integer).notNull()
                t.column("consent", .boolean).notNull()
                t.column("created_seq", .integer).notNull()
            }
            try db.create(table: "survey") { t in
                t.autoIncrementedPrimaryKey("rowid")
                t.column("id", .text).notNull().unique()
                t.column("account_id", .text).notNull()
                t.column("contact_id", .text).notNull()
                t.column("kind", .integer).notNull()
                t.column("state", .integer).notNull()
                t.column("trigger", .integer).notNull()
                // One survey per trigger: "order|<id>", "ticket|<id>", "revisit|<account>|<day>".
                t.column("source_key", .text).unique()
                // An imported answer's key.
                t.column("import_key", .text).unique()
                t.column("campaign_id", .text).notNull()
                t.column("region", .text).notNull()
                t.column("industry", .text).notNull()
                t.column("tier", .text).notNull()
                t.column("product_line", .text).notNull()
                t.column("owner_id", .text).notNull()
                t.column("team", .text).notNull()
                t.column("score", .integer)
                t.column("score_class", .integer).notNull()
                t.column("answered_at", .double)
                t.column("send_at", .double).notNull()
                t.column("sent_at", .double)
                t.column("created_at", .double).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "survey_by_account", on: "survey", columns: ["account_id", "created_at"])
            try db.create(index: "survey_by_contact", on: "survey", columns: ["contact_id", "sent_at"])
            try db.create(index: "survey_by_account_sent", on: "survey", columns: ["account_id", "sent_at"])
            try db.create(index: "survey_answered", on: "survey", columns: ["kind", "answered_at"])
            try db.create(index: "survey_sent", on: "survey", columns: ["kind", "sent_at"])
            try db.create(index: "survey_by_campaign", on: "survey", columns: ["campaign_id", "id"])
            // Trigram tokens make substring search work for Chinese, which has no spaces.
            try db.execute(sql: "CREATE VIRTUAL TABLE survey_fts USING fts5(comment, tokenize = 'trigram')")
            try db.create(table: "follow_up") { t in
                t.primaryKey("id", .text)
                t.column("survey_id", .text).notNull().unique()
                t.column("account_id", .text).notNull().indexed()
                t.column("owner_id", .text).notNull()
                t.column("team", .text).notNull()
                t.column("state", .integer).notNull()
                t.column("due_at", .double).notNull()
                t.column("created_at", .double).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "follow_up_queue", on: "follow_up", columns: ["state", "due_at"])
            try db.create(table: "advocacy") { t in
                t.primaryKey("id", .text)
                t.column("survey_id", .text).notNull().unique()
                t.column("account_id", .text).notNull().indexed()
                t.column("owner_id", .text).notNull()
                t.column("team", .text).notNull()
                t.column("state", .integer).notNull()
                t.column("created_at", .double).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(table: "idea") { t in
                t.primaryKey("id", .text)
                t.column("account_id", .text).notNull().indexed()
                t.column("status", .integer).notNull()
                t.column("product_line", .text).notNull()
                t.column("votes", .integer).notNull()
                t.column("created_at", .double).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "idea_board", on: "idea", columns: ["status", "votes", "id"])
            try db.create(table: "campaign") { t in
                t.primaryKey("id", .text)
                t.column("created_at", .double).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(table: "settings") { t in
                t.primaryKey("name", .text)
                t.column("payload", .blob).notNull()
            }
            // The key that signs survey links: made here, once, and never leaves the database.
            try db.create(table: "secret") { t in
                t.primaryKey("name", .text)
                t.column("value", .blob).notNull()
            }
            try db.execute(sql: "INSERT INTO secret (name, value) VALUES ('survey-link', ?)",
                           arguments: [SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }])
            try NpsRollup.createTable(db)
        }
    }

    // MARK: Settings

    static func settings(_ db: Database) throws -> Forge_Feedback_V1_FeedbackSettings {
        guard let payload = try Data.fetchOne(db.cachedStatement(sql: "SELECT payload FROM settings WHERE name = 'feedback'")) else { return SurveyRules.defaultSettings }
        return try Forge_Feedback_V1_FeedbackSettings(serializedBytes: payload)
    }

    static func saveSettings(_ db: Database, _ settings: Forge_Feedback_V1_FeedbackSettings) throws {
        try db.execute(sql: "INSERT INTO settings (name, payload) VALUES ('feedback', ?) ON CONFLICT(name) DO UPDATE SET payload = excluded.payload",
                       arguments: [try settings.serializedData()])
    }

    static func linkSecret(_ db: Database) throws -> SymmetricKey {
        guard let value = try Data.fetchOne(db.cachedStatement(sql: "SELECT value FROM secret WHERE name = 'survey-link'")) else {
            throw RPCError(.internal, "the survey-link secret is missing")
        }
        return SymmetricKey(data: value)
    }

    // MARK: What feedback keeps of accounts and contacts

    struct AccountFacts {
        var entry: AccountDirectory.Entry
        var region = ""
        var industry = ""
        var tier = ""
    }

    static func account(_ db: Database, _ accountID: String) throws -> AccountFacts? {
        guard let entry = try AccountDirectory.entry(db, accountID: accountID) else { return nil }
        var facts = AccountFacts(entry: entry)
        if let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT region, industry, tier FROM account_profile WHERE account_id = ?"), arguments: [accountID]) {
            facts.region = row["region"]
            facts.industry = row["industry"]
            facts.tier = row["tier"]
        }
        return facts
    }

    static func upsertProfile(_ db: Database, _ account: Forge_Accounts_V1_Account) throws {
        try db.execute(sql: """
            INSERT INTO account_profile (account_id, region, industry, tier) VALUES (?, ?, ?, ?)
            ON CONFLICT(account_id) DO UPDATE SET region = excluded.region, industry = excluded.industry, tier = excluded.tier
            """, arguments: [account.id, account.region, account.industry, account.tier.reportName])
    }

    static func upsertContact(_ db: Database, _ contact: Forge_Accounts_V1_Contact, seq: Int64) throws {
        try db.execute(sql: """
            INSERT INTO contact (id, account_id, name, buying_role, strength, consent, created_seq) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET account_id = excluded.account_id, name = excluded.name, buying_role = excluded.buying_role,
                strength = excluded.strength, consent = excluded.consent
            """, arguments: [contact.id, contact.accountID, contact.name, contact.buyingRole.rawValue, contact.relationshipStrength,
                             contact.marketingConsent, seq])
    }

    struct ContactFacts {
        var id: String
        var name: String
        var consent: Bool
    }

    static func contact(_ db: Database, _ contactID: String) throws -> ContactFacts? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT id, name, consent FROM contact WHERE id = ?"), arguments: [contactID]).map {
            ContactFacts(id: $0["id"], name: $0["name"], consent: $0["consent"])
        }
    }

    /// Who a survey to the account as a whole goes to: its decision maker, else the contact with
    /// the strongest relationship, else the first one recorded.
    static func mainContact(_ db: Database, accountID: String) throws -> ContactFacts? {
        try Row.fetchOne(db, sql: """
            SELECT id, name, consent FROM contact WHERE account_id = ?
            ORDER BY buying_role = 1 DESC, strength DESC, created_seq LIMIT 1
            """, arguments: [accountID]).map { ContactFacts(id: $0["id"], name: $0["name"], consent: $0["consent"]) }
    }
}
