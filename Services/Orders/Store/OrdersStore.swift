import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// The orders database: migrations, order numbers and the tasks orders creates. As in every
/// service, each record is kept whole as its protobuf (`payload`) next to the columns queries
/// filter and sort by. Shipped migrations are never edited.
enum OrdersStore {
    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("orders-v1") { db in
            try db.create(table: "product") { t in
                t.primaryKey("sku", .text)
                t.column("product_line", .text).notNull()
                t.column("active", .boolean).notNull()
                t.column("version", .integer).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "product_by_line", on: "product", columns: ["product_line", "sku"])
            try db.create(table: "orders") { t in
                t.primaryKey("id", .text)
                t.column("order_number", .text).notNull().unique()
                t.column("account_id", .text).notNull()
                t.column("owner_id", .text).notNull()
                t.column("team", .text).notNull()
                t.column("status", .integer).notNull()
                t.column("opportunity_id", .text).notNull()
                t.column("erp_order_number", .text).notNull()
                t.column("contact_id", .text).notNull()
                // Position in the release sequence the ERP connectors page through.
                t.column("release_seq", .integer)
                t.column("created_at", .double).notNull()
                t.column("version", .integer).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "orders_by_account", on: "orders", columns: ["account_id", "status", "created_at"])
            try db.create(index: "orders_by_owner", on: "orders", columns: ["owner_id", "status"])
            try db.create(index: "orders_by_team", on: "orders", columns: ["team", "status"])
            try db.create(index: "orders_by_created", on: "orders", columns: ["created_at", "id"])
            // Partial indexes: a query uses one only when its WHERE repeats the index's
            // condition (`AND erp_order_number != ''`), since a bound value proves nothing.
            try db.execute(sql: "CREATE UNIQUE INDEX orders_by_opportunity ON orders(opportunity_id) WHERE opportunity_id != ''")
            try db.execute(sql: "CREATE INDEX orders_by_erp_number ON orders(erp_order_number) WHERE erp_order_number != ''")
            try db.execute(sql: "CREATE UNIQUE INDEX orders_by_release ON orders(release_seq) WHERE release_seq IS NOT NULL")
            try db.execute(sql: "CREATE INDEX orders_by_contact ON orders(contact_id) WHERE contact_id != ''")
            // Each instalment's money, written with its order: the credit check, the ageing and
            // DSO sum these instead of decoding orders.
            try db.create(table: "installment") { t in
                t.column("order_id", .text).notNull().references("orders", onDelete: .cascade)
                t.column("number", .integer).notNull()
                t.column("account_id", .text).notNull()
                t.column("owner_id", .text).notNull()
                t.column("team", .text).notNull()
                t.column("amount_micros", .integer).notNull()
                t.column("outstanding_micros", .integer).notNull()
                t.column("invoiced_at", .double)
                t.column("due_at", .double)
                t.column("currency", .text).notNull()
                t.primaryKey(["order_id", "number"])
            }
            try db.create(index: "installment_by_account", on: "installment", columns: ["account_id", "outstanding_micros"])
            try db.execute(sql: "CREATE INDEX installment_open_by_due ON installment(due_at) WHERE outstanding_micros > 0 AND invoiced_at IS NOT NULL")
            try db.create(index: "installment_by_invoiced", on: "installment", columns: ["invoiced_at"])
            // Every status report received, applied or not: the idempotency record (by the
            // connector's event id) and the lines' history.
            try db.create(table: "status_report") { t in
                t.primaryKey("event_id", .text)
                t.column("order_id", .text).notNull()
                t.column("line_no", .integer).notNull()
                t.column("received_at", .double).notNull()
                t.column("outcome", .integer).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "status_report_by_order", on: "status_report", columns: ["order_id", "received_at"])
            try db.create(table: "payment") { t in
                t.primaryKey("id", .text)
                t.column("order_id", .text).notNull().indexed()
                t.column("account_id", .text).notNull()
                t.column("reference", .text).notNull()
                t.column("amount_micros", .integer).notNull()
                t.column("paid_at", .double).notNull()
                t.column("payload", .blob).notNull()
                t.uniqueKey(["order_id", "reference"])
            }
            try db.create(table: "order_task") { t in
                t.primaryKey("id", .text)
                t.column("owner_id", .text).notNull()
                t.column("done", .boolean).notNull()
                t.column("due_at", .double).notNull()
                t.column("order_id", .text).notNull().indexed()
                t.column("account_id", .text).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "order_task_by_owner", on: "order_task", columns: ["owner_id", "done", "due_at"])
            // Shipped: the counter table is Counters' (the same columns it creates elsewhere).
            try db.create(table: "counter") { t in
                t.primaryKey("name", .text)
                t.column("value", .integer).notNull()
            }
            try AccountDirectory.createTable(db)
        }
        // Each line's production progress in a narrow row of its own (LineProgress), so that a
        // report writes ~100 bytes instead of its order's whole payload; orders are composed
        // from both when read. The payloads keep their old progress until next written (reads
        // take the rows' instead).
        migrator.registerMigration("orders-v2-line-progress") { db in
            try LineProgress.createTable(db)
            let orders = try Row.fetchCursor(db, sql: "SELECT payload FROM orders")
            while let row = try orders.next() {
                try LineProgress.write(db, try Forge_Orders_V1_Order(serializedBytes: row["payload"] as Data))
            }
        }
        // An order's total and delivery time beside its payload: the 360° section sums a year of
        // an account's orders and picks its latest deliveries from these columns instead of
        // decoding every order (at a million orders the decoding was most of a view's work in
        // this service, GatewayBench --full).
        migrator.registerMigration("orders-v3-total-and-delivery") { db in
            try db.alter(table: "orders") { t in
                t.add(column: "total_micros", .integer).notNull().defaults(to: 0)
                t.add(column: "delivered_at", .double)
            }
            var last: Int64 = 0
            while true {
                let rows = try Row.fetchAll(db, sql: "SELECT rowid, payload FROM orders WHERE rowid > ? ORDER BY rowid LIMIT 10000", arguments: [last])
                guard let final = rows.last else { break }
                for row in rows {
                    let order = try Forge_Orders_V1_Order(serializedBytes: row[1] as Data)
                    try db.execute(cached: "UPDATE orders SET total_micros = ?, delivered_at = ? WHERE rowid = ?",
                                   arguments: [order.total.amountMicros, OrderStore.deliveredAt(order), row[0] as Int64])
                }
                last = final[0]
            }
            try db.create(index: "orders_delivered_by_account", on: "orders", columns: ["account_id", "delivered_at"])
        }
    }

    // MARK: Tasks

    /// The finance team's queue: tasks owned by the role rather than a person.
    static let financeQueue = "role:finance"

    /// Creates a task unless one with its id exists (a job that runs twice creates it once).
    static func createTask(_ db: Database, id: String, owner: String, title: String, kind: String, order: Forge_Orders_V1_Order,
                           due: Date, now: Date) throws {
        let task = Forge_Orders_V1_OrderTask.with {
            $0.id = id
            $0.ownerID = owner
            $0.title = title
            $0.kind = kind
            $0.orderID = order.id
            $0.accountID = order.accountID
            $0.dueAt = .init(date: due)
            $0.createdAt = .init(date: now)
        }
        try db.execute(sql: """
            INSERT OR IGNORE INTO order_task (id, owner_id, done, due_at, order_id, account_id, payload) VALUES (?, ?, 0, ?, ?, ?, ?)
            """, arguments: [id, owner, due.timeIntervalSince1970, order.id, order.accountID, try task.serializedData()])
    }

    /// A caller's tasks: their own and their roles' queues.
    static func tasks(_ db: Database, principal: Principal, includeDone: Bool) throws -> [Forge_Orders_V1_OrderTask] {
        let owners = [principal.subject] + principal.roles.sorted().map { "role:\($0)" }
        return try Data.fetchAll(db, sql: """
            SELECT payload FROM order_task WHERE owner_id IN (\(databaseQuestionMarks(count: owners.count))) \(includeDone ? "" : "AND done = 0")
            ORDER BY done, due_at LIMIT 500
            """, arguments: StatementArguments(owners)).map { try Forge_Orders_V1_OrderTask(serializedBytes: $0) }
    }

    static func completeTask(_ db: Database, id: String, principal: Principal) throws -> Forge_Orders_V1_OrderTask {
        let owners = Set([principal.subject] + principal.roles.map { "role:\($0)" })
        guard let payload = try Data.fetchOne(db, sql: "SELECT payload FROM order_task WHERE id = ?", arguments: [id]),
              case var task = try Forge_Orders_V1_OrderTask(serializedBytes: payload), owners.contains(task.ownerID)
        else { throw RPCError(.notFound, "task \(id) not found") }
        guard !task.done else { return task }
        task.done = true
        try db.execute(sql: "UPDATE order_task SET done = 1, payload = ? WHERE id = ?", arguments: [try task.serializedData(), id])
        return task
    }

    /// Marks an order's open tasks of `kind` done (the hold released, the payment made).
    static func completeTasks(_ db: Database, orderID: String, kind: String) throws {
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM order_task WHERE order_id = ? AND done = 0", arguments: [orderID]) {
            var task = try Forge_Orders_V1_OrderTask(serializedBytes: payload)
            guard task.kind == kind else { continue }
            task.done = true
            try db.execute(sql: "UPDATE order_task SET done = 1, payload = ? WHERE id = ?", arguments: [try task.serializedData(), task.id])
        }
    }
}
