import ForgeContracts
import ForgeKit

// forge-analytics: the read model fed by every event feed (DESIGN §7) — accounts, pipeline,
// orders, service desk, feedback and loyalty — and what it measures: the KPIs by the standard
// formulas, each customer's health, churn risk and purchase cycles, the monthly report. Its
// own events (ChurnRiskRaised, RepurchaseWindowApproaching) are tasks for the owners.
ForgeService.main(name: "analytics", migrations: AnalyticsStore.migrations) { setup in
    let handler = AnalyticsHandler(database: setup.database, clock: setup.clock)
    handler.register(in: &setup.router)
    AnalyticsAccess.declare(in: &setup.access)
    let feeds: [(String, [String], EventConsumer.PrepareBatch)] = [
        ("accounts", UpstreamEvents.accountsTypes, EventConsumer.preparing(UpstreamEvents.applyAccounts)),
        ("pipeline", UpstreamEvents.pipelineTypes, EventConsumer.preparing(UpstreamEvents.applyPipeline)),
        ("orders", UpstreamEvents.ordersTypes, UpstreamEvents.prepareOrders),
        ("servicedesk", UpstreamEvents.servicedeskTypes, EventConsumer.preparing(UpstreamEvents.applyServicedesk)),
        ("feedback", UpstreamEvents.feedbackTypes, EventConsumer.preparing(UpstreamEvents.applyFeedback)),
        ("loyalty", UpstreamEvents.loyaltyTypes, EventConsumer.preparing(UpstreamEvents.applyLoyalty)),
    ]
    let cache = handler.cache
    for (upstream, types, prepare) in feeds {
        setup.consumers.append(EventConsumer(
            upstream: upstream, feed: try setup.client(of: upstream), database: setup.database, types: types,
            // Analytics writes nothing else: the feed's largest batch per transaction.
            batch: 1_000, logger: setup.logger
        ) { events in
            let write = try prepare(events)
            return { db in
                try write(db)
                cache.changed(db)
            }
        })
    }
    setup.services.append(FactsWarmUp(cache: cache))
    setup.jobHandlers.merge(AnalyticsJobs.handlers(database: setup.database, cache: handler.cache, clock: setup.clock, day: setup.configuration.daySeconds)) { $1 }
    // The daily scan reschedules itself each run; a database whose run was lost (an install
    // from before runs had their own ids, where the first run never came back) gets one.
    try await AnalyticsJobs.ensureDaily(database: setup.database, now: setup.clock.now(), day: setup.configuration.daySeconds)
}
