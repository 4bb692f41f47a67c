@testable import ForgeKit
import Foundation
import GRDB
import Logging
import Synchronization
import Testing

/// CPU time that moves only when told to, next to a manual wall clock.
private final class FakeCPU: Sendable {
    private let used = Mutex(Duration.zero)
    let releases = Mutex(0)

    func burn(_ duration: Duration) { used.withLock { $0 += duration } }
    var now: @Sendable () -> Duration { { [self] in used.withLock { $0 } } }
    var releaseCount: Int { releases.withLock { $0 } }
}

@Suite("Idle memory release on a manual clock")
struct IdleMemoryReleaseTests {
    private func make(_ clock: ManualClock, _ cpu: FakeCPU) -> IdleMemoryRelease {
        IdleMemoryRelease(
            clock: clock,
            cpuTime: cpu.now,
            quietPeriod: 30,
            release: { [cpu] in cpu.releases.withLock { $0 += 1 } },
            logger: Logger(label: "test")
        )
    }

    /// Five-second checks with `cpu` burnt in each; returns how many released.
    private func checks(_ count: Int, _ release: IdleMemoryRelease, _ clock: ManualClock, _ cpu: FakeCPU, burning: Duration) -> [Bool] {
        (0..<count).map { _ in
            clock.advance(by: 5)
            cpu.burn(burning)
            return release.check()
        }
    }

    @Test("after a burst of work, 30 s of quiet releases memory once; a busy process is left alone")
    func releasesOnceAfterQuiet() {
        let clock = ManualClock()
        let cpu = FakeCPU()
        let release = make(clock, cpu)
        #expect(release.check() == false, "the first check only takes a reading")
        // Busy for a minute: half a core.
        #expect(checks(12, release, clock, cpu, burning: .milliseconds(2500)).allSatisfy { !$0 })
        #expect(cpu.releaseCount == 0, "never while working")
        // Quiet (health checks: 1 ms per 5 s): released when 30 s have passed, then not again.
        let quiet = checks(10, release, clock, cpu, burning: .milliseconds(1))
        #expect(quiet == [false, false, false, false, false, true, false, false, false, false])
        #expect(cpu.releaseCount == 1)
        // The next burst re-arms it.
        _ = checks(2, release, clock, cpu, burning: .seconds(1))
        _ = checks(6, release, clock, cpu, burning: .zero)
        #expect(cpu.releaseCount == 2)
    }

    @Test("a process that has been quiet since it started has nothing to give back")
    func freshProcessReleasesNothing() {
        let clock = ManualClock()
        let cpu = FakeCPU()
        let release = make(clock, cpu)
        release.check()
        _ = checks(30, release, clock, cpu, burning: .milliseconds(2))
        #expect(cpu.releaseCount == 0)
    }

    @Test("work shorter than a check interval still counts: quiet is measured from its end")
    func quietRestartsAfterShortWork() {
        let clock = ManualClock()
        let cpu = FakeCPU()
        let release = make(clock, cpu)
        release.check()
        _ = checks(1, release, clock, cpu, burning: .milliseconds(500))
        // 25 s quiet, a short burst, then quiet again: released 30 s after the burst, not before.
        #expect(checks(5, release, clock, cpu, burning: .zero).allSatisfy { !$0 })
        _ = checks(1, release, clock, cpu, burning: .milliseconds(200))
        #expect(checks(5, release, clock, cpu, burning: .zero).allSatisfy { !$0 })
        #expect(checks(1, release, clock, cpu, burning: .zero) == [true])
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
