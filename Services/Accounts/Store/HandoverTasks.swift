import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Hand-over tasks: raised when an account has been silent for the hand-over threshold, for
/// the managers of the owner's team (accounts knows teams, not org charts: the gateway's users
/// carry managers, and a sales manager's token carries the team they lead). A task closes when
/// a manager completes it, when the account gets a new owner, or when an activity is logged.
struct HandoverTasks: Sendable {
    let database: DatabasePool

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("accounts-v9-handover-tasks") { db in
            try db.create(table: "handover_task") { t in
                t.primaryKey("id", .text)
                t.column("account_id", .text).notNull().indexed()
                t.column("owner_id", .text).notNull()
                t.column("team", .text).notNull()
                t.column("days_silent", .integer).notNull()
                t.column("created_at", .double).notNull()
                t.column("completed_at", .double)
                t.column("completed_by", .text).notNull().defaults(to: "")
                t.column("resolution", .text).notNull().defaults(to: "")
            }
            try db.create(index: "handover_task_open", on: "handover_task", columns: ["team", "completed_at"])
        }
    }

    /// Opens a task for `account` inside the stale check's transaction (one open task at most).
    static func open(_ db: Database, account: Forge_Accounts_V1_Account, daysSilent: Int, at now: Date) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM handover_task WHERE account_id = ? AND completed_at IS NULL", arguments: [account.id]) != true
        else { return }
        try db.execute(
            cached: "INSERT INTO handover_task (id, account_id, owner_id, team, days_silent, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [EventID.make(prefix: "hot", at: now), account.id, account.ownerID, account.team, daysSilent, now.timeIntervalSince1970]
        )
    }

    /// Closes the account's open task, if any, inside the caller's transaction.
    static func close(_ db: Database, accountID: String, by subject: String, resolution: String, at now: Date) throws {
        try db.execute(
            cached: "UPDATE handover_task SET completed_at = ?, completed_by = ?, resolution = ? WHERE account_id = ? AND completed_at IS NULL",
            arguments: [now.timeIntervalSince1970, subject, resolution, accountID]
        )
    }

    /// A team's tasks, oldest first. Managers of a team see their team's; admins and managers
    /// without a team any team's; asking for another team's answers an empty list.
    func list(team: String, includeCompleted: Bool, page: Page, principal: Principal) async throws -> [Forge_Accounts_V1_HandoverTask] {
        let team = team.isEmpty ? principal.team : team
        guard Self.mayManage(team: team, principal: principal) else { return [] }
        var clauses = ["t.id > ?"]
        var arguments: StatementArguments = [page.after]
        if !team.isEmpty {
            clauses.append("t.team = ?")
            arguments += [team]
        }
        if !includeCompleted { clauses.append("t.completed_at IS NULL") }
        arguments += [page.size]
        let sql = "\(Self.selectTasks) WHERE \(clauses.joined(separator: " AND ")) ORDER BY t.id LIMIT ?"
        let finalArguments = arguments
        return try await database.read { db in try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(Self.task(from:)) }
    }

    func complete(id: String, resolution: String, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_HandoverTask {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let missing = RPCError(.notFound, "hand-over task \(id) not found")
            guard let principal = context.principal,
                  let row = try Row.fetchOne(db, sql: "SELECT * FROM handover_task WHERE id = ?", arguments: [id]),
                  Self.mayManage(team: row["team"], principal: principal)
            else { throw missing }
            if row["completed_at"] as Double? != nil {
                throw RPCError(.failedPrecondition, "hand-over task \(id) is already completed")
            }
            try db.execute(
                cached: "UPDATE handover_task SET completed_at = ?, completed_by = ?, resolution = ? WHERE id = ?",
                arguments: [now.timeIntervalSince1970, principal.subject, resolution, id]
            )
            try AuditLog.record(db, context: context, recordID: id, changes: ["resolution": resolution], at: now)
            let updated = try Row.fetchOne(db, sql: "\(Self.selectTasks) WHERE t.id = ?", arguments: [id])
            return try updated.map(Self.task(from:)) ?? { throw missing }()
        }
    }

    /// Tasks with the name of their account (empty if the account is gone).
    static let selectTasks = "SELECT t.*, COALESCE(a.name, '') AS account_name FROM handover_task t LEFT JOIN account a ON a.id = t.account_id"

    static func mayManage(team: String, principal: Principal) -> Bool {
        if principal.hasRole(Role.admin) { return true }
        guard principal.hasRole(Role.salesManager) else { return false }
        return principal.team.isEmpty || principal.team == team
    }

    static func task(from row: Row) -> Forge_Accounts_V1_HandoverTask {
        .with {
            $0.id = row["id"]
            $0.accountID = row["account_id"]
            $0.accountName = row["account_name"]
            $0.ownerID = row["owner_id"]
            $0.team = row["team"]
            $0.daysSilent = row["days_silent"]
            $0.createdAt = .init(date: Date(timeIntervalSince1970: row["created_at"]))
            if let completed = row["completed_at"] as Double? {
                $0.completedAt = .init(date: Date(timeIntervalSince1970: completed))
                $0.completedBy = row["completed_by"]
                $0.resolution = row["resolution"]
            }
        }
    }
}
