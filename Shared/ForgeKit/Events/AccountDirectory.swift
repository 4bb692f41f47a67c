import ForgeContracts
import Foundation
import GRDB
import SwiftProtobuf

/// A service's copy of who the customers are (name, owner, team), kept from accounts' event
/// feed, so that scoping a record by its account's owner or showing the customer's name needs
/// no call per record. The same table in every service that keeps one (`account_directory`).
public enum AccountDirectory {
    /// The accounts events the directory follows.
    public static let eventTypes = ["AccountCreated", "AccountUpdated", "AccountOwnerChanged", "AccountMerged"]

    public struct Entry: Sendable, Equatable {
        public var accountID: String
        public var name: String
        public var ownerID: String
        public var team: String
    }

    /// Creates the table in a service's migration.
    public static func createTable(_ db: Database) throws {
        try db.create(table: "account_directory") { t in
            t.primaryKey("account_id", .text)
            t.column("name", .text).notNull()
            t.column("normalized_name", .text).notNull().indexed()
            t.column("owner_id", .text).notNull()
            t.column("team", .text).notNull()
        }
    }

    /// Applies the directory's part of an accounts event (a merge removes the merged accounts;
    /// re-pointing the service's own records is the service's part).
    public static func apply(_ db: Database, _ event: Forge_Common_V1_Event) throws {
        switch event.type {
        case "AccountCreated":
            try upsert(db, try Forge_Accounts_V1_AccountCreated(serializedBytes: event.payload).account)
        case "AccountUpdated":
            try upsert(db, try Forge_Accounts_V1_AccountUpdated(serializedBytes: event.payload).account)
        case "AccountOwnerChanged":
            let change = try Forge_Accounts_V1_AccountOwnerChanged(serializedBytes: event.payload).change
            try db.execute(cached: "UPDATE account_directory SET owner_id = ? WHERE account_id = ?", arguments: [change.toOwnerID, change.accountID])
        case "AccountMerged":
            let merged = try Forge_Accounts_V1_AccountMerged(serializedBytes: event.payload)
            guard !merged.mergedIds.isEmpty else { return }
            try db.execute(sql: "DELETE FROM account_directory WHERE account_id IN (\(databaseQuestionMarks(count: merged.mergedIds.count)))",
                           arguments: StatementArguments(merged.mergedIds))
        default:
            break
        }
    }

    public static func upsert(_ db: Database, _ account: Forge_Accounts_V1_Account) throws {
        try db.execute(cached: """
            INSERT OR REPLACE INTO account_directory (account_id, name, normalized_name, owner_id, team) VALUES (?, ?, ?, ?, ?)
            """, arguments: [account.id, account.name, NameNormalizer.normalize(account.name), account.ownerID, account.team])
    }

    public static func entry(_ db: Database, accountID: String) throws -> Entry? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM account_directory WHERE account_id = ?"), arguments: [accountID]).map {
            Entry(accountID: $0["account_id"], name: $0["name"], ownerID: $0["owner_id"], team: $0["team"])
        }
    }
}

extension AccountDirectory {
    /// The accounts whose name normalises to `name`'s (a spreadsheet naming its customer).
    public static func entries(_ db: Database, named name: String) throws -> [Entry] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM account_directory WHERE normalized_name = ? ORDER BY account_id LIMIT 5"),
                         arguments: [NameNormalizer.normalize(name)]).map {
            Entry(accountID: $0["account_id"], name: $0["name"], ownerID: $0["owner_id"], team: $0["team"])
        }
    }
}
