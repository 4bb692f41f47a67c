import ForgeContracts
import ForgeKit

// forge-servicedesk: the installed base, tickets with SLAs in business hours, the complaints'
// closed loop, engineers and assignment (DESIGN §7). It follows accounts' feed (names, owners,
// merges, erasures) and orders' (each delivered machine with a serial number joins the installed base).
ForgeService.main(name: "servicedesk", migrations: ServiceDeskStore.migrations) { setup in
    let handler = ServiceDeskHandler(database: setup.database, clock: setup.clock)
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
    setup.jobHandlers.merge(handler.jobHandlers) { $1 }
}
