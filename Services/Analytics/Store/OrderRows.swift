import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// One pull of the orders feed as the rows it writes, decoded before the consumer's
/// transaction and written in a few multi-row statements: the orders feed is the largest
/// (five or more events per order, each carrying the whole order), and a statement per row
/// made the statements' own cost the larger part of a replay.
///
/// Written exactly as the events applied one by one would leave the tables: the rows of every
/// event go in feed order (an upsert of a later event's row wins), unchanged rows are not
/// rewritten, and each order's lines end as its last event in the pull has them.
struct OrderRows {
    struct Fact {
        var orderID: String, accountID: String, orderedAt: Double, status: Int, revenueMicros: Int64, marginMicros: Int64
    }

    struct Line {
        var orderID: String, lineNo: Int32, accountID: String, sku: String, deliveredAt: Double?, onTime: Bool
    }

    struct Installment {
        var orderID: String, number: Int32, accountID: String, amountMicros: Int64, invoicedAt: Double?, dueAt: Double?,
            paidMicros: Int64, paidAt: Double?
    }

    private(set) var products: [(sku: String, productLine: String)] = []
    private(set) var facts: [Fact] = []
    private(set) var lines: [Line] = []
    private(set) var installments: [Installment] = []
    /// Each order's line numbers as its last event has them, in the order first seen.
    private(set) var lastLines: [(orderID: String, lineNumbers: [Int32])] = []
    private var lastLinesIndex: [String: Int] = [:]

    init(_ events: [Forge_Common_V1_Event]) throws {
        for event in events { try add(event) }
    }

    private mutating func add(_ event: Forge_Common_V1_Event) throws {
        let order: Forge_Orders_V1_Order
        switch event.type {
        case "ProductUpserted":
            let product = try Forge_Orders_V1_ProductUpserted(serializedBytes: event.payload).product
            products.append((product.sku, product.productLine))
            return
        case "InvoiceIssued":
            let issued = try Forge_Orders_V1_InvoiceIssued(serializedBytes: event.payload)
            add(issued.installment, orderID: issued.orderID, accountID: issued.accountID, currency: "")
            return
        case "OrderCreated": order = try Forge_Orders_V1_OrderCreated(serializedBytes: event.payload).order
        case "OrderImported": order = try Forge_Orders_V1_OrderImported(serializedBytes: event.payload).order
        case "OrderUpdated": order = try Forge_Orders_V1_OrderUpdated(serializedBytes: event.payload).order
        case "OrderCreditHold": order = try Forge_Orders_V1_OrderCreditHold(serializedBytes: event.payload).order
        case "OrderApproved": order = try Forge_Orders_V1_OrderApproved(serializedBytes: event.payload).order
        case "OrderReleased": order = try Forge_Orders_V1_OrderReleased(serializedBytes: event.payload).order
        case "OrderAcknowledged": order = try Forge_Orders_V1_OrderAcknowledged(serializedBytes: event.payload).order
        case "OrderCancelled": order = try Forge_Orders_V1_OrderCancelled(serializedBytes: event.payload).order
        case "OrderDelivered": order = try Forge_Orders_V1_OrderDelivered(serializedBytes: event.payload).order
        case "PaymentRecorded": order = try Forge_Orders_V1_PaymentRecorded(serializedBytes: event.payload).order
        default: return
        }
        add(order)
    }

    /// The order as it stands: its row, its lines, its payment plan.
    private mutating func add(_ order: Forge_Orders_V1_Order) {
        let currency = order.currencyCode
        facts.append(Fact(orderID: order.id, accountID: order.accountID, orderedAt: order.createdAt.timeIntervalSince1970,
                          status: order.status.rawValue, revenueMicros: AnalyticsStore.cnyMicros(order.total, currency: currency),
                          marginMicros: AnalyticsStore.cnyMicros(order.margin, currency: currency)))
        for line in order.lines {
            let delivered = line.production.status == .delivered
                ? (line.production.hasDeliveredAt ? line.production.deliveredAt : order.deliveredAt).timeIntervalSince1970 : nil
            lines.append(Line(orderID: order.id, lineNo: line.lineNo, accountID: order.accountID, sku: line.sku,
                              deliveredAt: delivered, onTime: line.deliveredOnTime))
        }
        let numbers = order.lines.map(\.lineNo)
        if let index = lastLinesIndex[order.id] {
            lastLines[index].lineNumbers = numbers
        } else {
            lastLinesIndex[order.id] = lastLines.count
            lastLines.append((order.id, numbers))
        }
        for installment in order.paymentPlan {
            add(installment, orderID: order.id, accountID: order.accountID, currency: currency)
        }
    }

    private mutating func add(_ installment: Forge_Orders_V1_Installment, orderID: String, accountID: String, currency: String) {
        installments.append(Installment(
            orderID: orderID, number: installment.number, accountID: accountID,
            amountMicros: AnalyticsStore.cnyMicros(installment.amount, currency: currency),
            invoicedAt: installment.hasInvoicedAt ? installment.invoicedAt.timeIntervalSince1970 : nil,
            dueAt: installment.hasDueAt ? installment.dueAt.timeIntervalSince1970 : nil,
            paidMicros: AnalyticsStore.cnyMicros(installment.paid, currency: currency),
            paidAt: installment.hasPaidAt ? installment.paidAt.timeIntervalSince1970 : nil))
    }

    // MARK: Writing

    func write(_ db: Database) throws {
        let survivors = try Self.survivors(db, of: facts.map(\.accountID) + installments.map(\.accountID))
        let account = { (id: String) -> String in survivors[id] ?? id }
        for product in products {
            try db.execute(cached: "INSERT OR REPLACE INTO product (sku, product_line) VALUES (?, ?)", arguments: [product.sku, product.productLine])
        }
        try Self.upsert(db, facts, into: Self.factsUpsert) { fact, values in
            values += [fact.orderID.databaseValue, account(fact.accountID).databaseValue, fact.orderedAt.databaseValue,
                       fact.status.databaseValue, fact.revenueMicros.databaseValue, fact.marginMicros.databaseValue]
        }
        try Self.upsert(db, lines, into: Self.linesUpsert) { line, values in
            values += [line.orderID.databaseValue, line.lineNo.databaseValue, account(line.accountID).databaseValue,
                       line.sku.databaseValue, line.deliveredAt.databaseValue, line.onTime.databaseValue]
        }
        try Self.upsert(db, installments, into: Self.installmentsUpsert) { installment, values in
            values += [installment.orderID.databaseValue, installment.number.databaseValue, account(installment.accountID).databaseValue,
                       installment.amountMicros.databaseValue, installment.invoicedAt.databaseValue, installment.dueAt.databaseValue,
                       installment.paidMicros.databaseValue, installment.paidAt.databaseValue]
        }
        // The lines an order's last event no longer has: one statement for the pull, its
        // orders and kept lines as two JSON arguments (no limit on how many, unlike `?`s).
        if !lastLines.isEmpty {
            let kept = try JSONSerialization.data(withJSONObject: lastLines.flatMap { order in order.lineNumbers.map { [order.orderID, Int($0)] as [Any] } })
            try db.execute(cached: """
                DELETE FROM order_line WHERE order_id IN (SELECT value FROM json_each(?))
                    AND (order_id, line_no) NOT IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))
                """, arguments: [JSONList.of(lastLines.map(\.orderID)), String(decoding: kept, as: UTF8.self)])
        }
    }

    /// The accounts among `ids` that were merged, with the account each now belongs to. The
    /// ids are listed only when some account was ever merged (rarely: nearly every pull asks
    /// one question and is done).
    static func survivors(_ db: Database, of ids: @autoclosure () -> [String]) throws -> [String: String] {
        guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM merged_account)")) == true else { return [:] }
        let distinct = Array(Set(ids()))
        var survivors: [String: String] = [:]
        for start in stride(from: 0, to: distinct.count, by: 500) {
            let some = distinct[start..<min(start + 500, distinct.count)]
            let rows = try Row.fetchAll(db, sql: "SELECT merged_id, survivor_id FROM merged_account WHERE merged_id IN (\(databaseQuestionMarks(count: some.count)))",
                                        arguments: StatementArguments(Array(some)))
            for row in rows { survivors[row[0]] = row[1] }
        }
        return survivors
    }

    /// An upsert of many rows: `head` names the columns, `row` is one row's placeholders,
    /// `tail` the ON CONFLICT clause (updating only a row that differs).
    struct Upsert {
        let head: String
        let row: String
        let columns: Int
        let tail: String
    }

    private static func upsert<Row>(_ db: Database, _ rows: [Row], into upsert: Upsert, values add: (Row, inout [DatabaseValue]) -> Void) throws {
        var values: [DatabaseValue] = []
        values.reserveCapacity(rows.count * upsert.columns)
        for row in rows { add(row, &values) }
        try db.executeRows(upsert.head, row: upsert.row, upsert.tail, values: values, columns: upsert.columns)
    }

    static let factsUpsert = Upsert(
        head: "INSERT INTO order_fact (order_id, account_id, ordered_at, status, revenue_micros, margin_micros) VALUES ",
        row: "(?, ?, ?, ?, ?, ?)", columns: 6,
        tail: """
             ON CONFLICT(order_id) DO UPDATE SET account_id = excluded.account_id, ordered_at = excluded.ordered_at, status = excluded.status,
                revenue_micros = excluded.revenue_micros, margin_micros = excluded.margin_micros
            WHERE (account_id, ordered_at, status, revenue_micros, margin_micros)
                IS NOT (excluded.account_id, excluded.ordered_at, excluded.status, excluded.revenue_micros, excluded.margin_micros)
            """)

    static let linesUpsert = Upsert(
        head: "INSERT INTO order_line (order_id, line_no, account_id, sku, delivered_at, on_time) VALUES ",
        row: "(?, ?, ?, ?, ?, ?)", columns: 6,
        tail: """
             ON CONFLICT(order_id, line_no) DO UPDATE SET account_id = excluded.account_id, sku = excluded.sku,
                delivered_at = excluded.delivered_at, on_time = excluded.on_time
            WHERE (account_id, sku, delivered_at, on_time) IS NOT (excluded.account_id, excluded.sku, excluded.delivered_at, excluded.on_time)
            """)

    static let installmentsUpsert = Upsert(
        head: "INSERT INTO installment (order_id, number, account_id, amount_micros, invoiced_at, due_at, paid_micros, paid_at) VALUES ",
        row: "(?, ?, ?, ?, ?, ?, ?, ?)", columns: 8,
        tail: """
             ON CONFLICT(order_id, number) DO UPDATE SET account_id = excluded.account_id, amount_micros = excluded.amount_micros,
                invoiced_at = excluded.invoiced_at, due_at = excluded.due_at, paid_micros = excluded.paid_micros, paid_at = excluded.paid_at
            WHERE (account_id, amount_micros, invoiced_at, due_at, paid_micros, paid_at)
                IS NOT (excluded.account_id, excluded.amount_micros, excluded.invoiced_at, excluded.due_at, excluded.paid_micros, excluded.paid_at)
            """)
}
