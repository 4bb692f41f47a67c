@testable import ForgeServiceDesk
import ForgeContracts
import Foundation
import SwiftProtobuf
import Testing

/// Business-hours arithmetic and SLA clocks, on the standard calendar (Monday–Friday,
/// 08:30–17:30, China Standard Time) unless a test changes it.
@Suite("SLA rules")
struct SlaRulesTests {
    /// A local time in Shanghai: "2026-12-04 17:00".
    static func at(_ text: String) -> Date {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.date(from: text)!
    }

    let calendar = BusinessCalendar.standard

    @Test("a P1 opened Friday 17:00 has 30 minutes on Friday and is due Monday 10:00; 2026-12-04 is a Friday")
    func overTheWeekend() {
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-12-04 17:00")) == Self.at("2026-12-07 10:00"))
        #expect(calendar.businessSeconds(from: Self.at("2026-12-04 17:00"), to: Self.at("2026-12-07 10:00")) == 2 * 3600)
        // Opened on Saturday: the clock starts Monday at opening.
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-12-05 11:00")) == Self.at("2026-12-07 10:30"))
        #expect(calendar.businessSeconds(from: Self.at("2026-12-05 00:00"), to: Self.at("2026-12-06 23:59")) == 0)
        // Before opening: counted from 08:30.
        #expect(calendar.adding(3600, to: Self.at("2026-12-07 07:00")) == Self.at("2026-12-07 09:30"))
    }

    @Test("a holiday is skipped and a make-up working Saturday (调休) counts")
    func holidaysAndMakeUpDays() {
        var calendar = self.calendar
        calendar.holidays = ["2026-12-07"]
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-12-04 17:00")) == Self.at("2026-12-08 10:00"))
        calendar.extraWorkingDays = ["2026-12-05"]
        #expect(calendar.adding(2 * 3600, to: Self.at("2026-12-04 17:00")) == Self.at("2026-12-05 10:00"))
        #expect(calendar.businessSeconds(from: Self.at("2026-12-04 00:00"), to: Self.at("2026-12-09 00:00")) == 3 * 9 * 3600)
    }

    @Test("waiting on the customer stops the resolution clock and moves its due time by the business time waited; the first response clock does not pause")
    func pauses() {
        let opened = Self.at("2026-12-07 09:00")  // Monday
        var sla = SlaRules.start(level: "standard", priority: .p2, targets: SlaRules.defaultTargets)  // 4 h / 24 h
        sla.firstResponse.metAt = Google_Protobuf_Timestamp(date: Self.at("2026-12-07 10:00"))
        let before = SlaRules.evaluate(sla, opened: opened, now: Self.at("2026-12-07 10:00"), calendar: calendar)
        // 24 business hours from Monday 09:00: Monday 8.5 h, Tuesday 9, Wednesday 6.5 → Wednesday 15:00.
        #expect(before.resolution.dueAt.date == Self.at("2026-12-09 15:00"))
        #expect(before.firstResponse.status == .met && before.firstResponse.elapsedMinutes == 60)

        // Waiting from Monday 10:00 …
        sla.paused = true
        sla.pausedSince = Google_Protobuf_Timestamp(date: Self.at("2026-12-07 10:00"))
        let waiting = SlaRules.evaluate(sla, opened: opened, now: Self.at("2026-12-08 17:00"), calendar: calendar)
        #expect(waiting.resolution.status == .paused && waiting.resolution.elapsedMinutes == 60)
        #expect(waiting.pausedMinutes == (7 * 60 + 30) + (8 * 60 + 30))
        // … until Wednesday 10:00: 16.5 + 1.5 = 18 business hours waited, due 18 business hours later.
        sla.paused = false
        sla.clearPausedSince()
        sla.pausedSeconds = calendar.businessSeconds(from: Self.at("2026-12-07 10:00"), to: Self.at("2026-12-09 10:00"))
        #expect(sla.pausedSeconds == 18 * 3600)
        let resumed = SlaRules.evaluate(sla, opened: opened, now: Self.at("2026-12-09 10:00"), calendar: calendar)
        #expect(resumed.resolution.elapsedMinutes == 60 && resumed.resolution.status == .onTrack)
        #expect(resumed.resolution.dueAt.date == calendar.adding(23 * 3600, to: Self.at("2026-12-09 10:00")))
        #expect(resumed.resolution.dueAt.date == Self.at("2026-12-11 15:00"))
    }

    @Test("at 80 % of a target the clock is at risk, at 100 % breached; met late is missed; the watch looks next at the earliest unsignalled point")
    func thresholds() {
        let opened = Self.at("2026-12-07 09:00")
        var sla = SlaRules.start(level: "", priority: .p1, targets: SlaRules.defaultTargets)  // standard: 2 h / 16 h
        #expect(sla.serviceLevel == "standard" && sla.firstResponse.targetMinutes == 120 && sla.resolution.targetMinutes == 960)
        #expect(SlaRules.evaluate(sla, opened: opened, now: Self.at("2026-12-07 10:35"), calendar: calendar).firstResponse.status == .onTrack)
        #expect(SlaRules.evaluate(sla, opened: opened, now: Self.at("2026-12-07 10:36"), calendar: calendar).firstResponse.status == .atRisk)
        #expect(SlaRules.evaluate(sla, opened: opened, now: Self.at("2026-12-07 11:00"), calendar: calendar).firstResponse.status == .breached)
        #expect(SlaRules.nextCheck(sla, opened: opened, calendar: calendar) == Self.at("2026-12-07 10:36"))
        sla.firstResponse.warned = true
        #expect(SlaRules.nextCheck(sla, opened: opened, calendar: calendar) == Self.at("2026-12-07 11:00"))
        sla.firstResponse.metAt = Google_Protobuf_Timestamp(date: Self.at("2026-12-07 11:30"))
        let evaluated = SlaRules.evaluate(sla, opened: opened, now: Self.at("2026-12-07 12:00"), calendar: calendar)
        #expect(evaluated.firstResponse.status == .missed)
        // The resolution's 80 %: 12.8 business hours from Monday 09:00 → Tuesday 12:48.
        #expect(SlaRules.nextCheck(sla, opened: opened, calendar: calendar) == Self.at("2026-12-08 12:48"))
        // Gold's targets are tighter; an unknown level falls back to standard.
        #expect(SlaRules.target(level: "gold", priority: .p1, in: SlaRules.defaultTargets).firstResponseMinutes == 60)
        #expect(SlaRules.target(level: "platinum", priority: .p1, in: SlaRules.defaultTargets).firstResponseMinutes == 120)
    }
}
