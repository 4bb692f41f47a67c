import ForgeContracts
@testable import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import GRDB
import Logging
import NIOCore
import Testing

/// A producer serving its outbox over the real wire, and a consumer with its own database.
private struct Pair {
    let producer: DatabasePool
    let consumerDatabase: DatabasePool
    let server: WireServer
    let client: WireClient
    let observation: AnyDatabaseCancellable

    static func make() async throws -> Pair {
        let producer = try ForgeDatabase.temporary(migrations: testMigrations)
        let signal = CommitSignal()
        let observation = try signal.observe(table: "outbox", in: producer)
        var router = RPCRouter()
        EventFeedService(database: producer, signal: signal).register(in: &router)
        let server = WireServer(configuration: ServerConfiguration(port: 0), router: router)
        let address = try await server.start()
        let client = try WireClient(host: "127.0.0.1", port: address.port!)
        return Pair(
            producer: producer,
            consumerDatabase: try ForgeDatabase.temporary(migrations: testMigrations),
            server: server,
            client: client,
            observation: observation
        )
    }

    /// A consumer that records how often each event was applied; `crashAfter` makes the apply
    /// throw on that many-th event of a batch, as a crash between apply and cursor would;
    /// `failOnceAt` makes only the apply of that many-th event throw.
    func consumer(crashAfter: Int? = nil, failOnceAt: Int? = nil, batch: Int32 = 500) -> EventConsumer {
        let counter = Counter()
        return EventConsumer(upstream: "producer", feed: client, database: consumerDatabase, batch: batch, logger: Logger(label: "test")) { db, event in
            let applied = counter.next()
            if let crashAfter, applied > crashAfter {
                throw CancellationError()
            }
            if applied == failOnceAt {
                throw CancellationError()
            }
            try db.execute(
                sql: "INSERT INTO applied (event_id, times) VALUES (?, 1) ON CONFLICT(event_id) DO UPDATE SET times = times + 1",
                arguments: [event.eventID]
            )
        }
    }

    func appliedCounts() async throws -> [Int] {
        try await consumerDatabase.read { db in try Int.fetchAll(db, sql: "SELECT times FROM applied") }
    }

    func stop() async {
        observation.cancel()
        await client.close()
        await server.shutdown()
    }
}

private final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
}

import Synchronization

@Suite("Event consumers", .timeLimit(.minutes(1)))
struct ConsumerTests {
    /// How long a poll may wait where events are waiting for it (it answers at once): its
    /// deadline is this plus 5 s, which a CI run with every suite starting at once has spent
    /// before a local call got its turn.
    static let patience: Int32 = 20_000
    @Test("a consumer applies every event once and advances its cursor with it")
    func appliesOnce() async throws {
        let pair = try await Pair.make()
        for id in 1...5 { try await writeNote(pair.producer, id: "\(id)") }
        let consumer = pair.consumer()
        #expect(try await consumer.poll(waitMilliseconds: Self.patience) == 5)
        #expect(try await consumer.cursor() == 5)
        #expect(try await pair.appliedCounts() == [1, 1, 1, 1, 1])
        #expect(consumer.status.lag == 0)
        await pair.stop()
    }

    @Test("a running consumer catching up over many batches applies every event once and in order, also when a batch fails")
    func runningCatchesUpInOrder() async throws {
        let pair = try await Pair.make()
        for id in 1...95 { try await writeNote(pair.producer, id: "\(id)") }
        // Ten events a pull: the next pull is under way while a batch is written, and the
        // fourth batch fails once (its prefetched successor must not be applied after it).
        let consumer = pair.consumer(failOnceAt: 37, batch: 10)
        let running = Task { try await consumer.run() }
        let caughtUp = try await Poll.until(seconds: 30) { try await consumer.cursor() == 95 }
        running.cancel()
        #expect(caughtUp)
        #expect(try await pair.appliedCounts() == Array(repeating: 1, count: 95))
        let order = try await pair.consumerDatabase.read { db in try String.fetchAll(db, sql: "SELECT event_id FROM applied ORDER BY rowid") }
        let produced = try await pair.producer.read { db in try String.fetchAll(db, sql: "SELECT event_id FROM outbox ORDER BY seq") }
        #expect(order == produced, "applied in the feed's order")
        await pair.stop()
    }

    @Test("a restarted consumer resumes after its cursor: nothing lost, nothing applied twice")
    func resumesAfterRestart() async throws {
        let pair = try await Pair.make()
        for id in 1...3 { try await writeNote(pair.producer, id: "\(id)") }
        _ = try await pair.consumer().poll(waitMilliseconds: Self.patience)
        for id in 4...6 { try await writeNote(pair.producer, id: "\(id)") }

        let restarted = pair.consumer()
        #expect(try await restarted.poll(waitMilliseconds: Self.patience) == 3)
        #expect(try await pair.appliedCounts().sorted() == [1, 1, 1, 1, 1, 1])
        await pair.stop()
    }

    @Test("a crash between applying and advancing the cursor loses nothing and applies nothing twice")
    func crashBetweenApplyAndCursor() async throws {
        let pair = try await Pair.make()
        for id in 1...4 { try await writeNote(pair.producer, id: "\(id)") }

        // Two events of the batch are applied, then the process "dies" before the cursor moves.
        await #expect(throws: (any Error).self) {
            _ = try await pair.consumer(crashAfter: 2).poll(waitMilliseconds: Self.patience)
        }
        #expect(try await pair.appliedCounts().isEmpty, "the half-applied batch rolled back with its cursor")
        #expect(try await pair.consumer().cursor() == 0)

        _ = try await pair.consumer().poll(waitMilliseconds: Self.patience)
        #expect(try await pair.appliedCounts() == [1, 1, 1, 1])
        await pair.stop()
    }

    @Test("while the upstream is down the consumer reports it and catches up when it returns")
    func catchesUp() async throws {
        let pair = try await Pair.make()
        try await writeNote(pair.producer, id: "1")
        let port = pair.server.localAddress!.port!
        await pair.server.shutdown()
        let consumer = pair.consumer()
        await #expect(throws: RPCError.self) { _ = try await consumer.poll(waitMilliseconds: 0) }

        // The upstream comes back on the same port with the same outbox.
        var router = RPCRouter()
        EventFeedService(database: pair.producer, signal: CommitSignal()).register(in: &router)
        let again = WireServer(configuration: ServerConfiguration(port: port), router: router)
        try await again.start()
        var applied = 0
        for _ in 0..<200 where applied == 0 {
            applied = (try? await consumer.poll(waitMilliseconds: 0)) ?? 0
            if applied == 0 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(applied == 1)
        await pair.client.close()
        await again.shutdown()
    }
}

@Suite("Event consumers with a type filter", .timeLimit(.minutes(1)))
struct FilteredConsumerTests {
    static let patience = ConsumerTests.patience
    @Test("a consumer filtering by type moves its cursor past events it does not want, so its lag reaches zero")
    func lagWithFilter() async throws {
        let producer = try ForgeDatabase.temporary(migrations: testMigrations)
        var router = RPCRouter()
        EventFeedService(database: producer, signal: CommitSignal()).register(in: &router)
        let server = WireServer(configuration: ServerConfiguration(port: 0), router: router)
        let address = try await server.start()
        let client = try WireClient(host: "127.0.0.1", port: address.port!)
        let consumerDatabase = try ForgeDatabase.temporary(migrations: testMigrations)
        try await writeNote(producer, id: "1")  // a "Money" event
        _ = try await producer.write { db in
            try Outbox.append(db, Forge_Common_V1_PageRequest(), at: Date())  // a "PageRequest" event, not wanted
        }
        let consumer = EventConsumer(upstream: "producer", feed: client, database: consumerDatabase, types: ["Money"], logger: Logger(label: "test")) { _, _ in }
        #expect(try await consumer.poll(waitMilliseconds: Self.patience) == 1)
        #expect(try await consumer.cursor() == 2, "the cursor moved past the unwanted event")
        #expect(consumer.status.lag == 0)
        await client.close()
        await server.shutdown()
    }
}
