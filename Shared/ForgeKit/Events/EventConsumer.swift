import ForgeContracts
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Consumes one upstream's event feed: pulls after its cursor, applies each event and advances
/// the cursor in the same transaction — delivery at-least-once, effect exactly-once. While the
/// upstream is unavailable it backs off and retries; nothing is lost, it catches up on return.
///
/// A consumer catching up keeps both sides busy: while one batch is written, the next is
/// already pulled and turned into its write (`PrepareBatch`: decoding the payloads happens
/// outside the transaction, on another thread than the one database writer).
public final class EventConsumer: Service, Sendable {
    /// Applies one event inside the consumer's write transaction.
    public typealias Apply = @Sendable (Database, Forge_Common_V1_Event) throws -> Void
    /// A pull's events (in feed order) turned into one write, worked out before the
    /// transaction: decode the payloads here and return the write, which runs inside it (and
    /// may write many events' rows in a few statements). Throwing fails the pull like a
    /// failed apply.
    public typealias PrepareBatch = @Sendable ([Forge_Common_V1_Event]) throws -> PreparedWrite
    public typealias PreparedWrite = @Sendable (Database) throws -> Void

    public let upstream: String
    private let feed: Forge_Common_V1_EventFeedClient
    private let database: any DatabaseWriter
    private let types: [String]
    private let prepare: PrepareBatch
    private let logger: Logger
    private let batch: Int32
    private let lagGauge: Gauge
    private let state = Mutex<(lag: UInt64, healthy: Bool, lastError: String, notice: String)>((0, true, "", ""))

    /// - Parameters:
    ///   - upstream: the producing service's name; also the cursor's key.
    ///   - types: event types to receive; empty for all.
    ///   - batch: events per pull, applied in one transaction. 500 keeps a service's other
    ///     writes waiting briefly; a read model that only follows feeds (analytics) catches
    ///     up faster with more per transaction.
    public convenience init(
        upstream: String,
        feed: any RPCChannel,
        database: any DatabaseWriter,
        types: [String] = [],
        batch: Int32 = 500,
        logger: Logger,
        apply: @escaping Apply
    ) {
        self.init(upstream: upstream, feed: feed, database: database, types: types, batch: batch, logger: logger,
                  prepareBatch: Self.preparing(apply))
    }

    /// A consumer that writes each pull's events together (see `PrepareBatch`).
    public init(
        upstream: String,
        feed: any RPCChannel,
        database: any DatabaseWriter,
        types: [String] = [],
        batch: Int32 = 500,
        logger: Logger,
        prepareBatch prepare: @escaping PrepareBatch
    ) {
        self.batch = batch
        self.upstream = upstream
        self.feed = Forge_Common_V1_EventFeedClient(channel: feed)
        self.database = database
        self.types = types
        self.prepare = prepare
        self.logger = logger
        self.lagGauge = Gauge(label: "forge_consumer_lag_events", dimensions: [("upstream", upstream)])
    }

    /// An `Apply` as a `PrepareBatch` that does all its work in the transaction.
    public static func preparing(_ apply: @escaping Apply) -> PrepareBatch {
        { events in
            { db in
                for event in events { try apply(db, event) }
            }
        }
    }

    /// Events the consumer is behind, and whether its last poll worked (for Health and /readyz).
    /// 100 ms, doubling, at most 5 s between polls of an unavailable upstream.
    static let retryBackoff = Backoff(initial: .milliseconds(100), multiplier: 2, maximum: .seconds(5), jitter: 0)

    /// `detail`: the last error while unhealthy, else the last resync (a restored upstream).
    public var status: (lag: UInt64, healthy: Bool, detail: String) {
        state.withLock { ($0.lag, $0.healthy, $0.healthy ? $0.notice : $0.lastError) }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
    }

    /// Polls until cancelled. A pull that brought events starts the next pull (after them)
    /// before its own batch is written; a failure anywhere drops that pull and starts again
    /// from the cursor in the database.
    private func loop() async {
        var failures = 0
        var prefetched: Task<Pulled, any Error>?
        defer { prefetched?.cancel() }
        while !Task.isCancelled {
            do {
                let pulled: Pulled
                if let next = prefetched {
                    prefetched = nil
                    pulled = try await withTaskCancellationHandler { try await next.value } onCancel: { next.cancel() }
                } else {
                    let (after, incarnation) = try await database.read { db in try self.position(db) }
                    pulled = try await pull(after: after, incarnation: incarnation, waitMilliseconds: 10_000)
                }
                if !pulled.response.events.isEmpty, pulled.resync == nil {
                    let after = pulled.appliedThrough, incarnation = pulled.response.incarnation
                    prefetched = Task { try await self.pull(after: after, incarnation: incarnation, waitMilliseconds: 10_000) }
                }
                if try await settle(pulled) == nil {
                    // The cursor is not where this pull started (another poll moved it).
                    prefetched?.cancel()
                    prefetched = nil
                }
                failures = 0
            } catch {
                prefetched?.cancel()
                prefetched = nil
                if Task.isCancelled { break }
                failures += 1
                self.state.withLock {
                    $0.healthy = false
                    $0.lastError = "\(error)"
                }
                let delay = Self.retryBackoff.delay(attempt: failures - 1)
                self.logger.info("upstream feed unavailable", metadata: ["upstream": "\(self.upstream)", "error": "\(error)", "retry": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// The cursor: the seq of the last event applied.
    public func cursor() async throws -> UInt64 {
        try await database.read { db in try self.position(db).seq }
    }

    /// The cursor and the upstream outbox incarnation it belongs to.
    private func position(_ db: Database) throws -> (seq: UInt64, incarnation: String) {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT last_seq, incarnation FROM consumer_cursors WHERE upstream = ?"), arguments: [upstream]) else {
            return (0, "")
        }
        return (UInt64(row["last_seq"] as Int64), row["incarnation"])
    }

    private func setPosition(_ db: Database, seq: UInt64, incarnation: String) throws {
        try db.execute(
            cached: """
                INSERT INTO consumer_cursors (upstream, last_seq, updated_at, incarnation) VALUES (?, ?, ?, ?)
                ON CONFLICT(upstream) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at, incarnation = excluded.incarnation
                """,
            arguments: [upstream, Int64(seq), Date().timeIntervalSince1970, incarnation]
        )
    }

    /// Pulls once and applies what arrived; returns how many events were applied.
    @discardableResult
    public func poll(waitMilliseconds: Int32) async throws -> Int {
        let (after, incarnation) = try await database.read { db in try self.position(db) }
        return try await settle(try await pull(after: after, incarnation: incarnation, waitMilliseconds: waitMilliseconds)) ?? 0
    }

    /// One pull's answer with its events' writes prepared.
    private struct Pulled: Sendable {
        let after: UInt64
        /// The outbox incarnation the cursor belonged to when pulled.
        let incarnation: String
        let response: Forge_Common_V1_PullResponse
        /// The events' write, for a cursor where this pull started.
        let write: PreparedWrite
        /// Where to resume when the upstream's outbox is not the one the cursor was read from.
        let resync: (resume: UInt64, notice: String)?
        /// The cursor once this pull is applied.
        var appliedThrough: UInt64 { max(response.events.last?.seq ?? 0, response.scannedThroughSeq, after) }
    }

    private func pull(after: UInt64, incarnation: String, waitMilliseconds: Int32) async throws -> Pulled {
        let response = try await feed.pull(
            .with {
                $0.afterSeq = after
                $0.maxEvents = batch
                $0.waitMs = waitMilliseconds
                $0.types = types
                $0.incarnation = incarnation
            },
            options: CallOptions(timeout: .milliseconds(Int64(waitMilliseconds) + 5_000))
        )
        let resync = Self.resync(after: after, incarnation: incarnation, response: response, upstream: upstream)
        let nothing: PreparedWrite = { _ in }
        let write = resync != nil || response.events.isEmpty ? nothing : try prepare(response.events)
        return Pulled(after: after, incarnation: incarnation, response: response, write: write, resync: resync)
    }

    /// Applies a pull and advances the cursor in one transaction; the events applied, or nil
    /// when the cursor is no longer where the pull started (nothing applied).
    private func settle(_ pulled: Pulled) async throws -> Int? {
        let response = pulled.response
        if let (resume, notice) = pulled.resync {
            // The upstream was restored from a backup: resume where its copy ends. Nothing
            // pulled in this round is applied.
            try await database.write { db in try self.setPosition(db, seq: resume, incarnation: response.incarnation) }
            logger.warning("upstream feed resynchronised", metadata: ["upstream": "\(upstream)", "detail": "\(notice)"])
            state.withLock { $0.notice = notice }
            return 0
        }
        let through = pulled.appliedThrough
        var inSequence = true
        if through > pulled.after || pulled.incarnation != response.incarnation {
            inSequence = try await database.write { db in
                // Guard against a concurrent poll having applied these already, or having
                // moved the cursor back (a resync) after this pull started.
                let current = try self.position(db).seq
                guard current >= pulled.after else { return false }
                if current == pulled.after {
                    try pulled.write(db)
                } else if current < through {
                    try self.prepare(response.events.filter { $0.seq > current })(db)
                }
                try self.setPosition(db, seq: max(through, current), incarnation: response.incarnation)
                return true
            }
        }
        guard inSequence else { return nil }
        let lag = response.headSeq > through ? response.headSeq - through : 0
        lagGauge.record(Int64(lag))
        state.withLock {
            $0.lag = lag
            $0.healthy = true
            $0.lastError = ""
        }
        return response.events.count
    }

    /// Where to go on when the upstream's outbox is no longer the one the cursor was read from,
    /// and what to say about it; nil when it is. A new incarnation (`forge restore`): the
    /// restored copy's events up to `incarnation_starts_after_seq` are the ones this consumer
    /// saw, so it resumes at the lower of that and its cursor, applying nothing twice. A cursor
    /// beyond the head in the same incarnation (a copy put back by other means): nothing says
    /// where the copy ends, so it re-reads from the start (applying is idempotent).
    static func resync(after: UInt64, incarnation: String, response: Forge_Common_V1_PullResponse, upstream: String) -> (resume: UInt64, notice: String)? {
        let now = RFC3339.string(from: Date())
        if !incarnation.isEmpty, !response.incarnation.isEmpty, incarnation != response.incarnation {
            let resume = min(after, response.incarnationStartsAfterSeq)
            return (resume, "\(now): \(upstream) was restored from a backup; resumed after seq \(resume) (the cursor was at \(after))")
        }
        if after > response.headSeq {
            return (0, "\(now): the cursor (\(after)) was beyond the head of \(upstream) (\(response.headSeq)); re-reading its feed from the start")
        }
        return nil
    }
}
