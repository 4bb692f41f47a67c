import ForgeContracts
import ForgeWire
import Foundation
import GRDB
import Logging
import Metrics
import ServiceLifecycle

/// The durable scheduler behind every time-based rule (DESIGN §6): jobs live in the `jobs`
/// table with a due time read from an injectable clock. A runner leases due jobs, so a job
/// whose runner crashed is picked up again once the lease expires; failures retry with
/// exponential backoff until `max_attempts`, then the job is dead until an admin retries it.
public final class JobScheduler: Service, Sendable {
    /// Runs one job; throwing schedules a retry.
    public typealias Handler = @Sendable (_ payload: Data, _ job: JobRecord) async throws -> Void

    private let database: any DatabaseWriter
    private let clock: any WallClock
    private let handlers: [String: Handler]
    private let owner: String
    private let lease: TimeInterval
    private let pollInterval: Duration
    private let logger: Logger
    private let backlog = Gauge(label: "forge_jobs_due")

    /// - Parameters:
    ///   - owner: this runner's id in leases (one per process start).
    ///   - lease: how long a claimed job stays with its runner before others may take it.
    public init(
        database: any DatabaseWriter,
        clock: any WallClock,
        handlers: [String: Handler],
        owner: String = UUID().uuidString,
        lease: TimeInterval = 60,
        pollInterval: Duration = .seconds(1),
        logger: Logger = Logger(label: "forge.jobs")
    ) {
        self.database = database
        self.clock = clock
        self.handlers = handlers
        self.owner = owner
        self.lease = lease
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// 30 s, 60 s, 120 s … at most an hour between retries of a failing job.
    static let retryBackoff = Backoff(initial: .seconds(30), multiplier: 2, maximum: .seconds(3600), jitter: 0)

    /// Schedules a job inside the caller's transaction, so it exists exactly when the change
    /// that needs it committed. Scheduling an existing id replaces a pending job.
    @discardableResult
    public static func schedule(
        _ db: Database,
        kind: String,
        payload: Data = Data(),
        dueAt: Date,
        id: String? = nil,
        maxAttempts: Int = 5,
        now: Date
    ) throws -> String {
        let id = id ?? EventID.make(prefix: "job", at: now)
        try db.execute(
            cached: """
                INSERT INTO jobs (id, kind, payload, state, due_at, attempts, max_attempts, created_at, updated_at)
                VALUES (?, ?, ?, 'pending', ?, 0, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET payload = excluded.payload, due_at = excluded.due_at,
                    state = 'pending', attempts = 0, updated_at = excluded.updated_at
                WHERE jobs.state != 'running'
                """,
            arguments: [id, kind, payload, dueAt.timeIntervalSince1970, maxAttempts, now.timeIntervalSince1970, now.timeIntervalSince1970]
        )
        if dueAt <= now { wakeRunnerOnCommit(db) }
        return id
    }

    /// A job due now wakes this process's runner once the transaction that made it commits.
    private static func wakeRunnerOnCommit(_ db: Database) {
        db.afterNextTransaction { _ in JobWakeup.shared.signal() }
    }

    /// Schedules the next run of a job that runs again and again (a daily scan, a sweep), from
    /// inside its current run: each run gets its own id, because `schedule` leaves a running
    /// job alone — a run rescheduling itself under its own id would be dropped and never run again.
    public static func scheduleNextRun(_ db: Database, kind: String, dueAt: Date, now: Date) throws {
        try schedule(db, kind: kind, dueAt: dueAt, id: "\(kind)@\(Int64(dueAt.timeIntervalSince1970))", now: now)
    }

    /// Schedules the first run of a recurring job at start-up, unless a run is pending or
    /// running (a restart keeps the run it has).
    public static func ensureRecurring(_ db: Database, kind: String, firstDue: Date, now: Date) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM jobs WHERE kind = ? AND state IN ('pending', 'running') LIMIT 1", arguments: [kind]) == nil else { return }
        try scheduleNextRun(db, kind: kind, dueAt: firstDue, now: now)
    }

    /// Deletes pending jobs of `kind` whose id starts with `idPrefix` (a rule superseded by a
    /// newer schedule), inside the caller's transaction.
    public static func cancelPending(_ db: Database, kind: String, idPrefix: String) throws {
        // A range over the primary key (U+10FFFF sorts after any text that starts with the
        // prefix). Not LIKE, which is case-insensitive and cannot use the index; and `+state`,
        // so the planner does not prefer the (state, due_at) index and visit every pending job.
        try db.execute(
            cached: "DELETE FROM jobs WHERE id >= ? AND id < ? AND kind = ? AND +state = 'pending'",
            arguments: [idPrefix, idPrefix + "\u{10FFFF}", kind]
        )
    }

    /// Jobs claimed at a time.
    public static let batchSize = 100

    /// How long a woken runner lets more jobs arrive before it claims them.
    static let gatherAfterWake: Duration = .milliseconds(100)

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            do {
                try await self.recoverInterrupted()
            } catch {
                self.logger.error("could not recover interrupted jobs", metadata: ["error": "\(error)"])
            }
            while !Task.isCancelled {
                var ran = 0
                do {
                    ran = try await self.runDue()
                } catch where !Task.isCancelled {
                    self.logger.error("job runner failed", metadata: ["error": "\(error)"])
                } catch {
                    // Shutting down: claimed jobs not yet run are picked up again when this
                    // process starts next (recoverInterrupted), as after a crash.
                }
                // A full batch means more may be due (a campaign's 5,000 invitations): go on
                // at once rather than 100 jobs a poll.
                // Otherwise wait for the next poll, or for a job due now (JobWakeup) — and then
                // a moment more, so a burst of commits (an import's, each scheduling a job) is
                // one round of up to a batch, not a round per job: those rounds' claims and
                // writes cost the demo load more CPU than the waits they saved.
                if ran < Self.batchSize {
                    await JobWakeup.shared.wait(upTo: self.pollInterval)
                    try? await Task.sleep(for: Self.gatherAfterWake)
                }
            }
        }
    }

    /// Jobs a previous run of this process left running (it was killed, or stopped mid-job)
    /// are due again at once rather than when their lease runs out: a process is the only
    /// runner of its own database, so no one else holds them.
    func recoverInterrupted() async throws {
        let now = clock.now().timeIntervalSince1970
        let recovered = try await database.write { db in
            try db.execute(sql: "UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE state = 'running'",
                           arguments: [now])
            return db.changesCount
        }
        if recovered > 0 { logger.notice("recovered interrupted jobs", metadata: ["count": "\(recovered)"]) }
    }

    /// Claims and runs every job due at the clock's now; returns how many ran.
    @discardableResult
    public func runDue(limit: Int = batchSize) async throws -> Int {
        let now = clock.now()
        let claimed = try await database.write { db in
            try JobRecord.fetchAll(
                db,
                sql: """
                    UPDATE jobs SET state = 'running', lease_owner = ?, lease_until = ?, updated_at = ?
                    WHERE id IN (
                        SELECT id FROM jobs
                        WHERE (state = 'pending' AND due_at <= ?) OR (state = 'running' AND lease_until <= ?)
                        ORDER BY due_at LIMIT ?)
                    RETURNING *
                    """,
                arguments: [owner, now.timeIntervalSince1970 + lease, now.timeIntervalSince1970,
                            now.timeIntervalSince1970, now.timeIntervalSince1970, limit]
            )
        }
        for job in claimed where !Task.isCancelled {
            await execute(job)
        }
        let due = try await database.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE state = 'pending' AND due_at <= ?", arguments: [now.timeIntervalSince1970]) ?? 0
        }
        backlog.record(due)
        return claimed.count
    }

    private func execute(_ job: JobRecord) async {
        let now = clock.now()
        do {
            guard let handler = handlers[job.kind] else {
                throw JobError.noHandler(job.kind)
            }
            try await handler(job.payload, job)
            try await database.write { db in
                try db.execute(
                    cached: "UPDATE jobs SET state = 'done', lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?",
                    arguments: [now.timeIntervalSince1970, job.id, self.owner]
                )
            }
        } catch where Task.isCancelled {
            // Shutdown interrupted the job, not a fault of it: no attempt is counted; its lease
            // expires and the next runner takes it.
        } catch let deferred as JobDeferred {
            try? await database.write { db in
                try db.execute(
                    cached: "UPDATE jobs SET state = 'pending', due_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?",
                    arguments: [deferred.until.timeIntervalSince1970, now.timeIntervalSince1970, job.id, self.owner]
                )
            }
        } catch {
            let attempts = job.attempts + 1
            let dead = attempts >= job.maxAttempts
            let delay = Self.retryBackoff.delay(attempt: attempts - 1) / .seconds(1)
            logger.warning("job failed", metadata: ["job": "\(job.id)", "kind": "\(job.kind)", "attempts": "\(attempts)", "dead": "\(dead)", "error": "\(error)"])
            try? await database.write { db in
                try db.execute(
                    cached: """
                        UPDATE jobs SET state = ?, attempts = ?, due_at = ?, last_error = ?, lease_owner = NULL,
                            lease_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?
                        """,
                    arguments: [dead ? "dead" : "pending", attempts, now.timeIntervalSince1970 + delay,
                                "\(error)", now.timeIntervalSince1970, job.id, self.owner]
                )
            }
        }
    }

    /// Puts a job back in the queue, due now, attempts reset (the admin RPC's effect).
    public func retry(id: String) async throws -> JobRecord? {
        let now = clock.now()
        return try await database.write { db in try Self.retry(db, id: id, now: now) }
    }

    /// `retry(id:)` inside the caller's transaction; nil when there is no such job or it is running.
    public static func retry(_ db: Database, id: String, now: Date) throws -> JobRecord? {
        wakeRunnerOnCommit(db)
        return try JobRecord.fetchOne(
            db,
            sql: """
                UPDATE jobs SET state = 'pending', attempts = 0, due_at = ?, lease_owner = NULL, lease_until = NULL,
                    updated_at = ? WHERE id = ? AND state != 'running' RETURNING *
                """,
            arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, id]
        )
    }

    public func jobs(state: String?, limit: Int) async throws -> [JobRecord] {
        try await database.read { db in
            if let state {
                return try JobRecord.fetchAll(db, sql: "SELECT * FROM jobs WHERE state = ? ORDER BY due_at DESC LIMIT ?", arguments: [state, limit])
            }
            return try JobRecord.fetchAll(db, sql: "SELECT * FROM jobs ORDER BY due_at DESC LIMIT ?", arguments: [limit])
        }
    }
}

/// Thrown by a handler that cannot run its job yet for a reason outside the job (its endpoint is
/// known to be down): the job waits until `until`, no attempt counted, nothing logged as a failure.
public struct JobDeferred: Error {
    public let until: Date
    public init(until: Date) { self.until = until }
}

enum JobError: Error, CustomStringConvertible {
    case noHandler(String)

    var description: String {
        switch self {
        case .noHandler(let kind): "no handler for job kind '\(kind)'"
        }
    }
}

/// A row of the `jobs` table.
public struct JobRecord: Codable, FetchableRecord, Sendable, Equatable {
    public var id: String
    public var kind: String
    public var payload: Data
    public var state: String
    public var dueAt: Double
    public var attempts: Int
    public var maxAttempts: Int
    public var leaseOwner: String?
    public var leaseUntil: Double?
    public var lastError: String

    enum CodingKeys: String, CodingKey {
        case id, kind, payload, state, attempts
        case dueAt = "due_at"
        case maxAttempts = "max_attempts"
        case leaseOwner = "lease_owner"
        case leaseUntil = "lease_until"
        case lastError = "last_error"
    }
}
