import ForgeContracts
import ForgeKit

// forge-accounts: the single source of truth for who the customers are (DESIGN §7).
ForgeService.main(name: "accounts", migrations: AccountStore.migrations) { setup in
    let policy = try StalePolicy.load()
    AccountsHandler(store: AccountStore(database: setup.database, policy: policy), clock: setup.clock).register(in: &setup.router)
    AccountsAccess.declare(in: &setup.access)
    let stale = StaleAccounts(database: setup.database, clock: setup.clock, policy: policy)
    setup.jobHandlers[StaleAccounts.jobKind] = { payload, _ in
        try await stale.check(accountID: String(decoding: payload, as: UTF8.self))
    }
}
