import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// `forge.orders.v1.Orders`: translates RPCs into store calls and rules. The credit check reads
/// the account's limit from forge-accounts over the wire, as the service (a finance figure the
/// approving manager may not be shown in full elsewhere).
struct OrdersHandler: Forge_Orders_V1_OrdersHandler {
    let database: DatabasePool
    let clock: any WallClock
    /// forge-accounts; nil when not configured (approval then answers UNAVAILABLE).
    let accounts: (any RPCChannel)?

    var orders: OrderStore { OrderStore(database: database, clock: clock) }
    var products: ProductStore { ProductStore(database: database, clock: clock) }
    var receivables: Receivables { Receivables(database: database, clock: clock) }

    static let accountsTimeout: Duration = .seconds(5)

    static func required(_ value: String, _ field: String) -> [FieldViolation] {
        value.isBlank ? [FieldViolation(field: field, description: "is required")] : []
    }

    // MARK: Orders

    func createOrder(_ request: Forge_Orders_V1_CreateOrderRequest, context: ServerContext) async throws -> Forge_Orders_V1_CreateOrderResponse {
        let principal = try context.caller()
        let violations = OrderRules.validate(request.order, now: clock.now())
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let order = try await orders.create(request.order, context: context, principal: principal)
        return .with { $0.order = OrderRules.view(order, for: principal) }
    }

    func getOrder(_ request: Forge_Orders_V1_GetOrderRequest, context: ServerContext) async throws -> Forge_Orders_V1_GetOrderResponse {
        guard !request.id.isEmpty else { throw RPCError.invalidArgument(Self.required(request.id, "id")) }
        let principal = try context.caller()
        return try await database.read { db in
            let order = try OrderStore.visible(db, id: request.id, principal: principal)
            let history = try StatusReports.history(db, orderID: order.id)
            let payments = OrderRules.maySeeFinance(principal) ? try Receivables.payments(db, orderID: order.id) : []
            return .with {
                $0.order = OrderRules.view(order, for: principal)
                $0.history = history
                $0.payments = payments
            }
        }
    }

    func listOrders(_ request: Forge_Orders_V1_ListOrdersRequest, context: ServerContext) async throws -> Forge_Orders_V1_ListOrdersResponse {
        var violations: [FieldViolation] = []
        for (index, status) in request.statuses.enumerated() where !(1...7).contains(status.rawValue) {
            violations.append(FieldViolation(field: "statuses[\(index)]", description: "is not an order status"))
        }
        let page: Page
        do {
            page = try Page(request.page, isCursor: OrderStore.isPosition)
        } catch let error as RPCError {
            throw RPCError.invalidArgument(violations + error.violations)
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let found = try await orders.list(request, page: page, principal: principal)
        return .with {
            $0.orders = found.map { OrderRules.view($0, for: principal) }
            $0.page = page.response(next: found.last.map(OrderStore.cursor(after:)), count: found.count)
        }
    }

    func updateOrder(_ request: Forge_Orders_V1_UpdateOrderRequest, context: ServerContext) async throws -> Forge_Orders_V1_UpdateOrderResponse {
        var violations = Self.required(request.order.id, "order.id")
        // The account is not editable: an update need not name it.
        violations += OrderRules.validate(request.order, now: clock.now()).filter { $0.field != "order.account_id" }
        if request.order.version <= 0 { violations.append(FieldViolation(field: "order.version", description: "is required (the version you read)")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let order = try await orders.update(request.order, context: context, principal: principal)
        return .with { $0.order = OrderRules.view(order, for: principal) }
    }

    func approveOrder(_ request: Forge_Orders_V1_ApproveOrderRequest, context: ServerContext) async throws -> Forge_Orders_V1_ApproveOrderResponse {
        var violations = Self.required(request.id, "id")
        if request.creditOverrideReason.count > 500 {
            violations.append(FieldViolation(field: "credit_override_reason", description: "must be at most 500 characters"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let current = try await database.read { db in try OrderStore.visible(db, id: request.id, principal: principal) }
        let limit = try await creditLimit(accountID: current.accountID)
        let order = try await orders.approve(request, limit: limit, context: context, principal: principal)
        return .with { $0.order = OrderRules.view(order, for: principal) }
    }

    /// The account's credit limit from forge-accounts; nil when none is set.
    func creditLimit(accountID: String) async throws -> Forge_Common_V1_Money? {
        let account = try await UpstreamCall.run("accounts", accounts, cannot: "check credit") {
            try await Forge_Accounts_V1_AccountsClient(channel: $0).getAccount(.with { $0.id = accountID }, options: CallOptions(timeout: Self.accountsTimeout)).account
        }
        return account.hasCreditLimit ? account.creditLimit : nil
    }

    func releaseOrder(_ request: Forge_Orders_V1_ReleaseOrderRequest, context: ServerContext) async throws -> Forge_Orders_V1_ReleaseOrderResponse {
        guard !request.id.isEmpty else { throw RPCError.invalidArgument(Self.required(request.id, "id")) }
        let principal = try context.caller()
        let order = try await orders.release(request, context: context, principal: principal)
        return .with { $0.order = OrderRules.view(order, for: principal) }
    }

    func cancelOrder(_ request: Forge_Orders_V1_CancelOrderRequest, context: ServerContext) async throws -> Forge_Orders_V1_CancelOrderResponse {
        var violations = Self.required(request.id, "id")
        let reason = request.reason.trimmed
        violations += Self.required(reason, "reason")
        if reason.count > 500 { violations.append(FieldViolation(field: "reason", description: "must be at most 500 characters")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let order = try await orders.cancel(request, reason: reason, context: context, principal: principal)
        return .with { $0.order = OrderRules.view(order, for: principal) }
    }

    // MARK: Tasks and the 360° section

    func listOrderTasks(_ request: Forge_Orders_V1_ListOrderTasksRequest, context: ServerContext) async throws -> Forge_Orders_V1_ListOrderTasksResponse {
        let principal = try context.caller()
        let tasks = try await database.read { db in try OrdersStore.tasks(db, principal: principal, includeDone: request.includeDone) }
        return .with { $0.tasks = tasks }
    }

    func completeOrderTask(_ request: Forge_Orders_V1_CompleteOrderTaskRequest, context: ServerContext) async throws -> Forge_Orders_V1_CompleteOrderTaskResponse {
        guard !request.id.isEmpty else { throw RPCError.invalidArgument(Self.required(request.id, "id")) }
        let principal = try context.caller()
        let task = try await database.write { db in try OrdersStore.completeTask(db, id: request.id, principal: principal) }
        return .with { $0.task = task }
    }

    func getAccountOrders(_ request: Forge_Orders_V1_GetAccountOrdersRequest, context: ServerContext) async throws -> Forge_Orders_V1_GetAccountOrdersResponse {
        guard !request.accountID.isEmpty else { throw RPCError.invalidArgument(Self.required(request.accountID, "account_id")) }
        return try await receivables.accountSection(accountID: request.accountID, principal: try context.caller())
    }
}

/// Who may call what (DESIGN §9). Object level: reps and team managers reach their own and
/// their team's orders; connectors only the bridge and product master; finance and admin all.
enum OrdersAccess {
    static func declare(in access: inout AccessTable) {
        let method = Forge_Orders_V1_OrdersService.Method.self
        let sales: Set<String> = [Role.salesManager, Role.salesRep]
        let office = sales.union([Role.finance])
        let readers = office.union([Role.analyst, Role.serviceManager, Role.serviceEngineer, Role.service])
        access.allow(method.upsertProducts, .roles([Role.erpConnector]))
        access.allow(method.importProducts, .roles([Role.erpConnector]))
        access.allow(method.getProduct, .roles(readers.union([Role.marketing, Role.erpConnector])))
        access.allow(method.listProducts, .roles(readers.union([Role.marketing, Role.erpConnector])))
        access.allow(method.createOrder, .roles(sales))
        access.allow(method.getOrder, .roles(readers))
        access.allow(method.listOrders, .roles(readers))
        access.allow(method.updateOrder, .roles(sales))
        // Managers approve within the credit limit; finance approves anything, over the limit with a reason.
        access.allow(method.approveOrder, .roles([Role.salesManager, Role.finance]))
        access.allow(method.releaseOrder, .roles([Role.salesManager, Role.finance]))
        access.allow(method.cancelOrder, .roles([Role.salesManager, Role.finance]))
        access.allow(method.listReleasedOrders, .roles([Role.erpConnector]))
        access.allow(method.acknowledgeRelease, .roles([Role.erpConnector]))
        access.allow(method.importOrders, .roles([Role.erpConnector]))
        access.allow(method.reportProductionStatus, .roles([Role.erpConnector]))
        access.allow(method.reportProductionStatuses, .roles([Role.erpConnector]))
        access.allow(method.importOrderStatus, .roles([Role.erpConnector]))
        access.allow(method.recordInvoice, .roles([Role.finance, Role.erpConnector]))
        access.allow(method.recordPayment, .roles([Role.finance, Role.erpConnector]))
        access.allow(method.getReceivables, .roles([Role.finance, Role.salesManager]))
        access.allow(method.listOrderTasks, .roles(office))
        access.allow(method.completeOrderTask, .roles(office))
        access.allow(method.getAccountOrders, .roles(readers))
    }
}
