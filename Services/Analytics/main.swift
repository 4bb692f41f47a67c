import ForgeContracts
import ForgeKit

// forge-analytics: the read model fed by every event feed (DESIGN §7). Today it follows the
// accounts feed into its customer table; the metrics over it arrive with the analytics issue.
ForgeService.main(name: "analytics", migrations: CustomerFacts.migrations) { setup in
    setup.consumers.append(
        EventConsumer(
            upstream: "accounts",
            feed: try setup.client(of: "accounts"),
            database: setup.database,
            types: ["AccountCreated", "AccountMerged"],
            logger: setup.logger,
            apply: CustomerFacts.apply
        )
    )
}
