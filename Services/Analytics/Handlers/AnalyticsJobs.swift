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

    /// Measures every customer from the facts in memory (read outside the write), then records
    /// in one short transaction the episodes and reminders that change.
    @discardableResult
    static func scan(database: DatabasePool, cache: FactsCache, now: Date) async throws -> Outcome {
        let moment = now.timeIntervalSince1970
        let (facts, split) = try await cache.facts()
        let measured = facts.accounts.map { account in
            let own = split[account.id] ?? Facts()
            return (account, HealthRules.churn(HealthRules.Customer(own, accountID: account.id), at: moment),
                    RepurchaseRules.cycles(own.lines, accountID: account.id, before: moment).filter { RepurchaseRules.reminderDue($0, at: moment) })
        }
        return try await database.write { db in
            var outcome = Outcome()
            for (account, risk, due) in measured {
                if try AlertStore.track(db, account: account, risk: risk, now: now) { outcome.raised += 1 }
                for cycle in due where try AlertStore.remind(db, account: account, cycle: cycle, now: now) { outcome.reminded += 1 }
            }
            return outcome
        }
    }

    static func ensureDaily(database: DatabasePool, now: Date, day: TimeInterval) async throws {
        try await database.write { db in
            try JobScheduler.ensureRecurring(db, kind: daily, firstDue: now.addingTimeInterval(day), now: now)
        }
    }

    static func handlers(database: DatabasePool, cache: FactsCache, clock: any WallClock, day: TimeInterval) -> [String: JobScheduler.Handler] {
        [
            daily: { _, _ in
                let now = clock.now()
                try await scan(database: database, cache: cache, now: now)
                try await database.write { db in
                    try JobScheduler.scheduleNextRun(db, kind: daily, dueAt: now.addingTimeInterval(day), now: now)
                }
            },
        ]
    }
}
