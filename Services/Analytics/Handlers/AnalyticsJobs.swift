import ForgeContracts
import ForgeKit
import Foundation
import GRDB

/// The daily scan: every customer's churn risk (an episode opens at high risk, once, and
/// closes below medium) and purchase cycles (the owner's reminder 30 days before a window
/// opens). Runs each day; tests move the clock and run it.
enum AnalyticsJobs {
    static let daily = "analytics.daily"

    struct Outcome: Equatable { var raised = 0; var reminded = 0 }

    @discardableResult
    static func scan(database: DatabasePool, now: Date) async throws -> Outcome {
        let moment = now.timeIntervalSince1970
        return try await database.write { db in
            let facts = try AnalyticsStore.facts(db)
            let split = facts.byAccount()
            var outcome = Outcome()
            for account in facts.accounts {
                let own = split[account.id] ?? Facts()
                if try AlertStore.track(db, account: account, risk: HealthRules.churn(HealthRules.Customer(own, accountID: account.id), at: moment), now: now) {
                    outcome.raised += 1
                }
                for cycle in RepurchaseRules.cycles(own.lines, accountID: account.id, before: moment) where RepurchaseRules.reminderDue(cycle, at: moment) {
                    if try AlertStore.remind(db, account: account, cycle: cycle, now: now) { outcome.reminded += 1 }
                }
            }
            return outcome
        }
    }

    static func handlers(database: DatabasePool, clock: any WallClock, day: TimeInterval) -> [String: JobScheduler.Handler] {
        [
            daily: { _, _ in
                let now = clock.now()
                try await scan(database: database, now: now)
                try await database.write { db in
                    _ = try JobScheduler.schedule(db, kind: daily, dueAt: now.addingTimeInterval(day), id: daily, now: now)
                }
            },
        ]
    }
}
