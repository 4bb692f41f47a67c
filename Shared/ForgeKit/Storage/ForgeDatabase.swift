import Foundation
import GRDB

/// Opens a service's one database file (DESIGN §6): a WAL `DatabasePool`, foreign keys on, a
/// busy timeout, `synchronous=FULL` unless durability is `normal`, and the migrations run.
public enum ForgeDatabase {
    /// How much of a database file connections map (bytes): as much as SQLite allows
    /// (SQLITE_MAX_MMAP_SIZE, 0x7fff0000 in Debian's build; a larger request is cut to it).
    /// Pages past the map are read with a pread() copy each: on the full data sets (accounts
    /// 3 GB, orders 2.5 GB) a 1 GiB map left a tenth of those services' 360° work in pread.
    static let mmapSize = 0x7fff_0000

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
        configuration.busyMode = busyWait(seconds: 5)
        // GRDB's default (NORMAL in WAL) survives a process crash but not a power loss; an
        // acknowledged write must survive both unless the operator chose otherwise.
        let synchronous = durability == .full ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            // Reads map the file instead of copying each page through a read() call: a timeline
            // page touches rows spread over the file, and on a 3 GB accounts database the copies
            // were most of its time. Mapped pages are the kernel's page cache, shared between
            // connections, so this costs no memory of its own.
            try db.execute(sql: "PRAGMA mmap_size = \(mmapSize)")
            // A savepoint's undo pages (each write of a group commit has one) and a sort's
            // b-tree stay in memory instead of spilling into a temporary file past 64 KiB: a lead
            // capture touches ~25 pages, and the spill opened, wrote and unlinked a file for it.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
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

    /// How a connection waits for a lock another holds (in WAL only writers wait: the pool's one
    /// writer for the checkpointer's restart, and that for the writer): a try every 100 µs, for
    /// at most `seconds` of the clock (a sleep of 100 µs lasts longer on a busy machine, so tries
    /// are not counted as time). SQLite's own timeout sleeps 1, 2, 5, 10, 15, 20, 25 … ms
    /// between tries, so a writer that found the lock taken for a millisecond could sleep 25.
    public static func busyWait(seconds: Double) -> Database.BusyMode {
        .callback { tries in
            // The handler runs on the thread running the statement, every try of one wait.
            let thread = Thread.current
            let now = Date()
            if tries == 0 { thread.threadDictionary[busyWaitStart] = now }
            let start = thread.threadDictionary[busyWaitStart] as? Date ?? now
            guard now.timeIntervalSince(start) < seconds else { return false }
            usleep(100)
            return true
        }
    }

    private static let busyWaitStart = "forge.busy-wait-start"

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
