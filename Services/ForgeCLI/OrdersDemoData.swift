import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// The orders part of the demo: the product master as ERP would sync it, and a year of orders
/// for the demo customers — drafted by their owners, approved by the team's manager (a few
/// held over the credit limit, waiting for finance), released, reported by "ERP" and "MES" with
/// the times things happened (some deliveries late, some still in production), and paid by
/// finance (some instalments overdue). Everything goes through orders' RPCs as those people;
/// every write carries an idempotency key, so an interrupted load finishes without doubles.
struct OrdersDemoData {
    let issuer: TokenIssuer

    static let products: [(sku: String, name: String, model: String, line: String, price: Int64, cost: Int64, leadDays: Int32, unit: String)] =
        PipelineDemoData.products.map { ($0.sku, $0.name, $0.sku, $0.line, $0.price, $0.price * 68 / 100, 45, "台") } + [
            ("SP-SPINDLE-12K", "电主轴 12000rpm", "SP12K", "备件", 38_000, 21_000, 20, "件"),
            ("SP-SERVO-4KW", "伺服电机 4kW", "SV4K", "备件", 6_800, 3_900, 10, "件"),
            ("SV-INSTALL", "安装调试服务", "SV-IN", "服务", 12_000, 5_000, 7, "次"),
        ]

    func load(accounts: [DemoData.Account], now: Date, progress: (DemoData.Progress) -> Void) async throws -> Int {
        let erpToken = try await issuer.issue(subject: "erp-bridge", roles: [Role.erpConnector], ttl: 3600)
        let erp = try WireClient(address: StackLayout.address(of: "orders"), interceptors: [BearerTokenInterceptor(token: erpToken)])
        defer { Task { await erp.close() } }
        let connector = Forge_Orders_V1_OrdersClient(channel: erp)
        try await upsertProducts(connector, key: "demo-products")

        // Every fifth customer, one or two orders each, placed over the past year.
        var random = SeededRandom(seed: 20261203)
        let plans = accounts.enumerated().filter { $0.offset % 5 == 1 }.flatMap { index, account in
            (0..<(1 + random.next(2))).map { n in (key: "\(index)-\(n)", account: account, roll: random.next(1000), ageDays: 5 + random.next(355)) }
        }
        // One connection and token per owner and per manager, shared by their orders.
        var people: [String: Forge_Orders_V1_OrdersClient] = [:]
        var wires: [WireClient] = []
        defer { Task { [wires] in for wire in wires { await wire.close() } } }
        for plan in plans {
            let manager = PipelineDemoData.teams.first { $0.name == plan.account.team }?.manager ?? "mgr-east"
            for (subject, role) in [(plan.account.owner, Role.salesRep), (manager, Role.salesManager)] where people["\(subject)|\(plan.account.team)"] == nil {
                let token = try await issuer.issue(subject: subject, roles: [role], team: plan.account.team, ttl: 3600)
                let wire = try WireClient(address: StackLayout.address(of: "orders"), interceptors: [BearerTokenInterceptor(token: token)])
                wires.append(wire)
                people["\(subject)|\(plan.account.team)"] = Forge_Orders_V1_OrdersClient(channel: wire)
            }
        }
        var reports: [Forge_Orders_V1_StatusReport] = []
        var payments: [(String, Forge_Orders_V1_RecordPaymentRequest)] = []
        var done = 0
        try await withThrowingTaskGroup(of: (reports: [Forge_Orders_V1_StatusReport], payments: [(String, Forge_Orders_V1_RecordPaymentRequest)]).self) { group in
            var pending = plans[...]
            func next() {
                guard let plan = pending.popFirst() else { return }
                let manager = PipelineDemoData.teams.first { $0.name == plan.account.team }?.manager ?? "mgr-east"
                guard let owner = people["\(plan.account.owner)|\(plan.account.team)"], let approver = people["\(manager)|\(plan.account.team)"] else { return }
                group.addTask {
                    try await order(plan.key, account: plan.account, roll: plan.roll, ageDays: plan.ageDays, now: now, connector: connector, owner: owner, manager: approver)
                }
            }
            for _ in 0..<8 { next() }
            while let made = try await group.next() {
                reports += made.reports
                payments += made.payments
                done += 1
                if done % 25 == 0 || done == plans.count { progress(.init(step: "orders", done: done, total: plans.count)) }
                next()
            }
        }
        // ERP and MES report in batches, as the connectors do.
        for start in stride(from: 0, to: reports.count, by: 500) {
            _ = try await connector.reportProductionStatuses(.with { $0.reports = Array(reports[start..<min(start + 500, reports.count)]) },
                                                             options: CallOptions(timeout: .seconds(60)))
            progress(.init(step: "production reports", done: min(start + 500, reports.count), total: reports.count))
        }
        let financeToken = try await issuer.issue(subject: "finance", roles: [Role.finance], ttl: 3600)
        let financeWire = try WireClient(address: StackLayout.address(of: "orders"), interceptors: [BearerTokenInterceptor(token: financeToken)])
        defer { Task { await financeWire.close() } }
        let finance = Forge_Orders_V1_OrdersClient(channel: financeWire)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var pending = payments[...]
            func next() {
                guard let (key, payment) = pending.popFirst() else { return }
                // An amount the order no longer owes (an interrupted load paid it already) is refused; fine.
                group.addTask { _ = try? await finance.recordPayment(payment, options: CallOptions(idempotencyKey: "demo-pay-\(key)")) }
            }
            for _ in 0..<8 { next() }
            while try await group.next() != nil { next() }
        }
        progress(.init(step: "payments", done: payments.count, total: payments.count))
        return plans.count
    }

    /// An order from ERP's history: delivered `daysAgo` days ago (ordered 10 days before) and
    /// paid in full.
    struct HistoricOrder {
        var number: String
        var accountID: String
        var daysAgo: Int
        var sku: String
        var quantity: Int64
        var yuan: Int64
    }

    /// ERP's history through `ImportOrders`, 500 orders a call, once per ERP order number. The
    /// product master first (the lines' product lines); orders refuses a row for an account its
    /// feed has not brought yet, so those are sent again. Returns how many orders are in.
    func importHistory(_ history: [HistoricOrder], now: Date) async throws -> Int {
        let erpToken = try await issuer.issue(subject: "erp-bridge", roles: [Role.erpConnector], ttl: 3600)
        let erp = try WireClient(address: StackLayout.address(of: "orders"), interceptors: [BearerTokenInterceptor(token: erpToken)])
        defer { Task { await erp.close() } }
        let connector = Forge_Orders_V1_OrdersClient(channel: erp)
        // Its own key: the orders part syncs the same master at the same time.
        try await upsertProducts(connector, key: "demo-products-history")
        let products = Dictionary(Self.products.map { ($0.sku, $0) }, uniquingKeysWith: { $1 })
        var pending = history[...]
        for attempt in 0..<600 where !pending.isEmpty {
            try Task.checkCancellation()
            var refused: [HistoricOrder] = []
            for start in stride(from: pending.startIndex, to: pending.endIndex, by: 500) {
                let batch = Array(pending[start..<min(start + 500, pending.endIndex)])
                let results = try await connector.importOrders(.with {
                    $0.orders = batch.map { item in
                        .with {
                            $0.accountID = item.accountID
                            $0.erpOrderNumber = item.number
                            $0.status = .completed
                            $0.createdAt = .init(date: now.addingTimeInterval(-Double(item.daysAgo + 10) * 86_400))
                            $0.deliveredAt = .init(date: now.addingTimeInterval(-Double(item.daysAgo) * 86_400))
                            $0.lines = [.with {
                                $0.sku = item.sku
                                $0.name = products[item.sku]?.name ?? item.sku
                                $0.unit = products[item.sku]?.unit ?? "台"
                                $0.quantity = item.quantity
                                $0.unitPrice = .with { $0.amountMicros = item.yuan * 1_000_000 }
                            }]
                        }
                    }
                }, options: CallOptions(timeout: .seconds(60))).results
                for (item, result) in zip(batch, results) where result.status == .rejected { refused.append(item) }
            }
            pending = refused[...]
            if pending.isEmpty { break }
            if attempt == 599 { throw RPCError(.unavailable, "forge-orders has not received the demo accounts after 30 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
        return history.count
    }

    /// ERP's product master sync (once per key however often it is made; the upsert is idempotent anyway).
    func upsertProducts(_ connector: Forge_Orders_V1_OrdersClient, key: String) async throws {
        _ = try await connector.upsertProducts(.with {
            $0.products = Self.products.map { product in
                .with {
                    $0.sku = product.sku
                    $0.name = product.name
                    $0.model = product.model
                    $0.productLine = product.line
                    $0.unit = product.unit
                    $0.listPrice = .with { $0.amountMicros = product.price * 1_000_000 }
                    $0.standardCost = .with { $0.amountMicros = product.cost * 1_000_000 }
                    $0.leadTimeDays = product.leadDays
                    $0.active = true
                }
            }
        }, options: CallOptions(idempotencyKey: key))
    }

    /// One order: drafted by the owner, approved by the manager, released and acknowledged;
    /// returns the status reports of what has happened to it since, and the payments made.
    private func order(_ key: String, account: DemoData.Account, roll: Int, ageDays: Int, now: Date,
                       connector: Forge_Orders_V1_OrdersClient, owner: Forge_Orders_V1_OrdersClient, manager: Forge_Orders_V1_OrdersClient)
        async throws -> (reports: [Forge_Orders_V1_StatusReport], payments: [(String, Forge_Orders_V1_RecordPaymentRequest)]) {
        func options(_ step: String) -> CallOptions { CallOptions(timeout: .seconds(30), idempotencyKey: "demo-order-\(key)-\(step)") }
        let placed = now.addingTimeInterval(-Double(ageDays) * 86_400)
        let machine = Self.products.first { $0.line == account.productLine } ?? Self.products[roll % 5]
        let quantity = Int64(1 + roll % 3)
        var lines: [Forge_Orders_V1_OrderLine] = [.with {
            $0.sku = machine.sku
            $0.name = machine.name
            $0.unit = machine.unit
            $0.quantity = quantity
            $0.unitPrice = .with { $0.amountMicros = machine.price * 1_000_000 * Int64(100 - roll % 8) / 100 }
            $0.promisedDelivery = .init(date: placed.addingTimeInterval(Double(machine.leadDays) * 86_400))
        }]
        if roll % 3 == 0 {
            let spare = Self.products[5 + roll % 3]
            lines.append(.with {
                $0.sku = spare.sku
                $0.name = spare.name
                $0.unit = spare.unit
                $0.quantity = Int64(1 + roll % 4)
                $0.unitPrice = .with { $0.amountMicros = spare.price * 1_000_000 }
                $0.promisedDelivery = .init(date: placed.addingTimeInterval(Double(machine.leadDays) * 86_400))
            })
        }
        let orders = owner
        var order = try await orders.createOrder(.with {
            $0.order = .with {
                $0.accountID = account.id
                $0.lines = lines
                $0.contractNumber = "HT-\(Calendar(identifier: .gregorian).component(.year, from: placed))-\(String(format: "%04d", roll))"
                $0.incoterms = ["EXW", "DAP", "DAP", "CIP"][roll % 4]
                $0.deliveryAddress = "\(account.name) 厂区 \(roll % 9 + 1) 号门"
                $0.paymentPlan = [
                    .with { $0.label = "预付款"; $0.percentBps = 3000; $0.trigger = .onApproval; $0.daysAfter = 7 },
                    .with { $0.label = "发货前"; $0.percentBps = 6000; $0.trigger = .beforeShipment; $0.daysAfter = 0 },
                    .with { $0.label = "验收后"; $0.percentBps = 1000; $0.trigger = .onDelivery; $0.daysAfter = 30 },
                ]
            }
        }, options: options("create")).order
        // One in ten stays a draft; over the credit limit, the approval waits for finance.
        guard roll % 10 != 0 else { return ([], []) }
        let managerOrders = manager
        do {
            order = try await managerOrders.approveOrder(.with { $0.id = order.id }, options: options("approve")).order
        } catch let error as RPCError where error.code == .failedPrecondition {
            return ([], [])
        }
        if order.status == .approved {
            order = try await managerOrders.releaseOrder(.with { $0.id = order.id }, options: options("release")).order
        }
        let erpNumber = "45" + key.split(separator: "-").map { String(format: "%04d", Int($0) ?? 0) }.joined()
        _ = try? await connector.acknowledgeRelease(.with { $0.orderID = order.id; $0.erpOrderNumber = erpNumber }, options: options("ack"))

        // What happened since it was placed: the further back, the further along; some late.
        let lateDays = roll % 5 == 0 ? Double(5 + roll % 20) : -Double(roll % 6)
        let lead = Double(machine.leadDays)
        let steps: [(Forge_Orders_V1_ProductionStatus, Double, String)] = [
            (.scheduled, 2, "mes"), (.materialReady, lead * 0.3, "erp"), (.inProduction, lead * 0.4, "mes"),
            (.qualityInspection, lead * 0.8, "mes"), (.packed, lead + lateDays - 3, "erp"), (.shipped, lead + lateDays - 2, "erp"),
            (.delivered, lead + lateDays, "erp"),
        ]
        var reports: [Forge_Orders_V1_StatusReport] = []
        for (index, (status, day, source)) in steps.enumerated() {
            let at = placed.addingTimeInterval(max(day, 1) * 86_400)
            guard at < now.addingTimeInterval(-3600) else { break }
            reports.append(.with {
                $0.eventID = "demo-\(key)-\(index)"
                $0.source = source
                $0.orderID = order.id
                $0.status = status
                $0.sourceTime = .init(date: at)
                if status == .inProduction { $0.percent = 60; $0.workCentre = ["一车间", "二车间", "装配线 A"][roll % 3] }
                if status == .shipped { $0.carrier = ["顺丰速运", "德邦物流", "中铁快运"][roll % 3]; $0.trackingNumber = "SF\(1_000_000_000 + roll * 7919)" }
                if status == .delivered { $0.signedBy = ["王主任", "设备科 李工", "仓库 张师傅"][roll % 3] }
                if status == .shipped || status == .delivered, lines[0].quantity > 0 {
                    $0.serialNumbers = (1...lines[0].quantity).map { "\(machine.sku)-\(String(format: "%06d", roll * 10 + Int($0)))" }
                }
            })
        }
        // Finance has recorded what most customers paid: the deposit, usually the payment before
        // shipment, less often the final one; the rest is what the receivables page chases.
        var payments: [(String, Forge_Orders_V1_RecordPaymentRequest)] = []
        let total = order.total.amountMicros
        let paidShare = reports.count >= 5 ? [30, 90, 90, 100, 100, 100, 100, 100][roll % 8] : (roll % 3 == 0 ? 0 : 30)
        if paidShare > 0 {
            let amount = total * Int64(paidShare) / 100 / 10_000 * 10_000
            payments.append(("\(key)", .with {
                $0.orderID = order.id
                $0.amount = .with { $0.amountMicros = amount }
                $0.paidAt = .init(date: min(now, placed.addingTimeInterval(Double(10 + roll % 30) * 86_400)))
                $0.reference = "BANK-\(key)"
            }))
        }
        return (reports, payments)
    }
}
