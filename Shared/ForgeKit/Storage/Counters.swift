import GRDB

/// Numbers people read (order SO-2026-000123, ticket SR-2026-000045): one sequence per name in
/// the service's `counter` table (name TEXT PRIMARY KEY, value INTEGER), which its migration
/// creates. Inside the caller's transaction, so a number is used exactly when the record is.
public enum Counters {
    public static func createTable(_ db: Database) throws {
        try db.create(table: "counter") { t in
            t.primaryKey("name", .text)
            t.column("value", .integer).notNull()
        }
    }

    /// The next value of `name`: 1, 2, 3, …
    public static func next(_ db: Database, _ name: String) throws -> Int64 {
        try db.execute(sql: "INSERT INTO counter (name, value) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1", arguments: [name])
        return try Int64.fetchOne(db, sql: "SELECT value FROM counter WHERE name = ?", arguments: [name]) ?? 1
    }
}
