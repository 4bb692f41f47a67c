import GRDB
import NIOPosix
import Synchronization

extension DatabasePool {
    /// A short read run on the calling thread — for a handler, its connection's event loop.
    /// GRDB's async `read` hands the work to a dispatch thread and resumes the caller after it:
    /// two thread wake-ups, which on a busy machine cost a point read more than the read
    /// itself (a 360° view makes nine of them, one per section: each service's CPU per section
    /// fell by a fifth). The loop serves nothing else while the read runs, so only for one
    /// record or a bounded page of one account's rows — the 360° sections — never for a report
    /// or a scan.
    ///
    /// The read uses a read-only connection of the calling event loop's own, never one of the
    /// pool's readers: a loop blocked waiting for a pool reader could wait forever for readers
    /// held by async reads whose tasks resume on that same loop (seen at 64 views in flight).
    ///
    /// The body's statements see one snapshot (a transaction), begun and ended with statements
    /// prepared once per connection: GRDB's `read` prepares its BEGIN and COMMIT anew on every
    /// call, a tenth of a lead capture's de-duplication read (perf).
    public func pointRead<T>(_ body: (Database) throws -> T) throws -> T {
        try PointReaders.shared.connection(for: self).inDatabase { db in
            try db.execute(cached: "BEGIN DEFERRED TRANSACTION")
            let value: T
            do {
                value = try body(db)
            } catch {
                try? db.execute(cached: "ROLLBACK TRANSACTION")
                throw error
            }
            try db.execute(cached: "COMMIT TRANSACTION")
            return value
        }
    }
}

/// The point-read connections: per pool, one read-only connection for each event loop that
/// reads (only that loop's thread uses it, so it never waits for another), and one shared by
/// every other thread (tests, tools), which takes turns on its serial queue.
final class PointReaders: Sendable {
    static let shared = PointReaders()

    private struct Entry: Sendable {
        weak var pool: DatabasePool?
        var connections: [ObjectIdentifier?: DatabaseQueue] = [:]
    }

    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])

    func connection(for pool: DatabasePool) throws -> DatabaseQueue {
        let poolKey = ObjectIdentifier(pool)
        let loopKey = MultiThreadedEventLoopGroup.currentEventLoop.map { ObjectIdentifier($0) }
        if let found = entries.withLock({ entries in entries[poolKey].flatMap { $0.pool === pool ? $0.connections[loopKey] : nil } }) {
            return found
        }
        let opened = try Self.open(pool.path)
        return entries.withLock { entries in
            // Pools that are gone (a test's temporary database) give their connections back.
            entries = entries.filter { $0.value.pool != nil }
            var entry = entries[poolKey].flatMap { $0.pool === pool ? $0 : nil } ?? Entry(pool: pool)
            let connection = entry.connections[loopKey] ?? opened
            entry.connections[loopKey] = connection
            entries[poolKey] = entry
            return connection
        }
    }

    /// A read-only connection to a WAL database the pool keeps open (it reads the committed
    /// state as a pool reader does).
    static func open(_ path: String) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(5)
        configuration.label = "forge.point-read"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA mmap_size = \(ForgeDatabase.mmapSize)")
        }
        return try DatabaseQueue(path: path, configuration: configuration)
    }
}
