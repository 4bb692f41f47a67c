import Foundation
import GRDB

/// Stored idempotent answers are kept for a week, long enough for any retry — a client's after
/// a timeout, a connector's after a weekend outage — and then forgotten by a job every service
/// runs, so `idempotency_keys` does not grow with every call ever made. A repeat after the
/// week runs as a new call.
///
/// The same sweep forgets jobs done more than a week ago: every notification, survey send,
/// webhook delivery and SLA watch left its row behind for good. Nothing reads a done job (a
/// job scheduled again under its id is re-armed whatever it was); `Jobs/ListJobs` shows a week
/// of them. Dead jobs (out of attempts) stay until someone retries them (`Jobs/RetryJob`).
public enum IdempotencySweep {
    public static let kind = "forge.idempotency-sweep"
    public static let retention: TimeInterval = 7 * 86_400
    public static let interval: TimeInterval = 6 * 3600
    /// Rows deleted per transaction, so a large backlog never holds the writer for long.
    static let chunk = 5_000

    /// Deletes the answers stored before `now − retention`; returns how many went.
    @discardableResult
    public static func sweep(_ database: any DatabaseWriter, now: Date) async throws -> Int {
        let cutoff = now.addingTimeInterval(-retention).timeIntervalSince1970
        return try await deleteInChunks(database, sql: """
            DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < ? LIMIT ?)
            """, cutoff: cutoff)
    }

    /// Deletes the jobs done before `now − retention`; returns how many went.
    @discardableResult
    public static func sweepDoneJobs(_ database: any DatabaseWriter, now: Date) async throws -> Int {
        let cutoff = now.addingTimeInterval(-retention).timeIntervalSince1970
        return try await deleteInChunks(database, sql: """
            DELETE FROM jobs WHERE rowid IN (SELECT rowid FROM jobs WHERE state = 'done' AND updated_at < ? LIMIT ?)
            """, cutoff: cutoff)
    }

    private static func deleteInChunks(_ database: any DatabaseWriter, sql: String, cutoff: Double) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await database.write { db in
                try db.execute(sql: sql, arguments: [cutoff, chunk])
                return db.changesCount
            }
            total += deleted
            if deleted < chunk { return total }
        }
    }

    /// The job's handler: sweeps, then schedules the next run.
    public static func handler(database: any DatabaseWriter, clock: any WallClock) -> JobScheduler.Handler {
        { _, _ in
            let now = clock.now()
            try await sweep(database, now: now)
            try await sweepDoneJobs(database, now: now)
            try await database.write { db in
                try JobScheduler.scheduleNextRun(db, kind: kind, dueAt: now.addingTimeInterval(interval), now: now)
            }
        }
    }

    /// Schedules the first run unless one is pending (a restart keeps the one it has).
    public static func scheduleIfAbsent(_ database: any DatabaseWriter, now: Date) async throws {
        try await database.write { db in
            try JobScheduler.ensureRecurring(db, kind: kind, firstDue: now.addingTimeInterval(interval), now: now)
        }
    }
}
