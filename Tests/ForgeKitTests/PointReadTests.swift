@testable import ForgeKit
import Foundation
import GRDB
import NIOCore
import NIOPosix
import Synchronization
import Testing

@Suite("Point reads on an event loop", .timeLimit(.minutes(1)))
struct PointReadTests {
    final class Entered: Sendable {
        let count = Atomic<Int>(0)
    }

    static func database() throws -> DatabasePool {
        try ForgeDatabase.temporary { migrator in
            migrator.registerMigration("t") { db in
                try db.execute(sql: "CREATE TABLE answer (id INTEGER PRIMARY KEY, score INTEGER NOT NULL)")
                try db.execute(sql: "INSERT INTO answer (id, score) VALUES (1, 9)")
            }
        }
    }

    @Test("a point read on an event loop answers while async reads hold every reader of the pool (it never waits for one)")
    func independentOfThePool() async throws {
        let pool = try Self.database()
        let gate = DispatchSemaphore(value: 0)
        let entered = Entered()
        let readers = pool.configuration.maximumReaderCount
        let holders = (0..<readers).map { _ in
            Task {
                try await pool.read { db in
                    entered.count.add(1, ordering: .relaxed)
                    gate.wait()
                    return try Int.fetchOne(db, sql: "SELECT score FROM answer")
                }
            }
        }
        for _ in 0..<500 where entered.count.load(ordering: .relaxed) < readers { try await Task.sleep(for: .milliseconds(10)) }
        #expect(entered.count.load(ordering: .relaxed) == readers)

        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let score = try await loop.submit { try pool.pointRead { db in try Int.fetchOne(db, sql: "SELECT score FROM answer") } }.get()
        #expect(score == 9)

        for _ in holders { gate.signal() }
        for holder in holders { #expect(try await holder.value == 9) }
    }

    @Test("a point read sees what the pool's writer committed, on a loop and off one")
    func seesCommits() async throws {
        let pool = try Self.database()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        #expect(try await loop.submit { try pool.pointRead { db in try Int.fetchOne(db, sql: "SELECT score FROM answer") } }.get() == 9)
        try await pool.write { db in try db.execute(sql: "UPDATE answer SET score = 10") }
        #expect(try await loop.submit { try pool.pointRead { db in try Int.fetchOne(db, sql: "SELECT score FROM answer") } }.get() == 10)
        #expect(try pool.pointRead { db in try Int.fetchOne(db, sql: "SELECT score FROM answer") } == 10)
        // The connections are read-only.
        #expect(throws: DatabaseError.self) { try pool.pointRead { db in try db.execute(sql: "UPDATE answer SET score = 11") } }
    }

    @Test("a point read's statements see one snapshot; one that throws leaves its connection out of the transaction for the next")
    func oneSnapshot() async throws {
        let pool = try Self.database()
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let (before, after) = try await loop.submit {
            try pool.pointRead { db in
                let before = try Int.fetchOne(db, sql: "SELECT score FROM answer")
                // Committed by the pool's writer between the read's two statements.
                try pool.writeWithoutTransaction { db in try db.execute(sql: "UPDATE answer SET score = 12") }
                return (before, try Int.fetchOne(db, sql: "SELECT score FROM answer"))
            }
        }.get()
        #expect(before == 9 && after == 9)
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await loop.submit { try pool.pointRead { _ in throw Refused() } }.get()
        }
        // Left inside the failed read's transaction, the next would fail to begin its own or
        // see the old snapshot.
        try await pool.write { db in try db.execute(sql: "UPDATE answer SET score = 13") }
        #expect(try await loop.submit { try pool.pointRead { db in try Int.fetchOne(db, sql: "SELECT score FROM answer") } }.get() == 13)
    }
}
