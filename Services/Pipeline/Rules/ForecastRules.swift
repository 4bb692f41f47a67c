import ForgeContracts
import ForgeWire
import Foundation
import SwiftProtobuf

/// The forecast's months: "YYYY-MM", counted in China Standard Time (UTC+8, no daylight
/// saving), where the sales teams close their months.
enum ForecastRules {
    static let offset: TimeInterval = 8 * 3600
    static let maxMonths = 24

    /// The window [start, end) of the months asked; by default this month and the next five.
    static func window(from: String, to: String, now: Date) throws -> (start: Date, end: Date) {
        var violations: [FieldViolation] = []
        let first = from.isEmpty ? month(of: now) : parse(from)
        if first == nil { violations.append(FieldViolation(field: "from_month", description: "must be a month as YYYY-MM")) }
        let last = to.isEmpty ? first.map { add(5, to: $0) } : parse(to)
        if last == nil { violations.append(FieldViolation(field: "to_month", description: "must be a month as YYYY-MM")) }
        guard violations.isEmpty, let first, let last else { throw RPCError.invalidArgument(violations) }
        let months = (last.year - first.year) * 12 + (last.month - first.month) + 1
        guard months >= 1 else { throw RPCError.invalidArgument([FieldViolation(field: "to_month", description: "must not be before from_month")]) }
        guard months <= maxMonths else { throw RPCError.invalidArgument([FieldViolation(field: "to_month", description: "at most \(maxMonths) months")]) }
        return (start(of: first), start(of: add(1, to: last)))
    }

    static func parse(_ text: String) -> (year: Int, month: Int)? {
        let parts = text.split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int(parts[0]), let month = Int(parts[1]),
              (2000...2100).contains(year), (1...12).contains(month) else { return nil }
        return (year, month)
    }

    static func month(of date: Date) -> (year: Int, month: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: Int(offset))!
        let parts = calendar.dateComponents([.year, .month], from: date)
        return (parts.year!, parts.month!)
    }

    static func add(_ months: Int, to month: (year: Int, month: Int)) -> (year: Int, month: Int) {
        let index = month.year * 12 + (month.month - 1) + months
        return (index / 12, index % 12 + 1)
    }

    static func start(of month: (year: Int, month: Int)) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: Int(offset))!
        return calendar.date(from: DateComponents(year: month.year, month: month.month, day: 1))!
    }
}
