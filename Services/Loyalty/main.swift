import ForgeContracts
import ForgeKit

// forge-loyalty: the B2B partner programme (DESIGN §7) — tiers by purchases, depth of
// cooperation and strategic fit, evaluated with an explanation and kept as history; benefits as
// entitlements with yearly quotas; volume rebates. It follows accounts' feed (names, owners,
// strategic flags, merges, erasures), orders' (product lines, deliveries and ERP's history as
// purchases, overdue instalments) and feedback's (NPS answers).
ForgeService.main(name: "loyalty", migrations: LoyaltyStore.migrations) { setup in
    let handler = LoyaltyHandler(database: setup.database, clock: setup.clock, day: setup.configuration.daySeconds)
    handler.register(in: &setup.router)
    LoyaltyAccess.declare(in: &setup.access)
    let clock = setup.clock
    let day = handler.day
    setup.consumers.append(EventConsumer(
        upstream: "accounts", feed: try setup.client(of: "accounts"), database: setup.database, types: UpstreamEvents.accountsTypes, logger: setup.logger
    ) { db, event in
        try UpstreamEvents.applyAccounts(db, event, now: clock.now(), day: day)
    })
    setup.consumers.append(EventConsumer(
        upstream: "orders", feed: try setup.client(of: "orders"), database: setup.database, types: UpstreamEvents.ordersTypes, logger: setup.logger
    ) { db, event in
        try UpstreamEvents.applyOrders(db, event, now: clock.now(), day: day)
    })
    setup.consumers.append(EventConsumer(
        upstream: "feedback", feed: try setup.client(of: "feedback"), database: setup.database, types: UpstreamEvents.feedbackTypes, logger: setup.logger
    ) { db, event in
        try UpstreamEvents.applyFeedback(db, event, now: clock.now(), day: day)
    })
    setup.jobHandlers.merge(LoyaltyJobs.handlers(database: setup.database, clock: setup.clock, day: day)) { $1 }
}
