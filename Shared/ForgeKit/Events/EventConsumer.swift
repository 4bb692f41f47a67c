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
public final class EventConsumer: Service, Sendable {
    /// Applies one event inside the consumer's write transaction.
    public typealias Apply = @Sendable (Database, Forge_Common_V1_Event) throws -> Void

    public let upstream: String
    private let feed: Forge_Common_V1_EventFeedClient
    private let database: any DatabaseWriter
    private let types: [String]
    private let apply: Apply
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
    public init(
        upstream: String,
        feed: any RPCChannel,
        database: any DatabaseWriter,
        types: [String] = [],
        batch: Int32 = 500,
        logger: Logger,
        apply: @escaping Apply
    ) {
        self.batch = batch
        self.upstream = upstream
        self.feed = Forge_Common_V1_EventFeedClient(channel: feed)
        self.database = database
        self.types = types
        self.apply = apply
        self.logger = logger
        self.lagGauge = Gauge(label: "forge_consumer_lag_events", dimensions: [("upstream", upstream)])
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

    private func loop() async {
        var failures = 0
        while !Task.isCancelled {
                do {
                    _ = try await self.poll(waitMilliseconds: 10_000)
                    failures = 0
                } catch {
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
        if let (resume, notice) = Self.resync(after: after, incarnation: incarnation, response: response, upstream: upstream) {
            // The upstream was restored from a backup: resume where its copy ends. Nothing
            // pulled in this round is applied.
            try await database.write { db in try self.setPosition(db, seq: resume, incarnation: response.incarnation) }
            logger.warning("upstream feed resynchronised", metadata: ["upstream": "\(upstream)", "detail": "\(notice)"])
            state.withLock { $0.notice = notice }
            return 0
        }
        let events = response.events
        let through = max(events.last?.seq ?? 0, response.scannedThroughSeq)
        if through > after || incarnation != response.incarnation {
            try await database.write { db in
                // Guard against a concurrent poll having applied these already.
                let current = try self.position(db).seq
                for event in events where event.seq > current {
                    try self.apply(db, event)
                }
                try self.setPosition(db, seq: max(through, current), incarnation: response.incarnation)
            }
        }
        let applied = max(through, after)
        let lag = response.headSeq > applied ? response.headSeq - applied : 0
        lagGauge.record(Int64(lag))
        state.withLock {
            $0.lag = lag
            $0.healthy = true
            $0.lastError = ""
        }
        return events.count
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
