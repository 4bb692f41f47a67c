import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Folds duplicate accounts into a survivor in one transaction: contacts, activities, tags,
/// ownership history and open hand-over tasks move; the survivor's empty fields are filled
/// from the merged; each merged id resolves to the survivor from then on (also ids that had
/// already been merged into a merged account); `AccountMerged` tells other services to re-point.
struct AccountMerge: Sendable {
    let database: DatabasePool
    let policy: StalePolicy

    func merge(survivorID: String, mergedIDs: [String], reason: String, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_MergeAccountsResponse {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var survivor = try AccountStore.visibleAccount(db, id: survivorID, principal: context.principal, may: OwnershipRules.mayReassign)
            var contactsMoved: Int32 = 0
            var activitiesMoved: Int32 = 0
            var mergedIDs = mergedIDs
            for (index, id) in mergedIDs.enumerated() {
                let merged = try AccountStore.visibleAccount(db, id: id, principal: context.principal, may: OwnershipRules.mayReassign)
                guard merged.id != survivor.id else {
                    throw RPCError.invalidArgument([FieldViolation(field: "merged_ids[\(index)]", description: "is the survivor (or was merged into it)")])
                }
                mergedIDs[index] = merged.id
                contactsMoved += try Self.moveContacts(db, from: merged.id, to: survivor.id)
                activitiesMoved += try Self.moveActivities(db, from: merged.id, to: survivor.id)
                survivor.fillGaps(from: merged)
                try db.execute(sql: "UPDATE owner_history SET account_id = ? WHERE account_id = ?", arguments: [survivor.id, merged.id])
                try db.execute(sql: "UPDATE handover_task SET account_id = ? WHERE account_id = ?", arguments: [survivor.id, merged.id])
                try db.execute(sql: "UPDATE account SET parent_account_id = ? WHERE parent_account_id = ?", arguments: [survivor.id, merged.id])
                try JobScheduler.cancelPending(db, kind: StaleAccounts.jobKind, idPrefix: "stale-\(merged.id)-")
                try db.execute(sql: "DELETE FROM account WHERE id = ?", arguments: [merged.id])
                try db.execute(sql: "UPDATE account_redirect SET survivor_id = ? WHERE survivor_id = ?", arguments: [survivor.id, merged.id])
                try db.execute(sql: "INSERT INTO account_redirect (merged_id, survivor_id, merged_at) VALUES (?, ?, ?)",
                               arguments: [merged.id, survivor.id, now.timeIntervalSince1970])
            }
            if survivor.parentAccountID == survivor.id || mergedIDs.contains(survivor.parentAccountID) { survivor.parentAccountID = "" }
            let before = try AccountStore.visibleAccount(db, id: survivor.id, principal: context.principal)
            survivor.version = before.version + 1
            survivor.updatedAt = .init(date: now)
            let lastTouch = try Double.fetchOne(db, sql: "SELECT MAX(occurred_at) FROM activity WHERE account_id = ?", arguments: [survivor.id])
            try AccountStore.write(db, survivor, changed: AccountRules.changedFields(from: before, to: survivor), context: context, at: now)
            if let lastTouch, lastTouch > (before.hasLastActivityAt ? before.lastActivityAt.timeIntervalSince1970 : 0) {
                // A merged account was touched more recently: the quiet spell restarts from there.
                try db.execute(sql: "UPDATE account SET last_activity_at = ?, staleness = ? WHERE id = ?",
                               arguments: [lastTouch, Forge_Accounts_V1_Staleness.none.rawValue, survivor.id])
                try StaleAccounts.schedule(db, accountID: survivor.id, lastTouch: Date(timeIntervalSince1970: lastTouch), reached: .none,
                                           policy: policy, now: now)
            }
            try Outbox.append(db, Forge_Accounts_V1_AccountMerged.with {
                $0.survivorID = survivor.id
                $0.mergedIds = mergedIDs
                $0.reason = reason
            }, accountID: survivor.id, at: now)
            try AuditLog.record(db, context: context, recordID: survivor.id,
                                changes: ["merged_ids": mergedIDs.joined(separator: ","), "reason": reason], at: now)
            let merged = try AccountStore.visibleAccount(db, id: survivor.id, principal: context.principal)
            return .with {
                $0.survivor = AccountRules.view(merged, for: context.principal)
                $0.contactsMoved = contactsMoved
                $0.activitiesMoved = activitiesMoved
            }
        }
    }

    /// Re-points contacts (row and payload); returns how many moved.
    private static func moveContacts(_ db: Database, from: String, to: String) throws -> Int32 {
        try repoint(db, table: "contact", as: Forge_Accounts_V1_Contact.self, from: from, to: to) { $0.accountID = to }
    }

    /// Re-points activities (row and payload); the full-text index is keyed by row and stays.
    private static func moveActivities(_ db: Database, from: String, to: String) throws -> Int32 {
        try repoint(db, table: "activity", as: Forge_Accounts_V1_Activity.self, from: from, to: to) { $0.accountID = to }
    }

    /// Moves the rows of `table` (an `account_id` column and a `payload` of `Message`) from one
    /// account to another, the payload's own account id included; returns how many moved.
    private static func repoint<Message: SwiftProtobuf.Message>(
        _ db: Database, table: String, as: Message.Type, from: String, to: String, setAccount: (inout Message) -> Void
    ) throws -> Int32 {
        let rows = try Row.fetchAll(db, sql: "SELECT rowid, payload FROM \(table) WHERE account_id = ?", arguments: [from])
        for row in rows {
            var message = try Message(serializedBytes: row["payload"] as Data)
            setAccount(&message)
            try db.execute(sql: "UPDATE \(table) SET account_id = ?, payload = ? WHERE rowid = ?",
                           arguments: [to, try message.serializedData(), row["rowid"] as Int64])
        }
        return Int32(rows.count)
    }
}

extension Forge_Accounts_V1_Account {
    /// Takes from `merged` what the survivor lacks: empty text fields, unspecified choices,
    /// tags it does not have, a credit limit, a tax id (moved: tax ids are unique).
    mutating func fillGaps(from merged: Forge_Accounts_V1_Account) {
        func fill(_ keyPath: WritableKeyPath<Self, String>) {
            if self[keyPath: keyPath].isEmpty { self[keyPath: keyPath] = merged[keyPath: keyPath] }
        }
        fill(\.legalName)
        fill(\.taxID)
        fill(\.industry)
        fill(\.region)
        fill(\.address)
        fill(\.parentAccountID)
        fill(\.creditRating)
        if grade == .unspecified { grade = merged.grade }
        if tier == .unspecified { tier = merged.tier }
        if size == .unspecified { size = merged.size }
        if !hasCreditLimit, merged.hasCreditLimit { creditLimit = merged.creditLimit }
        industryShowcase = industryShowcase || merged.industryShowcase
        bringsPartners = bringsPartners || merged.bringsPartners
        tags.merge(merged.tags) { survivor, _ in survivor }
    }
}
