import ForgeKit
import Foundation

/// The time-based rules' jobs, by kind: the first-touch escalation, stage timers, the quote
/// follow-up cadence and quote expiry.
extension PipelineHandler {
    var jobHandlers: [String: JobScheduler.Handler] {
        let leads = self.leads
        let opportunities = self.opportunities
        let quotes = self.quotes
        return [
            LeadStore.firstTouchJob: { payload, _ in try await leads.escalateIfUntouched(leadID: String(decoding: payload, as: UTF8.self)) },
            OpportunityStore.stageTimerJob: { payload, _ in try await opportunities.stageTimerFired(payload: payload) },
            QuoteStore.followUpJob: { payload, _ in try await quotes.followUp(payload: payload) },
            QuoteStore.expiryJob: { payload, _ in try await quotes.expire(quoteID: String(decoding: payload, as: UTF8.self)) },
        ]
    }
}
