import Foundation

/// The customer's calendar — China time, UTC+8 without daylight saving — in integer arithmetic
/// on days since 1970 (the proleptic Gregorian calendar): a day's name, anniversaries, whole
/// years between two moments. Foundation's Calendar costs tens of microseconds a call, which
/// hot paths (a survey's answer, an entitlement's membership year) cannot spend.
public enum ChinaCalendar {
    public static let offset: TimeInterval = 8 * 3600

    /// Days since 1970-01-01 in China time, and the seconds into that day.
    public static func split(_ date: Date) -> (days: Int, seconds: TimeInterval) {
        let local = date.timeIntervalSince1970 + offset
        let days = Int((local / 86_400).rounded(.down))
        return (days, local - Double(days) * 86_400)
    }

    /// "2026-12-03".
    public static func day(_ date: Date) -> String {
        let (year, month, day) = civil(split(date).days)
        return "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
    }

    /// Year, month and day of the day `days` after 1970-01-01 (Howard Hinnant's algorithm).
    public static func civil(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days since 1970-01-01 of a calendar day (the inverse of `civil`).
    public static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    /// The same moment `years` later (29 February falls on the 28th in a common year).
    public static func addingYears(_ years: Int, to date: Date) -> Date {
        let (days, seconds) = split(date)
        let (year, month, day) = civil(days)
        let target = year + years
        let moved = Self.days(year: target, month: month, day: month == 2 && day == 29 && !isLeap(target) ? 28 : day)
        return Date(timeIntervalSince1970: Double(moved) * 86_400 + seconds - offset)
    }

    /// Anniversaries of `from` passed by `to` (0 when `to` is earlier).
    public static func wholeYears(from: Date, to: Date) -> Int {
        guard from <= to else { return 0 }
        let (start, end) = (civil(split(from).days), civil(split(to).days))
        var years = end.year - start.year
        if years > 0, addingYears(years, to: from) > to { years -= 1 }
        return years
    }
}

extension ChinaCalendar {
    /// The first moment (China time) of the month `months` after the one `date` falls in.
    public static func monthStart(_ date: Date, adding months: Int = 0) -> Date {
        let (year, month, _) = civil(split(date).days)
        let index = year * 12 + (month - 1) + months
        let (y, m) = (index >= 0 ? index / 12 : (index - 11) / 12, ((index % 12) + 12) % 12 + 1)
        return Date(timeIntervalSince1970: Double(days(year: y, month: m, day: 1)) * 86_400 - offset)
    }

    /// "2026-12": the month `date` falls in, China time.
    public static func month(_ date: Date) -> String {
        let (year, month, _) = civil(split(date).days)
        return "\(year)-\(month < 10 ? "0" : "")\(month)"
    }

    /// The first moment of a month named "2026-12"; nil when the name is not a month.
    public static func monthStart(named name: String) -> Date? {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), (1...12).contains(month) else { return nil }
        return Date(timeIntervalSince1970: Double(days(year: year, month: month, day: 1)) * 86_400 - offset)
    }
}
