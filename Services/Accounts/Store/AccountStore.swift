import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf
import GRDB

/// The accounts database: migrations and queries. Shipped migrations are never edited.
struct AccountStore: Sendable {
    let database: DatabasePool

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
    }

    /// Inserts the account, its `AccountCreated` event, its audit row and the call's
    /// idempotency key in one transaction.
    func create(_ account: Forge_Accounts_V1_Account, allowDuplicate: Bool, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_CreateAccountResponse {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let duplicates = try Self.duplicates(db, of: account)
            if !duplicates.isEmpty, !allowDuplicate {
                throw RPCError(
                    .alreadyExists,
                    "possible duplicate of \(duplicates.map(\.id).joined(separator: ", ")); set allow_duplicate to create anyway",
                    violations: duplicates.map { FieldViolation(field: $0.field, description: "same as \($0.id) (\($0.reason))") }
                )
            }
            if duplicates.contains(where: { $0.field == "account.tax_id" }) {
                throw RPCError(.alreadyExists, "tax_id \(account.taxID) belongs to another account",
                               violations: [FieldViolation(field: "account.tax_id", description: "is unique")])
            }
            try db.execute(
                sql: """
                    INSERT INTO account (id, name, legal_name, tax_id, industry, region, address, stage, grade, tier,
                        owner_id, team, created_at, updated_at, version, normalized_name)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)
                    """,
                arguments: [account.id, account.name, account.legalName, account.taxID.isEmpty ? nil : account.taxID,
                            account.industry, account.region, account.address, account.stage.rawValue,
                            account.grade.rawValue, account.tier.rawValue, account.ownerID, account.team,
                            now.timeIntervalSince1970, now.timeIntervalSince1970, NameNormalizer.normalize(account.name)]
            )
            try Outbox.append(db, Forge_Accounts_V1_AccountCreated.with { $0.account = account }, accountID: account.id, at: now)
            try AuditLog.record(db, context: context, recordID: account.id, changes: ["name": account.name, "owner_id": account.ownerID], at: now)
            try StaleAccounts.schedule(db, accountID: account.id, lastTouch: now, reached: .none, policy: StalePolicy(), now: now)
            return .with { $0.account = account }
        }
    }

    /// A possible duplicate of a new account and why.
    struct Duplicate: Sendable {
        let id: String
        let field: String
        let reason: String
    }

    /// Accounts a new one may duplicate: the same tax id, or the same normalised name.
    static func duplicates(_ db: Database, of account: Forge_Accounts_V1_Account) throws -> [Duplicate] {
        var found: [Duplicate] = []
        if !account.taxID.isEmpty {
            for id in try String.fetchAll(db, sql: "SELECT id FROM account WHERE tax_id = ?", arguments: [account.taxID]) {
                found.append(Duplicate(id: id, field: "account.tax_id", reason: "same tax id"))
            }
        }
        let normalized = NameNormalizer.normalize(account.name)
        if !normalized.isEmpty {
            for id in try String.fetchAll(db, sql: "SELECT id FROM account WHERE normalized_name = ? LIMIT 20", arguments: [normalized])
            where !found.contains(where: { $0.id == id }) {
                found.append(Duplicate(id: id, field: "account.name", reason: "same normalised name"))
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
            updated.name = account.name
            updated.legalName = account.legalName
            updated.taxID = account.taxID
            updated.industry = account.industry
            updated.region = account.region
            updated.address = account.address
            if account.stage != .unspecified { updated.stage = account.stage }
            if account.grade != .unspecified { updated.grade = account.grade }
            if account.tier != .unspecified { updated.tier = account.tier }
            updated.version = current.version + 1
            updated.updatedAt = .init(date: now)
            let changed = AccountRules.changedFields(from: current, to: updated)
            if !updated.taxID.isEmpty, updated.taxID != current.taxID,
               try Bool.fetchOne(db, sql: "SELECT 1 FROM account WHERE tax_id = ? AND id != ?", arguments: [updated.taxID, updated.id]) == true {
                throw RPCError(.alreadyExists, "tax_id \(updated.taxID) belongs to another account",
                               violations: [FieldViolation(field: "account.tax_id", description: "is unique")])
            }
            try db.execute(
                sql: """
                    UPDATE account SET name = ?, legal_name = ?, tax_id = ?, industry = ?, region = ?, address = ?, stage = ?,
                        grade = ?, tier = ?, updated_at = ?, version = ?, normalized_name = ? WHERE id = ?
                    """,
                arguments: [updated.name, updated.legalName, updated.taxID.isEmpty ? nil : updated.taxID, updated.industry,
                            updated.region, updated.address, updated.stage.rawValue, updated.grade.rawValue, updated.tier.rawValue,
                            now.timeIntervalSince1970, updated.version, NameNormalizer.normalize(updated.name), updated.id]
            )
            try Outbox.append(db, Forge_Accounts_V1_AccountUpdated.with {
                $0.account = updated
                $0.changedFields = changed.keys.sorted()
            }, accountID: updated.id, at: now)
            try AuditLog.record(db, context: context, recordID: updated.id, changes: changed, at: now)
            return .with { $0.account = updated }
        }
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
        return try await fetchPage(where: clauses, arguments: arguments, size: page.size, principal: principal)
    }

    /// Accounts whose name starts with `prefix` (as typed, or folded), that `principal` may see.
    func search(prefix: String, page: Page, principal: Principal) async throws -> [Forge_Accounts_V1_Account] {
        var clauses = ["id > ?"]
        var arguments: StatementArguments = [page.after]
        let folded = NameNormalizer.normalize(prefix)
        if folded.isEmpty {
            // Only punctuation: match the name as typed (an empty folded prefix would match all).
            clauses.append("name LIKE ? ESCAPE '\\'")
            arguments += [Self.likePrefix(prefix)]
        } else {
            clauses.append("(name LIKE ? ESCAPE '\\' OR normalized_name LIKE ? ESCAPE '\\')")
            arguments += [Self.likePrefix(prefix), Self.likePrefix(folded)]
        }
        return try await fetchPage(where: clauses, arguments: arguments, size: page.size, principal: principal)
    }

    /// One page of accounts matching `clauses` that `principal` may see, by id.
    private func fetchPage(where clauses: [String], arguments: StatementArguments, size: Int, principal: Principal) async throws -> [Forge_Accounts_V1_Account] {
        var clauses = clauses
        var arguments = arguments
        AccountRules.visibility(for: principal, clauses: &clauses, arguments: &arguments)
        let sql = "SELECT * FROM account WHERE \(clauses.joined(separator: " AND ")) ORDER BY id LIMIT ?"
        arguments += [size]
        let finalArguments = arguments
        return try await database.read { db in
            try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(Self.account(from:))
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

    static func likePrefix(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
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
              let account = try Row.fetchOne(db, sql: "SELECT * FROM account WHERE id = ?", arguments: [id]).map(account(from:)),
              may(account, principal)
        else {
            throw RPCError(.notFound, missing ?? "account \(id) not found")
        }
        return account
    }

    func visibleAccount(id: String, principal: Principal?) async throws -> Forge_Accounts_V1_Account {
        try await database.read { db in try Self.visibleAccount(db, id: id, principal: principal) }
    }

    static func account(from row: Row) -> Forge_Accounts_V1_Account {
        .with {
            $0.id = row["id"]
            $0.name = row["name"]
            $0.legalName = row["legal_name"]
            $0.taxID = row["tax_id"] ?? ""
            $0.industry = row["industry"]
            $0.region = row["region"]
            $0.address = row["address"]
            $0.stage = Forge_Accounts_V1_LifecycleStage(rawValue: row["stage"]) ?? .unspecified
            $0.grade = Forge_Accounts_V1_ValueGrade(rawValue: row["grade"]) ?? .unspecified
            $0.tier = Forge_Accounts_V1_Tier(rawValue: row["tier"]) ?? .unspecified
            $0.ownerID = row["owner_id"]
            $0.team = row["team"]
            $0.createdAt = .init(date: Date(timeIntervalSince1970: row["created_at"]))
            $0.updatedAt = .init(date: Date(timeIntervalSince1970: row["updated_at"]))
            $0.version = row["version"]
            $0.staleness = Forge_Accounts_V1_Staleness(rawValue: row["staleness"] ?? 1) ?? .none
            if let last = row["last_activity_at"] as Double? {
                $0.lastActivityAt = .init(date: Date(timeIntervalSince1970: last))
            }
        }
    }
}
