import ForgeKit
import Foundation
import Testing

@Suite("China calendar in integer arithmetic")
struct ChinaCalendarTests {
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        return calendar
    }()

    @Test("day names, anniversaries and whole years agree with Foundation's calendar over 3,000 moments, leap days included")
    func agreesWithFoundation() {
        var state: UInt64 = 42
        for index in 0..<3_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let from = Date(timeIntervalSince1970: Double(state % 4_000_000_000) - 1_000_000_000)
            let to = from.addingTimeInterval(Double((state >> 20) % 400_000_000))
            let parts = Self.calendar.dateComponents([.year, .month, .day], from: from)
            #expect(ChinaCalendar.day(from) == String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!))
            let years = index % 7
            #expect(ChinaCalendar.addingYears(years, to: from) == Self.calendar.date(byAdding: .year, value: years, to: from)!)
            #expect(ChinaCalendar.wholeYears(from: from, to: to) == Self.calendar.dateComponents([.year], from: from, to: to).year!, "\(from) → \(to)")
        }
        let leap = Self.calendar.date(from: DateComponents(year: 2024, month: 2, day: 29, hour: 10))!
        #expect(ChinaCalendar.day(ChinaCalendar.addingYears(1, to: leap)) == "2025-02-28")
        #expect(ChinaCalendar.wholeYears(from: leap, to: Self.calendar.date(from: DateComponents(year: 2025, month: 2, day: 28, hour: 11))!) == Self.calendar.dateComponents([.year], from: leap, to: Self.calendar.date(from: DateComponents(year: 2025, month: 2, day: 28, hour: 11))!).year!)
    }
}
