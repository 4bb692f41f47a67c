import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf
import GRDB

/// The accounts database: migrations and queries. Shipped migrations are never edited.
struct AccountStore: Sendable {
    let database: DatabasePool
    /// The stale-account thresholds (configurable: `FORGE_STALE_DAYS`).
    var policy = StalePolicy()

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("accounts-v1") { db in
            try db.create(table: "account") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
                t.column("legal_name", .text).notNull().defaults(to: "")
                // NULL when absent, so the unique index allows many accounts without one.
                t.column("tax_id", .text).unique()
                t.column("industry", .text).notNull().defaults(to: "")
                t.column("region", .text).notNull().defaults(to: "")
                t.column("address", .text).notNull().defaults(to: "")
                t.column("stage", .integer).notNull()
                t.column("grade", .integer).notNull()
                t.column("tier", .integer).notNull()
                t.column("owner_id", .text).notNull().indexed()
                t.column("team", .text).notNull().indexed()
                t.column("created_at", .double).notNull()
                t.column("updated_at", .double).notNull()
                t.column("version", .integer).notNull()
            }
        }
        migrator.registerMigration("accounts-v2-normalized-name") { db in
            try db.alter(table: "account") { t in
                t.add(column: "normalized_name", .text).notNull().defaults(to: "")
            }
            let rows = try Row.fetchAll(db, sql: "SELECT id, name FROM account")
            for row in rows {
                try db.execute(
                    sql: "UPDATE account SET normalized_name = ? WHERE id = ?",
                    arguments: [NameNormalizer.normalize(row["name"]), row["id"] as String]
                )
            }
            try db.create(index: "account_normalized_name", on: "account", columns: ["normalized_name"])
        }
        migrator.registerMigration("accounts-v2-last-activity") { db in
            try db.alter(table: "account") { t in
                t.add(column: "last_activity_at", .double)
            }
        }
        TimelineStore.migrations(&migrator)
        StaleAccounts.migrations(&migrator)
        OwnershipStore.migrations(&migrator)
        migrator.registerMigration("accounts-v6-profile") { db in
            try db.alter(table: "account") { t in
                t.add(column: "size", .integer).notNull().defaults(to: 0)
                t.add(column: "industry_showcase", .boolean).notNull().defaults(to: false)
                t.add(column: "brings_partners", .boolean).notNull().defaults(to: false)
                t.add(column: "parent_account_id", .text)
                t.add(column: "credit_rating", .text).notNull().defaults(to: "")
                t.add(column: "credit_limit_micros", .integer)
                t.add(column: "credit_currency", .text).notNull().defaults(to: "")
                t.add(column: "marketing_consent", .boolean).notNull().defaults(to: false)
                t.add(column: "processing_basis", .integer).notNull().defaults(to: 0)
                // The tags as a JSON object, read with the row; `account_tag` indexes them.
                t.add(column: "tags", .text).notNull().defaults(to: "{}")
            }
            try db.create(index: "account_parent", on: "account", columns: ["parent_account_id"])
            try db.create(index: "account_updated", on: "account", columns: ["updated_at"])
            try db.create(table: "account_tag") { t in
                t.column("account_id", .text).notNull().references("account", onDelete: .cascade)
                t.column("key", .text).notNull()
                t.column("value", .text).notNull()
                t.primaryKey(["account_id", "key"])
            }
            try db.create(index: "account_tag_lookup", on: "account_tag", columns: ["key", "value"])
            // A merged account's id keeps resolving: to the survivor it was folded into.
            try db.create(table: "account_redirect") { t in
                t.primaryKey("merged_id", .text)
                t.column("survivor_id", .text).notNull().indexed()
                t.column("merged_at", .double).notNull()
            }
        }
        migrator.registerMigration("accounts-v7-phone-without-country-code") { db in
            for row in try Row.fetchAll(db, sql: "SELECT id, payload FROM contact") {
                let contact = try Forge_Accounts_V1_Contact(serializedBytes: row["payload"] as Data)
                try db.execute(sql: "UPDATE contact SET phone = ? WHERE id = ?",
                               arguments: [ContactKeys.phone(contact.phone), row["id"] as String])
            }
        }
        migrator.registerMigration("accounts-v11-search-name") { db in
            try db.alter(table: "account") { t in
                t.add(column: "search_name", .text).notNull().defaults(to: "")
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, name FROM account") {
                try db.execute(sql: "UPDATE account SET search_name = ? WHERE id = ?", arguments: [NameNormalizer.fold(row["name"]), row["id"] as String])
            }
            // Prefix search walks these in order: a range, never a scan.
            try db.create(index: "account_search_name", on: "account", columns: ["search_name", "id"])
            try db.create(index: "account_name", on: "account", columns: ["name", "id"])
        }
        migrator.registerMigration("accounts-v12-search-name-covers-visibility") { db in
            // Owner and team in the index: a rep's prefix search filters invisible accounts
            // without reading their rows (a common prefix such as a city matches thousands).
            try db.drop(index: "account_search_name")
            try db.create(index: "account_search_name", on: "account", columns: ["search_name", "id", "team", "owner_id"])
        }
        SegmentStore.migrations(&migrator)
        HandoverTasks.migrations(&migrator)
        AccountImport.migrations(&migrator)
        migrator.registerMigration("accounts-v16-normalized-tax-id") { db in
            // Tax ids were stored as typed by the API (import upper-cased them). Each becomes its
            // normalised form; when two rows normalise to one code, the first keeps it and the
            // others keep their text, so nothing is lost, and FindDuplicates pairs them as "same
            // tax id" for a manager to merge.
            for row in try Row.fetchAll(db, sql: "SELECT id, tax_id FROM account WHERE tax_id IS NOT NULL ORDER BY id") {
                let stored: String = row["tax_id"]
                let normalized = TaxID.normalize(stored)
                guard normalized != stored else { continue }
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM account WHERE tax_id = ?", arguments: [normalized]) == true { continue }
                try db.execute(sql: "UPDATE account SET tax_id = ? WHERE id = ?", arguments: [normalized.isEmpty ? nil : normalized, row["id"] as String])
            }
        }
    }

    /// Inserts the account with its first contacts, its `AccountCreated` event, its audit row
    /// and the call's idempotency key in one transaction.
    func create(_ account: Forge_Accounts_V1_Account, contacts: [Forge_Accounts_V1_Contact], allowDuplicate: Bool, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_CreateAccountResponse {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let duplicates = try Self.duplicates(db, of: account, contacts: contacts)
            // A tax id names one legal entity: allow_duplicate cannot help, so say what can.
            if let holder = duplicates.first(where: { $0.field == "account.tax_id" }) {
                throw Self.taxIDTaken(account.taxID, by: holder.id)
            }
            if !duplicates.isEmpty, !allowDuplicate {
                throw RPCError(
                    .alreadyExists,
                    "possible duplicate of \(Set(duplicates.map(\.id)).sorted().joined(separator: ", ")); set allow_duplicate to create anyway",
                    violations: duplicates.map { FieldViolation(field: $0.field, description: "same as \($0.id) (\($0.reason))") }
                )
            }
            try Self.checkParent(db, of: account)
            try Self.insert(db, account, context: context, at: now, policy: policy)
            for contact in contacts {
                try TimelineStore.insert(db, contact, context: context, at: now)
            }
            return .with {
                $0.account = account
                $0.contacts = contacts
            }
        }
    }

    /// The rows of a new account: the account, its tags, `AccountCreated`, the audit row and
    /// its first stale check.
    static func insert(_ db: Database, _ account: Forge_Accounts_V1_Account, context: ServerContext, at now: Date, policy: StalePolicy) throws {
        try db.execute(
            cached: """
                INSERT INTO account (id, name, legal_name, tax_id, industry, region, address, stage, grade, tier,
                    owner_id, team, created_at, updated_at, version, normalized_name, size, industry_showcase,
                    brings_partners, parent_account_id, credit_rating, credit_limit_micros, credit_currency,
                    marketing_consent, processing_basis, tags, search_name)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: StatementArguments([
                account.id, account.name, account.legalName, account.taxID.isEmpty ? nil : account.taxID,
                account.industry, account.region, account.address, account.stage.rawValue,
                account.grade.rawValue, account.tier.rawValue, account.ownerID, account.team,
                now.timeIntervalSince1970, now.timeIntervalSince1970, account.version, NameNormalizer.normalize(account.name),
            ] as [(any DatabaseValueConvertible)?]) + profileArguments(account) + [NameNormalizer.fold(account.name)]
        )
        try writeTags(db, accountID: account.id, tags: account.tags)
        try Outbox.append(db, Forge_Accounts_V1_AccountCreated.with { $0.account = account }, accountID: account.id, at: now)
        try AuditLog.record(db, context: context, recordID: account.id, changes: ["name": account.name, "owner_id": account.ownerID], at: now)
        try StaleAccounts.schedule(db, accountID: account.id, lastTouch: now, reached: .none, policy: policy, now: now)
    }

    /// size … tags, in the column order of `insert` and `update`.
    private static func profileArguments(_ account: Forge_Accounts_V1_Account) -> StatementArguments {
        let limit: Int64? = account.hasCreditLimit ? account.creditLimit.amountMicros : nil
        return [
            account.size.rawValue, account.industryShowcase, account.bringsPartners,
            account.parentAccountID.isEmpty ? nil : account.parentAccountID, account.creditRating, limit,
            account.hasCreditLimit ? account.creditLimit.currencyCode : "", account.consent.marketing,
            account.consent.processingBasis.rawValue, encodeTags(account.tags),
        ]
    }

    /// Replaces the account's tags (the JSON copy on the row is written by the caller).
    static func writeTags(_ db: Database, accountID: String, tags: [String: String]) throws {
        try db.execute(cached: "DELETE FROM account_tag WHERE account_id = ?", arguments: [accountID])
        for (key, value) in tags {
            try db.execute(cached: "INSERT INTO account_tag (account_id, key, value) VALUES (?, ?, ?)", arguments: [accountID, key, value])
        }
    }

    static func encodeTags(_ tags: [String: String]) -> String {
        SortedJSON.encode(tags)
    }

    static func decodeTags(_ json: String) -> [String: String] {
        guard json != "{}" else { return [:] }
        return SortedJSON.decode(json) ?? [:]
    }

    /// INVALID_ARGUMENT unless the parent exists and the hierarchy stays a tree.
    static func checkParent(_ db: Database, of account: Forge_Accounts_V1_Account) throws {
        guard !account.parentAccountID.isEmpty else { return }
        var seen: Set<String> = [account.id]
        var next: String? = account.parentAccountID
        while let id = next {
            guard seen.insert(id).inserted else {
                throw RPCError.invalidArgument([FieldViolation(field: "account.parent_account_id", description: "would make the group hierarchy a cycle")])
            }
            guard let row = try Row.fetchOne(db, sql: "SELECT parent_account_id FROM account WHERE id = ?", arguments: [id]) else {
                throw RPCError(.notFound, "no account \(id)", violations: [FieldViolation(field: "account.parent_account_id", description: "no account \(id)")])
            }
            next = row["parent_account_id"]
        }
    }

    /// ALREADY_EXISTS for a tax id another account holds, with what the caller can do instead.
    static func taxIDTaken(_ taxID: String, by holder: String) -> RPCError {
        RPCError(.alreadyExists, "tax id \(taxID) belongs to account \(holder): open that account, or merge the two with MergeAccounts",
                 violations: [FieldViolation(field: "account.tax_id", description: "already belongs to \(holder)")])
    }

    /// A possible duplicate of a new account and why.
    struct Duplicate: Sendable {
        let id: String
        let field: String
        let reason: String
    }

    /// Accounts a new one may duplicate: the same tax id, the same normalised name, or a
    /// contact with the same phone or company email domain as one of `contacts`.
    static func duplicates(_ db: Database, of account: Forge_Accounts_V1_Account, contacts: [Forge_Accounts_V1_Contact] = []) throws -> [Duplicate] {
        var found: [Duplicate] = []
        if !account.taxID.isEmpty {
            for id in try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM account WHERE tax_id = ?"), arguments: [account.taxID]) {
                found.append(Duplicate(id: id, field: "account.tax_id", reason: "same tax id"))
            }
        }
        let normalized = NameNormalizer.normalize(account.name)
        if !normalized.isEmpty {
            for id in try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM account WHERE normalized_name = ? LIMIT 20"), arguments: [normalized])
            where !found.contains(where: { $0.id == id }) {
                found.append(Duplicate(id: id, field: "account.name", reason: "same normalised name"))
            }
        }
        for (index, contact) in contacts.enumerated() {
            let phone = ContactKeys.phone(contact.phone)
            if phone.count >= 7 {
                for id in try String.fetchAll(db, sql: "SELECT DISTINCT account_id FROM contact WHERE phone = ? LIMIT 20", arguments: [phone])
                where !found.contains(where: { $0.id == id }) {
                    found.append(Duplicate(id: id, field: "contacts[\(index)].phone", reason: "shared contact phone"))
                }
            }
            let domain = ContactKeys.emailDomain(contact.email)
            if !domain.isEmpty, !ContactKeys.publicEmailDomains.contains(domain) {
                for id in try String.fetchAll(db, sql: "SELECT DISTINCT account_id FROM contact WHERE email_domain = ? LIMIT 20", arguments: [domain])
                where !found.contains(where: { $0.id == id }) {
                    found.append(Duplicate(id: id, field: "contacts[\(index)].email", reason: "shared email domain"))
                }
            }
        }
        return found
    }

    /// Replaces the editable fields when `version` matches; ABORTED when someone else changed
    /// the account since it was read. Emits `AccountUpdated` with the changed fields.
    func update(_ account: Forge_Accounts_V1_Account, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_UpdateAccountResponse {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let current = try Self.accountForChange(
                db, id: account.id, version: account.version, principal: context.principal, mayChange: AccountRules.canSee
            )
            var updated = current
            updated.apply(editsFrom: account, principal: context.principal)
            updated.version = current.version + 1
            updated.updatedAt = .init(date: now)
            let changed = AccountRules.changedFields(from: current, to: updated)
            if !updated.taxID.isEmpty, updated.taxID != current.taxID {
                if let problem = TaxID.problem(updated.taxID) {
                    throw RPCError.invalidArgument([FieldViolation(field: "account.tax_id", description: problem)])
                }
                if let holder = try String.fetchOne(db, sql: "SELECT id FROM account WHERE tax_id = ? AND id != ?", arguments: [updated.taxID, updated.id]) {
                    throw Self.taxIDTaken(updated.taxID, by: holder)
                }
            }
            if updated.parentAccountID != current.parentAccountID { try Self.checkParent(db, of: updated) }
            try Self.write(db, updated, changed: changed, context: context, at: now)
            return .with { $0.account = AccountRules.view(updated, for: context.principal) }
        }
    }

    /// Writes an edited account's row and tags, `AccountUpdated` and the audit row.
    static func write(_ db: Database, _ updated: Forge_Accounts_V1_Account, changed: [String: String], context: ServerContext, at now: Date) throws {
        try db.execute(
            cached: """
                UPDATE account SET name = ?, legal_name = ?, tax_id = ?, industry = ?, region = ?, address = ?, stage = ?,
                    grade = ?, tier = ?, updated_at = ?, version = ?, normalized_name = ?, size = ?, industry_showcase = ?,
                    brings_partners = ?, parent_account_id = ?, credit_rating = ?, credit_limit_micros = ?, credit_currency = ?,
                    marketing_consent = ?, processing_basis = ?, tags = ?, search_name = ?
                WHERE id = ?
                """,
            arguments: StatementArguments([
                updated.name, updated.legalName, updated.taxID.isEmpty ? nil : updated.taxID, updated.industry,
                updated.region, updated.address, updated.stage.rawValue, updated.grade.rawValue, updated.tier.rawValue,
                now.timeIntervalSince1970, updated.version, NameNormalizer.normalize(updated.name),
            ] as [(any DatabaseValueConvertible)?]) + profileArguments(updated) + [NameNormalizer.fold(updated.name), updated.id]
        )
        if changed["tags"] != nil { try writeTags(db, accountID: updated.id, tags: updated.tags) }
        try Outbox.append(db, Forge_Accounts_V1_AccountUpdated.with {
            $0.account = updated
            $0.changedFields = changed.keys.sorted()
        }, accountID: updated.id, at: now)
        try AuditLog.record(db, context: context, recordID: updated.id, changes: changed, at: now)
    }

    /// Accounts matching the filters that `principal` may see, by id, one page.
    func list(_ request: Forge_Accounts_V1_ListAccountsRequest, page: Page, principal: Principal) async throws -> [Forge_Accounts_V1_Account] {
        var clauses = ["id > ?"]
        var arguments: StatementArguments = [page.after]
        func filter(_ sql: String, _ value: (any DatabaseValueConvertible)?) {
            guard let value else { return }
            clauses.append(sql)
            arguments += [value]
        }
        filter("owner_id = ?", request.ownerID.isEmpty ? nil : request.ownerID)
        filter("team = ?", request.team.isEmpty ? nil : request.team)
        filter("region = ?", request.region.isEmpty ? nil : request.region)
        filter("industry = ?", request.industry.isEmpty ? nil : request.industry)
        filter("grade = ?", request.grade == .unspecified ? nil : request.grade.rawValue)
        filter("tier = ?", request.tier == .unspecified ? nil : request.tier.rawValue)
        filter("stage = ?", request.stage == .unspecified ? nil : request.stage.rawValue)
        filter("updated_at >= ?", request.hasUpdatedSince ? request.updatedSince.timeIntervalSince1970 : nil)
        if !request.tag.isEmpty { AccountQuery.tag(request.tag, clauses: &clauses, arguments: &arguments) }
        return try await fetchPage(where: clauses, arguments: arguments, size: page.size, principal: principal)
    }

    /// Accounts matching a segment's filter that `principal` may see, by id, one page.
    func list(matching filter: Forge_Accounts_V1_SegmentFilter, page: Page, principal: Principal) async throws -> [Forge_Accounts_V1_Account] {
        var clauses = ["id > ?"]
        var arguments: StatementArguments = [page.after]
        AccountQuery.segment(filter, clauses: &clauses, arguments: &arguments)
        return try await fetchPage(where: clauses, arguments: arguments, size: page.size, principal: principal)
    }

    /// Accounts whose name starts with `prefix` (folded: width, case, spaces, punctuation),
    /// that `principal` may see, in name order. A prefix of punctuation only matches as typed.
    /// - Returns: the page and the cursor of its last account.
    func search(prefix: String, page: Page, principal: Principal) async throws -> (accounts: [Forge_Accounts_V1_Account], last: String?) {
        let folded = NameNormalizer.fold(prefix)
        let column = folded.isEmpty ? "name" : "search_name"
        let key = folded.isEmpty ? prefix : folded
        var clauses = ["\(column) >= ?", "\(column) < ?"]
        var arguments: StatementArguments = [key, key + "\u{10FFFF}"]
        if let (afterKey, afterID) = page.nameCursor {
            clauses.append("(\(column) > ? OR (\(column) = ? AND id > ?))")
            arguments += [afterKey, afterKey, afterID]
        }
        AccountRules.visibility(for: principal, clauses: &clauses, arguments: &arguments)
        // Walk the name index in order (the visibility columns are in it): without statistics
        // the planner would rather collect a rep's whole portfolio by owner and team and sort it.
        let index = folded.isEmpty ? "account_name" : "account_search_name"
        let sql = "SELECT \(Self.columns), \(column) AS page_key FROM account INDEXED BY \(index) WHERE \(clauses.joined(separator: " AND ")) ORDER BY \(column), id LIMIT ?"
        arguments += [page.size]
        let finalArguments = arguments
        return try await database.read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: finalArguments)
            let last = rows.last.map { Page.nameCursor(key: $0["page_key"], id: $0["id"]) }
            return (rows.map { AccountRules.view(Self.account(from: $0), for: principal) }, last)
        }
    }

    /// One page of accounts matching `clauses` that `principal` may see, by id, with the
    /// fields the caller may not see removed.
    private func fetchPage(where clauses: [String], arguments: StatementArguments, size: Int, principal: Principal) async throws -> [Forge_Accounts_V1_Account] {
        var clauses = clauses
        var arguments = arguments
        AccountRules.visibility(for: principal, clauses: &clauses, arguments: &arguments)
        let sql = "SELECT \(Self.columns) FROM account WHERE \(clauses.joined(separator: " AND ")) ORDER BY id LIMIT ?"
        arguments += [size]
        let finalArguments = arguments
        return try await database.read { db in
            try Row.fetchAll(db, sql: sql, arguments: finalArguments).map { AccountRules.view(Self.account(from: $0), for: principal) }
        }
    }

    /// The account a change applies to: NOT_FOUND unless it exists and `mayChange` allows the
    /// caller (no existence leak); ABORTED when `version` is not the current one.
    static func accountForChange(
        _ db: Database,
        id: String,
        version: Int64,
        principal: Principal?,
        mayChange: (Forge_Accounts_V1_Account, Principal) -> Bool
    ) throws -> Forge_Accounts_V1_Account {
        let current = try visibleAccount(db, id: id, principal: principal, may: mayChange)
        guard current.version == version else {
            throw RPCError(.aborted, "account \(id) changed since version \(version) (now \(current.version)); read it again")
        }
        return current
    }

    /// The account when it exists and `may` allows `principal` (by default: may see it);
    /// otherwise NOT_FOUND with `missing` as the message, so nothing leaks that it exists.
    static func visibleAccount(
        _ db: Database,
        id: String,
        principal: Principal?,
        may: (Forge_Accounts_V1_Account, Principal) -> Bool = AccountRules.canSee,
        missing: String? = nil
    ) throws -> Forge_Accounts_V1_Account {
        guard let principal,
              let account = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(columns) FROM account WHERE id = ?"), arguments: [resolve(db, id: id)]).map(account(from:)),
              may(account, principal)
        else {
            throw RPCError(.notFound, missing ?? "account \(id) not found")
        }
        return account
    }

    /// The id itself, or the survivor's when `id` was merged into another account.
    static func resolve(_ db: Database, id: String) throws -> String {
        try String.fetchOne(db.cachedStatement(sql: "SELECT survivor_id FROM account_redirect WHERE merged_id = ?"), arguments: [id]) ?? id
    }

    /// The account as `principal` may see it (credit fields only for finance, managers, admin).
    func visibleAccount(id: String, principal: Principal?) async throws -> Forge_Accounts_V1_Account {
        let account = try database.pointRead { db in try Self.visibleAccount(db, id: id, principal: principal) }
        return AccountRules.view(account, for: principal)
    }

    /// The account's columns in the order `account(from:)` reads them: select these (and any
    /// others after them) for it. By position, since a lookup by name (case-insensitive, per
    /// row and column) cost a 360° view's account section more than its query.
    static let columns = "id, name, legal_name, tax_id, industry, region, address, stage, grade, tier, owner_id, team, created_at, updated_at, version, staleness, last_activity_at, size, industry_showcase, brings_partners, parent_account_id, credit_rating, credit_limit_micros, credit_currency, marketing_consent, processing_basis, tags"

    static func account(from row: Row) -> Forge_Accounts_V1_Account {
        .with {
            $0.id = row[0]
            $0.name = row[1]
            $0.legalName = row[2]
            $0.taxID = row[3] ?? ""
            $0.industry = row[4]
            $0.region = row[5]
            $0.address = row[6]
            $0.stage = Forge_Accounts_V1_LifecycleStage(rawValue: row[7]) ?? .unspecified
            $0.grade = Forge_Accounts_V1_ValueGrade(rawValue: row[8]) ?? .unspecified
            $0.tier = Forge_Accounts_V1_Tier(rawValue: row[9]) ?? .unspecified
            $0.ownerID = row[10]
            $0.team = row[11]
            $0.createdAt = .init(date: Date(timeIntervalSince1970: row[12]))
            $0.updatedAt = .init(date: Date(timeIntervalSince1970: row[13]))
            $0.version = row[14]
            $0.staleness = Forge_Accounts_V1_Staleness(rawValue: row[15] ?? 1) ?? .none
            if let last = row[16] as Double? {
                $0.lastActivityAt = .init(date: Date(timeIntervalSince1970: last))
            }
            $0.size = Forge_Accounts_V1_CompanySize(rawValue: row[17]) ?? .unspecified
            $0.industryShowcase = row[18]
            $0.bringsPartners = row[19]
            $0.parentAccountID = row[20] ?? ""
            $0.creditRating = row[21]
            if let micros = row[22] as Int64? {
                $0.creditLimit = .with {
                    $0.amountMicros = micros
                    $0.currencyCode = row[23]
                }
            }
            $0.consent = .with {
                $0.marketing = row[24]
                $0.processingBasis = Forge_Accounts_V1_ProcessingBasis(rawValue: row[25]) ?? .unspecified
            }
            $0.tags = decodeTags(row[26])
        }
    }
}
