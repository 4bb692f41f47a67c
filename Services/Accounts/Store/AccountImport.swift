import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Spreadsheet import, one batch per call, each batch one transaction. Every row gets a
/// result: created, updated or unchanged (matched by its key: an account's tax id, a contact's
/// phone or email within its account), duplicate (of an existing record by the duplicate rules,
/// or of an earlier row of the same file), or rejected with the reason. Results and the keys
/// seen are kept per import id, so later batches dedupe against earlier ones and a retried
/// batch answers what it answered the first time. A dry run keeps only that bookkeeping.
struct AccountImport: Sendable {
    let database: DatabasePool
    let clock: any WallClock
    let policy: StalePolicy

    /// Imports older than this are forgotten (their records stay, of course).
    static let bookkeepingLifetime: TimeInterval = 7 * 86_400

    enum Kind: String {
        case accounts, contacts
    }

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("accounts-v10-import") { db in
            try db.create(table: "import_result") { t in
                t.column("import_id", .text).notNull()
                t.column("line", .integer).notNull()
                t.column("result", .blob).notNull()
                t.column("created_at", .double).notNull().indexed()
                t.primaryKey(["import_id", "line"])
            }
            try db.create(table: "import_key") { t in
                t.column("import_id", .text).notNull()
                t.column("key", .text).notNull()
                t.column("line", .integer).notNull()
                t.column("record_id", .text).notNull()
                t.column("created_at", .double).notNull().indexed()
                t.primaryKey(["import_id", "key"])
            }
        }
    }

    func run(_ kind: Kind, _ request: Forge_Common_V1_ImportRequest, context: ServerContext) async throws -> Forge_Common_V1_ImportResponse {
        guard let principal = context.principal else { throw RPCError(.unauthenticated, "no caller") }
        let now = clock.now()
        // Dry runs and real runs of one id never share bookkeeping.
        let importID = (request.dryRun ? "dry:" : "run:") + kind.rawValue + ":" + request.importID
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            try db.execute(cached: "DELETE FROM import_result WHERE created_at < ?", arguments: [now.timeIntervalSince1970 - Self.bookkeepingLifetime])
            try db.execute(cached: "DELETE FROM import_key WHERE created_at < ?", arguments: [now.timeIntervalSince1970 - Self.bookkeepingLifetime])
            let batch = Batch(db: db, importID: importID, dryRun: request.dryRun, principal: principal, context: context, now: now, policy: policy)
            var response = Forge_Common_V1_ImportResponse()
            switch kind {
            case .accounts:
                let (columns, ignored) = ImportColumns.columns(request.header, aliases: ImportMapping.accountAliases)
                guard columns.values.contains(.name) else {
                    throw RPCError.invalidArgument([FieldViolation(field: "header", description: "needs a name column (客户名称 or name)")])
                }
                response.ignoredColumns = ignored
                for row in request.rows {
                    response.results.append(try batch.once(row.line) { try batch.account(ImportColumns.cells(row.values, columns: columns), line: row.line) })
                }
            case .contacts:
                let (columns, ignored) = ImportColumns.columns(request.header, aliases: ImportMapping.contactAliases)
                let found = Set(columns.values)
                var missing: [FieldViolation] = []
                if !found.contains(.name) { missing.append(FieldViolation(field: "header", description: "needs a name column (姓名 or name)")) }
                if found.isDisjoint(with: [.accountID, .accountName, .accountTaxID]) {
                    missing.append(FieldViolation(field: "header", description: "needs an account column (客户名称, 统一社会信用代码 or account_id)"))
                }
                guard missing.isEmpty else { throw RPCError.invalidArgument(missing) }
                response.ignoredColumns = ignored
                for row in request.rows {
                    response.results.append(try batch.once(row.line) { try batch.contact(ImportColumns.cells(row.values, columns: columns), line: row.line) })
                }
            }
            return response
        }
    }

    /// One batch inside its transaction.
    struct Batch {
        let db: Database
        let importID: String
        let dryRun: Bool
        let principal: Principal
        let context: ServerContext
        let now: Date
        let policy: StalePolicy

        /// The stored result of a line already imported, or `make`'s, stored.
        func once(_ line: Int32, _ make: () throws -> Forge_Common_V1_ImportRowResult) throws -> Forge_Common_V1_ImportRowResult {
            if let stored = try Data.fetchOne(db.cachedStatement(sql: "SELECT result FROM import_result WHERE import_id = ? AND line = ?"), arguments: [importID, line]) {
                return try Forge_Common_V1_ImportRowResult(serializedBytes: stored)
            }
            var result = try make()
            result.line = line
            try db.execute(cached: "INSERT INTO import_result (import_id, line, result, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [importID, line, try result.serializedData(), now.timeIntervalSince1970])
            return result
        }

        // MARK: Accounts

        func account(_ cells: [ImportMapping.AccountColumn: String], line: Int32) throws -> Forge_Common_V1_ImportRowResult {
            var (imported, violations) = ImportMapping.account(cells)
            imported.name = imported.name.trimmed
            violations += (AccountRules.validate(new: imported) + AccountRules.validateCredit(imported, principal: principal)).map { ImportColumns.rowViolation($0) }
            guard violations.isEmpty else { return .rejected(violations) }
            let keys = (imported.taxID.isEmpty ? [] : ["tax:" + imported.taxID]) + ["name:" + NameNormalizer.normalize(imported.name)]
            if let earlier = try earlierRow(keys: keys) { return earlier }

            if !imported.taxID.isEmpty, let existingID = try String.fetchOne(db.cachedStatement(sql: "SELECT id FROM account WHERE tax_id = ?"), arguments: [imported.taxID]) {
                guard let existing = try? AccountStore.visibleAccount(db, id: existingID, principal: principal) else {
                    return .rejected([.with { $0.field = "tax_id"; $0.description_p = "belongs to an account you cannot change" }])
                }
                var updated = existing
                updated.applyImported(imported, cells: cells)
                let changed = AccountRules.changedFields(from: existing, to: updated)
                try remember(keys, line: line, id: existing.id)
                guard !changed.isEmpty else { return .matched(.unchanged, id: existing.id) }
                if !dryRun {
                    updated.version += 1
                    updated.updatedAt = .init(date: now)
                    try AccountStore.write(db, updated, changed: changed, context: context, at: now)
                }
                return .matched(.updated, id: existing.id, reason: "changed " + changed.keys.sorted().joined(separator: ", "))
            }
            if let duplicate = try AccountStore.duplicates(db, of: imported).first {
                return .duplicate(of: duplicate.id, reason: duplicate.reason)
            }
            var account = imported
            account.id = dryRun ? "" : EventID.make(prefix: "acc", at: now)
            if account.ownerID.isEmpty { account.ownerID = principal.subject }
            if account.team.isEmpty { account.team = principal.team }
            if account.stage == .unspecified { account.stage = .prospect }
            account.version = 1
            account.createdAt = .init(date: now)
            account.updatedAt = .init(date: now)
            if !dryRun { try AccountStore.insert(db, account, context: context, at: now, policy: policy) }
            try remember(keys, line: line, id: account.id)
            return .matched(.created, id: account.id)
        }

        // MARK: Contacts

        func contact(_ cells: [ImportMapping.ContactColumn: String], line: Int32) throws -> Forge_Common_V1_ImportRowResult {
            var (imported, violations) = ImportMapping.contact(cells)
            imported.name = imported.name.trimmed
            violations += ContactRules.validate(imported, isNew: true).filter { $0.field != "contact.account_id" }.map { ImportColumns.rowViolation($0) }
            let account: Forge_Accounts_V1_Account
            switch try resolveAccount(cells) {
            case .found(let found): account = found
            case .missing(let violation): return .rejected(violations + [violation])
            }
            guard violations.isEmpty else { return .rejected(violations) }
            imported.accountID = account.id
            let phone = ContactKeys.phone(imported.phone)
            let email = imported.email.lowercased()
            var keys: [String] = []
            if !phone.isEmpty { keys.append("phone:\(account.id):\(phone)") }
            if !email.isEmpty { keys.append("email:\(account.id):\(email)") }
            if keys.isEmpty { keys.append("name:\(account.id):\(NameNormalizer.normalize(imported.name))") }
            if let earlier = try earlierRow(keys: keys) { return earlier }

            let existing = try Data.fetchAll(db, sql: "SELECT payload FROM contact WHERE account_id = ?", arguments: [account.id])
                .map { try Forge_Accounts_V1_Contact(serializedBytes: $0) }
                .first { contact in
                    (!phone.isEmpty && ContactKeys.phone(contact.phone) == phone)
                        || (!email.isEmpty && contact.email.lowercased() == email)
                        || (phone.isEmpty && email.isEmpty && NameNormalizer.normalize(contact.name) == NameNormalizer.normalize(imported.name))
                }
            if let existing {
                var updated = existing
                updated.applyImported(imported, cells: cells)
                let changed = ContactRules.changedFields(from: existing, to: updated)
                try remember(keys, line: line, id: existing.id)
                guard !changed.isEmpty else { return .matched(.unchanged, id: existing.id) }
                if !dryRun {
                    updated.version += 1
                    try TimelineStore.write(db, updated, changed: changed, context: context, at: now)
                }
                return .matched(.updated, id: existing.id, reason: "changed " + changed.keys.sorted().joined(separator: ", "))
            }
            var contact = imported
            contact.id = dryRun ? "" : EventID.make(prefix: "con", at: now)
            contact.version = 1
            if !dryRun { try TimelineStore.insert(db, contact, context: context, at: now) }
            try remember(keys, line: line, id: contact.id)
            return .matched(.created, id: contact.id)
        }

        /// The account a contact row names: by id, tax id, or a name that matches exactly one
        /// account the caller may see.
        private func resolveAccount(_ cells: [ImportMapping.ContactColumn: String]) throws -> ResolvedAccount {
            func missing(_ field: ImportMapping.ContactColumn, _ description: String) -> ResolvedAccount {
                .missing(.with {
                    $0.field = field.rawValue
                    $0.description_p = description
                })
            }
            if let id = cells[.accountID] {
                guard let account = try? AccountStore.visibleAccount(db, id: id, principal: principal) else { return missing(.accountID, "no account \(id)") }
                return .found(account)
            }
            if let taxID = cells[.accountTaxID] {
                guard let id = try String.fetchOne(db, sql: "SELECT id FROM account WHERE tax_id = ?", arguments: [TaxID.normalize(taxID)]),
                      let account = try? AccountStore.visibleAccount(db, id: id, principal: principal)
                else { return missing(.accountTaxID, "no account with tax id \(taxID)") }
                return .found(account)
            }
            guard let name = cells[.accountName] else { return missing(.accountName, "names no account") }
            let candidates = try String.fetchAll(db, sql: "SELECT id FROM account WHERE normalized_name = ? LIMIT 5", arguments: [NameNormalizer.normalize(name)])
                .compactMap { try? AccountStore.visibleAccount(db, id: $0, principal: principal) }
            switch candidates.count {
            case 1: return .found(candidates[0])
            case 0: return missing(.accountName, "no account named \(name)")
            default: return missing(.accountName, "\(candidates.count) accounts are named \(name); give the tax id or account id")
            }
        }

        enum ResolvedAccount {
            case found(Forge_Accounts_V1_Account)
            case missing(Forge_Common_V1_RowViolation)
        }

        // MARK: Bookkeeping

        /// DUPLICATE of an earlier row of this import that had one of `keys`.
        private func earlierRow(keys: [String]) throws -> Forge_Common_V1_ImportRowResult? {
            for key in keys {
                if let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT line, record_id FROM import_key WHERE import_id = ? AND key = ?"), arguments: [importID, key]) {
                    let what = key.hasPrefix("tax:") ? "tax id" : key.hasPrefix("phone:") ? "phone" : key.hasPrefix("email:") ? "email" : "normalised name"
                    let line: Int32 = row["line"]
                    return .with {
                        $0.status = .duplicate
                        $0.duplicateOf = (row["record_id"] as String).isEmpty ? "line \(line)" : row["record_id"]
                        $0.reason = "same \(what) as line \(line)"
                    }
                }
            }
            return nil
        }

        private func remember(_ keys: [String], line: Int32, id: String) throws {
            for key in keys {
                try db.execute(cached: "INSERT OR IGNORE INTO import_key (import_id, key, line, record_id, created_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [importID, key, line, id, now.timeIntervalSince1970])
            }
        }
    }
}

extension Forge_Common_V1_ImportRowResult {
    static func rejected(_ violations: [Forge_Common_V1_RowViolation]) -> Self {
        .with {
            $0.status = .rejected
            $0.violations = violations
            $0.reason = violations.map { "\($0.field): \($0.description_p)" }.joined(separator: "; ")
        }
    }

    static func matched(_ status: Forge_Common_V1_ImportStatus, id: String, reason: String = "") -> Self {
        .with {
            $0.status = status
            $0.id = id
            $0.reason = reason
        }
    }

    static func duplicate(of id: String, reason: String) -> Self {
        .with {
            $0.status = .duplicate
            $0.duplicateOf = id
            $0.reason = reason
        }
    }
}

extension Forge_Accounts_V1_Account {
    /// Takes the fields an import row filled; the rest stay. Tags are added to.
    mutating func applyImported(_ row: Forge_Accounts_V1_Account, cells: [ImportMapping.AccountColumn: String]) {
        if cells[.name] != nil { name = row.name }
        if cells[.legalName] != nil { legalName = row.legalName }
        if cells[.industry] != nil { industry = row.industry }
        if cells[.region] != nil { region = row.region }
        if cells[.address] != nil { address = row.address }
        if cells[.stage] != nil { stage = row.stage }
        if cells[.grade] != nil { grade = row.grade }
        if cells[.tier] != nil { tier = row.tier }
        if cells[.size] != nil { size = row.size }
        if cells[.ownerID] != nil { ownerID = row.ownerID }
        if cells[.team] != nil { team = row.team }
        if cells[.creditRating] != nil { creditRating = row.creditRating }
        if cells[.creditLimit] != nil { creditLimit = row.creditLimit }
        if cells[.industryShowcase] != nil { industryShowcase = row.industryShowcase }
        if cells[.bringsPartners] != nil { bringsPartners = row.bringsPartners }
        if cells[.marketingConsent] != nil { consent.marketing = row.consent.marketing }
        tags.merge(row.tags) { _, new in new }
    }
}

extension Forge_Accounts_V1_Contact {
    mutating func applyImported(_ row: Forge_Accounts_V1_Contact, cells: [ImportMapping.ContactColumn: String]) {
        if cells[.name] != nil { name = row.name }
        if cells[.title] != nil { title = row.title }
        if cells[.department] != nil { department = row.department }
        if cells[.buyingRole] != nil { buyingRole = row.buyingRole }
        if cells[.relationshipStrength] != nil { relationshipStrength = row.relationshipStrength }
        if cells[.phone] != nil { phone = row.phone }
        if cells[.email] != nil { email = row.email }
        if cells[.wechatID] != nil { wechatID = row.wechatID }
        if cells[.marketingConsent] != nil { marketingConsent = row.marketingConsent }
    }
}
