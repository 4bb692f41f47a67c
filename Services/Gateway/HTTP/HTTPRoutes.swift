import ForgeContracts
import ForgeWire
import Foundation
import HTTPTypes

/// The HTTP/JSON API: each route is one RPC. A route names the RPC, the service that owns it,
/// its path and query parameters; the request message is the JSON body (swift-protobuf's JSON
/// mapping) with the path and query parameters laid over it. The OpenAPI document is made from
/// this same table, so the two cannot drift apart.
struct HTTPRoute: Sendable {
    let method: HTTPRequest.Method
    /// Hummingbird's form: "/api/v1/accounts/{id}".
    let path: String
    let rpc: MethodDescriptor
    /// The service that serves `rpc` ("gateway" for the gateway's own).
    let service: String
    let summary: String
    /// Query parameters: name → the request field it sets (dotted for nested fields).
    var query: [String: String] = [:]
    /// Path parameters: name → the request field it sets.
    var pathFields: [String: String] = [:]
    var hasBody = false
    /// No token needed.
    var open = false
    /// Largest body accepted, bytes.
    var maxBody = 1 << 20
    /// The tag grouping it in the OpenAPI document.
    let tag: String
}

extension HTTPRoute {
    /// The RPC's request and response types.
    var registered: RegisteredMethod? { HTTPRoutes.registry[rpc.path] }
}

enum HTTPRoutes {
    /// Every generated method by path, looked up once rather than searched per request.
    static let registry = Dictionary(ForgeMethodRegistry.methods.map { ($0.descriptor.path, $0) }) { first, _ in first }

    static let page = ["page_size": "page.page_size", "page_token": "page.page_token"]

    static let all: [HTTPRoute] = {
        let accounts = Forge_Accounts_V1_AccountsService.Method.self
        let gateway = Forge_Gateway_V1_GatewayService.Method.self
        let pipeline = Forge_Pipeline_V1_PipelineService.Method.self
        let orders = Forge_Orders_V1_OrdersService.Method.self
        let service = Forge_Servicedesk_V1_ServiceDeskService.Method.self
        let feedback = Forge_Feedback_V1_FeedbackService.Method.self
        let loyalty = Forge_Loyalty_V1_LoyaltyService.Method.self
        let analytics = Forge_Analytics_V1_AnalyticsService.Method.self
        let kpiFilter = ["region": "filter.region", "industry": "filter.industry", "tier": "filter.tier", "owner_id": "filter.owner_id",
                         "team": "filter.team", "partner_tier": "filter.partner_tier"]
        var routes: [HTTPRoute] = [
            // Identity
            .init(method: .post, path: "/api/v1/auth/sign-in", rpc: gateway.signIn, service: "gateway", summary: "Sign in with a username and password", hasBody: true, open: true, tag: "auth"),
            .init(method: .post, path: "/api/v1/auth/refresh", rpc: gateway.refreshToken, service: "gateway", summary: "Exchange a refresh token for a new token pair", hasBody: true, open: true, tag: "auth"),
            .init(method: .get, path: "/api/v1/users", rpc: gateway.listUsers, service: "gateway", summary: "List users", query: page, tag: "users"),
            .init(method: .post, path: "/api/v1/users", rpc: gateway.createUser, service: "gateway", summary: "Create a user", hasBody: true, tag: "users"),
            .init(method: .put, path: "/api/v1/users/{username}", rpc: gateway.updateUser, service: "gateway", summary: "Update a user (send the version read)",
                  pathFields: ["username": "user.username"], hasBody: true, tag: "users"),
            .init(method: .put, path: "/api/v1/users/{username}/password", rpc: gateway.setPassword, service: "gateway", summary: "Set a password",
                  pathFields: ["username": "username"], hasBody: true, tag: "users"),
            .init(method: .get, path: "/api/v1/keys", rpc: gateway.listApiKeys, service: "gateway", summary: "List API keys", query: ["include_revoked": "include_revoked"], tag: "keys"),
            .init(method: .post, path: "/api/v1/keys", rpc: gateway.createApiKey, service: "gateway", summary: "Create an API key (the secret is shown once)", hasBody: true, tag: "keys"),
            .init(method: .delete, path: "/api/v1/keys/{id}", rpc: gateway.revokeApiKey, service: "gateway", summary: "Revoke an API key", pathFields: ["id": "id"], tag: "keys"),
            // Webhooks
            .init(method: .get, path: "/api/v1/webhooks", rpc: gateway.listWebhooks, service: "gateway", summary: "List webhook subscriptions", tag: "webhooks"),
            .init(method: .post, path: "/api/v1/webhooks", rpc: gateway.createWebhook, service: "gateway", summary: "Subscribe a URL to event types (the signing secret is shown once)", hasBody: true, tag: "webhooks"),
            .init(method: .delete, path: "/api/v1/webhooks/{id}", rpc: gateway.deleteWebhook, service: "gateway", summary: "Delete a subscription", pathFields: ["id": "id"], tag: "webhooks"),
            .init(method: .get, path: "/api/v1/webhook-deliveries", rpc: gateway.listDeliveries, service: "gateway", summary: "The delivery log (state=dead: the dead letters)",
                  query: ["webhook_id": "webhook_id", "state": "state", "limit": "limit"], tag: "webhooks"),
            .init(method: .post, path: "/api/v1/webhook-deliveries/{id}/replay", rpc: gateway.replayDelivery, service: "gateway", summary: "Send a delivery again",
                  pathFields: ["id": "id"], tag: "webhooks"),
            .init(method: .get, path: "/api/v1/notifications", rpc: gateway.listNotifications, service: "gateway",
                  summary: "Customer notifications and their delivery (state=dead: the dead letters)",
                  query: ["account_id": "account_id", "state": "state", "limit": "limit"], tag: "webhooks"),
            .init(method: .post, path: "/api/v1/notifications/retry", rpc: gateway.retryNotification, service: "gateway", summary: "Send a dead notification again",
                  hasBody: true, tag: "webhooks"),
            // The 360° view
            .init(method: .get, path: "/api/v1/accounts/{id}/360", rpc: gateway.getCustomer360, service: "gateway", summary: "The customer's 360° view, section by section",
                  query: ["deadline_ms": "deadline_ms"], pathFields: ["id": "account_id"], tag: "accounts"),
            // Accounts
            .init(method: .get, path: "/api/v1/accounts", rpc: accounts.listAccounts, service: "accounts", summary: "List accounts",
                  query: page.merging(["owner_id": "owner_id", "team": "team", "region": "region", "industry": "industry", "grade": "grade",
                                       "tier": "tier", "stage": "stage", "tag": "tag", "updated_since": "updated_since"]) { $1 }, tag: "accounts"),
            .init(method: .post, path: "/api/v1/accounts", rpc: accounts.createAccount, service: "accounts", summary: "Create an account (409 with the candidates when it looks like a duplicate)", hasBody: true, tag: "accounts"),
            .init(method: .get, path: "/api/v1/accounts/search", rpc: accounts.searchAccounts, service: "accounts", summary: "Search accounts by name prefix",
                  query: page.merging(["q": "name_prefix"]) { $1 }, tag: "accounts"),
            .init(method: .get, path: "/api/v1/accounts/{id}", rpc: accounts.getAccount, service: "accounts", summary: "Get an account", pathFields: ["id": "id"], tag: "accounts"),
            .init(method: .put, path: "/api/v1/accounts/{id}", rpc: accounts.updateAccount, service: "accounts", summary: "Update an account (send the version read; 409 when stale)",
                  pathFields: ["id": "account.id"], hasBody: true, tag: "accounts"),
            .init(method: .get, path: "/api/v1/accounts/{id}/contacts", rpc: accounts.listContacts, service: "accounts", summary: "An account's contacts",
                  query: page, pathFields: ["id": "account_id"], tag: "contacts"),
            .init(method: .post, path: "/api/v1/accounts/{id}/contacts", rpc: accounts.createContact, service: "accounts", summary: "Add a contact",
                  pathFields: ["id": "contact.account_id"], hasBody: true, tag: "contacts"),
            .init(method: .get, path: "/api/v1/contacts/{id}", rpc: accounts.getContact, service: "accounts", summary: "Get a contact", pathFields: ["id": "id"], tag: "contacts"),
            .init(method: .put, path: "/api/v1/contacts/{id}", rpc: accounts.updateContact, service: "accounts", summary: "Update a contact (send the version read)",
                  pathFields: ["id": "contact.id"], hasBody: true, tag: "contacts"),
            .init(method: .delete, path: "/api/v1/contacts/{id}", rpc: accounts.deleteContact, service: "accounts", summary: "Delete a contact (version as a query parameter)",
                  query: ["version": "version"], pathFields: ["id": "id"], tag: "contacts"),
            .init(method: .get, path: "/api/v1/accounts/{id}/activities", rpc: accounts.listActivities, service: "accounts", summary: "The account's timeline, newest first",
                  query: page, pathFields: ["id": "account_id"], tag: "activities"),
            .init(method: .post, path: "/api/v1/accounts/{id}/activities", rpc: accounts.logActivity, service: "accounts", summary: "Log an activity",
                  pathFields: ["id": "activity.account_id"], hasBody: true, tag: "activities"),
            .init(method: .get, path: "/api/v1/activities/search", rpc: accounts.searchActivities, service: "accounts", summary: "Full-text search of activities (Chinese too)",
                  query: page.merging(["q": "query"]) { $1 }, tag: "activities"),
            .init(method: .get, path: "/api/v1/segments", rpc: accounts.listSegments, service: "accounts", summary: "List segments", query: page, tag: "segments"),
            .init(method: .post, path: "/api/v1/segments", rpc: accounts.createSegment, service: "accounts", summary: "Create a segment", hasBody: true, tag: "segments"),
            .init(method: .get, path: "/api/v1/segments/{id}", rpc: accounts.getSegment, service: "accounts", summary: "Get a segment", pathFields: ["id": "id"], tag: "segments"),
            .init(method: .delete, path: "/api/v1/segments/{id}", rpc: accounts.deleteSegment, service: "accounts", summary: "Delete a segment", pathFields: ["id": "id"], tag: "segments"),
            .init(method: .get, path: "/api/v1/segments/{id}/accounts", rpc: accounts.listSegmentAccounts, service: "accounts", summary: "The segment's accounts now",
                  query: page, pathFields: ["id": "segment_id"], tag: "segments"),
            // Pipeline
            .init(method: .post, path: "/api/v1/leads", rpc: pipeline.captureLead, service: "pipeline",
                  summary: "Capture a lead (de-duplicated against open leads and accounts, assigned, scored)", hasBody: true, tag: "leads"),
            .init(method: .get, path: "/api/v1/leads", rpc: pipeline.listLeads, service: "pipeline", summary: "Open leads, highest score first",
                  query: page.merging(["owner_id": "owner_id"]) { $1 }, tag: "leads"),
            .init(method: .get, path: "/api/v1/leads/{id}", rpc: pipeline.getLead, service: "pipeline", summary: "Get a lead", pathFields: ["id": "id"], tag: "leads"),
            .init(method: .post, path: "/api/v1/leads/{id}/touch", rpc: pipeline.touchLead, service: "pipeline", summary: "Record a touch (the first meets the 24 h rule)",
                  pathFields: ["id": "id"], hasBody: true, tag: "leads"),
            .init(method: .post, path: "/api/v1/leads/{id}/reassign", rpc: pipeline.reassignLead, service: "pipeline", summary: "Give a lead to another owner (managers)",
                  pathFields: ["id": "id"], hasBody: true, tag: "leads"),
            .init(method: .get, path: "/api/v1/leads/{id}/assignments", rpc: pipeline.listLeadAssignments, service: "pipeline", summary: "A lead's assignment history",
                  pathFields: ["id": "lead_id"], tag: "leads"),
            .init(method: .post, path: "/api/v1/leads/{id}/disqualify", rpc: pipeline.disqualifyLead, service: "pipeline", summary: "Disqualify a lead with a reason",
                  pathFields: ["id": "id"], hasBody: true, tag: "leads"),
            .init(method: .post, path: "/api/v1/leads/{id}/convert", rpc: pipeline.convertLead, service: "pipeline",
                  summary: "Convert a lead into an account, a contact and an opportunity (idempotent)", pathFields: ["id": "lead_id"], hasBody: true, tag: "leads"),
            .init(method: .get, path: "/api/v1/pipeline/settings", rpc: pipeline.getPipelineSettings, service: "pipeline", summary: "Assignment rules, teams, scoring weights, stage limits", tag: "pipeline"),
            .init(method: .put, path: "/api/v1/pipeline/settings", rpc: pipeline.updatePipelineSettings, service: "pipeline", summary: "Replace the pipeline settings (send the version read)",
                  hasBody: true, tag: "pipeline"),
            .init(method: .get, path: "/api/v1/opportunities", rpc: pipeline.listOpportunities, service: "pipeline", summary: "List opportunities, newest first",
                  query: page.merging(["account_id": "account_id", "open_only": "open_only", "stage": "stage", "owner_id": "owner_id"]) { $1 }, tag: "opportunities"),
            .init(method: .get, path: "/api/v1/pipeline/board", rpc: pipeline.getBoard, service: "pipeline",
                  summary: "The board: per open stage the count and totals of the deals you may see, and those closing soonest",
                  query: ["per_stage": "per_stage", "owner_id": "owner_id", "stage": "stage"], tag: "opportunities"),
            .init(method: .post, path: "/api/v1/opportunities", rpc: pipeline.createOpportunity, service: "pipeline", summary: "Open an opportunity on an account", hasBody: true, tag: "opportunities"),
            .init(method: .get, path: "/api/v1/opportunities/{id}", rpc: pipeline.getOpportunity, service: "pipeline", summary: "Get an opportunity with its stage history",
                  pathFields: ["id": "id"], tag: "opportunities"),
            .init(method: .put, path: "/api/v1/opportunities/{id}", rpc: pipeline.updateOpportunity, service: "pipeline", summary: "Update an opportunity (send the version read)",
                  pathFields: ["id": "opportunity.id"], hasBody: true, tag: "opportunities"),
            .init(method: .post, path: "/api/v1/opportunities/{id}/stage", rpc: pipeline.advanceStage, service: "pipeline",
                  summary: "Move to another stage through its gates (400 FAILED_PRECONDITION naming what is missing)", pathFields: ["id": "id"], hasBody: true, tag: "opportunities"),
            .init(method: .get, path: "/api/v1/forecast", rpc: pipeline.getForecast, service: "pipeline", summary: "The weighted forecast by month (and owner, team or product line)",
                  query: ["from_month": "from_month", "to_month": "to_month", "by": "by", "team": "team"], tag: "opportunities"),
            .init(method: .post, path: "/api/v1/quotes", rpc: pipeline.createQuote, service: "pipeline",
                  summary: "A new quote version for an opportunity (priced; discounts beyond the thresholds wait for approval)", hasBody: true, tag: "quotes"),
            .init(method: .get, path: "/api/v1/quotes", rpc: pipeline.listQuotes, service: "pipeline", summary: "An opportunity's (or account's) quotes, newest first",
                  query: ["opportunity_id": "opportunity_id", "account_id": "account_id"], tag: "quotes"),
            .init(method: .get, path: "/api/v1/quotes/{id}", rpc: pipeline.getQuote, service: "pipeline", summary: "Get a quote", pathFields: ["id": "id"], tag: "quotes"),
            .init(method: .post, path: "/api/v1/quotes/{id}/decision", rpc: pipeline.decideQuote, service: "pipeline",
                  summary: "Approve or reject a quote's discount (the team's manager, or an admin above the second threshold)", pathFields: ["id": "id"], hasBody: true, tag: "quotes"),
            .init(method: .post, path: "/api/v1/quotes/{id}/send", rpc: pipeline.sendQuote, service: "pipeline", summary: "Send an approved quote (starts the follow-up cadence)",
                  pathFields: ["id": "id"], tag: "quotes"),
            .init(method: .post, path: "/api/v1/quotes/{id}/answer", rpc: pipeline.recordQuoteAnswer, service: "pipeline",
                  summary: "Record the customer's answer (acceptance wins the opportunity)", pathFields: ["id": "id"], hasBody: true, tag: "quotes"),
            .init(method: .get, path: "/api/v1/accounts/{id}/pipeline", rpc: pipeline.getAccountPipeline, service: "pipeline",
                  summary: "An account's open opportunities, latest quotes and open tasks", pathFields: ["id": "account_id"], tag: "opportunities"),
            .init(method: .get, path: "/api/v1/tasks", rpc: pipeline.listMyTasks, service: "pipeline", summary: "My tasks, overdue first",
                  query: page.merging(["include_done": "include_done"]) { $1 }, tag: "tasks"),
            .init(method: .post, path: "/api/v1/tasks/{id}/complete", rpc: pipeline.completeTask, service: "pipeline", summary: "Mark a task done", pathFields: ["id": "id"], tag: "tasks"),
            // Orders: the product master, orders and contracts, the ERP bridge, money
            .init(method: .get, path: "/api/v1/products", rpc: orders.listProducts, service: "orders", summary: "The product master by SKU",
                  query: page.merging(["product_line": "product_line", "include_inactive": "include_inactive"]) { $1 }, tag: "products"),
            .init(method: .get, path: "/api/v1/products/{sku}", rpc: orders.getProduct, service: "orders", summary: "Get a product", pathFields: ["sku": "sku"], tag: "products"),
            .init(method: .put, path: "/api/v1/products", rpc: orders.upsertProducts, service: "orders",
                  summary: "Upsert up to 500 products by SKU (ERP connectors; idempotent)", hasBody: true, tag: "products"),
            .init(method: .post, path: "/api/v1/orders", rpc: orders.createOrder, service: "orders", summary: "Draft an order", hasBody: true, tag: "orders"),
            .init(method: .get, path: "/api/v1/orders", rpc: orders.listOrders, service: "orders", summary: "List orders, newest first",
                  query: page.merging(["account_id": "account_id", "owner_id": "owner_id", "status": "statuses[]"]) { $1 }, tag: "orders"),
            .init(method: .get, path: "/api/v1/orders/{id}", rpc: orders.getOrder, service: "orders", summary: "An order with its status history and payments",
                  pathFields: ["id": "id"], tag: "orders"),
            .init(method: .put, path: "/api/v1/orders/{id}", rpc: orders.updateOrder, service: "orders", summary: "Edit a draft (send the version read)",
                  pathFields: ["id": "order.id"], hasBody: true, tag: "orders"),
            .init(method: .post, path: "/api/v1/orders/{id}/approve", rpc: orders.approveOrder, service: "orders",
                  summary: "Approve after the credit check (over the limit: finance with credit_override_reason)", pathFields: ["id": "id"], hasBody: true, tag: "orders"),
            .init(method: .post, path: "/api/v1/orders/{id}/release", rpc: orders.releaseOrder, service: "orders", summary: "Release an approved order to ERP",
                  pathFields: ["id": "id"], hasBody: true, tag: "orders"),
            .init(method: .post, path: "/api/v1/orders/{id}/cancel", rpc: orders.cancelOrder, service: "orders", summary: "Cancel an order with a reason",
                  pathFields: ["id": "id"], hasBody: true, tag: "orders"),
            .init(method: .post, path: "/api/v1/orders/{id}/invoices", rpc: orders.recordInvoice, service: "orders", summary: "Record ERP's invoice for an instalment",
                  pathFields: ["id": "order_id"], hasBody: true, tag: "receivables"),
            .init(method: .post, path: "/api/v1/orders/{id}/payments", rpc: orders.recordPayment, service: "orders",
                  summary: "Record a payment (once per reference; settles instalments oldest first)", pathFields: ["id": "order_id"], hasBody: true, tag: "receivables"),
            .init(method: .get, path: "/api/v1/receivables", rpc: orders.getReceivables, service: "orders", summary: "Receivables ageing, DSO and open items",
                  query: ["account_id": "account_id", "dso_days": "dso_days", "max_items": "max_items"], tag: "receivables"),
            .init(method: .get, path: "/api/v1/order-tasks", rpc: orders.listOrderTasks, service: "orders", summary: "My (and my role's) order tasks",
                  query: ["include_done": "include_done"], tag: "orders"),
            .init(method: .post, path: "/api/v1/order-tasks/{id}/complete", rpc: orders.completeOrderTask, service: "orders", summary: "Mark an order task done",
                  pathFields: ["id": "id"], tag: "orders"),
            .init(method: .get, path: "/api/v1/accounts/{id}/orders", rpc: orders.getAccountOrders, service: "orders",
                  summary: "An account's open orders, receivables ageing and on-time rate", pathFields: ["id": "account_id"], tag: "orders"),
            .init(method: .get, path: "/api/v1/erp/released-orders", rpc: orders.listReleasedOrders, service: "orders", summary: "Released orders after a cursor (ERP connectors)",
                  query: ["after": "after", "max_orders": "max_orders"], tag: "erp"),
            .init(method: .post, path: "/api/v1/erp/released-orders/{id}/acknowledge", rpc: orders.acknowledgeRelease, service: "orders",
                  summary: "Acknowledge a released order with ERP's order number", pathFields: ["id": "order_id"], hasBody: true, tag: "erp"),
            .init(method: .post, path: "/api/v1/erp/orders", rpc: orders.importOrders, service: "orders",
                  summary: "Import up to 500 orders ERP already has (once per ERP order number)", hasBody: true, tag: "erp"),
            .init(method: .post, path: "/api/v1/erp/status-reports", rpc: orders.reportProductionStatus, service: "orders",
                  summary: "Report a production or shipment status (idempotent by event_id)", hasBody: true, tag: "erp"),
            .init(method: .post, path: "/api/v1/erp/status-reports/batch", rpc: orders.reportProductionStatuses, service: "orders",
                  summary: "Report up to 500 statuses, each answered on its own", hasBody: true, tag: "erp"),
            // Service desk: the installed base, tickets with SLAs, complaints, engineers
            .init(method: .put, path: "/api/v1/equipment", rpc: service.registerEquipment, service: "servicedesk",
                  summary: "Register a machine (or update the one with its serial number)", hasBody: true, tag: "service"),
            .init(method: .get, path: "/api/v1/equipment", rpc: service.listEquipment, service: "servicedesk", summary: "An account's (or a model's) machines by serial number",
                  query: page.merging(["account_id": "account_id", "model": "model"]) { $1 }, tag: "service"),
            .init(method: .get, path: "/api/v1/equipment/{id}", rpc: service.getEquipment, service: "servicedesk", summary: "A machine with its tickets",
                  pathFields: ["id": "id"], tag: "service"),
            .init(method: .post, path: "/api/v1/tickets", rpc: service.openTicket, service: "servicedesk",
                  summary: "Open a ticket (SLA targets and an engineer are set)", hasBody: true, tag: "service"),
            .init(method: .get, path: "/api/v1/tickets", rpc: service.listTickets, service: "servicedesk", summary: "The ticket queue, least SLA time left first",
                  query: page.merging(["state": "states[]", "assignee_id": "assignee_id", "account_id": "account_id", "region": "region", "category": "category"]) { $1 }, tag: "service"),
            .init(method: .get, path: "/api/v1/tickets/{id}", rpc: service.getTicket, service: "servicedesk", summary: "A ticket with its SLA and history",
                  pathFields: ["id": "id"], tag: "service"),
            .init(method: .post, path: "/api/v1/tickets/{id}/assign", rpc: service.assignTicket, service: "servicedesk", summary: "Reassign a ticket",
                  pathFields: ["id": "id"], hasBody: true, tag: "service"),
            .init(method: .post, path: "/api/v1/tickets/{id}/respond", rpc: service.respondToTicket, service: "servicedesk", summary: "Record the first response",
                  pathFields: ["id": "id"], hasBody: true, tag: "service"),
            .init(method: .post, path: "/api/v1/tickets/{id}/waiting", rpc: service.setWaitingOnCustomer, service: "servicedesk",
                  summary: "Wait on the customer (pauses the resolution clock) or resume", pathFields: ["id": "id"], hasBody: true, tag: "service"),
            .init(method: .post, path: "/api/v1/tickets/{id}/resolve", rpc: service.resolveTicket, service: "servicedesk", summary: "Resolve a ticket",
                  pathFields: ["id": "id"], hasBody: true, tag: "service"),
            .init(method: .post, path: "/api/v1/tickets/{id}/close", rpc: service.closeTicket, service: "servicedesk",
                  summary: "Close a resolved ticket (a complaint after the customer confirmed, or with a manager's reason)", pathFields: ["id": "id"], hasBody: true, tag: "service"),
            .init(method: .post, path: "/api/v1/tickets/{id}/complaint-steps", rpc: service.advanceComplaint, service: "servicedesk",
                  summary: "A complaint's next step of the closed loop", pathFields: ["id": "id"], hasBody: true, tag: "service"),
            .init(method: .get, path: "/api/v1/engineers", rpc: service.listEngineers, service: "servicedesk", summary: "Service engineers with their open tickets", tag: "service"),
            .init(method: .put, path: "/api/v1/engineers/{id}", rpc: service.upsertEngineer, service: "servicedesk", summary: "Add or change an engineer's regions and skills",
                  pathFields: ["id": "engineer.id"], hasBody: true, tag: "service"),
            .init(method: .get, path: "/api/v1/service-settings", rpc: service.getServiceSettings, service: "servicedesk",
                  summary: "The business calendar and SLA targets", tag: "service"),
            .init(method: .put, path: "/api/v1/service-settings", rpc: service.updateServiceSettings, service: "servicedesk",
                  summary: "Change the business calendar and SLA targets (send the version read)", hasBody: true, tag: "service"),
            // Work orders, maintenance, telemetry and prediction
            .init(method: .post, path: "/api/v1/work-orders", rpc: service.createWorkOrder, service: "servicedesk",
                  summary: "Create a work order (from a ticket, or for a machine)", hasBody: true, tag: "service"),
            .init(method: .get, path: "/api/v1/work-orders", rpc: service.listWorkOrders, service: "servicedesk", summary: "Work orders, newest first (default: open and scheduled)",
                  query: page.merging(["state": "states[]", "equipment_id": "equipment_id", "account_id": "account_id", "engineer_id": "engineer_id"]) { $1 }, tag: "service"),
            .init(method: .get, path: "/api/v1/work-orders/{id}", rpc: service.getWorkOrder, service: "servicedesk", summary: "A work order",
                  pathFields: ["id": "id"], tag: "service"),
            .init(method: .post, path: "/api/v1/work-orders/{id}/schedule", rpc: service.scheduleWorkOrder, service: "servicedesk",
                  summary: "Give a work order its engineer and visit date", pathFields: ["id": "id"], hasBody: true, tag: "service"),
            .init(method: .post, path: "/api/v1/work-orders/{id}/complete", rpc: service.completeWorkOrder, service: "servicedesk",
                  summary: "Record the visit: labour, parts, result (closes its prediction)", pathFields: ["id": "id"], hasBody: true, tag: "service"),
            .init(method: .post, path: "/api/v1/work-orders/{id}/cancel", rpc: service.cancelWorkOrder, service: "servicedesk",
                  summary: "Cancel a work order with a reason", pathFields: ["id": "id"], hasBody: true, tag: "service"),
            .init(method: .get, path: "/api/v1/maintenance-plans", rpc: service.listMaintenancePlans, service: "servicedesk",
                  summary: "Preventive maintenance plans", query: ["model": "model"], tag: "service"),
            .init(method: .put, path: "/api/v1/maintenance-plans", rpc: service.upsertMaintenancePlan, service: "servicedesk",
                  summary: "Add or change a maintenance plan (every N running hours or M months)", hasBody: true, tag: "service"),
            .init(method: .get, path: "/api/v1/reliability", rpc: service.getReliability, service: "servicedesk",
                  summary: "MTTR per model and customer, MTBF per model", query: ["model": "model", "account_id": "account_id"], tag: "service"),
            .init(method: .get, path: "/api/v1/equipment/{id}/telemetry", rpc: service.getTelemetry, service: "servicedesk",
                  summary: "One machine's metric: raw points, hourly beyond the raw retention",
                  query: ["metric": "metric", "hourly": "hourly", "from": "from", "to": "to"], pathFields: ["id": "equipment_id"], tag: "service"),
            .init(method: .get, path: "/api/v1/telemetry-rules", rpc: service.listTelemetryRules, service: "servicedesk",
                  summary: "Threshold and trend rules per model", query: ["model": "model"], tag: "service"),
            .init(method: .put, path: "/api/v1/telemetry-rules", rpc: service.upsertTelemetryRule, service: "servicedesk",
                  summary: "Add or change a telemetry rule", hasBody: true, tag: "service"),
            .init(method: .get, path: "/api/v1/predictions", rpc: service.listPredictions, service: "servicedesk",
                  summary: "Failure predictions, newest first", query: ["equipment_id": "equipment_id", "account_id": "account_id", "open_only": "open_only"], tag: "service"),
            // Feedback: surveys, the closed loop, ideas, NPS
            .init(method: .get, path: "/api/v1/feedback-settings", rpc: feedback.getFeedbackSettings, service: "feedback",
                  summary: "Survey delays, fatigue limits, follow-up hours and keyword rules", tag: "feedback"),
            .init(method: .put, path: "/api/v1/feedback-settings", rpc: feedback.updateFeedbackSettings, service: "feedback",
                  summary: "Change the feedback settings (send the version read)", hasBody: true, tag: "feedback"),
            .init(method: .post, path: "/api/v1/surveys", rpc: feedback.scheduleSurvey, service: "feedback",
                  summary: "Send a survey to a contact now or at send_at", hasBody: true, tag: "feedback"),
            .init(method: .get, path: "/api/v1/surveys", rpc: feedback.listSurveys, service: "feedback", summary: "Surveys and answers, newest first; comments searchable",
                  query: page.merging(["account_id": "account_id", "kind": "kind", "query": "query", "tag": "tag", "campaign_id": "campaign_id", "region": "region",
                                       "state": "states[]", "score_class": "score_classes[]"]) { $1 }, tag: "feedback"),
            .init(method: .get, path: "/api/v1/surveys/{id}", rpc: feedback.getSurvey, service: "feedback", summary: "A survey and its answer",
                  pathFields: ["id": "id"], tag: "feedback"),
            .init(method: .get, path: "/api/v1/surveys/{id}/link", rpc: feedback.getSurveyLink, service: "feedback",
                  summary: "A sent survey's one-time link (to share it yourself)", pathFields: ["id": "id"], tag: "feedback"),
            .init(method: .post, path: "/api/v1/surveys/{id}/cancel", rpc: feedback.cancelSurvey, service: "feedback", summary: "Withdraw a survey",
                  pathFields: ["id": "id"], hasBody: true, tag: "feedback"),
            .init(method: .post, path: "/api/v1/survey-answers", rpc: feedback.importAnswers, service: "feedback",
                  summary: "Record answers given elsewhere (phone, a previous tool), once per key", hasBody: true, tag: "feedback"),
            .init(method: .post, path: "/api/v1/campaigns", rpc: feedback.createCampaign, service: "feedback",
                  summary: "Survey the main contact of every account of a segment", hasBody: true, tag: "feedback"),
            .init(method: .get, path: "/api/v1/campaigns", rpc: feedback.listCampaigns, service: "feedback", summary: "Survey campaigns, newest first", query: page, tag: "feedback"),
            .init(method: .get, path: "/api/v1/follow-ups", rpc: feedback.listFollowUps, service: "feedback",
                  summary: "Detractors' follow-up cases, the most urgent first (default: open and escalated)",
                  query: page.merging(["owner_id": "owner_id", "account_id": "account_id", "state": "states[]"]) { $1 }, tag: "feedback"),
            .init(method: .get, path: "/api/v1/follow-ups/{id}", rpc: feedback.getFollowUp, service: "feedback", summary: "A follow-up case with its answer",
                  pathFields: ["id": "id"], tag: "feedback"),
            .init(method: .post, path: "/api/v1/follow-ups/{id}/close", rpc: feedback.closeFollowUp, service: "feedback",
                  summary: "Close a follow-up with what was done and what changed (the customer is told)", pathFields: ["id": "id"], hasBody: true, tag: "feedback"),
            .init(method: .get, path: "/api/v1/advocacy", rpc: feedback.listAdvocacy, service: "feedback", summary: "Promoters invited to a case study, visit or referral",
                  query: page.merging(["state": "state", "account_id": "account_id"]) { $1 }, tag: "feedback"),
            .init(method: .post, path: "/api/v1/advocacy/{id}", rpc: feedback.recordAdvocacy, service: "feedback", summary: "Record a promoter's answer to the invitation",
                  pathFields: ["id": "id"], hasBody: true, tag: "feedback"),
            .init(method: .post, path: "/api/v1/ideas", rpc: feedback.submitIdea, service: "feedback", summary: "Record a customer's idea or request", hasBody: true, tag: "feedback"),
            .init(method: .get, path: "/api/v1/ideas", rpc: feedback.listIdeas, service: "feedback", summary: "The ideas board, most votes first",
                  query: page.merging(["account_id": "account_id", "product_line": "product_line", "status": "statuses[]"]) { $1 }, tag: "feedback"),
            .init(method: .post, path: "/api/v1/ideas/{id}/votes", rpc: feedback.voteIdea, service: "feedback", summary: "Another customer's vote for an idea",
                  pathFields: ["id": "id"], hasBody: true, tag: "feedback"),
            .init(method: .post, path: "/api/v1/ideas/{id}/status", rpc: feedback.updateIdeaStatus, service: "feedback",
                  summary: "Move an idea (under review, planned, shipped, declined with a reason)", pathFields: ["id": "id"], hasBody: true, tag: "feedback"),
            .init(method: .get, path: "/api/v1/nps", rpc: feedback.getNps, service: "feedback", summary: "NPS and CSAT, filtered and grouped (e.g. group_by=region&group_by=month)",
                  query: ["account_id": "account_id", "region": "region", "industry": "industry", "product_line": "product_line", "tier": "tier", "team": "team",
                          "segment_id": "segment_id", "group_by": "group_by[]", "from": "from", "to": "to"], tag: "feedback"),
            // Loyalty: the partner programme, memberships, entitlements, rebates
            .init(method: .get, path: "/api/v1/loyalty/programme", rpc: loyalty.getProgramme, service: "loyalty",
                  summary: "The partner programme in force (and a version waiting for its date)", tag: "loyalty"),
            .init(method: .put, path: "/api/v1/loyalty/programme", rpc: loyalty.updateProgramme, service: "loyalty",
                  summary: "A new programme version (send the version read, a change note and when it takes effect)", hasBody: true, tag: "loyalty"),
            .init(method: .get, path: "/api/v1/loyalty/programme/versions", rpc: loyalty.listProgrammeVersions, service: "loyalty",
                  summary: "Every version of the programme, newest first", tag: "loyalty"),
            .init(method: .get, path: "/api/v1/loyalty/overview", rpc: loyalty.getProgrammeOverview, service: "loyalty",
                  summary: "Members per tier, this quarter's movements, downgrades pending, members near the next tier", tag: "loyalty"),
            .init(method: .get, path: "/api/v1/loyalty/members", rpc: loyalty.listMembers, service: "loyalty", summary: "Members, by account",
                  query: page.merging(["tier": "tier", "pending_downgrade": "pending_downgrade"]) { $1 }, tag: "loyalty"),
            .init(method: .get, path: "/api/v1/loyalty/members/{account_id}", rpc: loyalty.getMembership, service: "loyalty",
                  summary: "A membership: tier with its explanation, entitlements left, rebate progress", pathFields: ["account_id": "account_id"], tag: "loyalty"),
            .init(method: .post, path: "/api/v1/loyalty/members/{account_id}/evaluate", rpc: loyalty.evaluateTier, service: "loyalty",
                  summary: "Measure the account against the programme now", pathFields: ["account_id": "account_id"], hasBody: true, tag: "loyalty"),
            .init(method: .get, path: "/api/v1/loyalty/members/{account_id}/history", rpc: loyalty.getTierHistory, service: "loyalty",
                  summary: "Tier changes, warnings and overrides, newest first", query: ["limit": "limit"], pathFields: ["account_id": "account_id"], tag: "loyalty"),
            .init(method: .post, path: "/api/v1/loyalty/members/{account_id}/override", rpc: loyalty.overrideTier, service: "loyalty",
                  summary: "Set the tier by hand (a manager, with a reason and an expiry)", pathFields: ["account_id": "account_id"], hasBody: true, tag: "loyalty"),
            .init(method: .delete, path: "/api/v1/loyalty/members/{account_id}/override", rpc: loyalty.clearOverride, service: "loyalty",
                  summary: "End an override now", query: ["version": "version", "reason": "reason"], pathFields: ["account_id": "account_id"], tag: "loyalty"),
            .init(method: .post, path: "/api/v1/loyalty/purchases", rpc: loyalty.recordPurchases, service: "loyalty",
                  summary: "Purchases and returns from ERP (history before Forge, credit notes), once per key", hasBody: true, tag: "loyalty"),
            .init(method: .post, path: "/api/v1/loyalty/members/{account_id}/consumptions", rpc: loyalty.consumeEntitlement, service: "loyalty",
                  summary: "Use an entitlement, once per (code, reference)", pathFields: ["account_id": "account_id"], hasBody: true, tag: "loyalty"),
            .init(method: .get, path: "/api/v1/loyalty/members/{account_id}/consumptions", rpc: loyalty.listConsumptions, service: "loyalty",
                  summary: "Entitlements used, newest first", query: page.merging(["code": "code"]) { $1 }, pathFields: ["account_id": "account_id"], tag: "loyalty"),
            .init(method: .post, path: "/api/v1/loyalty/members/{account_id}/consumptions/reverse", rpc: loyalty.reverseConsumption, service: "loyalty",
                  summary: "Give a consumption back, with a reason", pathFields: ["account_id": "account_id"], hasBody: true, tag: "loyalty"),
            .init(method: .post, path: "/api/v1/loyalty/rebates", rpc: loyalty.createRebateAgreement, service: "loyalty",
                  summary: "A volume-rebate agreement: period, thresholds and rates", hasBody: true, tag: "loyalty"),
            .init(method: .get, path: "/api/v1/loyalty/rebates", rpc: loyalty.listRebateAgreements, service: "loyalty", summary: "Rebate agreements",
                  query: page.merging(["account_id": "account_id", "state": "state"]) { $1 }, tag: "loyalty"),
            .init(method: .get, path: "/api/v1/loyalty/rebates/{id}", rpc: loyalty.getRebateStatement, service: "loyalty",
                  summary: "An agreement with its statement of progress", pathFields: ["id": "id"], tag: "loyalty"),
            .init(method: .post, path: "/api/v1/loyalty/rebates/{id}/settle", rpc: loyalty.settleRebate, service: "loyalty",
                  summary: "Settle after the period (requests the credit note)", pathFields: ["id": "id"], hasBody: true, tag: "loyalty"),
            .init(method: .post, path: "/api/v1/loyalty/rebates/{id}/cancel", rpc: loyalty.cancelRebateAgreement, service: "loyalty",
                  summary: "End an agreement without settlement, with a reason", pathFields: ["id": "id"], hasBody: true, tag: "loyalty"),
            // Analytics: KPIs, customer health, churn risk, the monthly report
            .init(method: .get, path: "/api/v1/analytics/kpis", rpc: analytics.getKpis, service: "analytics",
                  summary: "KPIs by DESIGN §7's formulas with numerator, denominator and period (from/to RFC 3339; group_by=DIMENSION_REGION …)",
                  query: kpiFilter.merging(["from": "from", "to": "to", "group_by": "group_by", "keys": "keys[]"]) { $1 }, tag: "analytics"),
            .init(method: .get, path: "/api/v1/analytics/adoption", rpc: analytics.getAdoption, service: "analytics",
                  summary: "CRM adoption per rep: accounts, stale accounts, activities per week", query: ["from": "from", "to": "to", "team": "team"], tag: "analytics"),
            .init(method: .get, path: "/api/v1/analytics/accounts/{account_id}/health", rpc: analytics.getAccountHealth, service: "analytics",
                  summary: "Health score with its components and reasons, churn risk, repurchase cycles", pathFields: ["account_id": "account_id"], tag: "analytics"),
            .init(method: .get, path: "/api/v1/analytics/risks", rpc: analytics.listRisks, service: "analytics", summary: "Accounts by churn risk, highest first",
                  query: kpiFilter.merging(["min_level": "min_level", "limit": "limit"]) { $1 }, tag: "analytics"),
            .init(method: .get, path: "/api/v1/analytics/report", rpc: analytics.getReport, service: "analytics",
                  summary: "The monthly management report (month=2026-11; default the last whole month)", query: kpiFilter.merging(["month": "month"]) { $1 }, tag: "analytics"),
            .init(method: .post, path: "/api/v1/analytics/rebuild", rpc: analytics.rebuild, service: "analytics",
                  summary: "Admin: drop the read model and replay every feed from the start", hasBody: true, tag: "analytics"),
        ]
        var importAccounts = HTTPRoute(method: .post, path: "/api/v1/import/accounts", rpc: accounts.importAccounts, service: "accounts",
                                       summary: "Import one batch of spreadsheet rows (accounts)", hasBody: true, tag: "import")
        importAccounts.maxBody = 8 << 20
        var importContacts = HTTPRoute(method: .post, path: "/api/v1/import/contacts", rpc: accounts.importContacts, service: "accounts",
                                       summary: "Import one batch of spreadsheet rows (contacts)", hasBody: true, tag: "import")
        importContacts.maxBody = 8 << 20
        var importProducts = HTTPRoute(method: .post, path: "/api/v1/import/products", rpc: orders.importProducts, service: "orders",
                                       summary: "Import one batch of spreadsheet rows (products)", hasBody: true, tag: "import")
        importProducts.maxBody = 8 << 20
        var importOrderStatus = HTTPRoute(method: .post, path: "/api/v1/import/order-status", rpc: orders.importOrderStatus, service: "orders",
                                          summary: "Import one batch of ERP's status file", hasBody: true, tag: "import")
        importOrderStatus.maxBody = 8 << 20
        var importEquipment = HTTPRoute(method: .post, path: "/api/v1/import/equipment", rpc: service.importEquipment, service: "servicedesk",
                                        summary: "Import one batch of spreadsheet rows (the installed base)", hasBody: true, tag: "import")
        importEquipment.maxBody = 8 << 20
        // 10,000 points as JSON run to about 1.5 MB.
        var telemetry = HTTPRoute(method: .post, path: "/api/v1/telemetry", rpc: service.ingestTelemetry, service: "servicedesk",
                                  summary: "Ingest up to 10,000 telemetry points (the models' rules run on them)", hasBody: true, tag: "service")
        telemetry.maxBody = 4 << 20
        routes += [importAccounts, importContacts, importProducts, importOrderStatus, importEquipment, telemetry]
        return routes
    }()
}

/// gRPC status → HTTP status, as Google's API design guide maps them, but for one:
/// FAILED_PRECONDITION is 409 Conflict, not 400. Forge answers it to a well-formed request that
/// the resource's state refuses (an order already released, a quota used up, a gate's missing
/// amount); 400 is kept for a request that is wrong in itself (INVALID_ARGUMENT), so a client,
/// or a fuzzer holding the OpenAPI document, can tell "fix the request" from "look at the
/// resource". The body's `status` still names the gRPC code.
enum HTTPStatusMapping {
    static func status(for code: StatusCode) -> HTTPResponse.Status {
        switch code {
        case .ok: .ok
        case .invalidArgument, .outOfRange: .badRequest
        case .failedPrecondition: .conflict
        case .unauthenticated: .unauthorized
        case .permissionDenied: .forbidden
        case .notFound: .notFound
        case .alreadyExists, .aborted: .conflict
        case .resourceExhausted: .tooManyRequests
        case .cancelled: .init(code: 499, reasonPhrase: "Client Closed Request")
        case .unimplemented: .notImplemented
        case .unavailable: .serviceUnavailable
        case .deadlineExceeded: .gatewayTimeout
        default: .internalServerError
        }
    }
}
