import ArgumentParser
import BenchCore
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import Synchronization

/// Orders at the size of issue 13 — 1,000,000 orders with 3,000,000 lines on the accounts of an
/// AccountsBench data set — measured against the real forge-accounts and forge-orders processes
/// and their database files: ERP status ingest in batches of 500 (durable, each report's event
/// id checked) next to a raw SQLite batched insert of the same rows in the same run, a single
/// report's latency, and an account's open orders. The orders are seeded through ImportOrders
/// (as a company's ERP history arrives) once and kept in `--data`.
@main
struct OrdersBench: AsyncParsableCommand {
    @Option(help: "Directory of the release executables.")
    var binaries = "../.build/release"

    @Option(help: "An AccountsBench data set (its accounts.sqlite and keys are copied); without one, --accounts are imported.")
    var accountsData = "/var/tmp/forge-accounts-bench"

    @Option(help: "Accounts to import when there is no AccountsBench data set.")
    var accounts = 20_000

    @Option(help: "Where the seeded data set lives between runs.")
    var data = "/var/tmp/forge-orders-bench"

    @Option(help: "Orders to seed (three lines each).")
    var orders = 1_000_000

    @Option(help: "Seconds per measurement.")
    var duration = 10.0

    @Option(help: "First wire port; admin ports are +100.")
    var portBase = 7_960

    @Flag(help: "Throw the orders' data away and seed it again.")
    var reseed = false

    @Flag(help: "Measure on the seeded files themselves (each run's reports stay in them) instead of a fresh copy.")
    var inPlace = false

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores shared by accounts, orders and this load generator")
        let marker = "\(data)/seeded-\(orders)"
        let seeding = reseed || !FileManager.default.fileExists(atPath: marker)
        if seeding {
            try? FileManager.default.removeItem(atPath: data)
            try FileManager.default.createDirectory(atPath: "\(data)/keys", withIntermediateDirectories: true)
            for file in ["accounts.sqlite", "accounts.sqlite-wal", "keys/jwt-ed25519.key", "keys/jwt-ed25519.pub"]
            where FileManager.default.fileExists(atPath: "\(accountsData)/\(file)") {
                try FileManager.default.copyItem(atPath: "\(accountsData)/\(file)", toPath: "\(data)/\(file)")
            }
            if !FileManager.default.fileExists(atPath: "\(data)/keys/jwt-ed25519.key") {
                let (privateKey, _) = try SigningKeys.generate()
                try SigningKeys.write(privateKey: privateKey, to: "\(data)/keys")
            }
        }
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(data)/keys/jwt-ed25519.key"))
        try await issuer.issue(subject: "forge-stack", roles: [Role.service], ttl: 86_400)
            .write(toFile: ServiceToken.path(dataDirectory: data), atomically: true, encoding: .utf8)
        if seeding {
            let stack = try ServiceStack(binaries: binaries, data: data, portBase: portBase, durability: "normal", services: ["accounts", "orders"])
            try await stack.waitUntilServing()
            try await seed(stack, issuer: issuer)
            _ = FileManager.default.createFile(atPath: marker, contents: nil)
            stack.stop()
        }
        // Every run adds 40,000 reports to the history (and moves lines on).
        let measured = try SeededDataSet.measuredCopy(of: data, inPlace: inPlace)
        let stack = try ServiceStack(binaries: binaries, data: measured, portBase: portBase, durability: "full", services: ["accounts", "orders"])
        defer { stack.stop() }
        try await stack.waitUntilServing()
        try await measure(stack, issuer: issuer, data: measured)
    }

    func client(_ stack: ServiceStack, issuer: TokenIssuer, subject: String, roles: [String], team: String? = nil, connections: Int = 4) async throws -> Forge_Orders_V1_OrdersClient {
        Forge_Orders_V1_OrdersClient(channel: try await stack.channel("orders", issuer: issuer, subject: subject, roles: roles, team: team, connections: connections))
    }


    // MARK: Seeding

    func seed(_ stack: ServiceStack, issuer: TokenIssuer) async throws {
        if try await DatabaseQueue(path: "\(data)/accounts.sqlite").read({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM account") ?? 0 }) == 0 {
            try await importAccounts(stack, issuer: issuer)
        }
        let accounts = try await DatabaseQueue(path: "\(data)/accounts.sqlite").read { db in
            try String.fetchAll(db, sql: "SELECT id FROM account ORDER BY id")
        }
        let started = ContinuousClock.now
        while try await DatabaseQueue(path: "\(data)/orders.sqlite").read({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM account_directory") ?? 0 }) < accounts.count {
            try await Task.sleep(for: .seconds(1))
        }
        print(String(format: "seed: orders followed the accounts feed (%d accounts) in %.1f s", accounts.count, (ContinuousClock.now - started).seconds))

        let connector = try await client(stack, issuer: issuer, subject: "erp-bridge", roles: [Role.erpConnector])
        try await OrdersDataSet.seed(connector: connector, accounts: accounts, orders: orders)
    }

    /// Accounts through ImportAccounts, 2,000 a call, in four regions and teams.
    func importAccounts(_ stack: ServiceStack, issuer: TokenIssuer) async throws {
        let token = try await issuer.issue(subject: "bench-admin", roles: [Role.admin], ttl: 86_400)
        let client = Forge_Accounts_V1_AccountsClient(channel: try WireClient(host: "127.0.0.1", port: stack.port("accounts"),
                                                                               interceptors: [BearerTokenInterceptor(token: token)]))
        let started = ContinuousClock.now
        for start in stride(from: 0, to: accounts, by: 2_000) {
            _ = try await client.importAccounts(.with {
                $0.importID = "bench-accounts"
                $0.header = ["name", "region", "owner_id", "team", "credit_limit"]
                $0.rows = (start..<min(start + 2_000, accounts)).map { index in
                    .with {
                        $0.line = Int32(index + 2)
                        $0.values = ["订单压测客户\(index)号机械有限公司", ["华东", "华南", "华北", "西南"][index % 4], String(format: "rep-%03d", index % 200),
                                     String(format: "team-%02d", index % 20), "\(100 + index % 900)万"]
                    }
                }
            }, options: CallOptions(timeout: .seconds(300)))
        }
        print(String(format: "seed: %d accounts through ImportAccounts in %.1f s", accounts, (ContinuousClock.now - started).seconds))
    }

    // MARK: Measuring

    func measure(_ stack: ServiceStack, issuer: TokenIssuer, data: String) async throws {
        let sizes = ["accounts", "orders"].map { name in
            let bytes = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: "\(data)/\(name).sqlite\($0)")[.size] as? Int }.reduce(0, +)
            return String(format: "%@ %.2f GB", name, Double(bytes) / 1e9)
        }
        let (count, open, reports) = try await DatabaseQueue(path: "\(data)/orders.sqlite").read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM orders")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM orders WHERE status = 4")!,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM status_report")!)
        }
        print("data set: \(count) orders (\(count * 3) lines), \(open) released, \(reports) status reports so far; \(sizes.joined(separator: ", "))")
        print("durability FULL (synchronous=FULL, WAL) for every measurement")
        let connector = try await client(stack, issuer: issuer, subject: "erp-bridge", roles: [Role.erpConnector])
        let run = Int(Date().timeIntervalSince1970)
        let released = (0..<orders).filter { $0 % 5 == 0 }

        // 1. Ingest: batches of 500 reports on distinct released orders, each a new event id.
        let batches = 40
        let statuses: [Forge_Orders_V1_ProductionStatus] = [.scheduled, .materialReady, .inProduction, .qualityInspection]
        func batch(_ number: Int) -> [Forge_Orders_V1_StatusReport] {
            (0..<500).map { offset in
                let index = released[(number * 500 + offset) % released.count]
                return .with {
                    $0.eventID = "bench-\(run)-\(number)-\(offset)"
                    $0.source = "mes"
                    $0.erpOrderNumber = OrdersDataSet.erpNumber(index)
                    $0.lineNo = Int32(1 + offset % 3)
                    $0.status = statuses[number % statuses.count]
                    $0.sourceTime = .init(date: Date().addingTimeInterval(Double(number)))
                    $0.percent = Int32(number % 100)
                    $0.workCentre = "车间 \(offset % 8)"
                }
            }
        }
        let prepared = (0..<batches).map(batch)

        // The same rows inserted raw: one SQLite file, WAL, synchronous=FULL, 500 rows a
        // transaction — before and after the ingest, since its rate (40 fsyncs) varies from
        // one second to the next on this machine; the ingest is compared with their mean.
        func rawInsert() async throws -> Double {
            let raw = try await RawReference.open("\(data)/raw-insert.sqlite", schema: """
                CREATE TABLE status_report (event_id TEXT PRIMARY KEY, order_id TEXT NOT NULL, line_no INTEGER NOT NULL, received_at REAL NOT NULL,
                                            outcome INTEGER NOT NULL, payload BLOB NOT NULL)
                """)
            let started = ContinuousClock.now
            for reports in prepared {
                try await raw.write { db in
                    for report in reports {
                        try db.execute(sql: "INSERT INTO status_report (event_id, order_id, line_no, received_at, outcome, payload) VALUES (?, ?, ?, ?, ?, ?)",
                                       arguments: [report.eventID, report.erpOrderNumber, report.lineNo, Date().timeIntervalSince1970, 1, try report.serializedData()])
                    }
                }
            }
            return Double(batches * 500) / (ContinuousClock.now - started).seconds
        }
        let rawBefore = try await rawInsert()
        let started = ContinuousClock.now
        var applied = 0
        for reports in prepared {
            let results = try await connector.reportProductionStatuses(.with { $0.reports = reports }, options: CallOptions(timeout: .seconds(60))).results
            applied += results.filter { $0.outcome == .applied }.count
        }
        let ingestSeconds = (ContinuousClock.now - started).seconds
        let ingestRate = Double(batches * 500) / ingestSeconds
        let rawAfter = try await rawInsert()
        print(String(format: "ingest: %d reports in %d batches of 500 through ReportProductionStatuses in %.2f s = %.0f reports/s (%d applied)",
                     batches * 500, batches, ingestSeconds, ingestRate, applied))
        print(String(format: "raw:    the same %d rows inserted into SQLite directly (WAL, FULL, 500 a transaction): %.0f rows/s before, %.0f after; ingest = %.0f %% of their mean",
                     batches * 500, rawBefore, rawAfter, ingestRate / ((rawBefore + rawAfter) / 2) * 100))

        // The same ingest with two batches in flight, on the next 20,000 orders: a connector
        // that sends its next batch before the answer to the last. The client's encoding, the
        // network and each commit's log sync then no longer wait in line with the writer.
        let pipelined = (batches..<(2 * batches)).map(batch)
        let pipelinedStarted = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<2 {
                group.addTask {
                    for number in stride(from: lane, to: pipelined.count, by: 2) {
                        _ = try await connector.reportProductionStatuses(.with { $0.reports = pipelined[number] }, options: CallOptions(timeout: .seconds(60)))
                    }
                }
            }
            try await group.waitForAll()
        }
        let pipelinedRate = Double(batches * 500) / (ContinuousClock.now - pipelinedStarted).seconds
        print(String(format: "ingest: the next %d reports with two batches in flight = %.0f reports/s = %.0f %% of the raw mean",
                     batches * 500, pipelinedRate, pipelinedRate / ((rawBefore + rawAfter) / 2) * 100))

        // The latencies below are the day's calls after the night's ingest, not calls racing a
        // checkpoint of it: wait until the log the ingest wrote is copied into the database (in
        // the runs of 2026-12-06 the service's own checkpointer had always finished by then).
        let settled = ContinuousClock.now
        let logged = try await DatabaseQueue(path: "\(data)/orders.sqlite").writeWithoutTransaction { db -> Int in
            var remaining = Int.max
            while remaining > 0, ContinuousClock.now - settled < .seconds(120) {
                let row = try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(PASSIVE)")!
                remaining = (row[1] as Int) - (row[2] as Int)
                if remaining > 0 { Thread.sleep(forTimeInterval: 0.25) }
            }
            return remaining
        }
        print(String(format: "settle: the log copied into the database in %.1f s (%d frames left)", (ContinuousClock.now - settled).seconds, logged))

        // 2. One report at a time (C=1), each a new event on a released order.
        let counter = Counter()
        let single = LoadShape(connections: 1, concurrency: 1, duration: duration, warmup: 2, payloadBytes: 0)
        print((await drive(single) { _ in
            let n = counter.value.wrappingAdd(1, ordering: .relaxed).oldValue
            let index = released[(n * 37) % released.count]
            _ = try await connector.reportProductionStatus(.with {
                $0.report = .with {
                    $0.eventID = "single-\(run)-\(n)"
                    $0.source = "mes"
                    $0.erpOrderNumber = OrdersDataSet.erpNumber(index)
                    $0.status = .inProduction
                    $0.sourceTime = .init(date: Date())
                    $0.percent = Int32(n % 100)
                }
            })
        }).line(name: "C=1") + "   ReportProductionStatus: one report, idempotency checked, applied to its order")

        // 3. An account's open orders (a rep of the owning team would be scoped; finance sees all).
        let (accounts, openPerAccount) = try await DatabaseQueue(path: "\(data)/orders.sqlite").read { db in
            (try String.fetchAll(db, sql: "SELECT DISTINCT account_id FROM orders WHERE status = 4 LIMIT 5000"),
             try Double.fetchOne(db, sql: "SELECT count(*) * 1.0 / count(DISTINCT account_id) FROM orders WHERE status IN (1, 2, 3, 4)") ?? 0)
        }
        let finance = try await client(stack, issuer: issuer, subject: "fin", roles: [Role.finance], connections: 1)
        let reader = Counter()
        print((await drive(single) { _ in
            let account = accounts[reader.value.wrappingAdd(1, ordering: .relaxed).oldValue % accounts.count]
            _ = try await finance.listOrders(.with {
                $0.accountID = account
                $0.statuses = [.draft, .creditHold, .approved, .released]
            })
        }).line(name: "C=1") + "   ListOrders: an account's open orders (\(String(format: "%.1f", openPerAccount)) per account with any)")
        print((await drive(single) { _ in
            let account = accounts[reader.value.wrappingAdd(1, ordering: .relaxed).oldValue % accounts.count]
            _ = try await finance.getAccountOrders(.with { $0.accountID = account })
        }).line(name: "C=1") + "   GetAccountOrders: the 360° section (open orders, 12 months, on-time, ageing)")
    }
}
