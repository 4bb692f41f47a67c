import ForgeContracts
import ForgeKit

// forge-pipeline: leads, opportunities, tasks and the forecast (DESIGN §7). It follows the
// accounts feed for de-duplication, merges, erasures and the revisit pool, the service desk's
// for failure predictions (a spare-parts opportunity), analytics' for churn risks and purchase
// windows (tasks for the owner), and reads quote prices from the product
// master in forge-orders.
ForgeService.main(name: "pipeline", migrations: PipelineStore.migrations) { setup in
    let accounts = try setup.client(of: "accounts")
    let handler = PipelineHandler(database: setup.database, clock: setup.clock, accounts: accounts, orders: try setup.client(of: "orders"))
    handler.register(in: &setup.router)
    PipelineAccess.declare(in: &setup.access)
    let clock = setup.clock
    setup.consumers.append(EventConsumer(
        upstream: "accounts", feed: accounts, database: setup.database, types: AccountsFeed.eventTypes, logger: setup.logger
    ) { db, event in
        try AccountsFeed.apply(db, event, clock: clock)
    })
    setup.consumers.append(EventConsumer(
        upstream: "servicedesk", feed: try setup.client(of: "servicedesk"), database: setup.database, types: ServiceFeed.eventTypes, logger: setup.logger
    ) { db, event in
        try ServiceFeed.apply(db, event, clock: clock)
    })
    setup.consumers.append(EventConsumer(
        upstream: "analytics", feed: try setup.client(of: "analytics"), database: setup.database, types: AnalyticsFeed.eventTypes, logger: setup.logger
    ) { db, event in
        try AnalyticsFeed.apply(db, event, clock: clock)
    })
    setup.jobHandlers.merge(handler.jobHandlers) { $1 }
}
