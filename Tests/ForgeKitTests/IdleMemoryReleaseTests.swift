@testable import ForgeKit
import Foundation
import GRDB
import Logging
import Synchronization
import Testing

/// An `IdleMemoryRelease` on a manual wall clock and CPU time that moves only when told to,
/// counting the releases instead of making them.
private struct Fixture {
    private final class Counters: Sendable {
        let used = Mutex(Duration.zero)
        let releases = Mutex(0)
    }

    let clock = ManualClock()
    private let counters = Counters()
    let release: IdleMemoryRelease

    init() {
        let counters = counters
        release = IdleMemoryRelease(
            clock: clock,
            cpuTime: { counters.used.withLock { $0 } },
            quietPeriod: 30,
            release: { counters.releases.withLock { $0 += 1 } },
            logger: Logger(label: "test")
        )
    }

    var releaseCount: Int { counters.releases.withLock { $0 } }

    /// `count` five-second checks with `burning` CPU used in each; whether each released.
    func checks(_ count: Int, burning: Duration) -> [Bool] {
        (0..<count).map { _ in
            clock.advance(by: 5)
            counters.used.withLock { $0 += burning }
            return release.check()
        }
    }
}

@Suite("Idle memory release on a manual clock")
struct IdleMemoryReleaseTests {
    @Test("after a burst of work, 30 s of quiet releases memory once; a busy process is left alone")
    func releasesOnceAfterQuiet() {
        let fixture = Fixture()
        #expect(fixture.release.check() == false, "the first check only takes a reading")
        // Busy for a minute: half a core.
        #expect(fixture.checks(12, burning: .milliseconds(2500)).allSatisfy { !$0 })
        #expect(fixture.releaseCount == 0, "never while working")
        // Quiet (health checks: 1 ms per 5 s): released when 30 s have passed, then not again.
        let quiet = fixture.checks(10, burning: .milliseconds(1))
        #expect(quiet == [false, false, false, false, false, true, false, false, false, false])
        #expect(fixture.releaseCount == 1)
        // The next burst re-arms it.
        _ = fixture.checks(2, burning: .seconds(1))
        _ = fixture.checks(6, burning: .zero)
        #expect(fixture.releaseCount == 2)
    }

    @Test("a process that has been quiet since it started has nothing to give back")
    func freshProcessReleasesNothing() {
        let fixture = Fixture()
        fixture.release.check()
        _ = fixture.checks(30, burning: .milliseconds(2))
        #expect(fixture.releaseCount == 0)
    }

    @Test("work shorter than a check interval still counts: quiet is measured from its end")
    func quietRestartsAfterShortWork() {
        let fixture = Fixture()
        fixture.release.check()
        _ = fixture.checks(1, burning: .milliseconds(500))
        // 25 s quiet, a short burst, then quiet again: released 30 s after the burst, not before.
        #expect(fixture.checks(5, burning: .zero).allSatisfy { !$0 })
        _ = fixture.checks(1, burning: .milliseconds(200))
        #expect(fixture.checks(5, burning: .zero).allSatisfy { !$0 })
        #expect(fixture.checks(1, burning: .zero) == [true])
    }

    @Test("releasing empties the pool's caches and the database keeps working")
    func realReleaseKeepsTheDatabaseWorking() async throws {
        let database = try ForgeDatabase.temporary { migrator in
            migrator.registerMigration("t") { db in
                try db.create(table: "t") { $0.column("id", .integer).primaryKey(); $0.column("v", .text) }
            }
        }
        try await database.write { db in
            for id in 0..<2_000 {
                try db.execute(sql: "INSERT INTO t (id, v) VALUES (?, ?)", arguments: [id, String(repeating: "x", count: 200)])
            }
        }
        IdleMemoryRelease.releaseMemory(of: database)
        let count = try await database.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") }
        #expect(count == 2_000)
        #expect(IdleMemoryRelease.processCPUTime() > .zero)
    }
}
