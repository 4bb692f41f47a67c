import ForgeContracts
import Foundation
import SwiftProtobuf

/// Service-level targets and where a ticket's clocks stand. Targets are business minutes of the
/// service calendar per service level and priority; the first response is due within 2 hours
/// for P1 by default (DESIGN §7). Waiting on the customer stops the resolution clock. At 80 %
/// of a target the assignee is warned, at 100 % the service manager gets the escalation. No I/O.
enum SlaRules {
    typealias Priority = Forge_Servicedesk_V1_Priority
    typealias Clock = Forge_Servicedesk_V1_SlaClock

    static let warnShare = 0.8
    static let defaultLevel = "standard"

    /// The defaults a new installation starts with (business hours: first response / resolution).
    static let defaultTargets: [Forge_Servicedesk_V1_SlaTarget] = {
        let table: [(String, [(Priority, Int32, Int32)])] = [
            ("standard", [(.p1, 2, 16), (.p2, 4, 24), (.p3, 8, 40), (.p4, 16, 80)]),
            ("silver", [(.p1, 2, 12), (.p2, 4, 16), (.p3, 6, 32), (.p4, 12, 64)]),
            ("gold", [(.p1, 1, 8), (.p2, 2, 12), (.p3, 4, 24), (.p4, 8, 48)]),
        ]
        return table.flatMap { level, rows in
            rows.map { priority, response, resolution in
                .with {
                    $0.serviceLevel = level
                    $0.priority = priority
                    $0.firstResponseMinutes = response * 60
                    $0.resolutionMinutes = resolution * 60
                }
            }
        }
    }()

    /// The target for a level and priority: the level's own, else the standard level's, else the
    /// built-in standard.
    static func target(level: String, priority: Priority, in targets: [Forge_Servicedesk_V1_SlaTarget]) -> Forge_Servicedesk_V1_SlaTarget {
        let level = level.isEmpty ? defaultLevel : level
        return targets.first { $0.serviceLevel == level && $0.priority == priority }
            ?? targets.first { $0.serviceLevel == defaultLevel && $0.priority == priority }
            ?? defaultTargets.first { $0.serviceLevel == defaultLevel && $0.priority == priority }!
    }

    /// A new ticket's SLA: both clocks start at `opened`.
    static func start(level: String, priority: Priority, targets: [Forge_Servicedesk_V1_SlaTarget]) -> Forge_Servicedesk_V1_TicketSla {
        let target = target(level: level, priority: priority, in: targets)
        return .with {
            $0.serviceLevel = level.isEmpty ? defaultLevel : level
            $0.firstResponse = .with { $0.targetMinutes = Int64(target.firstResponseMinutes) }
            $0.resolution = .with { $0.targetMinutes = Int64(target.resolutionMinutes) }
        }
    }

    /// Business seconds a clock has run by `now` (its end when met; the pause's start while
    /// paused; pauses that ended are subtracted).
    static func elapsed(_ clock: Clock, opened: Date, pausedSeconds: TimeInterval, pausedSince: Date?, now: Date, calendar: BusinessCalendar) -> TimeInterval {
        let end = clock.hasMetAt ? clock.metAt.date : (pausedSince ?? now)
        return max(0, calendar.businessSeconds(from: opened, to: end) - pausedSeconds)
    }

    /// The instant a clock reaches `share` of its target if it keeps running from `now`.
    static func instant(_ clock: Clock, share: Double, opened: Date, pausedSeconds: TimeInterval, calendar: BusinessCalendar) -> Date {
        calendar.adding(Double(clock.targetMinutes) * 60 * share + pausedSeconds, to: opened)
    }

    /// The SLA as it stands at `now`: elapsed minutes, due time and status of both clocks.
    static func evaluate(_ sla: Forge_Servicedesk_V1_TicketSla, opened: Date, now: Date, calendar: BusinessCalendar) -> Forge_Servicedesk_V1_TicketSla {
        var sla = sla
        let pausedSince = sla.paused && sla.hasPausedSince ? sla.pausedSince.date : nil
        sla.firstResponse = evaluate(sla.firstResponse, opened: opened, pausedSeconds: 0, pausedSince: nil, now: now, calendar: calendar)
        sla.resolution = evaluate(sla.resolution, opened: opened, pausedSeconds: sla.pausedSeconds, pausedSince: pausedSince, now: now, calendar: calendar)
        let pausing = pausedSince.map { calendar.businessSeconds(from: $0, to: now) } ?? 0
        sla.pausedMinutes = Int64((sla.pausedSeconds + pausing) / 60)
        return sla
    }

    private static func evaluate(_ clock: Clock, opened: Date, pausedSeconds: TimeInterval, pausedSince: Date?, now: Date, calendar: BusinessCalendar) -> Clock {
        var clock = clock
        let used = elapsed(clock, opened: opened, pausedSeconds: pausedSeconds, pausedSince: pausedSince, now: now, calendar: calendar)
        let target = Double(clock.targetMinutes) * 60
        clock.elapsedMinutes = Int64(used / 60)
        if pausedSince != nil && !clock.hasMetAt {
            // Due as if the clock ran again now.
            clock.dueAt = Google_Protobuf_Timestamp(date: calendar.adding(max(0, target - used), to: now))
        } else {
            clock.dueAt = Google_Protobuf_Timestamp(date: instant(clock, share: 1, opened: opened, pausedSeconds: pausedSeconds, calendar: calendar))
        }
        switch true {
        case clock.hasMetAt: clock.status = used > target ? .missed : .met
        case pausedSince != nil: clock.status = .paused
        case used >= target: clock.status = .breached
        case used >= target * warnShare: clock.status = .atRisk
        default: clock.status = .onTrack
        }
        return clock
    }

    /// What the SLA job must signal for a clock at `now`: a warning at 80 %, an escalation at
    /// 100 % (each once; a clock past both gets both).
    static func due(_ clock: Clock) -> (warn: Bool, escalate: Bool) {
        guard !clock.hasMetAt, clock.status != .paused else { return (false, false) }
        return (!clock.warned && (clock.status == .atRisk || clock.status == .breached), !clock.escalated && clock.status == .breached)
    }

    /// When the SLA job should next look at the ticket: the earliest 80 % or 100 % point not yet
    /// signalled of a running clock; nil when there is nothing left to signal.
    static func nextCheck(_ sla: Forge_Servicedesk_V1_TicketSla, opened: Date, calendar: BusinessCalendar) -> Date? {
        var instants: [Date] = []
        for (clock, paused, pausedSeconds) in [(sla.firstResponse, false, 0.0), (sla.resolution, sla.paused, sla.pausedSeconds)] {
            guard !clock.hasMetAt, !paused else { continue }
            if !clock.warned { instants.append(instant(clock, share: warnShare, opened: opened, pausedSeconds: pausedSeconds, calendar: calendar)) }
            if !clock.escalated { instants.append(instant(clock, share: 1, opened: opened, pausedSeconds: pausedSeconds, calendar: calendar)) }
        }
        return instants.min()
    }

    /// Time left on the clock the queue sorts by (the first response until given, then the
    /// resolution), in business seconds; negative when overdue.
    static func timeLeft(_ sla: Forge_Servicedesk_V1_TicketSla) -> Double {
        let clock = sla.firstResponse.hasMetAt ? sla.resolution : sla.firstResponse
        return Double(clock.targetMinutes - clock.elapsedMinutes) * 60
    }
}
