import ForgeKit
import Foundation
import GRDB

/// The time-based rules' jobs, by kind: a survey's send, reminder and expiry; a follow-up's
/// escalation. Each reads the clock when it runs and does nothing when its moment has passed
/// (answered, closed, cancelled).
extension FeedbackHandler {
    var jobHandlers: [String: JobScheduler.Handler] {
        let database = self.database
        let clock = self.clock
        let day = self.day
        func job(_ body: @escaping @Sendable (Database, String, Date) throws -> Void) -> JobScheduler.Handler {
            { payload, _ in
                let now = clock.now()
                try await database.write { db in try body(db, String(decoding: payload, as: UTF8.self), now) }
            }
        }
        return [
            SurveyStore.sendJob: job { try SurveyStore.send($0, id: $1, now: $2, day: day) },
            SurveyStore.remindJob: job { try SurveyStore.remind($0, id: $1, now: $2) },
            SurveyStore.expireJob: job { try SurveyStore.expire($0, id: $1, now: $2) },
            LoopStore.escalateJob: job { try LoopStore.escalate($0, id: $1, now: $2) },
        ]
    }
}
