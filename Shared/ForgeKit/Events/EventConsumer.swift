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
    private let lagGauge: Gauge
    private let state = Mutex<(lag: UInt64, healthy: Bool, lastError: String)>((0, true, ""))

    /// - Parameters:
    ///   - upstream: the producing service's name; also the cursor's key.
    ///   - types: event types to receive; empty for all.
    public init(
        upstream: String,
        feed: any RPCChannel,
        database: any DatabaseWriter,
        types: [String] = [],
        logger: Logger,
        apply: @escaping Apply
    ) {
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

    public var status: (lag: UInt64, healthy: Bool, detail: String) {
        state.withLock { ($0.lag, $0.healthy, $0.lastError) }
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
        try await database.read { db in try self.cursor(db) }
    }

    private func cursor(_ db: Database) throws -> UInt64 {
        UInt64(try Int64.fetchOne(db, sql: "SELECT last_seq FROM consumer_cursors WHERE upstream = ?", arguments: [upstream]) ?? 0)
    }

    /// Pulls once and applies what arrived; returns how many events were applied.
    @discardableResult
    public func poll(waitMilliseconds: Int32) async throws -> Int {
        let after = try await cursor()
        let response = try await feed.pull(
            .with {
                $0.afterSeq = after
                $0.maxEvents = 500
                $0.waitMs = waitMilliseconds
                $0.types = types
            },
            options: CallOptions(timeout: .milliseconds(Int64(waitMilliseconds) + 5_000))
        )
        let events = response.events
        let through = max(events.last?.seq ?? 0, response.scannedThroughSeq)
        if through > after {
            try await database.write { db in
                // Guard against a concurrent poll having applied these already.
                let current = try self.cursor(db)
                for event in events where event.seq > current {
                    try self.apply(db, event)
                }
                try db.execute(
                    cached: """
                        INSERT INTO consumer_cursors (upstream, last_seq, updated_at) VALUES (?, ?, ?)
                        ON CONFLICT(upstream) DO UPDATE SET last_seq = excluded.last_seq, updated_at = excluded.updated_at
                        """,
                    arguments: [self.upstream, Int64(through), Date().timeIntervalSince1970]
                )
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
}
