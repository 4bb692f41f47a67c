import ForgeKit
import Foundation
import GRDB

/// The time-based rules' jobs, by kind: each open ticket's SLA watch, and the daily sweep.
extension ServiceDeskHandler {
    var jobHandlers: [String: JobScheduler.Handler] {
        let database = self.database
        let clock = self.clock
        return [
            TicketStore.slaJob: { payload, _ in
                let now = clock.now()
                try await database.write { db in try TicketStore.watch(db, ticketID: String(decoding: payload, as: UTF8.self), now: now) }
            },
            DailySweep.job: { _, _ in
                let now = clock.now()
                try await database.write { db in try DailySweep.run(db, now: now) }
            },
        ]
    }
}

/// Once a day (02:00 China time, and at the first start): maintenance work orders that fall
/// due within their plans' lead days, and telemetry past its raw retention folded into hourly
/// aggregates. It schedules its own next run in the same transaction.
enum DailySweep {
    static let job = "servicedesk.daily"

    static func jobID(_ due: Date) -> String { "daily-\(Int64(due.timeIntervalSince1970))" }

    static func run(_ db: Database, now: Date) throws {
        try WorkOrderStore.generateMaintenance(db, now: now)
        try TelemetryStore.downsample(db, now: now)
        let next = nextRun(after: now)
        try JobScheduler.cancelPending(db, kind: job, idPrefix: "daily-")
        try JobScheduler.schedule(db, kind: job, dueAt: next, id: jobID(next), now: now)
    }

    /// The next 02:00 in the service calendar's time zone after `now`.
    static func nextRun(after now: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = BusinessCalendar.standard.timeZone
        let today = calendar.date(bySettingHour: 2, minute: 0, second: 0, of: now) ?? now
        return today > now ? today : calendar.date(byAdding: .day, value: 1, to: today) ?? now.addingTimeInterval(86_400)
    }
}
