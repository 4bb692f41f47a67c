@testable import ForgeAccounts
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Accounts: hand-over tasks for the owner's manager")
struct HandoverTaskTests {
    let eastManager = AccountsFixture.context("mgr-east", ["sales_manager"], team: "east", method: "ListHandoverTasks")
    let westManager = AccountsFixture.context("mgr-west", ["sales_manager"], team: "west", method: "ListHandoverTasks")

    private func silence(_ fixture: AccountsFixture, days: Double) async throws {
        let stale = StaleAccounts(database: fixture.database, clock: fixture.clock, policy: StalePolicy())
        let scheduler = JobScheduler(database: fixture.database, clock: fixture.clock, handlers: [
            StaleAccounts.jobKind: { payload, _ in try await stale.check(accountID: String(decoding: payload, as: UTF8.self)) },
        ])
        for _ in 0..<Int(days) {
            fixture.clock.advance(by: 86400)
            _ = try await scheduler.runDue()
        }
    }

    @Test("14 silent days open one task for the owner's team manager; another team's manager sees nothing")
    func taskForTheTeamManager() async throws {
        let fixture = try AccountsFixture()
        let account = try await fixture.create("台州水泵")
        try await silence(fixture, days: 13)
        #expect(try await fixture.handler.listHandoverTasks(.init(), context: eastManager).tasks.isEmpty)
        try await silence(fixture, days: 1)
        let tasks = try await fixture.handler.listHandoverTasks(.init(), context: eastManager).tasks
        #expect(tasks.map(\.accountID) == [account.id])
        #expect(tasks.first?.ownerID == "rep-a" && tasks.first?.daysSilent == 14 && tasks.first?.accountName == "台州水泵")
        #expect(try await fixture.handler.listHandoverTasks(.init(), context: westManager).tasks.isEmpty)
        #expect(try await fixture.handler.listHandoverTasks(.with { $0.team = "east" }, context: westManager).tasks.isEmpty)
        try await silence(fixture, days: 50)
        #expect(try await fixture.handler.listHandoverTasks(.init(), context: eastManager).tasks.count == 1, "the revisit pool opens no second task")
    }

    @Test("a new owner closes the task; so does a manager completing it, once")
    func closing() async throws {
        let fixture = try AccountsFixture()
        let reassigned = try await fixture.create("温州阀门")
        let completed = try await fixture.create("丽水轴承")
        try await silence(fixture, days: 14)
        #expect(try await fixture.handler.listHandoverTasks(.init(), context: eastManager).tasks.count == 2)

        let current = try await fixture.handler.getAccount(.with { $0.id = reassigned.id }, context: eastManager).account
        _ = try await fixture.handler.assignOwner(.with {
            $0.accountID = reassigned.id
            $0.ownerID = "rep-c"
            $0.reason = "交接"
            $0.version = current.version
        }, context: eastManager)
        let open = try await fixture.handler.listHandoverTasks(.init(), context: eastManager).tasks
        #expect(open.map(\.accountID) == [completed.id])

        let done = try await fixture.handler.completeHandoverTask(.with {
            $0.id = open[0].id
            $0.resolution = "已电话督促 rep-a 本周拜访"
        }, context: eastManager).task
        #expect(done.completedBy == "mgr-east" && done.hasCompletedAt)
        let again = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.completeHandoverTask(.with { $0.id = open[0].id; $0.resolution = "again" }, context: eastManager)
        }
        #expect(again?.code == .failedPrecondition)
        let other = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.completeHandoverTask(.with { $0.id = open[0].id; $0.resolution = "x" }, context: westManager)
        }
        #expect(other?.code == .notFound)
        #expect(try await fixture.handler.listHandoverTasks(.init(), context: eastManager).tasks.isEmpty)
        #expect(try await fixture.handler.listHandoverTasks(.with { $0.includeCompleted = true }, context: eastManager).tasks.count == 2)
    }
}
