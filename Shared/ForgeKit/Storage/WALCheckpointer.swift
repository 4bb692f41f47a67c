import Foundation
import GRDB
import Logging
import ServiceLifecycle

/// Copies the write-ahead log into the database file beside the write path instead of in it.
///
/// SQLite checkpoints when a commit finds the log past 1,000 pages, inside that commit: the
/// write that crossed the line waited for ~1,000 scattered page writes and an fsync of the
/// database file — one call in a hundred or so (OrdersBench, a production report: p50 0.7 ms,
/// p99 6.6 ms). With this service running, commits never checkpoint (`wal_autocheckpoint=0`
/// on the pool's one writer connection) and a connection of its own runs a PASSIVE checkpoint
/// every `interval`: it neither waits for nor blocks the writer or the readers, copies what no
/// reader still needs, and lets the next write start the log over once all of it is copied.
public final class WALCheckpointer: Service, Sendable {
    private let database: DatabasePool
    private let connection: DatabaseQueue
    private let interval: Duration
    private let logger: Logger

    public init(database: DatabasePool, interval: Duration = .milliseconds(250), logger: Logger = Logger(label: "forge.wal")) throws {
        self.database = database
        var configuration = Configuration()
        configuration.label = "forge.wal-checkpoint"
        connection = try DatabaseQueue(path: database.path, configuration: configuration)
        self.interval = interval
        self.logger = logger
    }

    /// Stops commits from checkpointing; `run()` does it first, tests call it directly.
    public func takeOver() throws {
        try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
    }

    /// One PASSIVE checkpoint: the log's frames and how many of them are now in the file.
    @discardableResult
    public func checkpoint() throws -> (logFrames: Int, checkpointed: Int) {
        try connection.writeWithoutTransaction { db in
            let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")
            return (row?[1] ?? 0, row?[2] ?? 0)
        }
    }

    public func run() async throws {
        try takeOver()
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                do {
                    try self.checkpoint()
                } catch {
                    self.logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)"])
                }
            }
        }
        // Commits checkpoint again as they did (the pool's close checkpoints what is left).
        try? await database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 1000") }
    }
}
