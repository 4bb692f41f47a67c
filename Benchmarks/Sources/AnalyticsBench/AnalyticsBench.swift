import ArgumentParser
import AsyncHTTPClient
import BenchCore
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import NIOCore
import SwiftProtobuf

/// Analytics at the size of issue 18 — 100,000 accounts and 1,000,000 orders, each order's
/// life five events (created, approved, released, delivered, paid): 5.1 million events in the
/// real feeds of forge-accounts and forge-orders. Measured: replaying every feed into an empty
/// read model (forge-analytics started on a new database until its cursors reach the heads);
/// GetKpis for each KPI and for all of them at C=1; the dashboard page (/analytics) through
/// the gateway. The feeds are seeded once, straight into the services' outboxes (what their
/// RPCs would have written, without a day of calls), and kept in `--data`.
@main
struct AnalyticsBench: AsyncParsableCommand {
    @Option(help: "Directory of the release executables.")
    var binaries = "../.build/release"

    @Option(help: "Where the seeded feeds live between runs.")
    var data = "/var/tmp/forge-analytics-bench"

    @Option(help: "Accounts to seed.")
    var accounts = 100_000

    @Option(help: "Orders to seed (five events each).")
    var orders = 1_000_000

    @Option(help: "Seconds per latency measurement.")
    var duration = 10.0

    @Option(help: "First wire port; admin ports are +100, the gateway's HTTP port +1000.")
    var portBase = 8_260

    @Flag(help: "Throw the data away and seed it again.")
    var reseed = false

    @Option(help: "Measurements to run: replay, kpis, dashboard (comma-separated).")
    var only = "replay,kpis,dashboard"

    static let regions = ["华东", "华南", "华北", "华中", "西南", "西北"]
    static let industries = ["汽车零部件", "航空航天", "电子", "能源", "模具", "工程机械", "医疗器械", "家电"]

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores shared by accounts, orders, analytics, the gateway and this load generator")
        try await SeededDataSet.run(binaries: binaries, data: data, marker: "seeded-\(accounts)-\(orders)", reseed: reseed, portBase: portBase,
                                    seeding: ["accounts", "orders"], measuring: ["accounts", "orders"], seed: seed, measure: measure)
    }

    // MARK: Seeding

    func seed(_ stack: ServiceStack, issuer: TokenIssuer) async throws {
        let started = ContinuousClock.now
        let now = Date()
        try await DatabaseQueue(path: "\(data)/accounts.sqlite").write { db in
            let insert = try db.makeStatement(sql: "INSERT INTO outbox (event_id, type, account_id, occurred_at, payload) VALUES (?, ?, ?, ?, ?)")
            for index in 0..<accounts {
                let account = Forge_Accounts_V1_Account.with {
                    $0.id = Self.accountID(index)
                    $0.name = "分析压测客户\(index)号机械有限公司"
                    $0.region = Self.regions[index % Self.regions.count]
                    $0.industry = Self.industries[index % Self.industries.count]
                    $0.tier = Forge_Accounts_V1_Tier(rawValue: 1 + index % 4) ?? .core
                    $0.ownerID = String(format: "rep-%03d", index % 200)
                    $0.team = String(format: "team-%02d", index % 20)
                    $0.createdAt = .init(date: now.addingTimeInterval(-4 * 365 * 86_400))
                }
                try insert.execute(arguments: [EventID.make(), "AccountCreated", account.id, now.timeIntervalSince1970,
                                               try Forge_Accounts_V1_AccountCreated.with { $0.account = account }.serializedData()])
            }
        }
        print(String(format: "seed: %d AccountCreated in accounts' outbox in %.1f s", accounts, (ContinuousClock.now - started).seconds))
        let day: TimeInterval = 86_400
        try await DatabaseQueue(path: "\(data)/orders.sqlite").write { db in
            let insert = try db.makeStatement(sql: "INSERT INTO outbox (event_id, type, account_id, occurred_at, payload) VALUES (?, ?, ?, ?, ?)")
            var random = SystemRandomNumberGenerator()
            for index in 0..<orders {
                let account = Self.accountID(index % accounts)
                let placed = now.addingTimeInterval(-Double(Int.random(in: 1...1_095, using: &random)) * day)
                let yuan = Int64.random(in: 20_000...900_000, using: &random)
                var order = Forge_Orders_V1_Order.with {
                    $0.id = String(format: "ord_bench_%07d", index)
                    $0.accountID = account
                    $0.orderNumber = String(format: "SO-B%07d", index)
                    $0.status = .draft
                    $0.currencyCode = "CNY"
                    $0.createdAt = .init(date: placed)
                    $0.total = .with { $0.currencyCode = "CNY"; $0.amountMicros = yuan * 1_000_000 }
                    $0.margin = .with { $0.currencyCode = "CNY"; $0.amountMicros = yuan * 280_000 }
                    $0.lines = [.with {
                        $0.lineNo = 1
                        $0.sku = ["VMC-850", "CK-6150", "FL-3015", "SP-SPINDLE-12K"][index % 4]
                        $0.quantity = 1
                        $0.unitPrice = $0.lineTotal
                        $0.lineTotal = .with { $0.currencyCode = "CNY"; $0.amountMicros = yuan * 1_000_000 }
                        $0.promisedDelivery = .init(date: placed.addingTimeInterval(45 * day))
                    }]
                    $0.paymentPlan = [(1, 3000), (2, 6000), (3, 1000)].map { number, bps in
                        .with { $0.number = Int32(number); $0.percentBps = Int32(bps); $0.amount = .with { $0.amountMicros = yuan * 1_000_000 * Int64(bps) / 10_000 } }
                    }
                }
                func append(_ type: String, _ message: some SwiftProtobuf.Message, at: Date) throws {
                    try insert.execute(arguments: [EventID.make(), type, account, at.timeIntervalSince1970, try message.serializedData()])
                }
                try append("OrderCreated", Forge_Orders_V1_OrderCreated.with { $0.order = order }, at: placed)
                order.status = .approved
                order.paymentPlan[0].invoicedAt = .init(date: placed)
                order.paymentPlan[0].dueAt = .init(date: placed.addingTimeInterval(7 * day))
                try append("OrderApproved", Forge_Orders_V1_OrderApproved.with { $0.order = order }, at: placed)
                order.status = .released
                try append("OrderReleased", Forge_Orders_V1_OrderReleased.with { $0.order = order }, at: placed)
                let delivered = placed.addingTimeInterval(Double(30 + index % 30) * day)
                order.status = .delivered
                order.deliveredAt = .init(date: delivered)
                order.lines[0].production = .with { $0.status = .delivered; $0.deliveredAt = .init(date: delivered) }
                order.lines[0].deliveredOnTime = index % 30 < 16
                order.paymentPlan[1].invoicedAt = .init(date: delivered)
                order.paymentPlan[1].dueAt = .init(date: delivered.addingTimeInterval(30 * day))
                try append("OrderDelivered", Forge_Orders_V1_OrderDelivered.with { $0.order = order; $0.deliveredAt = .init(date: delivered) }, at: delivered)
                order.paymentPlan[0].paid = order.paymentPlan[0].amount
                order.paymentPlan[0].paidAt = .init(date: placed.addingTimeInterval(5 * day))
                try append("PaymentRecorded", Forge_Orders_V1_PaymentRecorded.with { $0.order = order }, at: placed.addingTimeInterval(5 * day))
                if index % 200_000 == 199_999 { print(String(format: "seed: %d orders in %.0f s", index + 1, (ContinuousClock.now - started).seconds)) }
            }
        }
        print(String(format: "seed: %d orders (%d events) in orders' outbox in %.1f s", orders, orders * 5, (ContinuousClock.now - started).seconds))
    }

    static func accountID(_ index: Int) -> String { String(format: "acc_bench_%06d", index) }

    // MARK: Measuring

    func heads() async throws -> (accounts: Int64, orders: Int64) {
        (try await DatabaseQueue(path: "\(data)/accounts.sqlite").read { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM outbox") ?? 0 },
         try await DatabaseQueue(path: "\(data)/orders.sqlite").read { db in try Int64.fetchOne(db, sql: "SELECT max(seq) FROM outbox") ?? 0 })
    }

    func measure(_ stack: ServiceStack, issuer: TokenIssuer) async throws {
        let parts = Set(only.split(separator: ",").map(String.init))
        let (accountsHead, ordersHead) = try await heads()
        print("feeds: accounts \(accountsHead) events, orders \(ordersHead) events; durability FULL for every measurement")
        let analyticsPath = "\(data)/analytics.sqlite"
        let replay = parts.contains("replay") || !FileManager.default.fileExists(atPath: analyticsPath)
        if replay {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: analyticsPath + suffix) }
        }
        let started = ContinuousClock.now
        let analytics = try ServiceStack(binaries: binaries, data: data, portBase: portBase, durability: "full", services: ["analytics"])
        defer { analytics.stop() }
        try await analytics.waitUntilServing()
        if replay {
            var last = (seconds: 0.0, applied: Int64(0))
            while true {
                let cursors = try await DatabaseQueue(path: analyticsPath).read { db in
                    try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT upstream, last_seq FROM consumer_cursors").map { ($0[0] as String, $0[1] as Int64) })
                }
                let applied = (cursors["accounts"] ?? 0) + (cursors["orders"] ?? 0)
                let seconds = (ContinuousClock.now - started).seconds
                if seconds - last.seconds >= 30 {
                    print(String(format: "replay: %d of %d events after %.0f s (%.0f events/s lately)", applied, accountsHead + ordersHead, seconds,
                                 Double(applied - last.applied) / (seconds - last.seconds)))
                    last = (seconds, applied)
                }
                if applied >= accountsHead + ordersHead { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let seconds = (ContinuousClock.now - started).seconds
            let bytes = (try? FileManager.default.attributesOfItem(atPath: analyticsPath)[.size] as? Int) ?? 0
            print(String(format: "replay: %d events (accounts and orders feeds) into an empty read model in %.1f s = %.0f events/s; analytics.sqlite %.2f GB",
                         accountsHead + ordersHead, seconds, Double(accountsHead + ordersHead) / seconds, Double(bytes) / 1e9))
        }
        let token = try await issuer.issue(subject: "bench-admin", roles: [Role.admin], ttl: 86_400)
        let client = Forge_Analytics_V1_AnalyticsClient(channel: try WireClient(host: "127.0.0.1", port: analytics.port("analytics"),
                                                                               interceptors: [BearerTokenInterceptor(token: token)]))
        let loadStarted = ContinuousClock.now
        let all = try await client.getKpis(.init(), options: CallOptions(timeout: .seconds(600)))
        print(String(format: "first GetKpis after start (loads the facts into memory): %.2f s; %@ orders in the period",
                     (ContinuousClock.now - loadStarted).seconds, String(Int(all.kpis.first { $0.key == "orders" }?.value ?? 0))))
        if parts.contains("kpis") {
            let single = LoadShape(connections: 1, concurrency: 1, duration: duration / 4, warmup: 1, payloadBytes: 0)
            for key in ["revenue", "retention", "repeat_purchase_rate", "nps", "win_rate", "on_time_delivery", "dso", "hhi", "stale_share"] {
                let result = await drive(single) { _ in _ = try await client.getKpis(.with { $0.keys = [key] }) }
                print(result.line(name: "C=1") + "   GetKpis \(key) (100,000 accounts, 1,000,000 orders)")
            }
            let byRegion = await drive(single) { _ in _ = try await client.getKpis(.with { $0.keys = ["revenue"]; $0.filter.region = "华东" }) }
            print(byRegion.line(name: "C=1") + "   GetKpis revenue, region 华东")
            let every = await drive(LoadShape(connections: 1, concurrency: 1, duration: duration, warmup: 1, payloadBytes: 0)) { _ in _ = try await client.getKpis(.init()) }
            print(every.line(name: "C=1") + "   GetKpis, all 28 KPIs")
        }
        if parts.contains("dashboard") {
            // The gateway follows the feeds too (webhooks): started now, measured once it has caught up.
            let gateway = try ServiceStack(binaries: binaries, data: data, portBase: portBase, durability: "full", services: ["gateway"],
                                           environment: ["FORGE_GATEWAY_HTTP_PORT": "\(portBase + 1000)", "FORGE_GATEWAY_RATE_LIMIT": "1000000"])
            defer { gateway.stop() }
            try await gateway.waitUntilServing()
            let caughtUp = ContinuousClock.now
            while try await DatabaseQueue(path: "\(data)/gateway.sqlite").read({ db in
                try Int64.fetchOne(db, sql: "SELECT COALESCE(sum(last_seq), 0) FROM consumer_cursors WHERE upstream IN ('accounts', 'orders')") ?? 0
            }) < accountsHead + ordersHead {
                try await Task.sleep(for: .seconds(1))
            }
            print(String(format: "the gateway followed the feeds in %.0f s", (ContinuousClock.now - caughtUp).seconds))
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = http.shutdown() }
            let dashboard = await drive(LoadShape(connections: 1, concurrency: 1, duration: duration, warmup: 1, payloadBytes: 0)) { _ in
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(portBase + 1000)/analytics")
                request.headers.add(name: "Cookie", value: "forge_session=\(token)")
                let response = try await http.execute(request, timeout: .seconds(60))
                guard response.status == .ok else { throw ValidationError("dashboard: \(response.status)") }
                _ = try await response.body.collect(upTo: 8 << 20)
            }
            print(dashboard.line(name: "C=1") + "   the dashboard page /analytics (gateway → GetKpis with charts), server and client on the same 2 cores")
        }
    }
}
