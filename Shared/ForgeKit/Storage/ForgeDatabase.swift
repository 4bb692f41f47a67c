import Foundation
import GRDB

/// Opens a service's one database file (DESIGN §6): a WAL `DatabasePool`, foreign keys on, a
/// busy timeout, `synchronous=FULL` unless durability is `normal`, and the migrations run.
public enum ForgeDatabase {
    /// - Parameter migrations: the service's own migrations, registered after the standard tables.
    public static func open(
        path: String,
        durability: ServiceConfiguration.Durability,
        migrations: (inout DatabaseMigrator) -> Void = { _ in }
    ) throws -> DatabasePool {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        // GRDB's default (NORMAL in WAL) survives a process crash but not a power loss; an
        // acknowledged write must survive both unless the operator chose otherwise.
        let synchronous = durability == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB switches its WAL writer to NORMAL after prepareDatabase runs; the pool's single
        // writer connection lives as long as the pool, so setting it again here sticks.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        }
        try migrator(migrations).migrate(pool)
        return pool
    }

    /// An in-memory-like database for tests: a pool on a temporary file (WAL needs a file).
    public static func temporary(migrations: (inout DatabaseMigrator) -> Void = { _ in }) throws -> DatabasePool {
        let path = NSTemporaryDirectory() + "forge-test-\(UUID().uuidString).sqlite"
        return try open(path: path, durability: .normal, migrations: migrations)
    }

    static func migrator(_ migrations: (inout DatabaseMigrator) -> Void) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        StandardTables.register(in: &migrator)
        migrations(&migrator)
        return migrator
    }
}
