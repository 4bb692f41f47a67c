import ForgeContracts
@testable import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import GRDB
import Synchronization
import SwiftProtobuf
import Testing

/// Counts runs of a job kind and fails while told to.
private final class Probe: Sendable {
    let runs = Mutex<[String]>([])
    let failing = Mutex(false)

    var handler: JobScheduler.Handler {
        { [self] _, job in
            runs.withLock { $0.append(job.id) }
            if failing.withLock({ $0 }) { throw RPCError(.unavailable, "mail server down") }
        }
    }
    var count: Int { runs.withLock { $0.count } }
}

@Suite("Durable jobs on a manual clock")
struct JobTests {
    private func schedule(_ database: DatabasePool, clock: ManualClock, in seconds: TimeInterval, id: String = "job-1", maxAttempts: Int = 3) async throws {
        let now = clock.now()
        _ = try await database.write { db in
            try JobScheduler.schedule(db, kind: "remind", dueAt: now.addingTimeInterval(seconds), id: id, maxAttempts: maxAttempts, now: now)
        }
    }

    @Test("a job runs once it is due, not before")
    func runsWhenDue() async throws {
        let database = try ForgeDatabase.temporary()
        let clock = ManualClock()
        let probe = Probe()
        let scheduler = JobScheduler(database: database, clock: clock, handlers: ["remind": probe.handler])
        try await schedule(database, clock: clock, in: 7 * 86400)

        #expect(try await scheduler.runDue() == 0)
        clock.advance(by: 7 * 86400 - 1)
        #expect(try await scheduler.runDue() == 0)
        clock.advance(by: 1)
        #expect(try await scheduler.runDue() == 1)
        #expect(try await scheduler.runDue() == 0, "a done job does not run again")
        #expect(try await scheduler.jobs(state: "done", limit: 10).map(\.id) == ["job-1"])
    }

    @Test("a job due now wakes the runner when its transaction commits instead of waiting for the next poll (an hour here); one due later waits")
    func dueNowWakesTheRunner() async throws {
        let database = try ForgeDatabase.temporary()
        let clock = ManualClock()
        let probe = Probe()
        let scheduler = JobScheduler(database: database, clock: clock, handlers: ["remind": probe.handler], pollInterval: .seconds(3600))
        let runner = Task { try await scheduler.run() }
        defer { runner.cancel() }
        try await schedule(database, clock: clock, in: 0, id: "first")
        #expect(await Poll.until(seconds: 20) { probe.count == 1 }, "the first runs on the runner's first round or by its wake")
        // The runner now waits for an hour: only the wake-up brings the next one in time.
        try await schedule(database, clock: clock, in: 60, id: "later")
        try await schedule(database, clock: clock, in: 0, id: "second")
        #expect(await Poll.until(seconds: 20) { probe.count == 2 })
        #expect(probe.runs.withLock { $0 } == ["first", "second"])
        runner.cancel()
        _ = try? await runner.value
    }

    @Test("a job interrupted by shutdown counts no attempt and keeps its lease for the next runner")
    func shutdownIsNotAFailure() async throws {
        let database = try ForgeDatabase.temporary()
        let clock = ManualClock()
        let started = AsyncStream<Void>.makeStream()
        let scheduler = JobScheduler(database: database, clock: clock, handlers: ["remind": { _, _ in
            started.continuation.yield()
            // Blocks until the cancellation that shutdown brings (which ends the sleep at once).
            try await Task.sleep(for: .seconds(3600))
        }])
        try await schedule(database, clock: clock, in: 0)
        let running = Task { try await scheduler.runDue() }
        var iterator = started.stream.makeAsyncIterator()
        await iterator.next()
        running.cancel()
        _ = try? await running.value
        let job = try await scheduler.jobs(state: "running", limit: 10).first
        #expect(job?.id == "job-1")
        #expect(job?.attempts == 0)
        #expect(job?.lastError == "")
    }

    @Test("a failing job retries with backoff, then is dead until an admin retries it")
    func retriesThenDead() async throws {
        let database = try ForgeDatabase.temporary()
        let clock = ManualClock()
        let probe = Probe()
        probe.failing.withLock { $0 = true }
        let scheduler = JobScheduler(database: database, clock: clock, handlers: ["remind": probe.handler])
        try await schedule(database, clock: clock, in: 0, maxAttempts: 3)

        #expect(try await scheduler.runDue() == 1)
        #expect(try await scheduler.runDue() == 0, "the retry waits for its backoff")
        clock.advance(by: 30)
        #expect(try await scheduler.runDue() == 1)
        clock.advance(by: 60)
        #expect(try await scheduler.runDue() == 1)
        let dead = try await scheduler.jobs(state: "dead", limit: 10)
        #expect(dead.map(\.id) == ["job-1"])
        #expect(dead.first?.attempts == 3)
        #expect(dead.first?.lastError.contains("mail server down") == true)
        clock.advance(by: 86400)
        #expect(try await scheduler.runDue() == 0, "dead jobs stay dead")

        // The admin RPC puts it back; it runs and succeeds now the failure is gone.
        probe.failing.withLock { $0 = false }
        let jobs = JobsService(scheduler: scheduler)
        let listed = try await jobs.listJobs(.with { $0.state = .dead }, context: .test())
        #expect(listed.jobs.map(\.id) == ["job-1"])
        let retried = try await jobs.retryJob(.with { $0.id = "job-1" }, context: .test())
        #expect(retried.job.state == .pending)
        #expect(try await scheduler.runDue() == 1)
        #expect(try await scheduler.jobs(state: "done", limit: 10).map(\.id) == ["job-1"])
        #expect(probe.count == 4)
    }

    @Test("a job leased by a runner that crashed is taken over once the lease expires")
    func leaseTakeover() async throws {
        let database = try ForgeDatabase.temporary()
        let clock = ManualClock()
        try await schedule(database, clock: clock, in: 0)
        // Runner A claimed the job (as runDue does) and died before finishing it.
        try await database.write { db in
            try db.execute(sql: "UPDATE jobs SET state = 'running', lease_owner = 'runner-a', lease_until = ?", arguments: [clock.now().timeIntervalSince1970 + 60])
        }

        let probe = Probe()
        let runnerB = JobScheduler(database: database, clock: clock, handlers: ["remind": probe.handler], owner: "runner-b", lease: 60)
        #expect(try await runnerB.runDue() == 0, "the lease still holds")
        clock.advance(by: 61)
        #expect(try await runnerB.runDue() == 1)
        #expect(probe.count == 1)
        #expect(try await runnerB.jobs(state: "done", limit: 10).map(\.id) == ["job-1"])
    }

    @Test("scheduled jobs survive a restart of the process")
    func surviveRestart() async throws {
        let path = NSTemporaryDirectory() + "forge-jobs-\(UUID().uuidString).sqlite"
        let clock = ManualClock()
        do {
            let database = try ForgeDatabase.open(path: path, durability: .full)
            try await schedule(database, clock: clock, in: 3600)
            try database.close()
        }
        let reopened = try ForgeDatabase.open(path: path, durability: .full)
        let probe = Probe()
        let scheduler = JobScheduler(database: reopened, clock: clock, handlers: ["remind": probe.handler])
        clock.advance(by: 3600)
        #expect(try await scheduler.runDue() == 1)
        #expect(probe.count == 1)
    }

    @Test("RetryJob without an id, or of an unknown job, is refused")
    func retryValidation() async throws {
        let scheduler = JobScheduler(database: try ForgeDatabase.temporary(), clock: ManualClock(), handlers: [:])
        let jobs = JobsService(scheduler: scheduler)
        let missing = await #expect(throws: RPCError.self) { _ = try await jobs.retryJob(.init(), context: .test()) }
        #expect(missing?.violations.map(\.field) == ["id"])
        let unknown = await #expect(throws: RPCError.self) { _ = try await jobs.retryJob(.with { $0.id = "job-x" }, context: .test()) }
        #expect(unknown?.code == .notFound)
    }
}
