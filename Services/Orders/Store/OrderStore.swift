import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Orders and contracts: their rows, the commercial lifecycle (draft, credit hold, approved,
/// released, delivered, completed, cancelled) and the instalments' money beside them.
struct OrderStore: Sendable {
    let database: DatabasePool
    let clock: any WallClock

    static let overdueJob = "installment-overdue"

    // MARK: Rows

    /// Writes the order, its lines' progress rows and its instalments' money rows in the
    /// caller's transaction.
    /// - Parameter money: false when nothing about its money changed: the instalment rows stay
    ///   as they are.
    static func write(_ db: Database, _ order: Forge_Orders_V1_Order, money: Bool = true) throws {
        try db.execute(cached: """
            INSERT INTO orders (id, order_number, account_id, owner_id, team, status, opportunity_id, erp_order_number, contact_id,
                                release_seq, created_at, version, total_micros, delivered_at, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET account_id = excluded.account_id, owner_id = excluded.owner_id, team = excluded.team,
                status = excluded.status, erp_order_number = excluded.erp_order_number, contact_id = excluded.contact_id,
                version = excluded.version, total_micros = excluded.total_micros, delivered_at = excluded.delivered_at,
                payload = excluded.payload
            """, arguments: [order.id, order.orderNumber, order.accountID, order.ownerID, order.team, order.status.rawValue, order.opportunityID,
                             order.erpOrderNumber, order.contactID, order.createdAt.date.timeIntervalSince1970, order.version,
                             order.total.amountMicros, deliveredAt(order), try LineProgress.stripped(order).serializedData()])
        try LineProgress.write(db, order)
        if money { try writeInstallments(db, order) }
    }

    /// The instalments' money rows of `order`, replacing the ones it had.
    static func writeInstallments(_ db: Database, _ order: Forge_Orders_V1_Order) throws {
        try db.execute(cached: "DELETE FROM installment WHERE order_id = ?", arguments: [order.id])
        // A draft, a held or a cancelled order owes nothing yet.
        guard OrderRules.committed.contains(order.status) || order.status == .completed else { return }
        for installment in order.paymentPlan {
            try db.execute(cached: """
                INSERT INTO installment (order_id, number, account_id, owner_id, team, amount_micros, outstanding_micros, invoiced_at, due_at, currency)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [order.id, installment.number, order.accountID, order.ownerID, order.team, installment.amount.amountMicros,
                                 PaymentPlanRules.outstanding(installment),
                                 installment.hasInvoicedAt ? installment.invoicedAt.date.timeIntervalSince1970 : nil,
                                 installment.hasDueAt ? installment.dueAt.date.timeIntervalSince1970 : nil, OrderRules.currencyCode(order)])
        }
    }

    /// Writes an order whose keys (account, owner, team, numbers, contact) and lines did not
    /// change — what a shipment or delivery report does to it — without touching the indexes
    /// on them (an upsert that names a column rewrites every index holding it) or its lines'
    /// progress rows (the report writes its own). `status` is written only when it changed.
    static func writeFields(_ db: Database, _ order: Forge_Orders_V1_Order, statusChanged: Bool, money: Bool) throws {
        let payload = try LineProgress.stripped(order).serializedData()
        if statusChanged {
            try db.execute(cached: "UPDATE orders SET status = ?, version = ?, total_micros = ?, delivered_at = ?, payload = ? WHERE id = ?",
                           arguments: [order.status.rawValue, order.version, order.total.amountMicros, deliveredAt(order), payload, order.id])
        } else {
            try db.execute(cached: "UPDATE orders SET version = ?, total_micros = ?, delivered_at = ?, payload = ? WHERE id = ?",
                           arguments: [order.version, order.total.amountMicros, deliveredAt(order), payload, order.id])
        }
        if money { try writeInstallments(db, order) }
    }

    /// The `delivered_at` column: when the order was delivered, NULL before.
    static func deliveredAt(_ order: Forge_Orders_V1_Order) -> Double? {
        order.hasDeliveredAt ? order.deliveredAt.date.timeIntervalSince1970 : nil
    }

    /// Orders read by `sql` (which selects `payload`), composed with their lines' progress.
    static func orders(_ db: Database, _ sql: String, arguments: StatementArguments = []) throws -> [Forge_Orders_V1_Order] {
        var orders = try Data.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map { try Forge_Orders_V1_Order(serializedBytes: $0) }
        try LineProgress.compose(db, &orders)
        return orders
    }

    static func order(_ db: Database, id: String) throws -> Forge_Orders_V1_Order? {
        try orders(db, "SELECT payload FROM orders WHERE id = ?", arguments: [id]).first
    }

    /// Whether an opportunity already has its order (one per opportunity).
    static func hasOrder(_ db: Database, opportunityID: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM orders WHERE opportunity_id = ? AND opportunity_id != '')", arguments: [opportunityID]) ?? false
    }

    static func order(_ db: Database, erpNumber: String) throws -> Forge_Orders_V1_Order? {
        try orders(db, "SELECT payload FROM orders WHERE erp_order_number = ? AND erp_order_number != '' LIMIT 1", arguments: [erpNumber]).first
    }

    /// The order if `principal` may see it; NOT_FOUND otherwise (no existence leak).
    static func visible(_ db: Database, id: String, principal: Principal) throws -> Forge_Orders_V1_Order {
        guard let order = try order(db, id: id), OwnerScope.canSee(owner: order.ownerID, team: order.team, principal: principal)
        else { throw RPCError(.notFound, "order \(id) not found") }
        return order
    }

    /// Reads, checks the version (when given), changes and writes one order with its audit
    /// entry. The body returns the changes to audit, or nil when it changed nothing (a repeated
    /// call): then nothing is written.
    func change(
        id: String, version: Int64 = 0, context: ServerContext, principal: Principal,
        _ body: @escaping @Sendable (Database, inout Forge_Orders_V1_Order, Date) throws -> [String: String]?
    ) async throws -> Forge_Orders_V1_Order {
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var order = try Self.visible(db, id: id, principal: principal)
            if version != 0, version != order.version {
                throw RPCError(.aborted, "order \(id) changed since version \(version) (now \(order.version)): read it again")
            }
            guard let changes = try body(db, &order, now) else { return order }
            order.version += 1
            order.updatedAt = .init(date: now)
            try Self.write(db, order)
            try AuditLog.record(db, context: context, recordID: order.id, changes: changes, at: now)
            return order
        }
    }

    // MARK: Creating

    /// Stores a new draft: its number, figures, owner and team (the account's when not given).
    static func insert(_ db: Database, _ order: inout Forge_Orders_V1_Order, now: Date) throws {
        let year = Calendar(identifier: .gregorian).component(.year, from: now)
        order.orderNumber = OrderRules.formatNumber(year: year, sequence: try Counters.next(db, "order-\(year)"))
        if let entry = try AccountDirectory.entry(db, accountID: order.accountID) {
            if order.accountName.isEmpty { order.accountName = entry.name }
            if order.ownerID.isEmpty { order.ownerID = entry.ownerID }
            if order.team.isEmpty { order.team = entry.team }
        }
        order.status = .draft
        try fillPromisedDates(db, &order, from: now)
        OrderRules.computeFigures(&order, costs: try ProductStore.costs(db, skus: order.lines.map(\.sku)))
        order.createdAt = .init(date: now)
        order.updatedAt = .init(date: now)
        order.version = 1
        try write(db, order)
        try Outbox.append(db, Forge_Orders_V1_OrderCreated.with { $0.order = order }, accountID: order.accountID, at: now)
    }

    /// Lines without a promised date get today plus the product's lead time.
    static func fillPromisedDates(_ db: Database, _ order: inout Forge_Orders_V1_Order, from now: Date) throws {
        for index in order.lines.indices where !order.lines[index].hasPromisedDelivery {
            if let product = try ProductStore.product(db, sku: order.lines[index].sku), product.leadTimeDays > 0 {
                order.lines[index].promisedDelivery = .init(date: now.addingTimeInterval(TimeInterval(product.leadTimeDays) * 86_400))
            }
        }
    }

    func create(_ requested: Forge_Orders_V1_Order, context: ServerContext, principal: Principal) async throws -> Forge_Orders_V1_Order {
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var order = Self.editable(from: requested)
            order.id = EventID.make(prefix: "ord", at: now)
            order.accountID = requested.accountID
            order.opportunityID = requested.opportunityID
            order.quoteID = requested.quoteID
            guard let account = try AccountDirectory.entry(db, accountID: order.accountID) else {
                throw RPCError.invalidArgument([FieldViolation(field: "order.account_id", description: "is not a known account")])
            }
            // A rep orders for the accounts they may see; the order is theirs.
            guard OwnerScope.canSee(owner: account.ownerID, team: account.team, principal: principal) else {
                throw RPCError.invalidArgument([FieldViolation(field: "order.account_id", description: "is not a known account")])
            }
            if principal.roles.contains(Role.salesRep) && !principal.roles.contains(Role.salesManager) {
                order.ownerID = principal.subject
                order.team = principal.team.isEmpty ? account.team : principal.team
            }
            if !requested.opportunityID.isEmpty, try Self.hasOrder(db, opportunityID: requested.opportunityID) {
                throw RPCError(.alreadyExists, "opportunity \(requested.opportunityID) already has its order")
            }
            try Self.insert(db, &order, now: now)
            try AuditLog.record(db, context: context, recordID: order.id, changes: ["status": "DRAFT", "total": "\(order.total.amountMicros)"], at: now)
            return order
        }
    }

    /// The fields a caller sets on a draft.
    static func editable(from requested: Forge_Orders_V1_Order) -> Forge_Orders_V1_Order {
        .with {
            $0.contactID = requested.contactID
            $0.lines = requested.lines.map { line in
                .with {
                    $0.lineNo = line.lineNo
                    $0.sku = line.sku.trimmingCharacters(in: .whitespaces)
                    $0.name = line.name
                    $0.unit = line.unit
                    $0.quantity = line.quantity
                    $0.unitPrice = line.unitPrice
                    if line.hasPromisedDelivery { $0.promisedDelivery = line.promisedDelivery }
                }
            }
            $0.currencyCode = requested.currencyCode
            $0.paymentPlan = requested.paymentPlan.map { installment in
                .with {
                    $0.label = installment.label
                    $0.percentBps = installment.percentBps
                    if installment.hasFixedAmount { $0.fixedAmount = installment.fixedAmount }
                    $0.trigger = installment.trigger
                    $0.daysAfter = installment.daysAfter
                }
            }
            $0.contractNumber = requested.contractNumber
            $0.incoterms = requested.incoterms
            $0.deliveryAddress = requested.deliveryAddress
            $0.deliveryContactName = requested.deliveryContactName
            $0.deliveryPhone = requested.deliveryPhone
            $0.notes = requested.notes
        }
    }

    /// A draft (or held) order's editable fields replaced; a held order goes back to draft,
    /// since its figures changed and need a new check.
    func update(_ edit: Forge_Orders_V1_Order, context: ServerContext, principal: Principal) async throws -> Forge_Orders_V1_Order {
        try await change(id: edit.id, version: edit.version, context: context, principal: principal) { db, order, now in
            guard OrderRules.editable.contains(order.status) else {
                throw RPCError(.failedPrecondition, "order \(order.orderNumber) is \(OrdersLabels.status(order.status)); only a draft can be edited")
            }
            let before = order
            let fields = Self.editable(from: edit)
            order.contactID = fields.contactID
            order.lines = fields.lines
            order.currencyCode = fields.currencyCode
            order.paymentPlan = fields.paymentPlan
            order.contractNumber = fields.contractNumber
            order.incoterms = fields.incoterms
            order.deliveryAddress = fields.deliveryAddress
            order.deliveryContactName = fields.deliveryContactName
            order.deliveryPhone = fields.deliveryPhone
            order.notes = fields.notes
            if order.status == .creditHold {
                order.status = .draft
                order.clearCreditCheck()
                try OrdersStore.completeTasks(db, orderID: order.id, kind: "credit_hold")
            }
            try Self.fillPromisedDates(db, &order, from: now)
            OrderRules.computeFigures(&order, costs: try ProductStore.costs(db, skus: order.lines.map(\.sku)))
            try Outbox.append(db, Forge_Orders_V1_OrderUpdated.with { $0.order = order }, accountID: order.accountID, at: now)
            return OrderRules.changes(from: before, to: order)
        }
    }

    // MARK: Approval, release, cancellation

    /// What the account owes on its other approved orders (invoiced or not).
    static func openBalance(_ db: Database, accountID: String, excluding orderID: String) throws -> Int64 {
        try Int64.fetchOne(db, sql: """
            SELECT COALESCE(SUM(outstanding_micros), 0) FROM installment WHERE account_id = ? AND order_id != ?
            """, arguments: [accountID, orderID]) ?? 0
    }

    /// The approval after the credit check (`limit` read from forge-accounts just before):
    /// within the limit, or by finance over it with a reason, the order is approved and its
    /// deposit invoiced; over it for anyone else, it is put on hold for finance (committed) and
    /// the caller gets FAILED_PRECONDITION with the figures.
    func approve(_ request: Forge_Orders_V1_ApproveOrderRequest, limit: Forge_Common_V1_Money?, context: ServerContext,
                 principal: Principal) async throws -> Forge_Orders_V1_Order {
        let override = request.creditOverrideReason.trimmed
        let order = try await change(id: request.id, version: request.version, context: context, principal: principal) { db, order, now in
            guard OrderRules.editable.contains(order.status) else {
                throw RPCError(.failedPrecondition, "order \(order.orderNumber) is \(OrdersLabels.status(order.status)); only a draft or a held order is approved")
            }
            let balance = try Self.openBalance(db, accountID: order.accountID, excluding: order.id)
            var check = CreditRules.check(limit: limit, openBalance: balance, orderTotal: order.total.amountMicros,
                                          currency: OrderRules.currencyCode(order), at: now)
            if check.overLimit {
                if CreditRules.mayOverride(principal) && !override.isEmpty {
                    check.overrideBy = principal.subject
                    check.overrideReason = override
                } else {
                    order.creditCheck = check
                    guard order.status != .creditHold else { return ["credit_check": "over limit, still on hold"] }
                    order.status = .creditHold
                    try OrdersStore.createTask(db, id: "otk_credit_\(order.id)_\(order.version)", owner: OrdersStore.financeQueue,
                                               title: "信用审批：\(order.accountName) \(order.orderNumber)", kind: "credit_hold", order: order,
                                               due: now.addingTimeInterval(86_400), now: now)
                    try Outbox.append(db, Forge_Orders_V1_OrderCreditHold.with { $0.order = order }, accountID: order.accountID, at: now)
                    return ["status": "CREDIT_HOLD", "credit_check": CreditRules.explanation(check)]
                }
            }
            order.creditCheck = check
            order.status = .approved
            order.approvedBy = principal.subject
            order.approvedAt = .init(date: now)
            try OrdersStore.completeTasks(db, orderID: order.id, kind: "credit_hold")
            try Outbox.append(db, Forge_Orders_V1_OrderApproved.with { $0.order = order }, accountID: order.accountID, at: now)
            try Self.invoiceTriggered(db, &order, .onApproval, now: now)
            var changes = ["status": "APPROVED"]
            if !check.overrideReason.isEmpty { changes["credit_override"] = override }
            return changes
        }
        if order.status == .creditHold {
            let finance = CreditRules.mayOverride(principal)
            throw RPCError(.failedPrecondition, CreditRules.explanation(order.creditCheck)
                + (finance ? " (approve with credit_override_reason to release it)" : ""))
        }
        return order
    }

    /// Instalments whose trigger happened `at`: invoiced, due, and watched for payment.
    static func invoiceTriggered(_ db: Database, _ order: inout Forge_Orders_V1_Order, _ trigger: Forge_Orders_V1_DueTrigger, at date: Date? = nil, now: Date) throws {
        for index in PaymentPlanRules.trigger(&order.paymentPlan, trigger, orderNumber: order.orderNumber, at: date ?? now) {
            try issued(db, order, index: index, now: now)
        }
    }

    /// An invoiced instalment: its event and the job that checks it was paid when due.
    static func issued(_ db: Database, _ order: Forge_Orders_V1_Order, index: Int, now: Date) throws {
        let installment = order.paymentPlan[index]
        try Outbox.append(db, Forge_Orders_V1_InvoiceIssued.with {
            $0.orderID = order.id
            $0.accountID = order.accountID
            $0.installment = installment
        }, accountID: order.accountID, at: now)
        // Overdue the day after it was due.
        try JobScheduler.schedule(db, kind: overdueJob, payload: Data("\(order.id)|\(installment.number)".utf8),
                                  dueAt: installment.dueAt.date.addingTimeInterval(86_400), id: "overdue-\(order.id)-\(installment.number)", now: now)
    }

    func release(_ request: Forge_Orders_V1_ReleaseOrderRequest, context: ServerContext, principal: Principal) async throws -> Forge_Orders_V1_Order {
        try await change(id: request.id, version: request.version, context: context, principal: principal) { db, order, now in
            if order.status == .released { return nil }
            guard order.status == .approved else {
                throw RPCError(.failedPrecondition, "order \(order.orderNumber) is \(OrdersLabels.status(order.status)); only an approved order is released to ERP")
            }
            order.status = .released
            order.releasedAt = .init(date: now)
            let seq = try Counters.next(db, "release")
            try db.execute(sql: "UPDATE orders SET release_seq = ? WHERE id = ?", arguments: [seq, order.id])
            try Outbox.append(db, Forge_Orders_V1_OrderReleased.with { $0.order = order }, accountID: order.accountID, at: now)
            return ["status": "RELEASED"]
        }
    }

    func cancel(_ request: Forge_Orders_V1_CancelOrderRequest, reason: String, context: ServerContext, principal: Principal) async throws -> Forge_Orders_V1_Order {
        try await change(id: request.id, version: request.version, context: context, principal: principal) { db, order, now in
            guard ([.draft, .creditHold, .approved, .released] as Set<Forge_Orders_V1_OrderStatus>).contains(order.status) else {
                throw RPCError(.failedPrecondition, "order \(order.orderNumber) is \(OrdersLabels.status(order.status)) and cannot be cancelled")
            }
            guard !order.lines.contains(where: { $0.production.status.rawValue >= Forge_Orders_V1_ProductionStatus.shipped.rawValue }) else {
                throw RPCError(.failedPrecondition, "order \(order.orderNumber) has shipped lines; record a return instead")
            }
            guard order.paid.amountMicros == 0 else {
                throw RPCError(.failedPrecondition, "order \(order.orderNumber) has payments (\(OrderRules.display(order.paid.amountMicros, order.currencyCode))); refund them in ERP first")
            }
            order.status = .cancelled
            order.cancelReason = reason
            try OrdersStore.completeTasks(db, orderID: order.id, kind: "credit_hold")
            try JobScheduler.cancelPending(db, kind: Self.overdueJob, idPrefix: "overdue-\(order.id)-")
            try Outbox.append(db, Forge_Orders_V1_OrderCancelled.with { $0.order = order }, accountID: order.accountID, at: now)
            return ["status": "CANCELLED", "reason": reason]
        }
    }

    // MARK: The ERP bridge

    /// Released orders after the cursor, in release order.
    func released(after cursor: Int64, limit: Int) async throws -> (orders: [Forge_Orders_V1_Order], cursor: Int64) {
        try await database.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT release_seq, payload FROM orders WHERE release_seq > ? ORDER BY release_seq LIMIT ?
                """, arguments: [cursor, limit])
            var orders = try rows.map { try Forge_Orders_V1_Order(serializedBytes: $0["payload"] as Data) }
            try LineProgress.compose(db, &orders)
            return (orders, rows.last?["release_seq"] ?? cursor)
        }
    }

    /// ERP's order number, once: the same number again is fine, another one is refused.
    func acknowledge(orderID: String, erpNumber: String, context: ServerContext, principal: Principal) async throws -> Forge_Orders_V1_Order {
        try await change(id: orderID, context: context, principal: principal) { db, order, now in
            guard order.releasedAt.seconds != 0 else {
                throw RPCError(.failedPrecondition, "order \(order.orderNumber) was not released to ERP")
            }
            if order.erpOrderNumber == erpNumber { return nil }
            guard order.erpOrderNumber.isEmpty else {
                throw RPCError(.failedPrecondition, "order \(order.orderNumber) is already ERP order \(order.erpOrderNumber)")
            }
            if let other = try Self.order(db, erpNumber: erpNumber), other.id != order.id {
                throw RPCError(.failedPrecondition, "ERP order \(erpNumber) is already order \(other.orderNumber)")
            }
            order.erpOrderNumber = erpNumber
            try Outbox.append(db, Forge_Orders_V1_OrderAcknowledged.with { $0.order = order }, accountID: order.accountID, at: now)
            return ["erp_order_number": erpNumber]
        }
    }

    // MARK: Reading

    func list(_ request: Forge_Orders_V1_ListOrdersRequest, page: Page, principal: Principal) async throws -> [Forge_Orders_V1_Order] {
        try await database.read { db in
            var clauses: [String] = []
            var arguments = StatementArguments()
            if !request.accountID.isEmpty {
                clauses.append("account_id = ?")
                arguments += [request.accountID]
            }
            if !request.ownerID.isEmpty {
                clauses.append("owner_id = ?")
                arguments += [request.ownerID]
            }
            if !request.statuses.isEmpty {
                clauses.append("status IN (\(databaseQuestionMarks(count: request.statuses.count)))")
                arguments += StatementArguments(request.statuses.map(\.rawValue))
            }
            OwnerScope.restrict(principal, clauses: &clauses, arguments: &arguments)
            if let cursor = page.cursor, let (created, id) = Self.position(cursor) {
                clauses.append("(created_at < ? OR (created_at = ? AND id < ?))")
                arguments += [created, created, id]
            }
            let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            return try Self.orders(db, "SELECT payload FROM orders \(filter) ORDER BY created_at DESC, id DESC LIMIT ?", arguments: arguments + [page.size])
        }
    }

    /// "created|id": where a page of orders (newest first) continues.
    static func position(_ cursor: String) -> (Double, String)? {
        let parts = cursor.split(separator: "|", maxSplits: 1)
        guard parts.count == 2, let created = Double(parts[0]) else { return nil }
        return (created, String(parts[1]))
    }

    static func isPosition(_ cursor: String) -> Bool { position(cursor) != nil }

    static func cursor(after order: Forge_Orders_V1_Order) -> String {
        "\(order.createdAt.date.timeIntervalSince1970)|\(order.id)"
    }
}

// MARK: Orders ERP already has

extension OrderStore {
    /// Statuses an imported order may have.
    static let importable: Set<Forge_Orders_V1_OrderStatus> = [.approved, .released, .delivered, .completed]

    /// Stores validated orders from ERP in one transaction, keyed by ERP's order number (one
    /// already here is UNCHANGED). An order for an account Forge does not know is REJECTED.
    func importHistory(_ items: [(index: Int, order: Forge_Orders_V1_Order)]) async throws -> [Int: Forge_Common_V1_ImportRowResult] {
        let now = clock.now()
        return try await database.write { db in
            var results: [Int: Forge_Common_V1_ImportRowResult] = [:]
            for (index, incoming) in items {
                var result = Forge_Common_V1_ImportRowResult.with { $0.line = Int32(index + 1) }
                if let existing = try String.fetchOne(db, sql: "SELECT id FROM orders WHERE erp_order_number = ? AND erp_order_number != '' LIMIT 1", arguments: [incoming.erpOrderNumber]) {
                    result.status = .unchanged
                    result.id = existing
                    results[index] = result
                    continue
                }
                guard let account = try AccountDirectory.entry(db, accountID: incoming.accountID) else {
                    result.status = .rejected
                    result.violations = [.with {
                        $0.field = "orders[\(index)].account_id"
                        $0.description_p = "is not a known account"
                    }]
                    results[index] = result
                    continue
                }
                var order = Self.editable(from: incoming)
                let created = incoming.createdAt.date
                order.id = EventID.make(prefix: "ord", at: now)
                order.accountID = account.accountID
                order.accountName = account.name
                order.ownerID = incoming.ownerID.isEmpty ? account.ownerID : incoming.ownerID
                order.team = incoming.team.isEmpty ? account.team : incoming.team
                order.erpOrderNumber = incoming.erpOrderNumber
                order.status = incoming.status
                order.createdAt = incoming.createdAt
                order.approvedAt = incoming.createdAt
                order.approvedBy = "erp"
                order.releasedAt = incoming.createdAt
                let year = Calendar(identifier: .gregorian).component(.year, from: created)
                order.orderNumber = OrderRules.formatNumber(year: year, sequence: try Counters.next(db, "order-\(year)"))
                OrderRules.computeFigures(&order, costs: try ProductStore.costs(db, skus: order.lines.map(\.sku)))
                if [.delivered, .completed].contains(order.status) {
                    let delivered = incoming.hasDeliveredAt ? incoming.deliveredAt : incoming.createdAt
                    order.deliveredAt = delivered
                    for line in order.lines.indices {
                        order.lines[line].production = .with {
                            $0.status = .delivered
                            $0.deliveredAt = delivered
                            $0.sourceTime = delivered
                            $0.percent = 100
                        }
                        order.lines[line].deliveredOnTime = StatusRules.onTime(
                            promised: order.lines[line].hasPromisedDelivery ? order.lines[line].promisedDelivery : nil, delivered: delivered.date)
                    }
                    order.productionStatus = .delivered
                }
                if order.status == .completed {
                    // ERP closed it: paid in full.
                    for installment in order.paymentPlan.indices {
                        order.paymentPlan[installment].paid = order.paymentPlan[installment].amount
                        order.paymentPlan[installment].paidAt = order.deliveredAt
                    }
                    OrderRules.settleFigures(&order)
                }
                order.updatedAt = .init(date: now)
                order.version = 1
                try Self.write(db, order)
                try Outbox.append(db, Forge_Orders_V1_OrderImported.with { $0.order = order }, accountID: order.accountID, at: now)
                result.status = .created
                result.id = order.id
                results[index] = result
            }
            return results
        }
    }
}
