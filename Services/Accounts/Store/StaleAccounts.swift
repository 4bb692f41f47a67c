import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Runs the stale-account rules as durable jobs: one pending check per account, due at the
/// next threshold after its last touch; logging an activity moves it.
struct StaleAccounts: Sendable {
    static let jobKind = "account-stale-check"

    let database: DatabasePool
    let clock: any WallClock
    let policy: StalePolicy

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("accounts-v4-staleness") { db in
            try db.alter(table: "account") { t in
                t.add(column: "staleness", .integer).notNull().defaults(to: 1)
            }
        }
    }

    /// (Re)schedules the account's check inside the caller's transaction: any pending check is
    /// replaced. Each check has its own id (account + due time), so a running check can
    /// schedule the next one.
    static func schedule(_ db: Database, accountID: String, lastTouch: Date, reached: Forge_Accounts_V1_Staleness, policy: StalePolicy, now: Date) throws {
        try JobScheduler.cancelPending(db, kind: jobKind, idPrefix: "stale-\(accountID)-")
        guard let due = policy.nextCheck(after: lastTouch, reached: reached) else { return }
        try JobScheduler.schedule(db, kind: jobKind, payload: Data(accountID.utf8), dueAt: due, id: "stale-\(accountID)-\(Int64(due.timeIntervalSince1970))", now: now)
    }

    /// The job: raise the level the silence has reached, emit its event, schedule the next check.
    func check(accountID: String) async throws {
        let now = clock.now()
        try await database.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(AccountStore.columns) FROM account WHERE id = ?", arguments: [accountID]) else { return }
            let account = AccountStore.account(from: row)
            let lastTouch = Date(timeIntervalSince1970: (row["last_activity_at"] as Double?) ?? row["created_at"])
            let days = Int(now.timeIntervalSince(lastTouch) / 86400)
            let current = Forge_Accounts_V1_Staleness(rawValue: row["staleness"]) ?? .none
            let reached = policy.level(daysSilent: days)
            if reached.rawValue > current.rawValue {
                try db.execute(cached: "UPDATE account SET staleness = ? WHERE id = ?", arguments: [reached.rawValue, accountID])
                if let event = Self.event(for: reached, account: account, daysSilent: Int32(days)) {
                    try Outbox.append(db, event, accountID: accountID, at: now)
                }
                if reached >= .handover, current < .handover {
                    try HandoverTasks.open(db, account: account, daysSilent: days, at: now)
                }
            }
            try Self.schedule(db, accountID: accountID, lastTouch: lastTouch, reached: max(reached, current), policy: policy, now: now)
        }
    }
}

extension StaleAccounts {
    /// The event announcing that `account` reached `level`.
    static func event(for level: Forge_Accounts_V1_Staleness, account: Forge_Accounts_V1_Account, daysSilent: Int32) -> (any SwiftProtobuf.Message)? {
        switch level {
        case .warning:
            Forge_Accounts_V1_AccountStaleWarning.with {
                $0.accountID = account.id
                $0.ownerID = account.ownerID
                $0.daysSilent = daysSilent
            }
        case .handover:
            Forge_Accounts_V1_AccountHandoverRequired.with {
                $0.accountID = account.id
                $0.ownerID = account.ownerID
                $0.team = account.team
                $0.daysSilent = daysSilent
            }
        case .revisitPool:
            Forge_Accounts_V1_AccountEnteredRevisitPool.with {
                $0.accountID = account.id
                $0.ownerID = account.ownerID
                $0.daysSilent = daysSilent
            }
        default:
            nil
        }
    }
}

extension Forge_Accounts_V1_Staleness: Comparable {
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
