import ForgeContracts
import ForgeKit
import Foundation
import SwiftProtobuf

/// The repurchase cycle per customer and product line: the mean interval between purchases ±
/// their standard deviation (seed 003: 11 months ± 25 days), the predicted window
/// [last + mean − deviation, last + mean + deviation], and the owner's reminder 30 days before
/// it opens. A purchase is a booked order with a line in the product line, once per order
/// day; three purchases (two intervals) make a cycle, and only a regular one — the deviation
/// at most half the mean interval — predicts a window (575 ± 522 days predicts nothing).
enum RepurchaseRules {
    static let minimumPurchases = 3
    static let reminderLead: Double = 30 * Facts.day

    static func cycles(_ lines: [Facts.Line], accountID: String, before moment: Double) -> [Forge_Analytics_V1_RepurchaseCycle] {
        // Each product line's purchase days, with the moment of the day's first order.
        var days: [String: [Int: Double]] = [:]
        for line in lines where line.accountID == accountID && line.booked && line.orderedAt < moment && !line.productLine.isEmpty {
            let day = ChinaCalendar.split(Date(timeIntervalSince1970: line.orderedAt)).days
            days[line.productLine, default: [:]][day] = min(days[line.productLine]?[day] ?? .infinity, line.orderedAt)
        }
        return days.keys.sorted().compactMap { productLine in
            let byDay = days[productLine, default: [:]]
            let purchases = byDay.keys.sorted()
            guard purchases.count >= minimumPurchases, let last = purchases.last, let lastAt = byDay[last] else { return nil }
            let intervals = zip(purchases.dropFirst(), purchases).map { Double($0 - $1) }
            let mean = intervals.reduce(0, +) / Double(intervals.count)
            let deviation = (intervals.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(intervals.count)).squareRoot()
            guard deviation <= mean / 2 else { return nil }
            let opens = lastAt + (mean - deviation) * Facts.day
            return .with {
                $0.productLine = productLine
                $0.purchases = Int32(purchases.count)
                $0.meanIntervalDays = (mean * 10).rounded() / 10
                $0.deviationDays = (deviation * 10).rounded() / 10
                $0.lastPurchase = Facts.stamp(lastAt)
                $0.windowOpens = Facts.stamp(opens)
                $0.windowCloses = Facts.stamp(lastAt + (mean + deviation) * Facts.day)
                $0.reminderAt = Facts.stamp(opens - reminderLead)
            }
        }
    }

    /// Whether the owner is due a reminder at `moment`: the reminder day has come and the
    /// window has not yet closed.
    static func reminderDue(_ cycle: Forge_Analytics_V1_RepurchaseCycle, at moment: Double) -> Bool {
        cycle.reminderAt.timeIntervalSince1970 <= moment && moment < cycle.windowCloses.timeIntervalSince1970
    }
}
