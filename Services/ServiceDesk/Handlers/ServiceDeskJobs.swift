import ForgeKit
import Foundation
import GRDB

/// The time-based rules' jobs, by kind: each open ticket's SLA watch.
extension ServiceDeskHandler {
    var jobHandlers: [String: JobScheduler.Handler] {
        let database = self.database
        let clock = self.clock
        return [
            TicketStore.slaJob: { payload, _ in
                let now = clock.now()
                try await database.write { db in try TicketStore.watch(db, ticketID: String(decoding: payload, as: UTF8.self), now: now) }
            },
        ]
    }
}
