import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Status reports applied together in the caller's transaction: what they need is read in a
/// few queries up front (which event ids were seen, the orders they name, those orders' lines'
/// progress) and what they write goes out in a few multi-row statements at the end (the lines'
/// progress, the history rows, the events). A statement per report and table cost the ERP
/// ingest more than SQLite spent storing the rows (OrdersBench, RESULTS.md).
///
/// Reports apply in their order, each seeing what the ones before it did: a repeated event id
/// answers as it did (`repeated`) and changes nothing, and a line moves only forward
/// (StatusRules). Every refusal — an unknown order or line, an order not in production — is
/// thrown before the report changes anything, so the rest of a batch applies without a
/// savepoint per report. Packing, shipment and delivery read and write the whole order
/// (`StatusReports.applyToOrder`): what is pending is written first, and what they changed is
/// read back.
struct ReportBatch {
    struct Head {
        let id: String
        let number: String
        let status: Forge_Orders_V1_OrderStatus
        let accountID: String
    }

    typealias Applied = (outcome: Forge_Orders_V1_ReportOutcome, orderID: String, repeated: Bool)

    /// A line's progress as its row holds it, decoded when a report touches the line (a batch
    /// reads every line of the orders it names, and most reports touch one of them).
    private struct Line {
        let lineNo: Int32
        var stored: Data?
        var decoded: Forge_Orders_V1_OrderLine?

        mutating func progress() throws -> Forge_Orders_V1_OrderLine {
            if let decoded { return decoded }
            let line = try Forge_Orders_V1_OrderLine(serializedBytes: stored ?? Data())
            (decoded, stored) = (line, nil)
            return line
        }
    }

    private let now: Date
    private var seen: [String: (orderID: String, outcome: Forge_Orders_V1_ReportOutcome)] = [:]
    private var heads: [String: Head] = [:]
    private var idOfERPNumber: [String: String] = [:]
    /// Each order's lines' progress, in line order.
    private var lines: [String: [Line]] = [:]
    /// The lines whose progress changed since the last flush, by order.
    private var changed: [String: Set<Int32>] = [:]
    private var history: [DatabaseValue] = []
    private var events: [(event: Forge_Orders_V1_ProductionStatusChanged, accountID: String)] = []

    /// Reads what `reports` need.
    init(_ db: Database, _ reports: [Forge_Orders_V1_StatusReport], now: Date) throws {
        self.now = now
        try Self.forEachRow(db, "SELECT event_id, order_id, outcome FROM status_report WHERE event_id", reports.map(\.eventID)) { row in
            seen[row[0]] = (row[1], Forge_Orders_V1_ReportOutcome(rawValue: row[2]) ?? .historyOnly)
        }
        try readOrders(db, ids: reports.map(\.orderID).filter { !$0.isEmpty },
                       erpNumbers: reports.filter { $0.orderID.isEmpty }.map(\.erpOrderNumber).filter { !$0.isEmpty })
    }

    /// Calls `body` with each row (read by position) of `Database.fetchCursor(_:oneOf:_:)`.
    private static func forEachRow(_ db: Database, _ sql: String, _ values: [String], tail: String = "", _ body: (Row) throws -> Void) throws {
        guard !values.isEmpty else { return }
        let rows = try db.fetchCursor(sql, oneOf: values, tail)
        while let row = try rows.next() { try body(row) }
    }

    /// The orders (by id or ERP number) and their lines' progress.
    private mutating func readOrders(_ db: Database, ids: [String], erpNumbers: [String]) throws {
        var found: [String] = []
        var distinct: Set<String> = []
        func head(_ row: Row) {
            let head = Head(id: row[0], number: row[1], status: Forge_Orders_V1_OrderStatus(rawValue: row[2]) ?? .unspecified, accountID: row[3])
            heads[head.id] = head
            // An order named by id and by ERP number in one batch is read twice.
            if distinct.insert(head.id).inserted { found.append(head.id) }
            let erpNumber: String = row[4]
            if !erpNumber.isEmpty, idOfERPNumber[erpNumber] == nil { idOfERPNumber[erpNumber] = head.id }
        }
        let columns = "SELECT id, order_number, status, account_id, erp_order_number FROM orders WHERE"
        try Self.forEachRow(db, "\(columns) id", ids, head)
        try Self.forEachRow(db, "\(columns) erp_order_number", erpNumbers, tail: " AND erp_order_number != ''", head)
        for id in found { lines[id] = [] }
        try Self.forEachRow(db, "SELECT order_id, line_no, progress FROM order_line_progress WHERE order_id", found, tail: " ORDER BY order_id, line_no") { row in
            lines[row[0] as String, default: []].append(Line(lineNo: row[1], stored: row[2]))
        }
    }

    /// Applies one validated report (one of those the batch was read for).
    mutating func apply(_ db: Database, _ report: Forge_Orders_V1_StatusReport) throws -> Applied {
        if let earlier = seen[report.eventID] { return (earlier.outcome, earlier.orderID, true) }
        let id = report.orderID.isEmpty ? idOfERPNumber[report.erpOrderNumber] : report.orderID
        guard let id, let head = heads[id] else {
            throw RPCError(.notFound, "order \(report.orderID.isEmpty ? "ERP " + report.erpOrderNumber : report.orderID) not found")
        }
        guard StatusReports.reportable.contains(head.status) else {
            throw RPCError(.failedPrecondition, "order \(head.number) is \(OrdersLabels.status(head.status)); production reports need an approved order")
        }
        let targets = (lines[id] ?? []).enumerated().filter { report.lineNo == 0 || $0.element.lineNo == report.lineNo }.map(\.offset)
        guard !targets.isEmpty else {
            throw RPCError(.notFound, "order \(head.number) has no line \(report.lineNo)",
                           violations: [FieldViolation(field: "report.line_no", description: "order \(head.number) has no line \(report.lineNo)")])
        }
        if report.status.rawValue >= Forge_Orders_V1_ProductionStatus.packed.rawValue {
            try flush(db)
            let outcome = try StatusReports.applyToOrder(db, report, orderID: id, now: now)
            seen[report.eventID] = (id, outcome)
            try readOrders(db, ids: [id], erpNumbers: [])
            return (outcome, id, false)
        }
        var outcome = Forge_Orders_V1_ReportOutcome.historyOnly
        for index in targets {
            var line = try lines[id]![index].progress()
            let (applied, changed) = StatusReports.advance(&line, report)
            lines[id]![index].decoded = line
            if applied { outcome = .applied }
            if changed { self.changed[id, default: []].insert(line.lineNo) }
        }
        history += try StatusReports.historyRow(report, orderID: id, outcome: outcome, now: now)
        if outcome == .applied { events.append((StatusReports.statusChanged(orderID: id, accountID: head.accountID, report), head.accountID)) }
        seen[report.eventID] = (id, outcome)
        return (outcome, id, false)
    }

    /// Writes what the reports so far changed.
    mutating func flush(_ db: Database) throws {
        var progress: [DatabaseValue] = []
        for (orderID, lineNumbers) in changed {
            for line in lines[orderID] ?? [] where lineNumbers.contains(line.lineNo) {
                if let decoded = line.decoded { progress += try LineProgress.row(orderID: orderID, decoded, at: now) }
            }
        }
        try db.executeRows(LineProgress.upsert.head, row: LineProgress.upsert.row, LineProgress.upsert.tail, values: progress, columns: 6)
        try db.executeRows(StatusReports.historyInsert.head, row: StatusReports.historyInsert.row, values: history, columns: 6)
        try Outbox.append(db, events, at: now)
        changed = [:]
        history = []
        events = []
    }
}
