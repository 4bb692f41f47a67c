import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// The read model's tables, built only from other services' feeds (UpstreamEvents), and what
/// analytics keeps of its own: the churn-risk episodes and repurchase reminders it raised,
/// which a rebuild keeps so that replaying never alerts an owner twice.
///
/// Nothing personal is kept: no contact ids, names, comments or phone numbers — answers,
/// tickets and activities are counted, not quoted — so a contact's erasure finds nothing here.
enum AnalyticsStore {
    /// The tables a rebuild empties before every feed is replayed from the start.
    static let readModel = ["customer", "merged_account", "product", "order_fact", "order_line", "installment",
                            "opportunity", "ticket", "answer", "activity"]

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("analytics-customers-v1") { db in
            try db.create(table: "customer") { t in
                t.primaryKey("account_id", .text)
                t.column("region", .text).notNull()
                t.column("industry", .text).notNull()
                t.column("created_at", .double).notNull()
                // How many times the creating event was applied: exactly-once means always 1.
                t.column("events_applied", .integer).notNull()
            }
        }
        migrator.registerMigration("analytics-v2") { db in
            try db.execute(sql: """
                ALTER TABLE customer ADD COLUMN name TEXT NOT NULL DEFAULT '';
                ALTER TABLE customer ADD COLUMN tier TEXT NOT NULL DEFAULT '';
                ALTER TABLE customer ADD COLUMN partner_tier TEXT NOT NULL DEFAULT '';
                ALTER TABLE customer ADD COLUMN owner_id TEXT NOT NULL DEFAULT '';
                ALTER TABLE customer ADD COLUMN team TEXT NOT NULL DEFAULT '';
                -- A merged account's facts follow its survivor, also those that arrive later
                -- (each feed is replayed in its own order).
                CREATE TABLE merged_account (merged_id TEXT PRIMARY KEY, survivor_id TEXT NOT NULL);
                CREATE TABLE product (sku TEXT PRIMARY KEY, product_line TEXT NOT NULL);
                CREATE TABLE order_fact (
                    order_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, ordered_at REAL NOT NULL, status INTEGER NOT NULL,
                    revenue_micros INTEGER NOT NULL, margin_micros INTEGER NOT NULL);
                CREATE INDEX order_fact_account ON order_fact (account_id);
                CREATE TABLE order_line (
                    order_id TEXT NOT NULL, line_no INTEGER NOT NULL, account_id TEXT NOT NULL, sku TEXT NOT NULL,
                    delivered_at REAL, on_time INTEGER NOT NULL, PRIMARY KEY (order_id, line_no));
                CREATE INDEX order_line_account ON order_line (account_id);
                CREATE TABLE installment (
                    order_id TEXT NOT NULL, number INTEGER NOT NULL, account_id TEXT NOT NULL, amount_micros INTEGER NOT NULL,
                    invoiced_at REAL, due_at REAL, paid_micros INTEGER NOT NULL, paid_at REAL, PRIMARY KEY (order_id, number));
                CREATE INDEX installment_account ON installment (account_id);
                CREATE TABLE opportunity (
                    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, created_at REAL NOT NULL, closed_at REAL,
                    outcome INTEGER NOT NULL, max_rank INTEGER NOT NULL);
                CREATE INDEX opportunity_account ON opportunity (account_id);
                CREATE TABLE ticket (
                    id TEXT PRIMARY KEY, account_id TEXT NOT NULL, created_at REAL NOT NULL, resolved_at REAL,
                    first_response INTEGER NOT NULL, resolution INTEGER NOT NULL);
                CREATE INDEX ticket_account ON ticket (account_id);
                CREATE TABLE answer (
                    survey_id TEXT PRIMARY KEY, account_id TEXT NOT NULL, kind INTEGER NOT NULL, score INTEGER NOT NULL,
                    answered_at REAL NOT NULL, region TEXT NOT NULL, industry TEXT NOT NULL, tier TEXT NOT NULL,
                    owner_id TEXT NOT NULL, team TEXT NOT NULL);
                CREATE INDEX answer_account ON answer (account_id);
                CREATE TABLE activity (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, author_id TEXT NOT NULL, occurred_at REAL NOT NULL);
                CREATE INDEX activity_account ON activity (account_id);
                -- Analytics' own: one open risk episode per account, one reminder per purchase cycle.
                CREATE TABLE risk_episode (account_id TEXT PRIMARY KEY, opened_at REAL NOT NULL, score REAL NOT NULL);
                CREATE TABLE repurchase_reminder (
                    account_id TEXT NOT NULL, product_line TEXT NOT NULL, last_purchase REAL NOT NULL, reminded_at REAL NOT NULL,
                    PRIMARY KEY (account_id, product_line, last_purchase));
                """)
            try JobScheduler.schedule(db, kind: AnalyticsJobs.daily, dueAt: Date(), id: AnalyticsJobs.daily, now: Date())
        }
    }

    /// Empties the read model and every cursor in one transaction: the consumers replay each
    /// feed from its first event.
    static func rebuild(_ db: Database) throws -> Int {
        for table in readModel { try db.execute(sql: "DELETE FROM \(table)") }
        let feeds = try Int.fetchOne(db, sql: "SELECT count(*) FROM consumer_cursors") ?? 0
        try db.execute(sql: "DELETE FROM consumer_cursors")
        return feeds
    }

    // MARK: Loading the facts

    /// The facts of every account, or of one (its health, its risk).
    static func facts(_ db: Database, accountID: String? = nil) throws -> Facts {
        let (only, arguments): (String, StatementArguments) = accountID.map { (" WHERE account_id = ?", [$0]) } ?? ("", [])
        /// Rows straight into values through a cursor (a million rows are never a million Row
        /// objects), each of the two forms of a query prepared once per connection: the 360°
        /// asks for one account's facts on every view, and preparing (GRDB's authorizer works
        /// out each statement's tables) cost more than the reads.
        func load<T>(_ sql: String, _ make: (Row) -> T) throws -> [T] {
            var values: [T] = []
            let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
            while let row = try rows.next() { values.append(make(row)) }
            return values
        }
        var facts = Facts()
        facts.accounts = try load("SELECT account_id, name, region, industry, tier, partner_tier, owner_id, team FROM customer\(only)") {
            Facts.Account(id: $0[0], name: $0[1], region: $0[2], industry: $0[3], tier: $0[4], partnerTier: $0[5], ownerID: $0[6], team: $0[7])
        }
        facts.orders = try load("SELECT order_id, account_id, ordered_at, status, revenue_micros, margin_micros FROM order_fact\(only)") {
            Facts.Order(id: $0[0], accountID: $0[1], orderedAt: $0[2], booked: booked($0[3]), revenue: yuan($0[4]), margin: yuan($0[5]))
        }
        facts.lines = try load("""
            SELECT l.order_id, l.account_id, COALESCE(p.product_line, ''), o.ordered_at, o.status, l.delivered_at, l.on_time
            FROM order_line l JOIN order_fact o ON o.order_id = l.order_id LEFT JOIN product p ON p.sku = l.sku\(accountID == nil ? "" : " WHERE l.account_id = ?")
            """) {
            Facts.Line(orderID: $0[0], accountID: $0[1], productLine: $0[2], orderedAt: $0[3], booked: booked($0[4]), deliveredAt: $0[5], onTime: $0[6])
        }
        facts.installments = try load("""
            SELECT account_id, amount_micros, invoiced_at, due_at, paid_micros, paid_at FROM installment\(only)
            """) {
            Facts.Installment(accountID: $0[0], amount: yuan($0[1]), invoicedAt: $0[2], dueAt: $0[3], paid: yuan($0[4]), paidAt: $0[5])
        }
        facts.opportunities = try load("SELECT id, account_id, created_at, closed_at, outcome, max_rank FROM opportunity\(only)") {
            Facts.Opportunity(id: $0[0], accountID: $0[1], createdAt: $0[2], closedAt: $0[3], outcome: Facts.Outcome(rawValue: $0[4]) ?? .open, maxRank: $0[5])
        }
        facts.tickets = try load("SELECT account_id, created_at, resolved_at, first_response, resolution FROM ticket\(only)") {
            Facts.Ticket(accountID: $0[0], createdAt: $0[1], resolvedAt: $0[2], firstResponse: $0[3], resolution: $0[4])
        }
        facts.answers = try load("""
            SELECT account_id, kind, score, answered_at, region, industry, tier, owner_id, team FROM answer\(only)
            """) {
            Facts.Answer(accountID: $0[0], kind: $0[1], score: $0[2], answeredAt: $0[3], region: $0[4], industry: $0[5], tier: $0[6], ownerID: $0[7], team: $0[8])
        }
        facts.activities = try load("SELECT account_id, author_id, occurred_at FROM activity\(only)") {
            Facts.Activity(accountID: $0[0], authorID: $0[1], at: $0[2])
        }
        return facts
    }

    /// Approved, released, delivered, completed (OrderStatus 3–6).
    static func booked(_ status: Int) -> Bool { (3...6).contains(status) }

    static func yuan(_ micros: Int64) -> Double { Double(micros) / 1_000_000 }

    /// Yuan micros of an amount in another currency, at the reference rates below. Orders in
    /// foreign currencies are rare for a Chinese maker's domestic customers; the rates are
    /// for the figures' proportions, not for accounting (finance's ledgers stay in ERP).
    static func cnyMicros(_ amount: Forge_Common_V1_Money, currency orderCurrency: String = "") -> Int64 {
        let currency = amount.currencyCode.isEmpty ? (orderCurrency.isEmpty ? "CNY" : orderCurrency) : amount.currencyCode
        guard currency != "CNY", let rate = referenceRates[currency] else { return amount.amountMicros }
        return Int64((Double(amount.amountMicros) * rate).rounded())
    }

    static let referenceRates: [String: Double] = ["USD": 7.1, "EUR": 7.7, "GBP": 9.0, "JPY": 0.047, "HKD": 0.91, "KRW": 0.0052]
}
