import ArgumentParser
import AsyncHTTPClient
import BenchCore
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import Synchronization

/// The pipeline at the size of issue 12 — 100,000 accounts (an AccountsBench data set, copied),
/// 300,000 leads, 100,000 opportunities — measured against the real forge-accounts,
/// forge-pipeline and forge-gateway processes and their database files: lead capture with
/// de-duplication and assignment through the wire, the forecast of a team, the board page.
/// The pipeline's data is seeded through its own RPCs (ImportLeads, CreateOpportunity,
/// AdvanceStage) once and kept in `--data`.
@main
struct PipelineBench: AsyncParsableCommand {
    @Option(help: "Directory of the release executables.")
    var binaries = "../.build/release"

    @Option(help: "An AccountsBench data set (its accounts.sqlite and keys are copied).")
    var accountsData = "/var/tmp/forge-accounts-bench"

    @Option(help: "Where the seeded data set lives between runs.")
    var data = "/var/tmp/forge-pipeline-bench"

    @Option(help: "Leads to seed.")
    var leads = 300_000

    @Option(help: "Opportunities to seed.")
    var opportunities = 100_000

    @Option(help: "Seconds per measurement.")
    var duration = 10.0

    @Option(help: "First wire port; admin ports are +100, the gateway's HTTP port +1000.")
    var portBase = 7_860

    @Option(help: "Which measurements: capture, forecast, board (comma-separated).")
    var only = "capture,forecast,board"

    @Flag(help: "Throw the pipeline's data away and seed it again.")
    var reseed = false

    @Flag(help: "Measure on the seeded files themselves (each run's captures stay in them) instead of a fresh copy.")
    var inPlace = false

    static let teams = (0..<20).map { String(format: "team-%02d", $0) }
    static let productLines = ["加工中心", "数控车床", "激光切割"]
    static let regions = ["华东", "华南", "华北", "华中", "西南", "西北", "东北"]

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores shared by accounts, pipeline, gateway and this load generator")
        let marker = "\(data)/seeded-\(leads)-\(opportunities)"
        let seeding = reseed || !FileManager.default.fileExists(atPath: marker)
        if seeding {
            try? FileManager.default.removeItem(atPath: data)
            try FileManager.default.createDirectory(atPath: "\(data)/keys", withIntermediateDirectories: true)
            for file in ["accounts.sqlite", "accounts.sqlite-wal", "keys/jwt-ed25519.key", "keys/jwt-ed25519.pub"]
            where FileManager.default.fileExists(atPath: "\(accountsData)/\(file)") {
                try FileManager.default.copyItem(atPath: "\(accountsData)/\(file)", toPath: "\(data)/\(file)")
            }
        }
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(data)/keys/jwt-ed25519.key"))
        try await issuer.issue(subject: "forge-stack", roles: [Role.service], ttl: 86_400)
            .write(toFile: ServiceToken.path(dataDirectory: data), atomically: true, encoding: .utf8)
        if seeding {
            let stack = try stack(durability: "normal", data: data)
            defer { stack.stop() }
            try await stack.waitUntilServing()
            try await seed(stack, issuer: issuer)
            _ = FileManager.default.createFile(atPath: marker, contents: nil)
        }
        // Every capture adds a lead.
        let measured = try SeededDataSet.measuredCopy(of: data, inPlace: inPlace)
        let stack = try stack(durability: "full", data: measured)
        defer { stack.stop() }
        try await stack.waitUntilServing()
        try await measure(stack, issuer: issuer, data: measured)
    }

    /// forge-accounts, forge-pipeline and forge-gateway on their own ports and the data set.
    func stack(durability: String, data: String) throws -> ServiceStack {
        try ServiceStack(binaries: binaries, data: data, portBase: portBase, durability: durability, services: ["accounts", "pipeline", "gateway"], environment: [
            "FORGE_GATEWAY_HTTP_PORT": "\(portBase + 1000)", "FORGE_GATEWAY_RATE_LIMIT": "1000000", "FORGE_ADMIN_PASSWORD": "bench-admin-password",
        ])
    }

    func client(_ stack: ServiceStack, issuer: TokenIssuer, subject: String, roles: [String], team: String? = nil) async throws -> Forge_Pipeline_V1_PipelineClient {
        Forge_Pipeline_V1_PipelineClient(channel: try await stack.channel("pipeline", issuer: issuer, subject: subject, roles: roles, team: team))
    }

    // MARK: Seeding

    func seed(_ stack: ServiceStack, issuer: TokenIssuer) async throws {
        let accounts = try await DatabaseQueue(path: "\(data)/accounts.sqlite").read { db in
            try Row.fetchAll(db, sql: "SELECT id, team FROM account ORDER BY id").map { ($0["id"] as String, $0["team"] as String) }
        }
        // The pipeline's copy of the accounts comes from their event feed.
        var started = ContinuousClock.now
        let pipelineDatabase = "\(data)/pipeline.sqlite"
        while try await DatabaseQueue(path: pipelineDatabase).read({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM account_directory") ?? 0 }) < accounts.count {
            try await Task.sleep(for: .seconds(1))
        }
        print(String(format: "seed: pipeline followed the accounts feed (%d accounts and their contacts) in %.1f s", accounts.count, (ContinuousClock.now - started).seconds))

        let admin = try await client(stack, issuer: issuer, subject: "bench-admin", roles: [Role.admin])
        var settings = try await admin.getPipelineSettings(.init()).settings
        settings.teams = Self.teams.enumerated().map { index, team in
            .with {
                $0.name = team
                $0.managerID = String(format: "mgr-%02d", index)
                $0.members = (0..<10).map { rep in .with { $0.userID = String(format: "rep-%03d", rep * 20 + index) } }
            }
        }
        settings.rules = Self.regions.enumerated().flatMap { regionIndex, region in
            Self.productLines.enumerated().map { lineIndex, line in
                .with { $0.region = region; $0.productLine = line; $0.team = Self.teams[(regionIndex * 3 + lineIndex) % 20] }
            }
        }
        settings.defaultTeam = Self.teams[0]
        _ = try await admin.updatePipelineSettings(.with { $0.settings = settings })

        started = ContinuousClock.now
        let marketing = try await client(stack, issuer: issuer, subject: "bench-marketing", roles: [Role.marketing])
        for start in stride(from: 0, to: leads, by: 2_000) {
            _ = try await marketing.importLeads(.with {
                $0.importID = "seed-leads"
                $0.header = ["公司名称", "联系人", "手机", "区域", "意向产品", "需求", "来源"]
                $0.rows = (start..<min(start + 2_000, leads)).map { index in
                    .with {
                        $0.line = Int32(index + 2)
                        $0.values = Self.leadRow(index)
                    }
                }
            }, options: CallOptions(timeout: .seconds(300)))
            if start % 50_000 == 0 { print("seed: \(start) leads") }
        }
        var seconds = (ContinuousClock.now - started).seconds
        print(String(format: "seed: %d leads through ImportLeads in %.1f s = %.0f rows/s", leads, seconds, Double(leads) / seconds))

        // Opportunities: each team's share created by one of its reps, 16 at a time; one in five lost.
        started = ContinuousClock.now
        var reps: [String: Forge_Pipeline_V1_PipelineClient] = [:]
        for (index, team) in Self.teams.enumerated() {
            reps[team] = try await client(stack, issuer: issuer, subject: String(format: "rep-%03d", index), roles: [Role.salesRep], team: team)
        }
        let clients = reps
        let now = Date()
        try await inParallel(workers: 16, total: opportunities) { range in
            let index = range.lowerBound
            let (accountID, team) = accounts[(index * 7) % accounts.count]
            guard let rep = clients[team] else { return }
            let opportunity = try await rep.createOpportunity(.with {
                $0.opportunity = .with {
                    $0.accountID = accountID
                    $0.name = "商机 \(index)"
                    $0.amount = .with { $0.amountMicros = Int64(100_000 + (index * 7919) % 2_000_000) * 1_000_000 }
                    $0.expectedClose = .init(date: now.addingTimeInterval(Double(index % 365) * 86_400))
                    $0.productLines = [Self.productLines[index % 3]]
                    $0.forecastCategory = [.pipeline, .bestCase, .commit][index % 3]
                }
            }, options: CallOptions(timeout: .seconds(60))).opportunity
            if index % 5 == 0 {
                _ = try await rep.advanceStage(.with { $0.id = opportunity.id; $0.stage = .lost; $0.lostReason = .price },
                                               options: CallOptions(timeout: .seconds(60)))
            }
            if index % 20_000 == 0, index > 0 { print("seed: \(index) opportunities") }
        }
        seconds = (ContinuousClock.now - started).seconds
        print(String(format: "seed: %d opportunities through CreateOpportunity (C=16, each reading its account from forge-accounts) in %.1f s = %.0f/s",
                     opportunities, seconds, Double(opportunities) / seconds))
    }

    static func leadRow(_ index: Int) -> [String] {
        ["线索客户\(index)号精工制造厂", "联系人\(index % 1000)", "17\(String(format: "%09d", index))", regions[index % regions.count],
         productLines[index % 3], index % 4 == 0 ? "需要报价，今年有预算" : "了解产品", ["展会", "网站", "渠道", "转介绍"][index % 4]]
    }

    // MARK: Measuring

    func measure(_ stack: ServiceStack, issuer: TokenIssuer, data: String) async throws {
        let sizes = ["accounts", "pipeline"].map { name in
            let bytes = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: "\(data)/\(name).sqlite\($0)")[.size] as? Int }.reduce(0, +)
            return String(format: "%@ %.2f GB", name, Double(bytes) / 1e9)
        }
        let counts = try await DatabaseQueue(path: "\(data)/pipeline.sqlite").read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM lead")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM opportunity")!,
             try Int.fetchOne(db, sql: "SELECT count(*) FROM account_directory")!)
        }
        print("data set: \(counts.2) accounts known to pipeline, \(counts.0) leads, \(counts.1) opportunities; \(sizes.joined(separator: ", "))")
        print("each line: K=4 connections, C calls in flight, \(duration) s after 2 s warm-up, FULL durability")

        let measuring = Set(only.split(separator: ",").map { String($0) })
        let marketing = try await client(stack, issuer: issuer, subject: "bench-marketing", roles: [Role.marketing])
        let run = Int(Date().timeIntervalSince1970)
        let counter = Counter()
        for concurrency in [1, 16] where measuring.contains("capture") {
            let load = LoadShape(connections: 4, concurrency: concurrency, duration: duration, warmup: 2, payloadBytes: 0)
            print((await drive(load) { _ in
                let index = counter.value.wrappingAdd(1, ordering: .relaxed).oldValue
                _ = try await marketing.captureLead(.with {
                    $0.lead = .with {
                        $0.companyName = "新询盘\(run)批\(index)号机械厂"
                        $0.contactName = "测工"
                        $0.phone = "15\(String(format: "%09d", (run % 1000) * 1_000_000 + index))"
                        $0.region = Self.regions[index % 7]
                        $0.productLine = Self.productLines[index % 3]
                        $0.need = "需要报价"
                        $0.source = .webInquiry
                    }
                })
            }).line(name: "C=\(concurrency)") + "   CaptureLead: a new lead, de-duplicated against 100,000 accounts and the open leads, scored and assigned")
        }

        let manager = try await client(stack, issuer: issuer, subject: "mgr-03", roles: [Role.salesManager], team: "team-03")
        let single = LoadShape(connections: 1, concurrency: 1, duration: duration, warmup: 2, payloadBytes: 0)
        if measuring.contains("forecast") {
            print((await drive(single) { _ in
                _ = try await manager.getForecast(.with { $0.by = .owner; $0.team = "team-03" })
            }).line(name: "C=1") + "   GetForecast: team-03 by owner, 6 months (a manager; ~5,000 open opportunities in the team)")
            print((await drive(single) { _ in
                _ = try await admin(stack, issuer).getForecast(.with { $0.by = .team })
            }).line(name: "C=1") + "   GetForecast: the whole company by team, 6 months (admin)")
        }
        guard measuring.contains("board") else { return }

        let token = try await issuer.issue(subject: "rep-003", roles: [Role.salesRep], team: "team-03", ttl: 86_400)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let url = "http://127.0.0.1:\(stack.portBase + 1000)/pipeline"
        print((await drive(single) { _ in
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "Cookie", value: "forge_session=\(token)")
            let response = try await http.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 16 << 20)
            guard response.status == .ok, body.readableBytes > 10_000 else { throw ValidationError("board: HTTP \(response.status)") }
        }).line(name: "C=1") + "   GET /pipeline: the board of a rep of team-03 (per stage the 25 closing soonest; counts and totals over all ~5,000 of the team)")
        try await http.shutdown()
    }

    func admin(_ stack: ServiceStack, _ issuer: TokenIssuer) async throws -> Forge_Pipeline_V1_PipelineClient {
        try await client(stack, issuer: issuer, subject: "bench-admin", roles: [Role.admin])
    }
}
