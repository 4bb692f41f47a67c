import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Invoices, payments and what customers owe: the ageing buckets, DSO, the overdue watch and
/// the 360° view's orders section.
struct Receivables: Sendable {
    let database: DatabasePool
    let clock: any WallClock

    var orders: OrderStore { OrderStore(database: database, clock: clock) }

    /// ERP's invoice for an instalment: its number replaces the one Forge gave, and an
    /// instalment not yet triggered becomes due from the invoice's date.
    func recordInvoice(_ request: Forge_Orders_V1_RecordInvoiceRequest, context: ServerContext, principal: Principal) async throws -> Forge_Orders_V1_Order {
        let issued = request.hasIssuedAt ? request.issuedAt.date : clock.now()
        return try await orders.change(id: request.orderID, context: context, principal: principal) { db, order, now in
            guard OrderRules.committed.contains(order.status) || order.status == .completed else {
                throw RPCError(.failedPrecondition, "order \(order.orderNumber) is \(OrdersLabels.status(order.status)); invoices need an approved order")
            }
            guard let index = order.paymentPlan.firstIndex(where: { $0.number == request.installment }) else {
                throw RPCError(.failedPrecondition, "order \(order.orderNumber) has no instalment \(request.installment)", violations: [FieldViolation(field: "installment", description: "order \(order.orderNumber) has no instalment \(request.installment)")])
            }
            if order.paymentPlan[index].hasInvoicedAt {
                order.paymentPlan[index].invoiceNumber = request.invoiceNumber
            } else {
                PaymentPlanRules.invoice(&order.paymentPlan[index], number: request.invoiceNumber, at: issued)
                try OrderStore.issued(db, order, index: index, now: now)
            }
            return ["installment": "\(request.installment)", "invoice_number": request.invoiceNumber]
        }
    }

    /// A payment, once per order and reference: it settles instalments oldest first. The same
    /// reference again answers the recorded payment; with another amount it is refused.
    func recordPayment(_ request: Forge_Orders_V1_RecordPaymentRequest, context: ServerContext, principal: Principal)
        async throws -> Forge_Orders_V1_RecordPaymentResponse
    {
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var order = try OrderStore.visible(db, id: request.orderID, principal: principal)
            if let payload = try Data.fetchOne(db, sql: "SELECT payload FROM payment WHERE order_id = ? AND reference = ?", arguments: [order.id, request.reference]) {
                let payment = try Forge_Orders_V1_Payment(serializedBytes: payload)
                guard payment.amount.amountMicros == request.amount.amountMicros else {
                    throw RPCError(.failedPrecondition, "payment \(request.reference) was recorded for \(OrderRules.display(payment.amount.amountMicros, payment.amount.currencyCode)), not this amount")
                }
                return .with {
                    $0.order = order
                    $0.payment = payment
                }
            }
            guard OrderRules.committed.contains(order.status) else {
                throw RPCError(.failedPrecondition, "order \(order.orderNumber) is \(OrdersLabels.status(order.status)); payments need an approved order")
            }
            let currency = OrderRules.currencyCode(order)
            guard request.amount.currencyCode.isEmpty || request.amount.currencyCode == currency else {
                throw RPCError.invalidArgument([FieldViolation(field: "amount.currency_code", description: "must be the order's currency (\(currency))")])
            }
            guard request.amount.amountMicros <= order.outstanding.amountMicros else {
                throw RPCError.invalidArgument([FieldViolation(field: "amount", description:
                    "is more than order \(order.orderNumber) still owes (\(OrderRules.display(order.outstanding.amountMicros, currency)))")])
            }
            let paidAt = request.hasPaidAt ? request.paidAt.date : now
            for (index, _) in PaymentPlanRules.apply(payment: request.amount.amountMicros, to: &order.paymentPlan, at: paidAt)
                where PaymentPlanRules.outstanding(order.paymentPlan[index]) == 0 {
                try JobScheduler.cancelPending(db, kind: OrderStore.overdueJob, idPrefix: "overdue-\(order.id)-\(order.paymentPlan[index].number)")
            }
            OrderRules.settleFigures(&order)
            if order.outstanding.amountMicros == 0 {
                try OrdersStore.completeTasks(db, orderID: order.id, kind: "payment_overdue")
                if order.status == .delivered { order.status = .completed }
            }
            order.version += 1
            order.updatedAt = .init(date: now)
            try OrderStore.write(db, order)
            let payment = Forge_Orders_V1_Payment.with {
                $0.id = EventID.make(prefix: "pay", at: now)
                $0.orderID = order.id
                $0.accountID = order.accountID
                $0.amount = OrderRules.money(request.amount.amountMicros, currency)
                $0.paidAt = .init(date: paidAt)
                $0.reference = request.reference
                $0.recordedBy = principal.subject
            }
            try db.execute(sql: """
                INSERT INTO payment (id, order_id, account_id, reference, amount_micros, paid_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [payment.id, order.id, order.accountID, payment.reference, payment.amount.amountMicros,
                                 paidAt.timeIntervalSince1970, try payment.serializedData()])
            try Outbox.append(db, Forge_Orders_V1_PaymentRecorded.with {
                $0.payment = payment
                $0.order = order
            }, accountID: order.accountID, at: now)
            try AuditLog.record(db, context: context, recordID: order.id, changes: ["payment": "\(payment.amount.amountMicros) \(payment.reference)"], at: now)
            return .with {
                $0.order = order
                $0.payment = payment
            }
        }
    }

    static func payments(_ db: Database, orderID: String) throws -> [Forge_Orders_V1_Payment] {
        try Data.fetchAll(db, sql: "SELECT payload FROM payment WHERE order_id = ? ORDER BY paid_at", arguments: [orderID])
            .map { try Forge_Orders_V1_Payment(serializedBytes: $0) }
    }

    /// The day after an instalment was due: still unpaid, a task for its owner and one for
    /// finance, and PaymentOverdue.
    func overdueCheck(payload: Data) async throws {
        let parts = String(decoding: payload, as: UTF8.self).split(separator: "|")
        guard parts.count == 2, let number = Int32(parts[1]) else { return }
        let now = clock.now()
        try await database.write { db in
            guard let order = try OrderStore.order(db, id: String(parts[0])), order.status != .cancelled,
                  let installment = order.paymentPlan.first(where: { $0.number == number }),
                  PaymentPlanRules.outstanding(installment) > 0, installment.hasDueAt
            else { return }
            let days = CreditRules.daysOverdue(due: installment.dueAt.date, now: now)
            let owed = OrderRules.display(PaymentPlanRules.outstanding(installment), OrderRules.currencyCode(order))
            let title = "逾期回款：\(order.accountName) \(order.orderNumber) \(installment.label) \(owed)（逾期 \(days) 天）"
            for owner in [order.ownerID, OrdersStore.financeQueue] where !owner.isEmpty {
                try OrdersStore.createTask(db, id: "otk_overdue_\(order.id)_\(number)_\(owner)", owner: owner, title: title, kind: "payment_overdue",
                                           order: order, due: now.addingTimeInterval(3 * 86_400), now: now)
            }
            try Outbox.append(db, Forge_Orders_V1_PaymentOverdue.with {
                $0.orderID = order.id
                $0.accountID = order.accountID
                $0.installment = installment
                $0.daysOverdue = Int32(days)
            }, accountID: order.accountID, at: now)
        }
    }

    // MARK: Ageing and DSO

    /// Invoiced, unpaid instalments by how late they are, DSO over the trailing window, and the
    /// open items most overdue first; for one account or everything `principal` may see.
    func receivables(_ request: Forge_Orders_V1_GetReceivablesRequest, principal: Principal) async throws -> Forge_Orders_V1_GetReceivablesResponse {
        let now = clock.now()
        let window = request.dsoDays == 0 ? 90 : request.dsoDays
        let maxItems = request.maxItems == 0 ? 100 : Int(request.maxItems)
        return try await database.read { db in
            var clauses: [String] = []
            var arguments = StatementArguments()
            if !request.accountID.isEmpty {
                clauses.append("account_id = ?")
                arguments += [request.accountID]
            }
            OwnerScope.restrict(principal, clauses: &clauses, arguments: &arguments)
            let scope = clauses.map { " AND \($0)" }.joined()
            let buckets = try Self.buckets(db, scope: scope, arguments: arguments, now: now)
            let total = buckets.values.reduce(0, +)
            let since = now.addingTimeInterval(-TimeInterval(window) * 86_400).timeIntervalSince1970
            let creditSales = try Int64.fetchOne(db, sql: """
                SELECT COALESCE(SUM(amount_micros), 0) FROM installment WHERE invoiced_at >= ?\(scope)
                """, arguments: [since] + arguments) ?? 0
            let items = try Row.fetchAll(db, sql: """
                SELECT order_id, number, outstanding_micros FROM installment WHERE outstanding_micros > 0 AND invoiced_at IS NOT NULL\(scope)
                ORDER BY due_at LIMIT ?
                """, arguments: arguments + [maxItems]).compactMap { row -> Forge_Orders_V1_OpenItem? in
                guard let order = try OrderStore.order(db, id: row["order_id"]),
                      let installment = order.paymentPlan.first(where: { $0.number == row["number"] as Int32 })
                else { return nil }
                return .with {
                    $0.orderID = order.id
                    $0.orderNumber = order.orderNumber
                    $0.accountID = order.accountID
                    $0.accountName = order.accountName
                    $0.ownerID = order.ownerID
                    $0.installment = installment.number
                    $0.label = installment.label
                    $0.invoiceNumber = installment.invoiceNumber
                    $0.dueAt = installment.dueAt
                    $0.outstanding = OrderRules.money(row["outstanding_micros"], OrderRules.currencyCode(order))
                    $0.daysOverdue = Int32(CreditRules.daysOverdue(due: installment.dueAt.date, now: now))
                }
            }
            return .with {
                $0.ageing = CreditRules.ageing(buckets, currency: "CNY")
                $0.dso = CreditRules.dso(receivables: total, creditSales: creditSales, days: window, currency: "CNY")
                $0.items = items
                $0.asOf = .init(date: now)
            }
        }
    }

    /// Invoiced, unpaid money by how late it is, for the instalments `scope` (" AND …") selects.
    static func buckets(_ db: Database, scope: String, arguments: StatementArguments, now: Date) throws -> [CreditRules.Bucket: Int64] {
        var buckets: [CreditRules.Bucket: Int64] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: """
            SELECT due_at, outstanding_micros FROM installment WHERE outstanding_micros > 0 AND invoiced_at IS NOT NULL\(scope)
            """), arguments: arguments) {
            buckets[CreditRules.bucket(daysOverdue: CreditRules.daysOverdue(due: Date(timeIntervalSince1970: row["due_at"]), now: now)), default: 0]
                += row["outstanding_micros"] as Int64
        }
        return buckets
    }

    // MARK: The 360° section

    func accountSection(accountID: String, principal: Principal) async throws -> Forge_Orders_V1_GetAccountOrdersResponse {
        let now = clock.now()
        return try database.pointRead { db in try Self.accountSectionRead(db, accountID: accountID, principal: principal, now: now) }
    }

    static func accountSectionRead(_ db: Database, accountID: String, principal: Principal, now: Date) throws -> Forge_Orders_V1_GetAccountOrdersResponse {
        let finance = OrderRules.maySeeFinance(principal)
        var clauses = ["account_id = ?"]
        var arguments: StatementArguments = [accountID]
        OwnerScope.restrict(principal, clauses: &clauses, arguments: &arguments)
        let filter = clauses.joined(separator: " AND ")
        let open = try OrderStore.orders(db, """
            SELECT payload FROM orders WHERE \(filter) AND status IN (1, 2, 3, 4) ORDER BY created_at DESC LIMIT 10
            """, arguments: arguments)
        // A year's orders and revenue from the columns, no order decoded.
        var revenue: Int64 = 0
        var ordered: [String] = []
        let yearAgo = now.addingTimeInterval(-365 * 86_400).timeIntervalSince1970
        for row in try Row.fetchAll(db.cachedStatement(sql: """
            SELECT id, total_micros FROM orders WHERE \(filter) AND status IN (3, 4, 5, 6) AND created_at >= ?
            """), arguments: arguments + [yearAgo]) {
            ordered.append(row[0])
            revenue += row[1] as Int64
        }
        let (delivered, onTime) = try LineProgress.deliveries(db, orderIDs: ordered)
        // The five delivered last, read newest delivery first through the index by account and
        // delivery time (`+status` keeps the planner off the index by status, which would read
        // and sort every delivery of a customer with years of orders).
        let recent = try OrderStore.orders(db, """
            SELECT payload FROM orders WHERE \(filter) AND +status IN (5, 6) ORDER BY delivered_at DESC LIMIT 5
            """, arguments: arguments)
        var response = Forge_Orders_V1_GetAccountOrdersResponse.with {
            $0.openOrders = open.map { OrderRules.summary($0, for: principal) }
            $0.recentDeliveries = recent.map { OrderRules.summary($0, for: principal) }
            $0.deliveredLines = delivered
            $0.onTimeLines = onTime
            $0.ordersLast12Months = Int32(ordered.count)
            if OrderRules.maySeePrices(principal) { $0.revenueLast12Months = OrderRules.money(revenue, "CNY") }
        }
        if finance {
            response.receivables = CreditRules.ageing(try Self.buckets(db, scope: " AND " + filter, arguments: arguments, now: now), currency: "CNY")
        }
        return response
    }
}
