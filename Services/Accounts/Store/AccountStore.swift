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
    }

    /// Inserts the account, its `AccountCreated` event, its audit row and the call's
    /// idempotency key in one transaction.
    func create(_ account: Forge_Accounts_V1_Account, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_CreateAccountResponse {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            if !account.taxID.isEmpty,
               try Bool.fetchOne(db, sql: "SELECT 1 FROM account WHERE tax_id = ?", arguments: [account.taxID]) == true {
                throw RPCError(.alreadyExists, "an account with tax_id \(account.taxID) exists")
            }
            try db.execute(
                sql: """
                    INSERT INTO account (id, name, legal_name, tax_id, industry, region, address, stage, grade, tier,
                        owner_id, team, created_at, updated_at, version)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
                    """,
                arguments: [account.id, account.name, account.legalName, account.taxID.isEmpty ? nil : account.taxID,
                            account.industry, account.region, account.address, account.stage.rawValue,
                            account.grade.rawValue, account.tier.rawValue, account.ownerID, account.team,
                            now.timeIntervalSince1970, now.timeIntervalSince1970]
            )
            try Outbox.append(db, Forge_Accounts_V1_AccountCreated.with { $0.account = account }, accountID: account.id, at: now)
            try AuditLog.record(db, context: context, recordID: account.id, changes: ["name": account.name, "owner_id": account.ownerID], at: now)
            return .with { $0.account = account }
        }
    }

    func account(id: String) async throws -> Forge_Accounts_V1_Account? {
        try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM account WHERE id = ?", arguments: [id]).map(Self.account(from:))
        }
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
        }
    }
}
