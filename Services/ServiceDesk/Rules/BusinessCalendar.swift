import Foundation

/// When SLA clocks run: working days and hours in the company's time zone, with holidays off
/// and make-up working days on (调休: a Saturday worked to bridge a holiday). No I/O.
///
/// Days are counted as integers (local days since 1970-01-01) and a day's midnight comes from
/// the zone's offset, not from Foundation's Calendar: the queue evaluates 200 tickets' clocks
/// per page and a settings change every open ticket's, each clock walking the days it spans.
struct BusinessCalendar: Sendable, Equatable {
    var timeZone: TimeZone
    /// ISO weekdays: 1 Monday … 7 Sunday.
    var workingDays: Set<Int>
    /// Minutes after local midnight.
    var opens: Int
    var closes: Int
    /// Local dates "2026-10-01".
    var holidays: Set<String> { didSet { holidayDays = Set(holidays.compactMap(Self.dayNumber)) } }
    var extraWorkingDays: Set<String> { didSet { extraDays = Set(extraWorkingDays.compactMap(Self.dayNumber)) } }
    /// The same dates as local day numbers.
    private var holidayDays: Set<Int>
    private var extraDays: Set<Int>
    /// The zone's offset when it has kept one since 2000 (China's has since 1991): no zone
    /// lookup per day then.
    private let fixedOffset: Int?

    init(timeZone: TimeZone, workingDays: Set<Int>, opens: Int, closes: Int, holidays: Set<String>, extraWorkingDays: Set<String>) {
        self.timeZone = timeZone
        self.workingDays = workingDays
        self.opens = opens
        self.closes = closes
        self.holidays = holidays
        self.extraWorkingDays = extraWorkingDays
        holidayDays = Set(holidays.compactMap(Self.dayNumber))
        extraDays = Set(extraWorkingDays.compactMap(Self.dayNumber))
        let y2k = Date(timeIntervalSince1970: 946_684_800)
        fixedOffset = timeZone.nextDaylightSavingTimeTransition(after: y2k) == nil ? timeZone.secondsFromGMT(for: y2k) : nil
    }

    private func offset(at date: Date) -> Int { fixedOffset ?? timeZone.secondsFromGMT(for: date) }

    /// Monday to Friday, 08:30–17:30, China Standard Time.
    static let standard = BusinessCalendar(timeZone: TimeZone(identifier: "Asia/Shanghai")!, workingDays: [1, 2, 3, 4, 5],
                                           opens: 8 * 60 + 30, closes: 17 * 60 + 30, holidays: [], extraWorkingDays: [])

    /// The longest stretch looked at (ten years of days): a calendar with no working day at all
    /// is refused by validation, but no input may loop without end.
    static let horizonDays = 3_660

    /// "2026-10-01" → days since 1970-01-01 (the proleptic Gregorian calendar, H. Hinnant's
    /// days_from_civil); nil when it is not such a date.
    static func dayNumber(_ key: String) -> Int? {
        let parts = key.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1...12).contains(parts[1]), (1...31).contains(parts[2]) else { return nil }
        let (y0, m, d) = (parts[0], parts[1], parts[2])
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The local day containing `date`.
    func day(of date: Date) -> Int {
        let local = date.timeIntervalSince1970 + TimeInterval(offset(at: date))
        return Int((local / 86_400).rounded(.down))
    }

    /// The instant of local midnight starting `day` (the offset read at that midnight).
    func midnight(_ day: Int) -> Date {
        let guess = Date(timeIntervalSince1970: TimeInterval(day) * 86_400)
        return guess.addingTimeInterval(-TimeInterval(offset(at: guess)))
    }

    func isWorkingDay(_ day: Int) -> Bool {
        if extraDays.contains(day) { return true }
        if holidayDays.contains(day) { return false }
        // 1970-01-01 was a Thursday (ISO 4).
        return workingDays.contains(((day % 7) + 7 + 3) % 7 + 1)
    }

    /// The working hours of a local day; nil on a day off.
    private func window(_ day: Int) -> (opens: Date, closes: Date)? {
        guard isWorkingDay(day) else { return nil }
        let midnight = midnight(day)
        return (midnight.addingTimeInterval(TimeInterval(opens * 60)), midnight.addingTimeInterval(TimeInterval(closes * 60)))
    }

    /// Working seconds in [from, to).
    func businessSeconds(from: Date, to: Date) -> TimeInterval {
        guard to > from else { return 0 }
        var total: TimeInterval = 0
        let first = day(of: from)
        let last = min(day(of: to), first + Self.horizonDays)
        for day in first...last {
            guard let (opens, closes) = window(day) else { continue }
            total += max(0, min(closes, to).timeIntervalSince(max(opens, from)))
        }
        return total
    }

    /// The instant at which `seconds` working seconds have passed since `start`.
    func adding(_ seconds: TimeInterval, to start: Date) -> Date {
        var remaining = max(0, seconds)
        let first = day(of: start)
        for day in first..<(first + Self.horizonDays) {
            guard let (opens, closes) = window(day) else { continue }
            let from = max(opens, start)
            guard closes > from else { continue }
            let available = closes.timeIntervalSince(from)
            if remaining <= available { return from.addingTimeInterval(remaining) }
            remaining -= available
        }
        return start.addingTimeInterval(TimeInterval(Self.horizonDays) * 86_400)
    }
}
