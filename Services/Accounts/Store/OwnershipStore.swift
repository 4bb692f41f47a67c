import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Ownership of accounts and its history: the cure for 人走客失 — a departing rep's portfolio
/// moves in one call, every move kept with who, when and why.
struct OwnershipStore: Sendable {
    let database: DatabasePool

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("accounts-v5-owner-history") { db in
            try db.create(table: "owner_history") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("account_id", .text).notNull().indexed().references("account")
                t.column("from_owner_id", .text).notNull()
                t.column("to_owner_id", .text).notNull()
                t.column("reason", .text).notNull()
                t.column("changed_by", .text).notNull()
                t.column("changed_at", .double).notNull()
            }
        }
    }

    func assign(_ request: Forge_Accounts_V1_AssignOwnerRequest, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_AssignOwnerResponse {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var account = try AccountStore.accountForChange(
                db, id: request.accountID, version: request.version, principal: context.principal, mayChange: OwnershipRules.mayReassign
            )
            try Self.move(db, account: &account, to: request.ownerID, team: request.team, reason: request.reason, context: context, at: now)
            return .with { $0.account = account }
        }
    }

    /// Moves every account of `from` that the caller may manage; returns their ids.
    func reassign(_ request: Forge_Accounts_V1_ReassignPortfolioRequest, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_ReassignPortfolioResponse {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            guard let principal = context.principal else { throw RPCError(.unauthenticated, "no caller") }
            let rows = try Row.fetchAll(db, sql: "SELECT \(AccountStore.columns) FROM account WHERE owner_id = ? ORDER BY id", arguments: [request.fromOwnerID])
            var moved: [String] = []
            for row in rows {
                var account = AccountStore.account(from: row)
                guard OwnershipRules.mayReassign(account, principal: principal) else { continue }
                try Self.move(db, account: &account, to: request.toOwnerID, team: request.toTeam, reason: request.reason, context: context, at: now)
                moved.append(account.id)
            }
            return .with { $0.accountIds = moved }
        }
    }

    func history(accountID: String, principal: Principal) async throws -> [Forge_Accounts_V1_OwnerChange] {
        try await database.read { db in
            let account = try AccountStore.visibleAccount(db, id: accountID, principal: principal)
            return try Row.fetchAll(db, sql: "SELECT * FROM owner_history WHERE account_id = ? ORDER BY id", arguments: [account.id]).map { row in
                .with {
                    $0.accountID = row["account_id"]
                    $0.fromOwnerID = row["from_owner_id"]
                    $0.toOwnerID = row["to_owner_id"]
                    $0.reason = row["reason"]
                    $0.changedBy = row["changed_by"]
                    $0.changedAt = .init(date: Date(timeIntervalSince1970: row["changed_at"]))
                }
            }
        }
    }

    /// One move: the account row, its history entry, `AccountOwnerChanged` and the audit row.
    static func move(_ db: Database, account: inout Forge_Accounts_V1_Account, to owner: String, team: String, reason: String, context: ServerContext, at now: Date) throws {
        let change = Forge_Accounts_V1_OwnerChange.with {
            $0.accountID = account.id
            $0.fromOwnerID = account.ownerID
            $0.toOwnerID = owner
            $0.reason = reason
            $0.changedBy = context.principal?.subject ?? ""
            $0.changedAt = .init(date: now)
        }
        account.ownerID = owner
        if !team.isEmpty { account.team = team }
        account.version += 1
        account.updatedAt = .init(date: now)
        try db.execute(
            cached: "UPDATE account SET owner_id = ?, team = ?, version = ?, updated_at = ? WHERE id = ?",
            arguments: [account.ownerID, account.team, account.version, now.timeIntervalSince1970, account.id]
        )
        try db.execute(
            cached: "INSERT INTO owner_history (account_id, from_owner_id, to_owner_id, reason, changed_by, changed_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [account.id, change.fromOwnerID, owner, reason, change.changedBy, now.timeIntervalSince1970]
        )
        try Outbox.append(db, Forge_Accounts_V1_AccountOwnerChanged.with { $0.change = change }, accountID: account.id, at: now)
        try HandoverTasks.close(db, accountID: account.id, by: change.changedBy, resolution: "reassigned to \(owner)", at: now)
        try AuditLog.record(db, context: context, recordID: account.id, changes: ["owner_id": owner, "team": account.team, "reason": reason], at: now)
    }
}

/// Who may move accounts: admins any; a sales manager the accounts of their team.
enum OwnershipRules {
    static func mayReassign(_ account: Forge_Accounts_V1_Account, principal: Principal) -> Bool {
        if principal.hasRole("admin") { return true }
        guard principal.hasRole("sales_manager") else { return false }
        return principal.team.isEmpty || account.team == principal.team
    }

    static func validate(owner: String, reason: String, ownerField: String) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        if owner.isBlank {
            violations.append(FieldViolation(field: ownerField, description: "is required"))
        }
        if reason.isBlank || reason.count > 500 {
            violations.append(FieldViolation(field: "reason", description: "is required, at most 500 characters"))
        }
        return violations
    }
}
