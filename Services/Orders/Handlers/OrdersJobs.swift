import ForgeKit
import Foundation

/// The time-based rules' jobs, by kind: the overdue watch on each invoiced instalment.
extension OrdersHandler {
    var jobHandlers: [String: JobScheduler.Handler] {
        let receivables = self.receivables
        return [
            OrderStore.overdueJob: { payload, _ in try await receivables.overdueCheck(payload: payload) },
        ]
    }
}
