import ForgeContracts
import Foundation
import GRDB
import SwiftProtobuf

/// The analytics read model of customers, fed by the accounts event feed.
enum CustomerFacts {
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
    }

    /// Applies one accounts event inside the consumer's transaction.
    static func apply(_ db: Database, _ event: Forge_Common_V1_Event) throws {
        if event.type == "AccountMerged" {
            // The merged customers live on as the survivor (DESIGN §8): their rows go.
            let merged = try Forge_Accounts_V1_AccountMerged(serializedBytes: event.payload)
            for id in merged.mergedIds {
                try db.execute(sql: "DELETE FROM customer WHERE account_id = ?", arguments: [id])
            }
            return
        }
        guard event.type == "AccountCreated" else { return }
        let created = try Forge_Accounts_V1_AccountCreated(serializedBytes: event.payload)
        try db.execute(
            sql: """
                INSERT INTO customer (account_id, region, industry, created_at, events_applied) VALUES (?, ?, ?, ?, 1)
                ON CONFLICT(account_id) DO UPDATE SET events_applied = events_applied + 1
                """,
            arguments: [created.account.id, created.account.region, created.account.industry,
                        created.account.createdAt.timeIntervalSince1970]
        )
    }
}
