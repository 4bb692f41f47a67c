import Foundation
import GRDB

/// The tables every service database has (DESIGN §6). Shipped migrations are never edited;
/// changes come as new migrations.
enum StandardTables {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("forge-standard-v1") { db in
            try db.create(table: "outbox") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("event_id", .text).notNull().unique()
                t.column("type", .text).notNull().indexed()
                t.column("account_id", .text).notNull().defaults(to: "")
                t.column("occurred_at", .double).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(table: "consumer_cursors") { t in
                t.primaryKey("upstream", .text)
                t.column("last_seq", .integer).notNull()
                t.column("updated_at", .double).notNull()
            }
            try db.create(table: "idempotency_keys") { t in
                t.column("subject", .text).notNull()
                t.column("key", .text).notNull()
                t.column("method", .text).notNull()
                t.column("request_hash", .blob).notNull()
                t.column("response", .blob).notNull()
                t.column("created_at", .double).notNull()
                t.primaryKey(["subject", "key"])
            }
            try db.create(table: "audit_log") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .double).notNull()
                t.column("actor", .text).notNull()
                t.column("method", .text).notNull()
                t.column("record_id", .text).notNull().indexed()
                t.column("changes", .text).notNull()
                t.column("request_id", .text).notNull().defaults(to: "")
            }
            try db.create(table: "jobs") { t in
                t.primaryKey("id", .text)
                t.column("kind", .text).notNull()
                t.column("payload", .blob).notNull()
                t.column("state", .text).notNull()
                t.column("due_at", .double).notNull()
                t.column("attempts", .integer).notNull().defaults(to: 0)
                t.column("max_attempts", .integer).notNull()
                t.column("lease_owner", .text)
                t.column("lease_until", .double)
                t.column("last_error", .text).notNull().defaults(to: "")
                t.column("created_at", .double).notNull()
                t.column("updated_at", .double).notNull()
            }
            try db.create(index: "jobs_due", on: "jobs", columns: ["state", "due_at"])
        }
        migrator.registerMigration("forge-standard-v2-outbox-incarnation") { db in
            // Which life of the outbox this is: `forge restore` starts a new one, so consumers
            // whose cursors ran ahead of the restored copy notice and resume where it ends.
            try db.create(table: "outbox_incarnation") { t in
                t.column("id", .text).notNull()
                // The last seq the restored copy held: the new incarnation's events follow it.
                t.column("starts_after_seq", .integer).notNull()
            }
            // From the head: a database restored from a backup made before this migration gets
            // its incarnation here, and what it holds is what its consumers saw.
            try db.execute(sql: "INSERT INTO outbox_incarnation (id, starts_after_seq) SELECT ?, COALESCE(MAX(seq), 0) FROM outbox", arguments: [UUID().uuidString])
            try db.alter(table: "consumer_cursors") { t in
                t.add(column: "incarnation", .text).notNull().defaults(to: "")
            }
        }
    }
}
