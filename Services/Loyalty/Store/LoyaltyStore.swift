import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Synchronization

/// Loyalty's database: migrations, the programme's versions, and the facts tiers are measured
/// on — purchases (orders' deliveries and ERP's history and returns), NPS answers, overdue
/// instalments and accounts' strategic flags. As in every service each record is kept whole as
/// its protobuf (`payload`) next to the columns queries filter and sum by. Shipped migrations
/// are never edited.
enum LoyaltyStore {
    typealias Programme = Forge_Loyalty_V1_Programme

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("loyalty-v1") { db in
            try AccountDirectory.createTable(db)
            try db.create(table: "account_profile") { t in
                t.primaryKey("account_id", .text)
                t.column("industry_showcase", .boolean).notNull()
                t.column("brings_partners", .boolean).notNull()
            }
            try db.create(table: "programme") { t in
                t.primaryKey("version", .integer)
                t.column("effective_at", .double).notNull()
                t.column("payload", .blob).notNull()
            }
            // The first version is in force from the beginning of time (a test's clock included).
            try db.execute(cached: "INSERT INTO programme (version, effective_at, payload) VALUES (1, 0, ?)",
                           arguments: [try ProgrammeRules.standard(now: Date()).serializedData()])
            // Orders' product master: the product line a delivered line counts in.
            try db.create(table: "product") { t in
                t.primaryKey("sku", .text)
                t.column("product_line", .text).notNull()
            }
            // One row per purchase line (or return: a negative amount), once per key.
            try db.create(table: "purchase") { t in
                t.primaryKey("key", .text)
                t.column("account_id", .text).notNull()
                t.column("occurred_at", .double).notNull()
                t.column("product_line", .text).notNull()
                // CNY micros; NULL when the programme had no rate for its currency.
                t.column("amount_cny", .integer)
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "purchase_by_account", on: "purchase", columns: ["account_id", "occurred_at"])
            try db.create(table: "nps_answer") { t in
                t.primaryKey("survey_id", .text)
                t.column("account_id", .text).notNull()
                t.column("score", .integer).notNull()
                t.column("answered_at", .double).notNull()
            }
            try db.create(index: "nps_by_account", on: "nps_answer", columns: ["account_id", "answered_at"])
            try db.create(table: "overdue") { t in
                t.primaryKey("key", .text)
                t.column("account_id", .text).notNull()
                t.column("occurred_at", .double).notNull()
            }
            try db.create(index: "overdue_by_account", on: "overdue", columns: ["account_id", "occurred_at"])
            try db.create(table: "membership") { t in
                t.primaryKey("account_id", .text)
                // In force (the override's while one runs), evaluated (after grace), qualified now.
                t.column("tier", .text).notNull()
                t.column("base_tier", .text).notNull()
                t.column("qualified_tier", .text).notNull()
                t.column("rank", .integer).notNull()
                t.column("pending_until", .double)
                t.column("near_next", .boolean).notNull()
                t.column("version", .integer).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "membership_by_tier", on: "membership", columns: ["tier", "account_id"])
            try db.create(index: "membership_pending", on: "membership", columns: ["pending_until"])
            try db.create(table: "tier_history") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("account_id", .text).notNull()
                t.column("at", .double).notNull()
                t.column("kind", .text).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "tier_history_by_account", on: "tier_history", columns: ["account_id", "id"])
            try db.create(index: "tier_history_by_kind", on: "tier_history", columns: ["kind", "at"])
            try db.create(table: "consumption") { t in
                t.primaryKey("id", .text)
                t.column("account_id", .text).notNull()
                t.column("code", .text).notNull()
                t.column("reference", .text).notNull()
                t.column("year_start", .double).notNull()
                t.column("quantity", .integer).notNull()
                t.column("reversed", .boolean).notNull()
                t.column("contact_id", .text).notNull()
                t.column("consumed_at", .double).notNull()
                t.column("payload", .blob).notNull()
                t.uniqueKey(["account_id", "code", "reference"])
            }
            // A quota counts what was consumed since the membership year began.
            try db.create(index: "consumption_by_time", on: "consumption", columns: ["account_id", "consumed_at"])
            try db.create(table: "rebate_agreement") { t in
                t.primaryKey("id", .text)
                t.column("account_id", .text).notNull().indexed()
                t.column("state", .integer).notNull()
                t.column("start_at", .double).notNull()
                t.column("end_at", .double).notNull()
                t.column("version", .integer).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "rebate_by_state", on: "rebate_agreement", columns: ["state", "end_at"])
            // Each quarter every member is measured again (the trailing twelve months move on).
            try JobScheduler.schedule(db, kind: LoyaltyJobs.quarterly, dueAt: LoyaltyJobs.nextQuarter(after: Date()), id: LoyaltyJobs.quarterly, now: Date())
        }
        migrator.registerMigration("loyalty-v2") { db in
            // A consumption reads the tier and the anniversary without decoding the membership.
            try db.alter(table: "membership") { t in t.add(column: "member_since", .double) }
            for row in try Row.fetchAll(db, sql: "SELECT account_id, payload FROM membership") {
                let membership = try Forge_Loyalty_V1_Membership(serializedBytes: row["payload"] as Data)
                guard membership.hasMemberSince else { continue }
                try db.execute(sql: "UPDATE membership SET member_since = ? WHERE account_id = ?",
                               arguments: [membership.memberSince.date.timeIntervalSince1970, row["account_id"] as String])
            }
        }
    }

    // MARK: The programme

    /// The version in force at `now`: the latest whose moment has come.
    static func programme(_ db: Database, at now: Date) throws -> Programme {
        guard let payload = try Data.fetchOne(db.cachedStatement(sql: "SELECT payload FROM programme WHERE effective_at <= ? ORDER BY version DESC LIMIT 1"),
                                              arguments: [now.timeIntervalSince1970])
            ?? Data.fetchOne(db.cachedStatement(sql: "SELECT payload FROM programme ORDER BY version LIMIT 1")) else {
            throw RPCError(.internal, "the programme is missing")
        }
        return try decoded(payload)
    }

    /// Versions never change once written: each is decoded once (every call and every
    /// evaluation reads the programme in force).
    private static let programmes = Mutex<[Data: Programme]>([:])

    static func decoded(_ payload: Data) throws -> Programme {
        if let known = programmes.withLock({ $0[payload] }) { return known }
        let programme = try Programme(serializedBytes: payload)
        programmes.withLock { cache in
            if cache.count >= 32 { cache.removeAll() }
            cache[payload] = programme
        }
        return programme
    }

    /// A version that waits for its effective_at.
    static func scheduledProgramme(_ db: Database, at now: Date) throws -> Programme? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT payload FROM programme WHERE effective_at > ? ORDER BY version DESC LIMIT 1"), arguments: [now.timeIntervalSince1970])
            .map { try Programme(serializedBytes: $0) }
    }

    static func latestVersion(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(version) FROM programme")) ?? 0
    }

    static func versions(_ db: Database) throws -> [Programme] {
        try Data.fetchAll(db.cachedStatement(sql: "SELECT payload FROM programme ORDER BY version DESC")).map { try Programme(serializedBytes: $0) }
    }

    static func saveProgramme(_ db: Database, _ programme: Programme) throws {
        try db.execute(cached: "INSERT INTO programme (version, effective_at, payload) VALUES (?, ?, ?)",
                       arguments: [programme.version, programme.effectiveAt.date.timeIntervalSince1970, try programme.serializedData()])
    }

    // MARK: Facts

    /// What the criteria measure for one account at `now`.
    static func facts(_ db: Database, accountID: String, now: Date) throws -> MemberFacts {
        let since = now.addingTimeInterval(-TierRules.window).timeIntervalSince1970
        let until = now.timeIntervalSince1970
        var facts = MemberFacts()
        if let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT COALESCE(SUM(amount_cny), 0) AS total, COUNT(DISTINCT CASE WHEN amount_cny > 0 AND product_line != '' THEN product_line END) AS lines
            FROM purchase WHERE account_id = ? AND occurred_at > ? AND occurred_at <= ?
            """), arguments: [accountID, since, until]) {
            facts.purchases12m = row["total"]
            facts.productLines = row["lines"]
        }
        facts.firstPurchaseAt = try Double.fetchOne(db.cachedStatement(sql: "SELECT MIN(occurred_at) FROM purchase WHERE account_id = ? AND amount_cny > 0 AND occurred_at <= ?"),
                                                    arguments: [accountID, until]).map(Date.init(timeIntervalSince1970:))
        facts.latestNps = try Int.fetchOne(db.cachedStatement(sql: """
            SELECT score FROM nps_answer WHERE account_id = ? AND answered_at > ? AND answered_at <= ? ORDER BY answered_at DESC LIMIT 1
            """), arguments: [accountID, since, until])
        facts.overdue12m = try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM overdue WHERE account_id = ? AND occurred_at > ? AND occurred_at <= ?"),
                                            arguments: [accountID, since, until]) ?? 0
        if let flags = try Row.fetchOne(db.cachedStatement(sql: "SELECT industry_showcase, brings_partners FROM account_profile WHERE account_id = ?"), arguments: [accountID]) {
            facts.industryShowcase = flags["industry_showcase"]
            facts.bringsPartners = flags["brings_partners"]
        }
        return facts
    }

    /// Records a purchase line once per key; false when the key was recorded before.
    @discardableResult
    static func recordPurchase(_ db: Database, _ purchase: Forge_Loyalty_V1_Purchase, programme: Programme, at now: Date) throws -> Bool {
        try db.execute(cached: """
            INSERT INTO purchase (key, account_id, occurred_at, product_line, amount_cny, payload) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(key) DO NOTHING
            """, arguments: [purchase.key, purchase.accountID, purchase.occurredAt.date.timeIntervalSince1970, purchase.productLine,
                             ProgrammeRules.yuanMicros(purchase.amount, programme: programme), try purchase.serializedData()])
        guard db.changesCount > 0 else { return false }
        try Outbox.append(db, Forge_Loyalty_V1_PurchaseRecorded.with { $0.purchase = purchase }, accountID: purchase.accountID, at: now)
        return true
    }

    static func validate(_ purchase: Forge_Loyalty_V1_Purchase, now: Date) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func check(_ ok: Bool, _ field: String, _ description: String) {
            if !ok { violations.append(FieldViolation(field: field, description: description)) }
        }
        check(!purchase.key.isBlank && purchase.key.count <= 200, "key", "is required (at most 200 characters): the document and line it comes from")
        check(!purchase.accountID.isBlank, "account_id", "is required")
        check(purchase.hasOccurredAt, "occurred_at", "is required")
        if purchase.hasOccurredAt { check(purchase.occurredAt.date <= now.addingTimeInterval(86_400), "occurred_at", "is in the future") }
        check(purchase.amount.amountMicros != 0, "amount", "is required (negative for a return)")
        check(purchase.amount.amountMicros.magnitude <= 10_000_000_000 * 1_000_000, "amount", "is beyond 10 billion")
        check(purchase.amount.amountMicros % MoneyText.microsPerCent == 0, "amount", "must be whole cents")
        let currency = purchase.amount.currencyCode
        check(currency.isEmpty || (currency.count == 3 && currency.allSatisfy { $0.isUppercase && $0.isASCII }), "amount.currency_code", "is not an ISO 4217 code")
        check(purchase.productLine.count <= 100, "product_line", "is longer than 100 characters")
        check(purchase.reference.count <= 200, "reference", "is longer than 200 characters")
        return violations
    }
}
