import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// Each order line's production progress — its applied state, serial numbers and whether it
/// was delivered on time — in a narrow row of its own beside the order. A production report
/// writes only its lines' rows (~100 bytes each) instead of the order's whole payload; every
/// read of an order composes them in (`OrderStore.orders`), and the payload keeps none of it.
///
/// A row holds the line's progress part as an `OrderLine` with only `line_no`, `production`,
/// `serial_numbers` and `delivered_on_time` set. Every line of every order has its row (an
/// empty one until the first report), so a report naming a line the order lacks is refused
/// without reading the order.
enum LineProgress {
    static func createTable(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE order_line_progress (
                order_id TEXT NOT NULL,
                line_no INTEGER NOT NULL,
                -- The line's production status and whether it was delivered on time, for sums.
                status INTEGER NOT NULL,
                on_time INTEGER NOT NULL,
                updated_at REAL NOT NULL,
                progress BLOB NOT NULL,
                PRIMARY KEY (order_id, line_no)
            ) WITHOUT ROWID
            """)
    }

    /// The progress part of `line`.
    static func progress(of line: Forge_Orders_V1_OrderLine) -> Forge_Orders_V1_OrderLine {
        .with {
            $0.lineNo = line.lineNo
            $0.production = line.production
            $0.serialNumbers = line.serialNumbers
            $0.deliveredOnTime = line.deliveredOnTime
        }
    }

    /// `order` as its payload keeps it: without its lines' progress and the summary of it.
    static func stripped(_ order: Forge_Orders_V1_Order) -> Forge_Orders_V1_Order {
        var stored = order
        for index in stored.lines.indices {
            stored.lines[index].clearProduction()
            stored.lines[index].serialNumbers = []
            stored.lines[index].deliveredOnTime = false
        }
        stored.productionStatus = .unspecified
        return stored
    }

    /// Every line of `order`, replacing the rows it had (a draft's lines may have changed).
    static func write(_ db: Database, _ order: Forge_Orders_V1_Order) throws {
        try db.execute(cached: "DELETE FROM order_line_progress WHERE order_id = ?", arguments: [order.id])
        try db.executeRows(upsert.head, row: upsert.row, upsert.tail,
                           values: try order.lines.flatMap { try row(orderID: order.id, $0, at: order.updatedAt.date) }, columns: 6)
    }

    /// One line's progress after a report.
    static func update(_ db: Database, orderID: String, _ line: Forge_Orders_V1_OrderLine, now: Date) throws {
        try db.executeRows(upsert.head, row: upsert.row, upsert.tail, values: try row(orderID: orderID, line, at: now), columns: 6)
    }

    /// Lines' progress written as rows of `row(orderID:_:at:)`, many in one statement.
    static let upsert = (
        head: "INSERT INTO order_line_progress (order_id, line_no, status, on_time, updated_at, progress) VALUES ",
        row: "(?, ?, ?, ?, ?, ?)",
        tail: " ON CONFLICT (order_id, line_no) DO UPDATE SET status = excluded.status, on_time = excluded.on_time, updated_at = excluded.updated_at, progress = excluded.progress"
    )

    static func row(orderID: String, _ line: Forge_Orders_V1_OrderLine, at date: Date) throws -> [DatabaseValue] {
        [orderID.databaseValue, line.lineNo.databaseValue, line.production.status.rawValue.databaseValue, line.deliveredOnTime.databaseValue,
         date.timeIntervalSince1970.databaseValue, try progress(of: line).serializedData().databaseValue]
    }

    /// Fills in the lines' progress of `orders` from their rows: one query for all of them. An
    /// order's `updated_at` is its latest report's when that is later, and its production
    /// status the least advanced line's.
    static func compose(_ db: Database, _ orders: inout [Forge_Orders_V1_Order]) throws {
        guard !orders.isEmpty else { return }
        let ids = orders.map(\.id)
        var found: [String: [(lineNo: Int32, updated: Double, progress: Data)]] = [:]
        let rows = try db.fetchCursor("SELECT order_id, line_no, updated_at, progress FROM order_line_progress WHERE order_id", oneOf: ids)
        while let row = try rows.next() {
            found[row[0], default: []].append((row[1], row[2], row[3]))
        }
        for index in orders.indices {
            guard let progress = found[orders[index].id] else { continue }
            // The lines taken out of the order while they change, so that each is changed in
            // place (decoded into) rather than copied.
            var lines = orders[index].lines
            orders[index].lines = []
            let written = orders[index].updatedAt.date.timeIntervalSince1970
            var latest = written
            for (lineNo, updated, data) in progress {
                guard let at = lines.firstIndex(where: { $0.lineNo == lineNo }) else { continue }
                lines[at].clearProduction()
                lines[at].serialNumbers = []
                lines[at].deliveredOnTime = false
                try lines[at].merge(serializedBytes: data)
                latest = max(latest, updated)
            }
            orders[index].productionStatus = OrderRules.productionStatus(lines)
            orders[index].lines = lines
            if latest > written { orders[index].updatedAt = .init(date: Date(timeIntervalSince1970: latest)) }
        }
    }

    /// Delivered lines of `orderIDs` and how many of them were on time.
    static func deliveries(_ db: Database, orderIDs: [String]) throws -> (delivered: Int32, onTime: Int32) {
        guard !orderIDs.isEmpty else { return (0, 0) }
        let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT count(*), total(on_time) FROM order_line_progress
            WHERE order_id IN (SELECT value FROM json_each(?)) AND status = \(Forge_Orders_V1_ProductionStatus.delivered.rawValue)
            """), arguments: [JSONList.of(orderIDs)])
        return (Int32(row?[0] as Int? ?? 0), Int32(row?[1] as Double? ?? 0))
    }
}
