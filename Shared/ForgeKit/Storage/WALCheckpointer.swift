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
/// every `interval`: it neither waits for nor blocks the writer or the readers, and copies what
/// no reader still needs.
///
/// A passive checkpoint alone lets the log grow without end under writes that never pause: the
/// log starts over only when a write begins with every frame copied and no reader on it, and
/// with commits every few milliseconds and point reads on every loop that moment never came
/// (PipelineBench: 1.7 GB of log after 20 s of captures, every new frame a fresh block the
/// kernel zeroes first, every page read searching a longer log index). So once the log holds
/// `restartFrames`, a second passive pass copies what was committed during the first, and a
/// RESTART checkpoint on this connection takes the writer's lock between two of its
/// transactions, copies the few frames left and waits for the readers of older snapshots to
/// finish (point reads), so the next write starts the log over, its blocks reused from the page
/// cache. Writes wait for that tail only: each wait is bounded by `restartWait` and polled
/// every 100 µs (`ForgeDatabase.busyWait`). Each restart still costs the writes in flight a few
/// milliseconds, so the line is 131,072 frames (512 MiB): under a full load of captures a restart
/// every ~6 s, none when idle (PipelineBench: captures 1,900 → 2,800–2,900/s, p99 9.6–9.8 ms, the
/// log ≤ 570 MB; at 32,768 frames a restart every ~1.6 s put p99 at 10.1–10.9 ms).
public final class WALCheckpointer: Service, Sendable {
    private let database: DatabasePool
    private let connection: DatabaseQueue
    private let interval: Duration
    private let restartFrames: Int
    private let logger: Logger

    /// - Parameter restartFrames: the log's length (4 KiB pages) past which a checkpoint also
    ///   restarts it.
    public init(database: DatabasePool, interval: Duration = .milliseconds(250), restartFrames: Int = 131_072,
                logger: Logger = Logger(label: "forge.wal")) throws {
        self.database = database
        var configuration = Configuration()
        configuration.label = "forge.wal-checkpoint"
        configuration.busyMode = ForgeDatabase.busyWait(seconds: Double(Self.restartWait) / 1_000)
        connection = try DatabaseQueue(path: database.path, configuration: configuration)
        self.interval = interval
        self.restartFrames = restartFrames
        self.logger = logger
    }

    /// Stops commits from checkpointing; `run()` does it first, tests call it directly.
    public func takeOver() throws {
        try database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
    }

    /// One PASSIVE checkpoint, and a RESTART one when the log is long: the log's frames, how many
    /// of them are now in the file, and whether the next write starts the log over.
    @discardableResult
    public func checkpoint() throws -> (logFrames: Int, checkpointed: Int, restarted: Bool) {
        let (frames, copied) = try passive()
        guard frames >= restartFrames else { return (frames, copied, false) }
        _ = try passive()
        // On this connection, not the pool's writer: there it held writes for 30–50 ms in
        // forge-feedback with nothing left to copy — SQLite drops a connection's memory map of
        // the file when the log index changes under it, and the writer's maps every page it has
        // touched; this connection maps nothing. The RESTART waits for the writer's current transaction and for readers of
        // older snapshots at most `restartWait` each (a long report must not hold up every
        // write); busy is no error: the log starts over another time.
        let restarted = try connection.writeWithoutTransaction { db in
            try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(RESTART)")?[0] == 0
        }
        return (frames, copied, restarted)
    }

    /// How long a restart waits for the writer, and then for readers (milliseconds).
    static let restartWait = 10

    private func passive() throws -> (frames: Int, copied: Int) {
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
