@testable import ForgeAccounts
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Stale-account rules on a manual clock")
struct StaleAccountTests {
    private func eventTypes(_ fixture: AccountsFixture) async throws -> [String] {
        try await fixture.database.read { db in try Outbox.events(db, after: 0, limit: 100).map(\.type) }
    }

    @Test("7 days silent → warning, 14 → hand-over, 60 → revisit pool, each once; an activity resets the clock")
    func thresholds() async throws {
        let fixture = try AccountsFixture()
        let stale = StaleAccounts(database: fixture.database, clock: fixture.clock, policy: StalePolicy())
        let scheduler = JobScheduler(database: fixture.database, clock: fixture.clock, handlers: [
            StaleAccounts.jobKind: { payload, _ in try await stale.check(accountID: String(decoding: payload, as: UTF8.self)) },
        ])
        let account = try await fixture.create("合肥重型锻压")
        let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
        func staleness() async throws -> Forge_Accounts_V1_Staleness {
            try await fixture.handler.getAccount(.with { $0.id = account.id }, context: rep).account.staleness
        }

        fixture.clock.advance(by: 6 * 86400)
        #expect(try await scheduler.runDue() == 0)
        #expect(try await staleness() == .none)

        fixture.clock.advance(by: 1 * 86400)
        #expect(try await scheduler.runDue() == 1)
        #expect(try await staleness() == .warning)

        fixture.clock.advance(by: 7 * 86400)
        #expect(try await scheduler.runDue() == 1)
        #expect(try await staleness() == .handover)

        fixture.clock.advance(by: 46 * 86400)
        #expect(try await scheduler.runDue() == 1)
        #expect(try await staleness() == .revisitPool)
        fixture.clock.advance(by: 365 * 86400)
        #expect(try await scheduler.runDue() == 0, "nothing after the revisit pool")
        #expect(try await eventTypes(fixture) == ["AccountCreated", "AccountStaleWarning", "AccountHandoverRequired", "AccountEnteredRevisitPool"])

        // A visit ends the quiet spell: the level resets and the next warning is 7 days away.
        _ = try await fixture.handler.logActivity(.with {
            $0.activity = .with {
                $0.accountID = account.id
                $0.kind = .visit
                $0.subject = "回访"
            }
        }, context: rep)
        #expect(try await staleness() == .none)
        fixture.clock.advance(by: 6 * 86400)
        #expect(try await scheduler.runDue() == 0)
        fixture.clock.advance(by: 1 * 86400)
        #expect(try await scheduler.runDue() == 1)
        #expect(try await staleness() == .warning)
    }

    @Test("thresholds come from FORGE_STALE_DAYS and drive the jobs; a bad value names the setting")
    func configuredThresholds() async throws {
        let policy = try StalePolicy.load(environment: ["FORGE_STALE_DAYS": "3, 10, 30"])
        #expect(policy.level(daysSilent: 3) == .warning && policy.level(daysSilent: 10) == .handover && policy.level(daysSilent: 30) == .revisitPool)
        #expect(try StalePolicy.load(environment: [:]).warningDays == 7)
        for bad in ["7,7,60", "a,b,c", "7,14", "0,1,2"] {
            let error = #expect(throws: ConfigurationError.self) { _ = try StalePolicy.load(environment: ["FORGE_STALE_DAYS": bad]) }
            #expect(error?.setting == "FORGE_STALE_DAYS")
        }

        let database = try ForgeDatabase.temporary(migrations: AccountStore.migrations)
        let clock = ManualClock()
        let handler = AccountsHandler(store: AccountStore(database: database, policy: policy), clock: clock)
        let stale = StaleAccounts(database: database, clock: clock, policy: policy)
        let scheduler = JobScheduler(database: database, clock: clock, handlers: [
            StaleAccounts.jobKind: { payload, _ in try await stale.check(accountID: String(decoding: payload, as: UTF8.self)) },
        ])
        let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
        let account = try await handler.createAccount(.with { $0.account = .with { $0.name = "嘉兴紧固件" } }, context: rep).account
        clock.advance(by: 3 * 86400)
        #expect(try await scheduler.runDue() == 1)
        #expect(try await handler.getAccount(.with { $0.id = account.id }, context: rep).account.staleness == .warning)
    }

    @Test("the policy maps days of silence to levels", arguments: [(0, Forge_Accounts_V1_Staleness.none), (6, .none), (7, .warning), (13, .warning), (14, .handover), (59, .handover), (60, .revisitPool), (400, .revisitPool)])
    func policy(days: Int, level: Forge_Accounts_V1_Staleness) {
        #expect(StalePolicy().level(daysSilent: days) == level)
    }
}
