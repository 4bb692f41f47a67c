import ForgeContracts
import ForgeKit

// forge-orders: the product master, orders and contracts, the ERP/MES bridge, invoices,
// payments and receivables (DESIGN §7). It follows accounts' feed (names and owners, merges,
// erasures) and pipeline's (a won opportunity drafts its order).
ForgeService.main(name: "orders", migrations: OrdersStore.migrations) { setup in
    let accounts = try setup.client(of: "accounts")
    let pipeline = try setup.client(of: "pipeline")
    let handler = OrdersHandler(database: setup.database, clock: setup.clock, accounts: accounts)
    handler.register(in: &setup.router)
    OrdersAccess.declare(in: &setup.access)
    let clock = setup.clock
    setup.consumers.append(EventConsumer(
        upstream: "accounts", feed: accounts, database: setup.database, types: UpstreamEvents.accountsTypes, logger: setup.logger
    ) { db, event in
        try UpstreamEvents.applyAccounts(db, event, now: clock.now())
    })
    setup.consumers.append(EventConsumer(
        upstream: "pipeline", feed: pipeline, database: setup.database, types: UpstreamEvents.pipelineTypes, logger: setup.logger
    ) { db, event in
        try UpstreamEvents.applyPipeline(db, event, now: clock.now())
    })
    setup.jobHandlers.merge(handler.jobHandlers) { $1 }
}
