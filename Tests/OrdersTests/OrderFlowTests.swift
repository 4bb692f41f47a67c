@testable import ForgeOrders
import ForgeContracts
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

/// Orders through their life on a real database with the manual clock: drafted, checked,
/// released, produced and shipped as connectors report it, invoiced and paid.
@Suite("Orders flow")
struct OrderFlowTests {
    @Test("a draft is numbered, priced to the cent, costed for margins and promised by the products' lead times; bad input names each field and stores nothing")
    func draft() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        try await fixture.product("CNC-500", price: 160_000, cost: 110_000, leadTime: 45)
        let order = try await fixture.draft()
        #expect(order.orderNumber.hasPrefix("SO-") && order.status == .draft)
        #expect(order.ownerID == "rep-a" && order.team == "east" && order.accountName == "杭州汽轮动力集团有限公司")
        #expect(order.total.amountMicros == 330_005_000_000)
        #expect(order.paymentPlan.map(\.amount.amountMicros) == [99_001_500_000, 198_003_000_000, 33_000_500_000])
        #expect(order.lines.map(\.lineNo) == [1, 2])
        #expect(order.lines[0].promisedDelivery.date == fixture.clock.now().addingTimeInterval(45 * 86_400))
        #expect(!order.hasMargin, "a rep sees no margins")
        let asFinance = try await fixture.handler.getOrder(.with { $0.id = order.id }, context: OrdersFixture.finance).order
        #expect(asFinance.margin.amountMicros == 2 * 40_000_000_000)

        await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.createOrder(.with {
                $0.order = .with {
                    $0.accountID = "acc_1"
                    $0.lines = [.with { $0.sku = ""; $0.quantity = 0; $0.unitPrice = OrdersFixture.money(1, cents: 0) }, .with { $0.sku = "X"; $0.quantity = 1 }]
                    $0.incoterms = "XYZ"
                    $0.paymentPlan = [.with { $0.label = "a"; $0.percentBps = 5000; $0.trigger = .onApproval }, .with { $0.label = "b"; $0.percentBps = 4000; $0.trigger = .onDelivery }]
                }
            }, context: OrdersFixture.rep)
        }
        do {
            _ = try await fixture.handler.createOrder(.with {
                $0.order = .with {
                    $0.accountID = "acc_1"
                    $0.lines = [.with { $0.sku = ""; $0.quantity = 0; $0.unitPrice = OrdersFixture.money(1) }, .with { $0.sku = "X"; $0.quantity = 1 }]
                    $0.incoterms = "XYZ"
                }
            }, context: OrdersFixture.rep)
        } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
            #expect(Set(error.violations.map(\.field)) == ["order.lines[0].sku", "order.lines[0].quantity", "order.lines[1].unit_price", "order.incoterms"])
        }
        let count = try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM orders") }
        #expect(count == 1)
        // Another team's rep cannot order for this account, nor see the order.
        await #expect(throws: RPCError.self) { _ = try await fixture.draft(as: OrdersFixture.otherRep) }
        await #expect { _ = try await fixture.handler.getOrder(.with { $0.id = order.id }, context: OrdersFixture.otherRep) } throws: { ($0 as? RPCError)?.code == .notFound }
    }

    @Test("over the credit limit the order waits on hold for finance with the figures; finance approves with a reason; within the limit a manager approves and the deposit is invoiced")
    func creditHold() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        let first = try await fixture.approve(try await fixture.draft(), limit: 1_000_000)
        #expect(first.status == .approved && first.creditCheck.limitSet && !first.creditCheck.overLimit)
        #expect(first.paymentPlan[0].invoiceNumber == "INV-\(first.orderNumber)-1")
        #expect(first.paymentPlan[0].dueAt.date == fixture.clock.now().addingTimeInterval(7 * 86_400))
        #expect(!first.paymentPlan[1].hasInvoicedAt)

        // The first order's 330,005.00 is owed; a second one passes 500,000.
        let second = try await fixture.draft()
        do {
            _ = try await fixture.approve(second, limit: 500_000)
            Issue.record("approved over the limit")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("open balance CNY 330,005.00") && error.message.contains("limit CNY 500,000.00"))
        }
        let held = try await fixture.handler.getOrder(.with { $0.id = second.id }, context: OrdersFixture.finance).order
        #expect(held.status == .creditHold && held.creditCheck.overLimit)
        let tasks = try await fixture.handler.listOrderTasks(.init(), context: OrdersFixture.finance).tasks
        #expect(tasks.map(\.kind) == ["credit_hold"] && tasks[0].orderID == second.id)
        // Finance without a reason is told how; with one the order is approved and the hold's task done.
        await #expect { _ = try await fixture.approve(held, limit: 500_000, as: OrdersFixture.finance) } throws: {
            ($0 as? RPCError)?.message.contains("credit_override_reason") == true
        }
        let approved = try await fixture.approve(held, limit: 500_000, as: OrdersFixture.finance, reason: "客户已开具银行保函")
        #expect(approved.status == .approved && approved.creditCheck.overrideBy == "fin-1")
        #expect(try await fixture.handler.listOrderTasks(.init(), context: OrdersFixture.finance).tasks.isEmpty)
        #expect(try await fixture.events("OrderCreditHold").count == 1)
        #expect(try await fixture.events("OrderApproved").count == 2)
    }

    @Test("released orders page by cursor for the connector; the ERP number is acknowledged once")
    func releaseAndAcknowledge() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        let a = try await fixture.released()
        let b = try await fixture.released()
        let page1 = try await fixture.handler.listReleasedOrders(.with { $0.maxOrders = 1 }, context: OrdersFixture.connector)
        #expect(page1.orders.map(\.id) == [a.id])
        let page2 = try await fixture.handler.listReleasedOrders(.with { $0.after = page1.cursor }, context: OrdersFixture.connector)
        #expect(page2.orders.map(\.id) == [b.id])
        #expect(try await fixture.handler.listReleasedOrders(.with { $0.after = page2.cursor }, context: OrdersFixture.connector).orders.isEmpty)
        let acked = try await fixture.handler.acknowledgeRelease(.with { $0.orderID = a.id; $0.erpOrderNumber = "4500012345" }, context: OrdersFixture.connector).order
        #expect(acked.erpOrderNumber == "4500012345")
        let again = try await fixture.handler.acknowledgeRelease(.with { $0.orderID = a.id; $0.erpOrderNumber = "4500012345" }, context: OrdersFixture.connector).order
        #expect(again.version == acked.version)
        await #expect { _ = try await fixture.handler.acknowledgeRelease(.with { $0.orderID = b.id; $0.erpOrderNumber = "4500012345" }, context: OrdersFixture.connector) } throws: {
            ($0 as? RPCError)?.code == .failedPrecondition
        }
    }

    @Test("status reports repeated, reversed and interleaved from ERP and MES: each line ends at its furthest status with every report in its history; packed and shipped notify the contact once; delivered emits OrderDelivered once")
    func statusReports() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        var order = try await fixture.released()
        _ = try await fixture.handler.acknowledgeRelease(.with { $0.orderID = order.id; $0.erpOrderNumber = "4500000001" }, context: OrdersFixture.connector)
        let t0 = fixture.clock.now()
        func at(_ hours: Double) -> Date { t0.addingTimeInterval(hours * 3600) }

        // MES: line 1 in production at 40 %, then 80 %; ERP (by its own number) schedules, late.
        #expect(try await fixture.report(order.id, "mes-1", .inProduction, at: at(5), line: 1) { $0.percent = 40; $0.workCentre = "车间A" }.outcome == .applied)
        #expect(try await fixture.report(order.id, "mes-2", .inProduction, at: at(8), line: 1) { $0.percent = 80 }.outcome == .applied)
        var erp = Forge_Orders_V1_StatusReport.with {
            $0.eventID = "erp-1"
            $0.source = "erp"
            $0.erpOrderNumber = "4500000001"
            $0.status = .scheduled
            $0.sourceTime = .init(date: at(1))
        }
        let scheduled = try await fixture.handler.reportProductionStatus(.with { $0.report = erp }, context: OrdersFixture.connector)
        #expect(scheduled.outcome == .applied, "line 2 had nothing yet")
        #expect(scheduled.order.lines[0].production.status == .inProduction && scheduled.order.lines[0].production.percent == 80)
        #expect(scheduled.order.lines[1].production.status == .scheduled)
        // The same event again answers the same and changes nothing; an older 60 % is history.
        let repeated = try await fixture.handler.reportProductionStatus(.with { $0.report = erp }, context: OrdersFixture.connector)
        #expect(repeated.outcome == .applied && repeated.order.version == scheduled.order.version)
        #expect(try await fixture.report(order.id, "mes-0", .inProduction, at: at(6), line: 1) { $0.percent = 60 }.outcome == .historyOnly)

        // Both lines packed (one report for the order), shipped twice from two systems.
        order = try await fixture.report(order.id, "erp-2", .packed, at: at(30), source: "erp").order
        #expect(order.productionStatus == .packed)
        #expect(order.paymentPlan[1].hasInvoicedAt, "the instalment before shipment is invoiced at packing")
        for (id, source) in [("erp-3", "erp"), ("wms-1", "wms")] {
            order = try await fixture.report(order.id, id, .shipped, at: at(40), source: source) {
                $0.carrier = "顺丰"
                $0.trackingNumber = "SF1234567890"
                $0.serialNumbers = ["CK500-0001", "CK500-0002"]
            }.order
        }
        // A late in-production report after shipment stays history.
        #expect(try await fixture.report(order.id, "mes-3", .inProduction, at: at(41), line: 1) { $0.percent = 95 }.outcome == .historyOnly)
        erp.eventID = "erp-1"
        _ = try await fixture.handler.reportProductionStatus(.with { $0.report = erp }, context: OrdersFixture.connector)
        // The delivery reaches Forge two hours after it happened: the last instalment is due 30 days from the delivery.
        fixture.clock.advance(by: 62 * 3600)
        order = try await fixture.report(order.id, "erp-4", .delivered, at: at(60), source: "erp") { $0.signedBy = "王主任" }.order
        order = try await fixture.report(order.id, "erp-5", .delivered, at: at(61), source: "erp") { $0.signedBy = "王主任" }.order

        #expect(order.status == .delivered && order.productionStatus == .delivered)
        // Reports write only the order's progress; the status column the lists filter on follows.
        let stored = try fixture.database.read { db in try Row.fetchOne(db, sql: "SELECT status, version, account_id FROM orders WHERE id = ?", arguments: [order.id]) }
        #expect(stored?["status"] == Int(Forge_Orders_V1_OrderStatus.delivered.rawValue) && stored?["version"] == order.version && stored?["account_id"] == order.accountID)
        #expect(order.lines.allSatisfy { $0.production.trackingNumber == "SF1234567890" && $0.deliveredOnTime })
        #expect(order.lines[0].serialNumbers == ["CK500-0001", "CK500-0002"])
        #expect(order.paymentPlan[2].dueAt.date == at(60).addingTimeInterval(30 * 86_400))
        let section = try await fixture.handler.getAccountOrders(.with { $0.accountID = order.accountID }, context: OrdersFixture.finance)
        #expect(section.deliveredLines == 2 && section.onTimeLines == 2 && section.ordersLast12Months == 1)
        // The section carries summaries: the lines' state and tracking, the total for who may
        // see prices — not a service engineer.
        let delivery = try #require(section.recentDeliveries.first)
        #expect(delivery.id == order.id && delivery.total == order.total && delivery.deliveredAt == order.deliveredAt)
        #expect(delivery.lines.map(\.sku) == order.lines.map(\.sku))
        #expect(delivery.lines.allSatisfy { $0.status == .delivered && $0.trackingNumber == "SF1234567890" && $0.deliveredOnTime })
        let engineers = try await fixture.handler.getAccountOrders(.with { $0.accountID = order.accountID }, context: OrdersFixture.serviceEngineer)
        #expect(engineers.recentDeliveries.first.map { !$0.hasTotal && $0.lines.count == 2 } == true)
        let history = try await fixture.handler.getOrder(.with { $0.id = order.id }, context: OrdersFixture.finance).history
        #expect(Set(history.map(\.eventID)) == ["mes-1", "mes-2", "erp-1", "mes-0", "erp-2", "erp-3", "wms-1", "mes-3", "erp-4", "erp-5"])
        #expect(history.first { $0.eventID == "mes-0" }?.outcome == .historyOnly)

        let notifications = try await fixture.events("NotificationRequested").map { try Forge_Common_V1_NotificationRequested(serializedBytes: $0.payload) }
        #expect(notifications.map(\.template) == ["order_packed", "order_shipped"])
        #expect(notifications[1].parameters["tracking_number"] == "SF1234567890" && notifications[1].recipientContactID == "con_1")
        #expect(Set(notifications.map(\.dedupeKey)).count == 2)
        #expect(try await fixture.events("OrderDelivered").count == 1)
    }

    @Test("a report up to inspection writes its line's progress row and not the order; reads compose the two; packing writes the order's new version")
    func progressRows() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        let order = try await fixture.released()
        func stored() throws -> (payload: Data, version: Int64) {
            try fixture.database.read { db in
                let row = try #require(try Row.fetchOne(db, sql: "SELECT payload, version FROM orders WHERE id = ?", arguments: [order.id]))
                return (row["payload"], row["version"])
            }
        }
        let before = try stored()
        fixture.clock.advance(by: 3600)
        let report = try await fixture.report(order.id, "mes-1", .inProduction, at: fixture.clock.now(), line: 2) {
            $0.percent = 40
            $0.workCentre = "车间B"
            $0.serialNumbers = ["CK500-0009"]
        }
        #expect(report.outcome == .applied)
        #expect(try stored() == before, "the order's row is not written")
        let progress = try await fixture.database.read { db in
            try Row.fetchAll(db, sql: "SELECT line_no, progress FROM order_line_progress WHERE order_id = ? ORDER BY line_no", arguments: [order.id])
                .map { (line: $0["line_no"] as Int32, progress: try Forge_Orders_V1_OrderLine(serializedBytes: $0["progress"] as Data)) }
        }
        #expect(progress.map(\.line) == order.lines.map(\.lineNo), "every line has its row")
        #expect(progress[1].progress.production.percent == 40 && progress[1].progress.serialNumbers == ["CK500-0009"])
        #expect(progress[1].progress.sku.isEmpty, "a row keeps only the progress")
        let read = try await fixture.handler.getOrder(.with { $0.id = order.id }, context: OrdersFixture.finance).order
        #expect(read.lines[1].production.status == .inProduction && read.lines[1].production.workCentre == "车间B" && read.lines[1].serialNumbers == ["CK500-0009"])
        #expect(read.lines[0].production.status == .unspecified && read.productionStatus == .unspecified)
        #expect(read.version == order.version && abs(read.updatedAt.date.timeIntervalSince(fixture.clock.now())) < 0.001, "progress is not a new version, but it is the latest change")
        let listed = try await fixture.handler.listOrders(.with { $0.accountID = order.accountID }, context: OrdersFixture.finance).orders
        #expect(listed.first { $0.id == order.id }?.lines[1].production.percent == 40)

        // Packing invoices the instalment before shipment: the order's own fields, a new version.
        let packed = try await fixture.report(order.id, "erp-1", .packed, at: fixture.clock.now(), source: "erp").order
        #expect(packed.productionStatus == .packed && packed.version == order.version + 1)
        #expect(try stored().version == packed.version)
        let payload = try Forge_Orders_V1_Order(serializedBytes: try stored().payload)
        #expect(payload.lines.allSatisfy { !$0.hasProduction && $0.serialNumbers.isEmpty }, "the payload keeps no progress")
        #expect(payload.paymentPlan == packed.paymentPlan)
    }

    @Test("the migration to progress rows carries every line's state out of the payloads")
    func progressMigration() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("line-progress-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var migrator = DatabaseMigrator()
        OrdersStore.migrations(&migrator)
        let before = try #require(migrator.migrations.firstIndex(of: "orders-v2-line-progress")).advanced(by: -1)
        let queue = try DatabaseQueue(path: path)
        try migrator.migrate(queue, upTo: migrator.migrations[before])
        let order = Forge_Orders_V1_Order.with {
            $0.id = "ord_old"
            $0.orderNumber = "SO-2026-000001"
            $0.accountID = "acc_1"
            $0.status = .released
            $0.total = OrdersFixture.money(300_000)
            $0.deliveredAt = .init(date: Date(timeIntervalSince1970: 1_780_000_000))
            $0.lines = ([1, 2] as [Int32]).map { number in
                .with {
                    $0.lineNo = number
                    $0.sku = "CK-500"
                    $0.quantity = 1
                    if number == 1 {
                        $0.production = .with { $0.status = .shipped; $0.trackingNumber = "SF1" }
                        $0.serialNumbers = ["CK500-0001"]
                    }
                }
            }
        }
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO orders (id, order_number, account_id, owner_id, team, status, opportunity_id, erp_order_number, contact_id, created_at, version, payload)
                VALUES ('ord_old', 'SO-2026-000001', 'acc_1', 'rep-a', 'east', 4, '', '', '', 0, 3, ?)
                """, arguments: [try order.serializedData()])
        }
        try migrator.migrate(queue)
        try await queue.read { db in
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM order_line_progress WHERE order_id = 'ord_old'") == 2)
            let read = try #require(try OrderStore.order(db, id: "ord_old"))
            #expect(read.lines[0].production.trackingNumber == "SF1" && read.lines[0].serialNumbers == ["CK500-0001"])
            #expect(read.lines[1].production.status == .unspecified && read.productionStatus == .unspecified)
            // The later migration's columns, from the same payload.
            let columns = try #require(try Row.fetchOne(db, sql: "SELECT total_micros, delivered_at FROM orders WHERE id = 'ord_old'"))
            #expect(columns["total_micros"] == order.total.amountMicros && columns["delivered_at"] == 1_780_000_000.0)
        }
    }

    @Test("the 360° section shows the five orders delivered last and sums the year's orders from columns, through the account's indexes")
    func accountSectionFromColumns() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        let now = fixture.clock.now()
        // Twenty-two orders ERP delivered: the first placed long ago and delivered yesterday
        // (an older section took the deliveries of the twenty orders placed last only), the
        // next twenty placed in turn and delivered in the opposite order, the last placed more
        // than a year ago.
        func days(_ count: Int) -> Date { now.addingTimeInterval(-Double(count) * 86_400) }
        let imported = try await fixture.handler.importOrders(.with {
            $0.orders = (0..<22).map { index in
                .with {
                    $0.accountID = "acc_1"
                    $0.erpOrderNumber = "45000003\(index + 10)"
                    $0.status = .completed
                    $0.createdAt = .init(date: days(index == 0 ? 300 : index == 21 ? 400 : 100 - index))
                    $0.deliveredAt = .init(date: days(index == 0 ? 1 : index == 21 ? 390 : 10 + index * 3))
                    $0.lines = [.with { $0.sku = "CNC-500"; $0.name = "数控车床"; $0.quantity = Int64(index + 1); $0.unitPrice = OrdersFixture.money(10_000) }]
                }
            }
        }, context: OrdersFixture.connector).results
        #expect(imported.allSatisfy { $0.status == .created })
        let ids = imported.map(\.id)

        let section = try await fixture.handler.getAccountOrders(.with { $0.accountID = "acc_1" }, context: OrdersFixture.finance)
        // Delivered 1, 13, 16, 19 and 22 days ago.
        #expect(section.recentDeliveries.map(\.id) == Array(ids[0..<5]))
        #expect(section.ordersLast12Months == 21)
        #expect(section.revenueLast12Months.amountMicros == OrdersFixture.money(10_000 * (1...21).reduce(0, +)).amountMicros)

        // The section's order queries, as SQLite plans them (no statistics, as in production).
        let principal = try #require(OrdersFixture.finance.principal)
        let ran = try await fixture.database.read { db in
            try QueryPlans.of(db) { _ = try Receivables.accountSectionRead(db, accountID: "acc_1", principal: principal, now: now) }
        }
        let plans = (ran.filter { $0.sql.contains("FROM orders") }, ran.filter { $0.sql.contains("FROM order_line_progress") })
        #expect(plans.0.count == 3, "open orders, the year's orders, the latest deliveries")
        for (sql, plan) in plans.0 {
            #expect(plan.contains("USING INDEX orders_") && !plan.contains("SCAN orders"), "\(sql) → \(plan)")
        }
        #expect(plans.0.last.map { $0.1.contains("orders_delivered_by_account") && !$0.1.contains("TEMP B-TREE") } == true, "\(plans.0.last?.1 ?? "")")
        // The lines' progress of many orders: one argument listing them, through the primary key.
        #expect(plans.1.count == 2, "the year's deliveries, the latest deliveries' lines")
        for (sql, plan) in plans.1 {
            #expect(sql.contains("json_each") && plan.contains("USING PRIMARY KEY") && !plan.contains("SCAN order_line_progress"), "\(sql) → \(plan)")
        }
    }

    @Test("reports from a batch apply one by one: a bad or unknown one is rejected by itself and names its field")
    func batch() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        let order = try await fixture.released()
        let now = fixture.clock.now()
        let results = try await fixture.handler.reportProductionStatuses(.with {
            $0.reports = [
                .with { $0.eventID = "b-1"; $0.orderID = order.id; $0.status = .scheduled; $0.sourceTime = .init(date: now) },
                .with { $0.eventID = "b-2"; $0.orderID = order.id; $0.status = .inProduction },
                .with { $0.eventID = "b-3"; $0.orderID = "ord_missing"; $0.status = .scheduled; $0.sourceTime = .init(date: now) },
                .with { $0.eventID = "b-4"; $0.orderID = order.id; $0.lineNo = 9; $0.status = .scheduled; $0.sourceTime = .init(date: now) },
                .with { $0.eventID = "b-1"; $0.orderID = order.id; $0.status = .scheduled; $0.sourceTime = .init(date: now) },
            ]
        }, context: OrdersFixture.connector).results
        #expect(results.map(\.outcome) == [.applied, .rejected, .rejected, .rejected, .applied])
        #expect(results[1].violations.map(\.field) == ["reports[1].source_time"])
        #expect(results[3].violations.map(\.field) == ["reports[3].line_no"])
        let stored = try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM status_report") }
        #expect(stored == 1)
    }

    @Test("within one batch each report sees the ones before it: the later of two on a line wins, packing in the middle is applied to the order, what follows packing is history, events keep the reports' order")
    func batchInOrder() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        let order = try await fixture.released()
        let t0 = fixture.clock.now()
        func at(_ minutes: Double) -> Google_Protobuf_Timestamp { .init(date: t0.addingTimeInterval(minutes * 60)) }
        let results = try await fixture.handler.reportProductionStatuses(.with {
            $0.reports = [
                .with { $0.eventID = "m-1"; $0.orderID = order.id; $0.lineNo = 1; $0.status = .inProduction; $0.percent = 30; $0.sourceTime = at(1) },
                .with { $0.eventID = "m-2"; $0.orderID = order.id; $0.lineNo = 1; $0.status = .inProduction; $0.percent = 70; $0.sourceTime = at(2) },
                .with { $0.eventID = "m-0"; $0.orderID = order.id; $0.lineNo = 1; $0.status = .inProduction; $0.percent = 10; $0.sourceTime = at(0) },
                .with { $0.eventID = "e-1"; $0.orderID = order.id; $0.status = .packed; $0.sourceTime = at(3) },
                .with { $0.eventID = "m-3"; $0.orderID = order.id; $0.lineNo = 2; $0.status = .qualityInspection; $0.sourceTime = at(4) },
                .with { $0.eventID = "m-2"; $0.orderID = order.id; $0.lineNo = 1; $0.status = .inProduction; $0.percent = 70; $0.sourceTime = at(2) },
            ]
        }, context: OrdersFixture.connector).results
        #expect(results.map(\.outcome) == [.applied, .applied, .historyOnly, .applied, .historyOnly, .applied])
        #expect(results.map(\.repeated) == [false, false, false, false, false, true])
        let read = try await fixture.handler.getOrder(.with { $0.id = order.id }, context: OrdersFixture.finance)
        #expect(read.order.lines.allSatisfy { $0.production.status == .packed } && read.order.productionStatus == .packed)
        #expect(read.order.paymentPlan[1].hasInvoicedAt, "packing in a batch invoices as a single report does")
        #expect(Set(read.history.map(\.eventID)) == ["m-1", "m-2", "m-0", "e-1", "m-3"])
        let changes = try await fixture.events("ProductionStatusChanged").map { try Forge_Orders_V1_ProductionStatusChanged(serializedBytes: $0.payload) }
        #expect(changes.map(\.status) == [.inProduction, .inProduction, .packed])
        #expect(changes.map(\.state.percent) == [30, 70, 100])
        let types = try await fixture.database.read { db in try String.fetchAll(db, sql: "SELECT type FROM outbox ORDER BY seq") }
        #expect(Array(types.drop { $0 != "ProductionStatusChanged" })
                == ["ProductionStatusChanged", "ProductionStatusChanged", "ProductionStatusChanged", "InvoiceIssued", "NotificationRequested"])
    }

    @Test("one batch naming orders by id and by ERP number — the same order both ways — applies each report to its own line; an unknown ERP number is refused alone")
    func batchByIDAndERPNumber() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        let first = try await fixture.released(), second = try await fixture.released()
        _ = try await fixture.handler.acknowledgeRelease(.with { $0.orderID = first.id; $0.erpOrderNumber = "4500000201" }, context: OrdersFixture.connector)
        _ = try await fixture.handler.acknowledgeRelease(.with { $0.orderID = second.id; $0.erpOrderNumber = "4500000202" }, context: OrdersFixture.connector)
        let now = Google_Protobuf_Timestamp(date: fixture.clock.now())
        let results = try await fixture.handler.reportProductionStatuses(.with {
            $0.reports = [
                .with { $0.eventID = "n-1"; $0.orderID = first.id; $0.lineNo = 1; $0.status = .inProduction; $0.percent = 20; $0.sourceTime = now },
                .with { $0.eventID = "n-2"; $0.erpOrderNumber = "4500000201"; $0.lineNo = 2; $0.status = .materialReady; $0.sourceTime = now },
                .with { $0.eventID = "n-3"; $0.erpOrderNumber = "4500000202"; $0.lineNo = 1; $0.status = .scheduled; $0.sourceTime = now },
                .with { $0.eventID = "n-4"; $0.erpOrderNumber = "4500000299"; $0.lineNo = 1; $0.status = .scheduled; $0.sourceTime = now },
            ]
        }, context: OrdersFixture.connector).results
        #expect(results.map(\.outcome) == [.applied, .applied, .applied, .rejected])
        #expect(results.map(\.orderID) == [first.id, first.id, second.id, ""])
        let one = try await fixture.handler.getOrder(.with { $0.id = first.id }, context: OrdersFixture.finance).order
        #expect(one.lines.map(\.production.status) == [.inProduction, .materialReady])
        #expect(one.lines[0].production.percent == 20)
        let two = try await fixture.handler.getOrder(.with { $0.id = second.id }, context: OrdersFixture.finance).order
        #expect(two.lines.map(\.production.status) == [.scheduled, .unspecified])
    }

    @Test("payments settle oldest first, once per reference; more than owed is refused; delivered and paid completes the order")
    func payments() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        var order = try await fixture.released()
        let deposit = OrdersFixture.money(99_001, cents: 50)
        let paid = try await fixture.handler.recordPayment(.with { $0.orderID = order.id; $0.amount = deposit; $0.reference = "BANK-1" }, context: OrdersFixture.finance)
        #expect(paid.order.paymentPlan[0].hasPaidAt && paid.order.outstanding.amountMicros == 231_003_500_000)
        let again = try await fixture.handler.recordPayment(.with { $0.orderID = order.id; $0.amount = deposit; $0.reference = "BANK-1" }, context: OrdersFixture.finance)
        #expect(again.payment.id == paid.payment.id && again.order.outstanding == paid.order.outstanding)
        await #expect { _ = try await fixture.handler.recordPayment(.with { $0.orderID = order.id; $0.amount = OrdersFixture.money(1); $0.reference = "BANK-1" }, context: OrdersFixture.finance) } throws: {
            ($0 as? RPCError)?.code == .failedPrecondition
        }
        await #expect { _ = try await fixture.handler.recordPayment(.with { $0.orderID = order.id; $0.amount = OrdersFixture.money(300_000); $0.reference = "BANK-2" }, context: OrdersFixture.finance) } throws: {
            ($0 as? RPCError)?.violations.map(\.field) == ["amount"]
        }
        order = try await fixture.report(order.id, "d-1", .delivered, at: fixture.clock.now()).order
        #expect(order.status == .delivered)
        order = try await fixture.handler.recordPayment(.with { $0.orderID = order.id; $0.amount = order.outstanding; $0.reference = "BANK-3" }, context: OrdersFixture.finance).order
        #expect(order.status == .completed && order.outstanding.amountMicros == 0)
        #expect(try await fixture.events("PaymentRecorded").count == 2)
    }

    @Test("an instalment unpaid the day after it was due: tasks for the owner and finance and PaymentOverdue, once; the receivables age with the clock and DSO follows the formula")
    func overdueAndAgeing() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        let order = try await fixture.released()
        // The deposit (99,001.50) is due in 7 days.
        fixture.clock.advance(by: 7 * 86_400)
        #expect(try await fixture.scheduler.runDue() == 0)
        fixture.clock.advance(by: 86_400)
        #expect(try await fixture.scheduler.runDue() == 1)
        #expect(try await fixture.scheduler.runDue() == 0)
        let repTasks = try await fixture.handler.listOrderTasks(.init(), context: OrdersFixture.rep).tasks
        let financeTasks = try await fixture.handler.listOrderTasks(.init(), context: OrdersFixture.finance).tasks
        #expect(repTasks.map(\.kind) == ["payment_overdue"] && financeTasks.map(\.kind) == ["payment_overdue"])
        #expect(repTasks[0].title.contains("逾期 1 天"))
        #expect(try await fixture.events("PaymentOverdue").count == 1)

        fixture.clock.advance(by: 40 * 86_400)
        let receivables = try await fixture.handler.getReceivables(.init(), context: OrdersFixture.finance)
        #expect(receivables.ageing.days3160.amountMicros == 99_001_500_000)
        #expect(receivables.ageing.total.amountMicros == 99_001_500_000)
        #expect(receivables.items.map(\.orderID) == [order.id] && receivables.items[0].daysOverdue == 41)
        // Invoiced 48 days ago, inside the 90-day window: DSO = 99,001.50 / 99,001.50 × 90.
        #expect(receivables.dso.dsoDays == 90)
        // Paying clears the owner's task.
        _ = try await fixture.handler.recordPayment(.with { $0.orderID = order.id; $0.amount = order.outstanding; $0.reference = "ALL" }, context: OrdersFixture.finance)
        #expect(try await fixture.handler.listOrderTasks(.init(), context: OrdersFixture.rep).tasks.isEmpty)
        await #expect { _ = try await fixture.handler.getReceivables(.with { $0.dsoDays = -1 }, context: OrdersFixture.finance) } throws: {
            ($0 as? RPCError)?.violations.map(\.field) == ["dso_days"]
        }
    }

    @Test("a won opportunity drafts its order from the accepted quote once, however often the event arrives")
    func opportunityWon() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        let won = Forge_Pipeline_V1_OpportunityWon.with {
            $0.opportunity = .with {
                $0.id = "opp_1"
                $0.name = "CK500 两台"
                $0.accountID = "acc_1"
                $0.ownerID = "rep-a"
                $0.team = "east"
                $0.primaryContactID = "con_9"
            }
            $0.acceptedQuote = .with {
                $0.id = "quo_1"
                $0.revision = 2
                $0.lines = [.with { $0.sku = "CNC-500"; $0.name = "数控车床 CK500"; $0.unit = "台"; $0.quantity = 2; $0.unitPrice = OrdersFixture.money(142_500) }]
                $0.paymentTerms = [.with { $0.label = "预付款"; $0.percent = 30; $0.dueRule = "on_order" },
                                   .with { $0.label = "发货前"; $0.percent = 70; $0.dueRule = "before_shipment" }]
            }
        }
        try await fixture.apply(won, from: "pipeline")
        try await fixture.apply(won, from: "pipeline")
        let orders = try await fixture.handler.listOrders(.init(), context: OrdersFixture.rep).orders
        #expect(orders.count == 1)
        #expect(orders[0].opportunityID == "opp_1" && orders[0].quoteID == "quo_1" && orders[0].contactID == "con_9")
        #expect(orders[0].total.amountMicros == 285_000_000_000 && orders[0].paymentPlan.map(\.trigger) == [.onApproval, .beforeShipment])
        #expect(orders[0].status == .draft && orders[0].ownerID == "rep-a")
        // An order for the same opportunity by RPC is refused.
        await #expect { _ = try await fixture.handler.createOrder(.with {
            $0.order = .with {
                $0.accountID = "acc_1"
                $0.opportunityID = "opp_1"
                $0.lines = [.with { $0.sku = "X"; $0.quantity = 1; $0.unitPrice = OrdersFixture.money(1) }]
            }
        }, context: OrdersFixture.rep) } throws: { ($0 as? RPCError)?.code == .alreadyExists }
    }

    @Test("a merge moves orders and their receivables to the survivor; an erased contact leaves the orders that named them")
    func mergeAndErasure() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account("acc_1")
        try await fixture.account("acc_2", "杭州汽轮")
        let order = try await fixture.approve(try await fixture.draft(account: "acc_2", contact: "con_7"), limit: nil)
        try await fixture.apply(Forge_Accounts_V1_AccountMerged.with { $0.survivorID = "acc_1"; $0.mergedIds = ["acc_2"] })
        let moved = try await fixture.handler.getOrder(.with { $0.id = order.id }, context: OrdersFixture.finance).order
        #expect(moved.accountID == "acc_1" && moved.accountName == "杭州汽轮动力集团有限公司")
        let section = try await fixture.handler.getAccountOrders(.with { $0.accountID = "acc_1" }, context: OrdersFixture.finance)
        #expect(section.openOrders.map(\.id) == [order.id] && section.receivables.total.amountMicros == 99_001_500_000)
        try await fixture.apply(Forge_Accounts_V1_ContactErased.with { $0.contactID = "con_7"; $0.accountID = "acc_1" })
        let erased = try await fixture.handler.getOrder(.with { $0.id = order.id }, context: OrdersFixture.finance).order
        #expect(erased.contactID.isEmpty && erased.deliveryContactName.isEmpty)
    }

    @Test("the product master: a batch upsert answers created, updated, unchanged or rejected per row; a spreadsheet imports the same way")
    func products() async throws {
        let fixture = try OrdersFixture()
        let batch = Forge_Orders_V1_UpsertProductsRequest.with {
            $0.products = [
                .with { $0.sku = "CNC-500"; $0.name = "数控车床"; $0.listPrice = OrdersFixture.money(150_000); $0.active = true },
                .with { $0.sku = "BAD"; $0.name = ""; $0.listPrice = OrdersFixture.money(1) },
            ]
        }
        let first = try await fixture.handler.upsertProducts(batch, context: OrdersFixture.connector).results
        #expect(first.map(\.status) == [.created, .rejected])
        #expect(first[1].violations.map(\.field) == ["products[1].name"])
        let second = try await fixture.handler.upsertProducts(batch, context: OrdersFixture.connector).results
        #expect(second[0].status == .unchanged)
        #expect(try await fixture.events("ProductUpserted").count == 1)

        let imported = try await fixture.handler.importProducts(.with {
            $0.importID = "file-1"
            $0.header = ["物料号", "名称", "型号", "产品线", "单价", "交期", "阶梯价", "标准成本"]
            $0.rows = [
                .with { $0.line = 2; $0.values = ["CNC-500", "数控车床", "CK500", "数控机床", "150,000", "45天", "5:145000; 10:140000", "110000"] },
                .with { $0.line = 3; $0.values = ["HYD-20", "液压站", "HY20", "液压件", "两万", "30", "", ""] },
                .with { $0.line = 4; $0.values = ["CNC-500", "数控车床", "", "", "150000", "", "", ""] },
            ]
        }, context: OrdersFixture.connector)
        #expect(imported.results.map(\.status) == [.updated, .rejected, .duplicate])
        #expect(imported.results[1].violations.map(\.field) == ["list_price"])
        let product = try await fixture.handler.getProduct(.with { $0.sku = "CNC-500" }, context: OrdersFixture.finance).product
        #expect(product.tiers.map(\.minQuantity) == [5, 10] && product.leadTimeDays == 45 && product.standardCost.amountMicros == 110_000_000_000)
        #expect(try await fixture.handler.getProduct(.with { $0.sku = "CNC-500" }, context: OrdersFixture.rep).product.hasStandardCost == false)
    }

    @Test("ERP's nightly status file applies as reports; importing the same file again changes nothing")
    func statusFile() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        let order = try await fixture.released()
        _ = try await fixture.handler.acknowledgeRelease(.with { $0.orderID = order.id; $0.erpOrderNumber = "4500000077" }, context: OrdersFixture.connector)
        let file = Forge_Common_V1_ImportRequest.with {
            $0.importID = "sha-abc"
            $0.header = ["ERP订单号", "行号", "状态", "更新时间", "物流公司", "运单号"]
            $0.rows = [
                .with { $0.line = 2; $0.values = ["4500000077", "1", "生产中", "2026-12-01 08:00", "", ""] },
                .with { $0.line = 3; $0.values = ["4500000077", "2", "已发货", "2026-12-01 17:30", "德邦", "DB778899"] },
                .with { $0.line = 4; $0.values = ["4500000077", "2", "飞走了", "2026-12-01", "", ""] },
            ]
        }
        let first = try await fixture.handler.importOrderStatus(file, context: OrdersFixture.connector)
        #expect(first.results.map(\.status) == [.updated, .updated, .rejected])
        #expect(first.results[2].violations.map(\.field) == ["status"])
        let second = try await fixture.handler.importOrderStatus(file, context: OrdersFixture.connector)
        #expect(second.results.map(\.status) == [.unchanged, .unchanged, .rejected])
        let stored = try await fixture.handler.getOrder(.with { $0.id = order.id }, context: OrdersFixture.finance).order
        #expect(stored.lines[1].production.trackingNumber == "DB778899" && stored.lines[0].production.status == .inProduction)
    }

    @Test("orders ERP already has import once by ERP number, with their dates and status; a completed one is paid in full; bad ones name their fields; nothing a new delivery sets off happens")
    func importFromERP() async throws {
        let fixture = try OrdersFixture()
        try await fixture.account()
        let placed = fixture.clock.now().addingTimeInterval(-200 * 86_400)
        func order(_ number: String, _ status: Forge_Orders_V1_OrderStatus, account: String = "acc_1") -> Forge_Orders_V1_Order {
            .with {
                $0.accountID = account
                $0.erpOrderNumber = number
                $0.status = status
                $0.createdAt = .init(date: placed)
                $0.deliveredAt = .init(date: placed.addingTimeInterval(40 * 86_400))
                $0.lines = [.with { $0.sku = "CNC-500"; $0.name = "数控车床"; $0.quantity = 1; $0.unitPrice = OrdersFixture.money(150_000) }]
            }
        }
        let request = Forge_Orders_V1_ImportOrdersRequest.with {
            $0.orders = [order("4500000101", .completed), order("4500000102", .released), order("4500000103", .completed, account: "acc_unknown"),
                         order("4500000104", .draft), order("4500000101", .completed)]
        }
        let first = try await fixture.handler.importOrders(request, context: OrdersFixture.connector).results
        #expect(first.map(\.status) == [.created, .created, .rejected, .rejected, .rejected])
        #expect(first[2].violations.map(\.field) == ["orders[2].account_id"])
        #expect(first[3].violations.map(\.field) == ["orders[3].status"])
        #expect(first[4].violations.map(\.field) == ["orders[4].erp_order_number"])
        let again = try await fixture.handler.importOrders(.with { $0.orders = [order("4500000101", .completed)] }, context: OrdersFixture.connector).results
        #expect(again.map(\.status) == [.unchanged] && again[0].id == first[0].id)

        let completed = try await fixture.handler.getOrder(.with { $0.id = first[0].id }, context: OrdersFixture.finance).order
        #expect(completed.createdAt.date == placed && completed.orderNumber.hasPrefix("SO-"))
        #expect(completed.outstanding.amountMicros == 0 && completed.lines[0].production.status == .delivered)
        let released = try await fixture.handler.getOrder(.with { $0.id = first[1].id }, context: OrdersFixture.finance).order
        #expect(released.status == .released && released.erpOrderNumber == "4500000102")
        // History is not new business: no deliveries, no invoices, no customer mail; not handed to ERP again.
        #expect(try await fixture.events("OrderImported").count == 2)
        #expect(try await fixture.events("OrderDelivered").isEmpty)
        #expect(try await fixture.events("InvoiceIssued").isEmpty)
        #expect(try await fixture.handler.listReleasedOrders(.init(), context: OrdersFixture.connector).orders.isEmpty)
        // A status report by ERP number reaches the imported order.
        let shipped = try await fixture.handler.reportProductionStatus(.with {
            $0.report = .with {
                $0.eventID = "erp-9"
                $0.erpOrderNumber = "4500000102"
                $0.status = .shipped
                $0.sourceTime = .init(date: fixture.clock.now())
            }
        }, context: OrdersFixture.connector)
        #expect(shipped.outcome == .applied && shipped.order.id == released.id)
    }
}
