import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// The time-based rules' jobs: a downgrade's grace ending, an override expiring, a rebate
/// period's settlement, the quarterly re-evaluation, and re-evaluating every member (after a
/// programme change, and each quarter as the trailing twelve months move on).
enum LoyaltyJobs {
    static let evaluateAll = "loyalty.evaluate-all"
    static let quarterly = "loyalty.quarterly"
    /// Accounts per transaction of the evaluate-all job.
    static let batch = 1_000
    /// How long one run of the evaluate-all job goes on before it hands over to its
    /// continuation (well within the scheduler's 60 s lease).
    static let runBudget: Duration = .seconds(20)

    /// The first moment (China time) of the quarter after `now`.
    static func nextQuarter(after now: Date) -> Date {
        let parts = TierRules.calendar.dateComponents([.year, .month], from: now)
        let month = parts.month ?? 1
        let start = TierRules.calendar.date(from: DateComponents(year: parts.year, month: ((month - 1) / 3) * 3 + 1, day: 1)) ?? now
        return TierRules.calendar.date(byAdding: .month, value: 3, to: start) ?? now
    }

    /// Re-evaluates accounts after `after` in batches until done or the run's budget is spent,
    /// then schedules its own continuation. Returns how many it measured.
    @discardableResult
    static func evaluateAll(database: DatabasePool, trigger: String, after: String, clock: any WallClock, day: TimeInterval) async throws -> Int {
        let started = ContinuousClock.now
        var cursor = after
        var measured = 0
        while true {
            let now = clock.now()
            let from = cursor
            let (last, count) = try await database.write { db -> (String?, Int) in
                let programme = try LoyaltyStore.programme(db, at: now)
                let ids = try String.fetchAll(db, sql: """
                    SELECT account_id FROM account_directory WHERE account_id > ?
                    UNION SELECT account_id FROM membership WHERE account_id > ?
                    ORDER BY 1 LIMIT ?
                    """, arguments: [from, from, batch])
                for id in ids {
                    try MembershipStore.evaluate(db, accountID: id, programme: programme, now: now, trigger: trigger, day: day)
                }
                return (ids.last, ids.count)
            }
            measured += count
            guard let last, count == batch else { return measured }
            cursor = last
            if ContinuousClock.now - started > runBudget {
                try await database.write { db in
                    _ = try JobScheduler.schedule(db, kind: evaluateAll, payload: Data("\(trigger)|\(last)".utf8), dueAt: now,
                                                  id: "\(evaluateAll)|\(trigger)|\(last)", now: now)
                }
                return measured
            }
        }
    }

    static func handlers(database: DatabasePool, clock: any WallClock, day: TimeInterval) -> [String: JobScheduler.Handler] {
        func job(_ body: @escaping @Sendable (Database, String, Date) throws -> Void) -> JobScheduler.Handler {
            { payload, _ in
                let now = clock.now()
                try await database.write { db in try body(db, String(decoding: payload, as: UTF8.self), now) }
            }
        }
        return [
            evaluateAll: { payload, _ in
                let parts = String(decoding: payload, as: UTF8.self).split(separator: "|", maxSplits: 1, omittingEmptySubsequences: false)
                try await Self.evaluateAll(database: database, trigger: parts.first.map(String.init) ?? "scheduled",
                                           after: parts.count > 1 ? String(parts[1]) : "", clock: clock, day: day)
            },
            quarterly: job { db, _, now in
                try JobScheduler.schedule(db, kind: evaluateAll, payload: Data("scheduled|".utf8), dueAt: now, id: "\(evaluateAll)|q\(TierRules.day(now))", now: now)
                try JobScheduler.schedule(db, kind: quarterly, dueAt: nextQuarter(after: now), id: quarterly, now: now)
            },
            MembershipStore.graceJob: job { db, accountID, now in
                try MembershipStore.evaluate(db, accountID: accountID, programme: try LoyaltyStore.programme(db, at: now), now: now, trigger: "grace_ended", day: day)
            },
            MembershipStore.overrideJob: job { db, accountID, now in
                try MembershipStore.evaluate(db, accountID: accountID, programme: try LoyaltyStore.programme(db, at: now), now: now, trigger: "override_expired", day: day)
            },
            RebateStore.settleJob: job { db, id, now in
                guard let agreement = try RebateStore.agreement(db, id: id), agreement.state == .active, now >= agreement.endAt.date else { return }
                _ = try RebateStore.settle(db, agreement, by: "system", now: now)
            },
        ]
    }
}
