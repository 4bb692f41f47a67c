import ForgeContracts
@testable import ForgeKit
import ForgeWire
import Foundation
import GRDB
import NIOCore
import NIOEmbedded
import SwiftProtobuf
import Testing

@Suite("Outbox and EventFeed/Pull", .timeLimit(.minutes(1)))
struct OutboxTests {
    @Test("events come back in commit order with strictly increasing seq, typed and attributed")
    func order() async throws {
        let database = try ForgeDatabase.temporary(migrations: testMigrations)
        for id in ["a", "b", "c"] {
            try await writeNote(database, id: id)
        }
        let feed = EventFeedService(database: database, signal: CommitSignal())
        let response = try await feed.pull(.with { $0.afterSeq = 0 }, context: .test())
        #expect(response.events.map(\.seq) == [1, 2, 3])
        #expect(response.events.map(\.accountID) == ["acc_a", "acc_b", "acc_c"])
        #expect(response.events.allSatisfy { $0.type == "Money" && $0.eventID.hasPrefix("evt_") })
        #expect(try Forge_Common_V1_Money(serializedBytes: response.events[1].payload).currencyCode == "b")
        #expect(response.headSeq == 3)

        let after = try await feed.pull(.with { $0.afterSeq = 2 }, context: .test())
        #expect(after.events.map(\.seq) == [3])
    }

    @Test("a rolled-back change leaves no event")
    func rollback() async throws {
        let database = try ForgeDatabase.temporary(migrations: testMigrations)
        await #expect(throws: (any Error).self) {
            try await database.write { db in
                try Outbox.append(db, Forge_Common_V1_Money(), at: Date())
                try db.execute(sql: "INSERT INTO note (id, text) VALUES (NULL, NULL)")
            }
        }
        let count = try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") }
        #expect(count == 0)
    }

    @Test("a long poll wakes when a commit writes an event, not when its wait runs out")
    func longPollWakesOnCommit() async throws {
        let database = try ForgeDatabase.temporary(migrations: testMigrations)
        let signal = CommitSignal()
        let observation = try signal.observe(table: "outbox", in: database)
        defer { observation.cancel() }
        let feed = EventFeedService(database: database, signal: signal)

        let generation = signal.generation
        let poll = Task {
            try await feed.pull(.with { $0.waitMs = 30_000 }, context: .test())
        }
        // The poll is waiting (or about to); a commit must wake it.
        try await writeNote(database, id: "woken")
        let response = try await poll.value
        #expect(response.events.map(\.accountID) == ["acc_woken"])
        #expect(signal.generation > generation, "the commit signalled")
    }

    @Test("closing the signal (graceful shutdown) answers a waiting long poll at once, and every later one")
    func closeReleasesLongPolls() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let database = try ForgeDatabase.temporary(migrations: testMigrations)
        let signal = CommitSignal(eventLoop: loop)
        let feed = EventFeedService(database: database, signal: signal)
        let waiting = Task { try await feed.pull(.with { $0.waitMs = 30_000 }, context: .test()) }
        while signal.armedTimeouts < 1 { await Task.yield() }
        signal.close()
        // Without the loop's clock moving: the poll returns because the signal closed.
        #expect(try await waiting.value.events.isEmpty)
        #expect(signal.armedTimeouts == 0)
        #expect(try await feed.pull(.with { $0.waitMs = 30_000 }, context: .test()).events.isEmpty, "a new poll does not wait either")
        await loop.shutdownGracefully()
    }

    @Test("a wait runs out on its event loop's clock; a commit first wakes it and disarms the timer")
    func waitTimeoutOnTheLoopClock() async throws {
        let loop = NIOAsyncTestingEventLoop()
        let signal = CommitSignal(eventLoop: loop)

        let timingOut = Task { await signal.wait(beyond: signal.generation, timeout: .seconds(30)) }
        while signal.armedTimeouts < 1 { await Task.yield() }
        await loop.advanceTime(by: .seconds(29))
        #expect(signal.armedTimeouts == 1, "still waiting after 29 s")
        await loop.advanceTime(by: .seconds(1))
        await timingOut.value
        #expect(signal.armedTimeouts == 0)

        let woken = Task { await signal.wait(beyond: signal.generation, timeout: .seconds(30)) }
        while signal.armedTimeouts < 1 { await Task.yield() }
        signal.signal()
        await woken.value  // without the loop's time moving
        #expect(signal.armedTimeouts == 0, "the commit disarmed the timeout")
        await loop.shutdownGracefully()
    }

    @Test("a poll with nothing new answers empty once its wait is over")
    func emptyAfterWait() async throws {
        let database = try ForgeDatabase.temporary(migrations: testMigrations)
        let feed = EventFeedService(database: database, signal: CommitSignal())
        let response = try await feed.pull(.with { $0.waitMs = 1 }, context: .test())
        #expect(response.events.isEmpty)
    }

    @Test("max_events and wait_ms outside their bounds are INVALID_ARGUMENT naming each field")
    func bounds() async throws {
        let database = try ForgeDatabase.temporary()
        let feed = EventFeedService(database: database, signal: CommitSignal())
        let error = await #expect(throws: RPCError.self) {
            _ = try await feed.pull(.with {
                $0.maxEvents = 5000
                $0.waitMs = -1
            }, context: .test())
        }
        #expect(error?.code == .invalidArgument)
        #expect(Set(error?.violations.map(\.field) ?? []) == ["max_events", "wait_ms"])
    }
}

@Suite("Storage settings")
struct StorageTests {
    @Test("durability full means synchronous=FULL, normal means NORMAL; WAL and foreign keys are on", arguments: [
        (ServiceConfiguration.Durability.full, 2), (.normal, 1),
    ])
    func pragmas(durability: ServiceConfiguration.Durability, synchronous: Int) async throws {
        let database = try ForgeDatabase.open(path: NSTemporaryDirectory() + "forge-pragmas-\(UUID().uuidString).sqlite", durability: durability)
        let (sync, journal, foreignKeys) = try await database.write { db in
            (try Int.fetchOne(db, sql: "PRAGMA synchronous"), try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA foreign_keys"))
        }
        #expect(sync == synchronous)
        #expect(journal == "wal")
        #expect(foreignKeys == 1)
        let readSync = try await database.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(readSync == synchronous, "reader connections are configured too")
    }
}
