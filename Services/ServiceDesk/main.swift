import ForgeContracts
import ForgeKit

// forge-servicedesk: the installed base, tickets with SLAs in business hours, the complaints'
// closed loop, engineers and assignment, work orders and maintenance, telemetry and prediction
// (DESIGN §7). It follows accounts' feed (names, owners, merges, erasures), orders' (each
// delivered machine with a serial number joins the installed base), feedback's (a detractor's
// answer opens a follow-up complaint) and loyalty's (a partner tier sets the service level).
ForgeService.main(name: "servicedesk", migrations: ServiceDeskStore.migrations) { setup in
    let loyalty = try setup.client(of: "loyalty")
    let handler = ServiceDeskHandler(database: setup.database, clock: setup.clock, loyalty: loyalty)
    handler.register(in: &setup.router)
    ServiceDeskAccess.declare(in: &setup.access)
    let clock = setup.clock
    setup.consumers.append(EventConsumer(
        upstream: "accounts", feed: try setup.client(of: "accounts"), database: setup.database, types: UpstreamEvents.accountsTypes, logger: setup.logger
    ) { db, event in
        try UpstreamEvents.applyAccounts(db, event, now: clock.now())
    })
    setup.consumers.append(EventConsumer(
        upstream: "orders", feed: try setup.client(of: "orders"), database: setup.database, types: UpstreamEvents.ordersTypes, logger: setup.logger
    ) { db, event in
        try UpstreamEvents.applyOrders(db, event, now: clock.now())
    })
    setup.consumers.append(EventConsumer(
        upstream: "feedback", feed: try setup.client(of: "feedback"), database: setup.database, types: UpstreamEvents.feedbackTypes, logger: setup.logger
    ) { db, event in
        try UpstreamEvents.applyFeedback(db, event, now: clock.now())
    })
    setup.consumers.append(EventConsumer(
        upstream: "loyalty", feed: loyalty, database: setup.database, types: UpstreamEvents.loyaltyTypes, logger: setup.logger
    ) { db, event in
        try UpstreamEvents.applyLoyalty(db, event, now: clock.now())
    })
    setup.jobHandlers.merge(handler.jobHandlers) { $1 }
}
