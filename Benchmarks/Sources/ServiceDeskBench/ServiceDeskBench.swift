import ArgumentParser
import AsyncHTTPClient
import BenchCore
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import SwiftProtobuf
import Synchronization

/// The service desk at the size of issue 15 — 50,000 machines and 200,000 tickets (20,000 of
/// them open) on 20,000 accounts — measured against the real forge-accounts, forge-servicedesk
/// and forge-gateway processes and their database files: telemetry ingest in batches of 1,000
/// points (durable, the models' threshold and trend rules evaluated over full 24-hour windows)
/// next to a raw SQLite batched insert of the same points in the same run; the pass that
/// re-evaluates every open ticket's SLA (UpdateServiceSettings: due times, queue rank, watch
/// job); the ticket queue page through the gateway. Seeded once through the import RPCs and
/// OpenTicket, kept in `--data`.
@main
struct ServiceDeskBench: AsyncParsableCommand {
    @Option(help: "Directory of the release executables.")
    var binaries = "../.build/release"

    @Option(help: "Where the seeded data set lives between runs.")
    var data = "/var/tmp/forge-servicedesk-bench"

    @Option(help: "Accounts to import.")
    var accounts = 20_000

    @Option(help: "Machines in the installed base.")
    var machines = 50_000

    @Option(help: "Tickets in all (the open ones included).")
    var tickets = 200_000

    @Option(help: "Open tickets.")
    var open = 20_000

    @Option(help: "Machines reporting telemetry.")
    var reporting = 500

    @Option(help: "Seconds per latency measurement.")
    var duration = 10.0

    @Option(help: "First wire port; admin ports are +100, the gateway's HTTP +1000.")
    var portBase = 7_860

    @Option(help: "Rounds of telemetry ingest, each next to a raw insert of the same points.")
    var rounds = 5

    @Flag(help: "Measure the telemetry ingest only (for profiling it).")
    var telemetryOnly = false

    @Flag(help: "Throw the data away and seed it again.")
    var reseed = false


    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores shared by accounts, servicedesk, gateway and this load generator")
        try await SeededDataSet.run(binaries: binaries, data: data, marker: "seeded-\(machines)-\(tickets)", reseed: reseed, portBase: portBase,
                                    seeding: ["accounts", "servicedesk"], measuring: ["accounts", "servicedesk", "gateway"],
                                    seed: seed, measure: measure)
    }

    func desk(_ stack: ServiceStack, issuer: TokenIssuer, subject: String, roles: [String], connections: Int = 4) async throws -> Forge_Servicedesk_V1_ServiceDeskClient {
        Forge_Servicedesk_V1_ServiceDeskClient(channel: try await stack.channel("servicedesk", issuer: issuer, subject: subject, roles: roles, connections: connections))
    }

    // MARK: Seeding

    func seed(_ stack: ServiceStack, issuer: TokenIssuer) async throws {
        let admin = try await issuer.issue(subject: "bench-admin", roles: [Role.admin], ttl: 86_400)
        let accountsClient = Forge_Accounts_V1_AccountsClient(channel: try WireClient(host: "127.0.0.1", port: stack.port("accounts"),
                                                                                       interceptors: [BearerTokenInterceptor(token: admin)]))
        let started = ContinuousClock.now
        for start in stride(from: 0, to: accounts, by: 2_000) {
            _ = try await accountsClient.importAccounts(.with {
                $0.importID = "bench-accounts"
                $0.header = ["name", "region", "owner_id", "team"]
                $0.rows = (start..<min(start + 2_000, accounts)).map { index in
                    .with {
                        $0.line = Int32(index + 2)
                        $0.values = ["服务压测客户\(index)号机械有限公司", ServiceDeskDataSet.regions[index % 4], String(format: "rep-%03d", index % 200), String(format: "team-%02d", index % 20)]
                    }
                }
            }, options: CallOptions(timeout: .seconds(300)))
        }
        let ids = try await DatabaseQueue(path: "\(data)/accounts.sqlite").read { db in try String.fetchAll(db, sql: "SELECT id FROM account ORDER BY id") }
        while try await DatabaseQueue(path: "\(data)/servicedesk.sqlite").read({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM account_directory") ?? 0 }) < ids.count {
            try await Task.sleep(for: .seconds(1))
        }
        print(String(format: "seed: %d accounts imported and followed by the service desk in %.1f s", ids.count, (ContinuousClock.now - started).seconds))

        let manager = try await desk(stack, issuer: issuer, subject: "svc-mgr", roles: [Role.serviceManager])
        try await ServiceDeskDataSet.seed(manager: manager, accounts: ids, machines: machines, tickets: tickets, open: open)
    }

    // MARK: Measuring

    func measure(_ stack: ServiceStack, issuer: TokenIssuer) async throws {
        let bytes = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: "\(data)/servicedesk.sqlite\($0)")[.size] as? Int }.reduce(0, +)
        let (machineCount, ticketCount, openCount) = try await DatabaseQueue(path: "\(data)/servicedesk.sqlite").read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM equipment")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM ticket")!,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM ticket WHERE state IN (1, 2, 3)")!)
        }
        print(String(format: "data set: %d machines, %d tickets (%d open); servicedesk.sqlite %.2f GB", machineCount, ticketCount, openCount, Double(bytes) / 1e9))
        print("durability FULL (synchronous=FULL, WAL) for every measurement")
        let manager = try await desk(stack, issuer: issuer, subject: "svc-mgr", roles: [Role.serviceManager])
        for model in ServiceDeskDataSet.models {
            _ = try await manager.upsertTelemetryRule(.with {
                $0.rule = .with {
                    $0.id = "bench-\(model)-bearing"; $0.model = model; $0.metric = "vibration"; $0.name = "主轴轴承磨损"; $0.kind = .trend
                    $0.limit = 7.1; $0.windowHours = 24; $0.horizonDays = 14; $0.active = true
                }
            })
            _ = try await manager.upsertTelemetryRule(.with {
                $0.rule = .with {
                    $0.id = "bench-\(model)-overheat"; $0.model = model; $0.metric = "temperature"; $0.name = "主轴过热"; $0.kind = .threshold
                    $0.limit = 75; $0.forMinutes = 15; $0.active = true
                }
            })
        }
        let iot = try await desk(stack, issuer: issuer, subject: "iot", roles: [Role.erpConnector])

        // 1. Telemetry. Each batch: 50 machines × 10 minutes × vibration and temperature = 1,000
        // points; the trend rule refits its 24-hour window once per series and batch. The day
        // before is loaded first (not timed) so every window is full.
        let minute = 60.0
        // Each timed round is an hour of new minutes; the last ends now (a point more than an hour
        // ahead of the service's clock is refused).
        let start = (Date().timeIntervalSince1970 / 60).rounded(.down) * 60 - 24 * 3600 - Double(rounds) * 3600
        func batch(_ number: Int, from origin: Double) -> [Forge_Servicedesk_V1_TelemetryPoint] {
            let group = number % (reporting / 50)
            let window = number / (reporting / 50)
            var points: [Forge_Servicedesk_V1_TelemetryPoint] = []
            points.reserveCapacity(1_000)
            for machine in (group * 50)..<(group * 50 + 50) {
                for step in 0..<10 {
                    let t = origin + Double(window * 10 + step) * minute
                    let time = Google_Protobuf_Timestamp(seconds: Int64(t), nanos: 0)
                    let wobble = Double((machine * 31 + step * 17 + window) % 100) / 100 - 0.5
                    points.append(.with { $0.serialNumber = ServiceDeskDataSet.serial(machine); $0.metric = "vibration"; $0.time = time; $0.value = 2.5 + wobble })
                    points.append(.with { $0.serialNumber = ServiceDeskDataSet.serial(machine); $0.metric = "temperature"; $0.time = time; $0.value = 50 + 10 * wobble })
                }
            }
            return points
        }
        let perDay = (reporting / 50) * 24 * 6
        var started = ContinuousClock.now
        for number in 0..<perDay {
            _ = try await iot.ingestTelemetry(.with { $0.points = batch(number, from: start) }, options: CallOptions(timeout: .seconds(60)))
        }
        print(String(format: "telemetry: the day before, %d points from %d machines, loaded in %.1f s", perDay * 1_000, reporting, (ContinuousClock.now - started).seconds))
        // Ingest and the raw insert alternate in rounds (each round new minutes of the same
        // machines), so that the machine's drift — it moves by ±15 % within minutes here —
        // touches both alike; the median round's ratio is the figure.
        let batches = 60
        // The same points inserted raw: (series, second, value) in a table without rowids, WAL,
        // synchronous=FULL, 1,000 a transaction.
        let raw = try await RawReference.open("\(data)/raw-insert.sqlite", schema: """
            CREATE TABLE telemetry_raw (series INTEGER NOT NULL, t INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (series, t)) WITHOUT ROWID
            """)
        // The day before goes in raw too (not timed): both tables then hold the same history,
        // and the raw rate does not fall from round to round as its table grows.
        func insertRaw(_ points: [Forge_Servicedesk_V1_TelemetryPoint]) async throws {
            try await raw.write { db in
                let statement = try db.cachedStatement(sql: "INSERT INTO telemetry_raw (series, t, value) VALUES (?, ?, ?)")
                for point in points {
                    let series = Int(point.serialNumber.suffix(6))! * 2 + (point.metric == "vibration" ? 0 : 1)
                    try statement.execute(arguments: [series, point.time.seconds, point.value])
                }
            }
        }
        for number in 0..<perDay { try await insertRaw(batch(number, from: start)) }
        var ratios: [Double] = []
        for round in 0..<rounds {
            let prepared = (0..<batches).map { batch(round * batches + $0, from: start + 24 * 3600) }
            started = ContinuousClock.now
            var accepted = 0
            for points in prepared {
                let response = try await iot.ingestTelemetry(.with { $0.points = points }, options: CallOptions(timeout: .seconds(60)))
                accepted += Int(response.accepted)
            }
            let ingestSeconds = (ContinuousClock.now - started).seconds
            started = ContinuousClock.now
            for points in prepared { try await insertRaw(points) }
            let rawSeconds = (ContinuousClock.now - started).seconds
            let ingestRate = Double(batches * 1_000) / ingestSeconds, rawRate = Double(batches * 1_000) / rawSeconds
            ratios.append(ingestRate / rawRate)
            print(String(format: "ingest: round %d: %d points in %d batches of 1,000 through IngestTelemetry, rules evaluated: %.0f points/s (%d accepted); raw insert (WAL, FULL, 1,000 a transaction): %.0f points/s; ingest = %.0f %% of raw",
                         round + 1, batches * 1_000, batches, ingestRate, accepted, rawRate, ingestRate / rawRate * 100))
        }
        print(String(format: "ingest: median of %d rounds = %.0f %% of raw (lowest %.0f %%, highest %.0f %%)",
                     rounds, ratios.sorted()[rounds / 2] * 100, ratios.min()! * 100, ratios.max()! * 100))
        guard !telemetryOnly else { return }

        // 2. Every open ticket's SLA again: due times, queue rank and watch job, in one
        // transaction. Each run moves the closing time by half an hour, so every open ticket's
        // due times, rank and watch really move (the same settings again would move nothing).
        var timings: [Double] = []
        for run in 0..<6 {
            var settings = try await manager.getServiceSettings(.init()).settings
            settings.calendar.opensAtMinute = 8 * 60 + 30
            settings.calendar.closesAtMinute = run % 2 == 0 ? 18 * 60 : 17 * 60 + 30
            started = ContinuousClock.now
            _ = try await manager.updateServiceSettings(.with { $0.settings = settings }, options: CallOptions(timeout: .seconds(120)))
            if run > 0 { timings.append((ContinuousClock.now - started).seconds) }  // the first may only set the opening time
        }
        print(String(format: "sla:    UpdateServiceSettings moves the closing time: the SLA of all %d open tickets re-evaluated (due times, rank, watch jobs): best %.0f ms, median %.0f ms of 5",
                     openCount, timings.min()! * 1000, timings.sorted()[2] * 1000))

        // 3. The ticket queue page (200 tickets, least SLA time left first) through the gateway.
        let token = try await issuer.issue(subject: "svc-mgr", roles: [Role.serviceManager], ttl: 86_400)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(connectionPool: .init(idleTimeout: .seconds(60))))
        let single = LoadShape(connections: 1, concurrency: 1, duration: duration, warmup: 2, payloadBytes: 0)
        for (path, what) in [("/tickets", "the queue page: 200 open tickets by SLA time left, all engineers' (a service manager)"),
                             ("/tickets?mine=1", "an engineer's own queue")] {
            let url = "http://127.0.0.1:\(portBase + 1000)\(path)"
            print((await drive(single) { _ in
                var request = HTTPClientRequest(url: url)
                request.headers.add(name: "Cookie", value: "forge_session=\(token)")
                let response = try await http.execute(request, timeout: .seconds(5))
                _ = try await response.body.collect(upTo: 1 << 24)
                guard response.status == .ok else { throw ValidationError("HTTP \(response.status)") }
            }).line(name: "C=1") + "   GET \(path): \(what)")
        }
        let engineer = try await desk(stack, issuer: issuer, subject: "eng-03", roles: [Role.serviceEngineer], connections: 1)
        print((await drive(single) { _ in
            _ = try await engineer.listTickets(.with { $0.page.pageSize = 200 })
        }).line(name: "C=1") + "   wire ListTickets as an engineer of one region (200)")
        try await http.shutdown()
    }
}
