import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Production and shipment reports applied to orders (StatusRules decides what a report does):
/// the history row that makes a repeated event id a no-op, the line's new state, and what
/// follows from it — the customer told at packing and at shipment, the instalment due before
/// shipment invoiced, and the order delivered when its last line is.
enum StatusReports {
    /// Orders that production reports on.
    static let reportable: Set<Forge_Orders_V1_OrderStatus> = [.approved, .released, .delivered, .completed]

    /// The report applied to `line`: whether it moved the line's state (`applied`) and whether
    /// the line changed at all (a report behind the line may still bring serial numbers).
    static func advance(_ line: inout Forge_Orders_V1_OrderLine, _ report: Forge_Orders_V1_StatusReport) -> (applied: Bool, changed: Bool) {
        var changed = false
        for serial in report.serialNumbers where !line.serialNumbers.contains(serial) {
            line.serialNumbers.append(serial)
            changed = true
        }
        guard StatusRules.outcome(current: line.production, report: report) == .applied else { return (false, changed) }
        line.production = StatusRules.applied(report, over: line.production)
        if report.status == .delivered {
            line.deliveredOnTime = StatusRules.onTime(promised: line.hasPromisedDelivery ? line.promisedDelivery : nil, delivered: report.sourceTime.date)
        }
        return (true, true)
    }

    /// Packing, shipment and delivery: the report applied to the whole order (read and written
    /// in the caller's transaction, after `ReportBatch` checked it), which it may invoice,
    /// deliver (and complete) and tell the customer about.
    static func applyToOrder(_ db: Database, _ report: Forge_Orders_V1_StatusReport, orderID: String, now: Date) throws -> Forge_Orders_V1_ReportOutcome {
        guard var order = try OrderStore.order(db, id: orderID) else { throw RPCError(.notFound, "order \(orderID) not found") }
        var outcome = Forge_Orders_V1_ReportOutcome.historyOnly
        for index in order.lines.indices where report.lineNo == 0 || order.lines[index].lineNo == report.lineNo {
            let (applied, changed) = advance(&order.lines[index], report)
            if applied { outcome = .applied }
            if changed { try LineProgress.update(db, orderID: orderID, order.lines[index], now: now) }
        }
        try record(db, report, orderID: orderID, outcome: outcome, now: now)
        guard outcome == .applied else { return outcome }
        let (status, plan, delivered) = (order.status, order.paymentPlan, order.deliveredAt)
        order.productionStatus = OrderRules.productionStatus(order.lines)
        try Outbox.append(db, statusChanged(orderID: orderID, accountID: order.accountID, report), accountID: order.accountID, at: now)
        try followUp(db, &order, report, now: now)
        // The order's own fields changed (an instalment invoiced, the order delivered): a new version.
        if order.status != status || order.paymentPlan != plan || order.deliveredAt != delivered {
            order.version += 1
            order.updatedAt = .init(date: now)
            try OrderStore.writeFields(db, order, statusChanged: order.status != status, money: order.status != status || order.paymentPlan != plan)
        }
        return outcome
    }

    /// The event for a line (or order) whose state a report moved.
    static func statusChanged(orderID: String, accountID: String, _ report: Forge_Orders_V1_StatusReport) -> Forge_Orders_V1_ProductionStatusChanged {
        .with {
            $0.orderID = orderID
            $0.accountID = accountID
            $0.lineNo = report.lineNo
            $0.status = report.status
            $0.state = StatusRules.applied(report, over: .init())
        }
    }

    static func record(_ db: Database, _ report: Forge_Orders_V1_StatusReport, orderID: String, outcome: Forge_Orders_V1_ReportOutcome, now: Date) throws {
        try db.execute(cached: historyInsert.head + historyInsert.row, arguments: StatementArguments(try historyRow(report, orderID: orderID, outcome: outcome, now: now)))
    }

    /// History rows (`historyRow`) are written as `head` + one or more `row`s.
    static let historyInsert = (head: "INSERT INTO status_report (event_id, order_id, line_no, received_at, outcome, payload) VALUES ", row: "(?, ?, ?, ?, ?, ?)")

    /// The history row of a report: its event id (what makes a repeat a no-op), order, line,
    /// arrival, outcome and what it said.
    static func historyRow(_ report: Forge_Orders_V1_StatusReport, orderID: String, outcome: Forge_Orders_V1_ReportOutcome, now: Date) throws -> [DatabaseValue] {
        let event = Forge_Orders_V1_StatusEvent.with {
            $0.eventID = report.eventID
            $0.source = report.source
            $0.lineNo = report.lineNo
            $0.status = report.status
            $0.sourceTime = report.sourceTime
            $0.receivedAt = .init(date: now)
            $0.outcome = outcome
            $0.details = StatusRules.details(report)
        }
        return [report.eventID.databaseValue, orderID.databaseValue, report.lineNo.databaseValue, now.timeIntervalSince1970.databaseValue,
                outcome.rawValue.databaseValue, try event.serializedData().databaseValue]
    }

    /// What an applied packing, shipment or delivery sets off. Instalments fall due from when
    /// the goods were packed or delivered (the report's source time, never later than now), not
    /// from when it arrived.
    static func followUp(_ db: Database, _ order: inout Forge_Orders_V1_Order, _ report: Forge_Orders_V1_StatusReport, now: Date) throws {
        let observed = min(report.sourceTime.date, now)
        let scope = report.lineNo == 0 ? "" : ":line\(report.lineNo)"
        switch report.status {
        case .packed:
            try OrderStore.invoiceTriggered(db, &order, .beforeShipment, at: observed, now: now)
            try notify(db, order, template: "order_packed", dedupeKey: "order:\(order.id):packed\(scope)", parameters: [:], now: now)
        case .shipped:
            try OrderStore.invoiceTriggered(db, &order, .beforeShipment, at: observed, now: now)
            try notify(db, order, template: "order_shipped", dedupeKey: "order:\(order.id):shipped:\(report.trackingNumber.isEmpty ? scope : report.trackingNumber)",
                       parameters: ["carrier": report.carrier, "tracking_number": report.trackingNumber], now: now)
        default:
            break
        }
        let allDelivered = order.lines.allSatisfy { $0.production.status == .delivered }
        if allDelivered, [.approved, .released].contains(order.status) {
            order.status = .delivered
            order.deliveredAt = order.lines.map(\.production.deliveredAt).max { $0.date < $1.date } ?? .init(date: now)
            try OrderStore.invoiceTriggered(db, &order, .onDelivery, at: observed, now: now)
            OrderRules.settleFigures(&order)
            if order.outstanding.amountMicros <= 0 { order.status = .completed }
            try Outbox.append(db, Forge_Orders_V1_OrderDelivered.with {
                $0.order = order
                $0.deliveredAt = order.deliveredAt
            }, accountID: order.accountID, at: now)
        }
    }

    /// A customer notification for the order's contact, delivered by the gateway.
    static func notify(_ db: Database, _ order: Forge_Orders_V1_Order, template: String, dedupeKey: String, parameters: [String: String], now: Date) throws {
        guard !order.contactID.isEmpty else { return }
        try Outbox.append(db, Forge_Common_V1_NotificationRequested.with {
            $0.recipientContactID = order.contactID
            $0.accountID = order.accountID
            $0.channel = .email
            $0.template = template
            $0.parameters = parameters.merging([
                "order_number": order.orderNumber,
                "account_name": order.accountName,
                "contract_number": order.contractNumber,
                "lines": order.lines.map { "\($0.name.isEmpty ? $0.sku : $0.name) × \($0.quantity)\($0.unit)" }.joined(separator: "；"),
            ]) { mine, _ in mine }
            $0.dedupeKey = dedupeKey
            $0.transactional = true
            $0.locale = "zh"
        }, accountID: order.accountID, at: now)
    }

    /// The order's reports as received, newest first.
    static func history(_ db: Database, orderID: String) throws -> [Forge_Orders_V1_StatusEvent] {
        try Data.fetchAll(db, sql: "SELECT payload FROM status_report WHERE order_id = ? ORDER BY received_at DESC, rowid DESC LIMIT 1000",
                          arguments: [orderID]).map { try Forge_Orders_V1_StatusEvent(serializedBytes: $0) }
    }
}
