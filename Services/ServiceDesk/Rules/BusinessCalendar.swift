import Foundation

/// When SLA clocks run: working days and hours in the company's time zone, with holidays off
/// and make-up working days on (调休: a Saturday worked to bridge a holiday). No I/O.
struct BusinessCalendar: Sendable, Equatable {
    var timeZone: TimeZone
    /// ISO weekdays: 1 Monday … 7 Sunday.
    var workingDays: Set<Int>
    /// Minutes after local midnight.
    var opens: Int
    var closes: Int
    /// Local dates "2026-10-01".
    var holidays: Set<String>
    var extraWorkingDays: Set<String>

    /// Monday to Friday, 08:30–17:30, China Standard Time.
    static let standard = BusinessCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!, workingDays: [1, 2, 3, 4, 5],
                                           opens: 8 * 60 + 30, closes: 17 * 60 + 30, holidays: [], extraWorkingDays: [])

    /// The longest stretch looked at (ten years of days): a calendar with no working day at all
    /// is refused by validation, but no input may loop without end.
    static let horizonDays = 3_660

    private var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// "2026-10-01" for the local day containing `date`.
    func dayKey(_ date: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!)
    }

    func isWorkingDay(_ date: Date) -> Bool {
        let key = dayKey(date)
        if extraWorkingDays.contains(key) { return true }
        if holidays.contains(key) { return false }
        let weekday = calendar.component(.weekday, from: date)  // 1 Sunday … 7 Saturday
        return workingDays.contains((weekday + 5) % 7 + 1)
    }

    /// The working hours of the local day starting at `midnight`; nil on a day off.
    private func window(_ midnight: Date) -> (opens: Date, closes: Date)? {
        guard isWorkingDay(midnight) else { return nil }
        return (midnight.addingTimeInterval(TimeInterval(opens * 60)), midnight.addingTimeInterval(TimeInterval(closes * 60)))
    }

    private func days(from start: Date) -> some Sequence<Date> {
        let calendar = self.calendar
        var day = calendar.startOfDay(for: start)
        return (0..<Self.horizonDays).lazy.map { _ in
            defer { day = calendar.date(byAdding: .day, value: 1, to: day)! }
            return day
        }
    }

    /// Working seconds in [from, to).
    func businessSeconds(from: Date, to: Date) -> TimeInterval {
        guard to > from else { return 0 }
        var total: TimeInterval = 0
        for midnight in days(from: from) {
            if midnight >= to { break }
            guard let (opens, closes) = window(midnight) else { continue }
            total += max(0, min(closes, to).timeIntervalSince(max(opens, from)))
        }
        return total
    }

    /// The instant at which `seconds` working seconds have passed since `start`.
    func adding(_ seconds: TimeInterval, to start: Date) -> Date {
        var remaining = max(0, seconds)
        for midnight in days(from: start) {
            guard let (opens, closes) = window(midnight) else { continue }
            let from = max(opens, start)
            guard closes > from else { continue }
            let available = closes.timeIntervalSince(from)
            if remaining <= available { return from.addingTimeInterval(remaining) }
            remaining -= available
        }
        return start.addingTimeInterval(TimeInterval(Self.horizonDays) * 86_400)
    }
}
