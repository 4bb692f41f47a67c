import ForgeContracts
import ForgeKit

// forge-feedback: NPS and CSAT surveys with one-time links and fatigue limits, the closed loop
// (detractor follow-ups, promoter thanks and advocacy), customers' ideas, NPS reports (DESIGN
// §7). It follows accounts' feed (names, owners, report dimensions, contacts, merges, erasures,
// the revisit pool), orders' (a delivery asks for an NPS survey days later) and the service
// desk's (a closed ticket asks for a CSAT survey).
ForgeService.main(name: "feedback", migrations: FeedbackStore.migrations) { setup in
    let accounts = try setup.client(of: "accounts")
    let handler = FeedbackHandler(database: setup.database, clock: setup.clock, accounts: accounts, day: setup.configuration.daySeconds)
    handler.register(in: &setup.router)
    FeedbackAccess.declare(in: &setup.access)
    let clock = setup.clock
    setup.consumers.append(EventConsumer(
        upstream: "accounts", feed: accounts, database: setup.database, types: UpstreamEvents.accountsTypes, logger: setup.logger
    ) { db, event in
        try UpstreamEvents.applyAccounts(db, event, now: clock.now())
    })
    setup.consumers.append(EventConsumer(
        upstream: "orders", feed: try setup.client(of: "orders"), database: setup.database, types: UpstreamEvents.ordersTypes, logger: setup.logger
    ) { db, event in
        try UpstreamEvents.applyOrders(db, event, now: clock.now(), day: handler.day)
    })
    setup.consumers.append(EventConsumer(
        upstream: "servicedesk", feed: try setup.client(of: "servicedesk"), database: setup.database, types: UpstreamEvents.serviceDeskTypes, logger: setup.logger
    ) { db, event in
        try UpstreamEvents.applyServiceDesk(db, event, now: clock.now())
    })
    setup.jobHandlers.merge(handler.jobHandlers) { $1 }
}
