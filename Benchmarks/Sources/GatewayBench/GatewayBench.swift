import ArgumentParser
import BenchCore
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import Logging
import NIOCore

/// GetCustomer360 through the real processes: all eight services started from the release
/// build, the view called over the wire and over HTTP at C=1, 16 and 64; then with one service
/// killed and one hung (SIGSTOP), which the view must survive within its 300 ms deadline.
///
/// On the accounts data set of AccountsBench (run that first), or with `--full` on the full data
/// sets of the service issues in one stack (issue 20): 100,000 accounts with 300,000 contacts and
/// 2,000,000 activities, 1,000,000 orders, 50,000 machines with 200,000 tickets, 500,000 NPS
/// answers — seeded once through the services' own RPCs into `--data`, while loyalty and
/// analytics follow the feeds as they would in production.
@main
struct GatewayBench: AsyncParsableCommand {
    @Option(help: "Directory of the release executables.")
    var binaries = "../.build/release"

    @Option(help: "The seeded data directory (AccountsBench's; with --full, where the full data set lives between runs).")
    var data: String?

    @Option(help: "Seconds per measurement.")
    var duration = 10.0

    @Option(help: "First wire port; admin ports are +100, the gateway's HTTP port +1000.")
    var portBase = 7_960

    @Flag(help: "Measure on the full data sets of every service in one stack (seeded on the first run).")
    var full = false

    @Flag(help: "With --full: throw the data away and seed it again.")
    var reseed = false

    @Option(help: "With --full: accounts (3 contacts each).")
    var accounts = 100_000

    @Option(help: "With --full: activities per account.")
    var activitiesPerAccount = 20

    @Option(help: "With --full: orders (three lines each).")
    var orders = 1_000_000

    @Option(help: "With --full: tickets (one in ten open) on machines (one per four tickets).")
    var tickets = 200_000

    @Option(help: "With --full: NPS answers.")
    var answers = 500_000

    static let services = ServiceConfiguration.defaultPorts.map(\.name)

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        if full {
            let data = self.data ?? "/var/tmp/forge-full-bench"
            try await SeededDataSet.run(binaries: binaries, data: data, marker: "seeded-\(accounts)-\(activitiesPerAccount)-\(orders)-\(tickets)-\(answers)",
                                        reseed: reseed, portBase: portBase, seeding: Self.services, measuring: Self.services,
                                        seed: { stack, issuer in try await seedFull(stack, issuer: issuer, data: data) },
                                        measure: { stack, issuer in try await measure(stack, issuer: issuer, data: data) })
        } else {
            // The services call each other (and follow accounts' feed) as role `service`, with
            // the token `forge up` would write.
            let data = self.data ?? "/var/tmp/forge-accounts-bench"
            let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(data)/keys/jwt-ed25519.key"))
            try await issuer.issue(subject: "forge-stack", roles: [Role.service], ttl: 86_400)
                .write(toFile: ServiceToken.path(dataDirectory: data), atomically: true, encoding: .utf8)
            let stack = try ServiceStack(binaries: binaries, data: data, portBase: portBase, durability: "full", services: Self.services,
                                         environment: SeededDataSet.environment(portBase: portBase))
            defer { stack.stop() }
            try await measure(stack, issuer: issuer, data: data)
        }
    }

    // MARK: Seeding the full data set

    func seedFull(_ stack: ServiceStack, issuer: TokenIssuer, data: String) async throws {
        let started = ContinuousClock.now
        let admin = Forge_Accounts_V1_AccountsClient(channel: try await stack.channel("accounts", issuer: issuer, subject: "seeder", roles: [Role.admin]))
        let ids = try await AccountsDataSet.seed(admin: admin, accounts: accounts, contactsPerAccount: 3, activitiesPerAccount: activitiesPerAccount)
        try ids.joined(separator: "\n").write(toFile: "\(data)/account-ids.txt", atomically: true, encoding: .utf8)
        // Orders, the service desk and feedback take an account once they have read it from
        // accounts' feed.
        for service in Self.services { try await waitUntilCaughtUp(port: stack.port(service), limit: .seconds(3_600)) }
        print(String(format: "seed: every service followed the accounts feed at %.0f s", (ContinuousClock.now - started).seconds))

        // The three domains at once (separate processes and files, as in production).
        let connector = Forge_Orders_V1_OrdersClient(channel: try await stack.channel("orders", issuer: issuer, subject: "erp-bridge", roles: [Role.erpConnector]))
        let manager = Forge_Servicedesk_V1_ServiceDeskClient(channel: try await stack.channel("servicedesk", issuer: issuer, subject: "svc-mgr", roles: [Role.serviceManager]))
        let marketing = Forge_Feedback_V1_FeedbackClient(channel: try await stack.channel("feedback", issuer: issuer, subject: "marketing", roles: [Role.marketing], connections: 2))
        async let ordersSeeded: Void = OrdersDataSet.seed(connector: connector, accounts: ids, orders: orders)
        async let deskSeeded: Void = ServiceDeskDataSet.seed(manager: manager, accounts: ids, machines: tickets / 4, tickets: tickets, open: tickets / 10)
        async let answersSeeded: Void = FeedbackDataSet.importAnswers(marketing: marketing, accounts: ids, answers: answers)
        _ = try await (ordersSeeded, deskSeeded, answersSeeded)
        print(String(format: "seed: orders, tickets and answers in at %.0f s", (ContinuousClock.now - started).seconds))
        // Loyalty and analytics follow the orders' and the others' feeds.
        for service in Self.services { try await waitUntilCaughtUp(port: stack.port(service), limit: .seconds(3_600)) }
        print(String(format: "seed: every consumer caught up at %.0f s", (ContinuousClock.now - started).seconds))
    }

    // MARK: Measuring

    func measure(_ stack: ServiceStack, issuer: TokenIssuer, data: String) async throws {
        let ids = try String(contentsOfFile: "\(data)/account-ids.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        let names = Self.services
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores shared by eight services and this load generator; \(ids.count) accounts")
        let sizes = names.compactMap { name -> String? in
            let bytes = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: "\(data)/\(name).sqlite\($0)")[.size] as? Int }.reduce(0, +)
            return bytes == 0 ? nil : String(format: "%@ %.2f GB", name, Double(bytes) / 1e9)
        }
        print("databases: " + sizes.joined(separator: ", "))
        let processes = Dictionary(uniqueKeysWithValues: zip(stack.services, stack.processes))
        let portBase = stack.portBase
        // The hung service is let go before the stack stops.
        defer { kill(processes["orders"]!.processIdentifier, SIGCONT) }
        let gatewayPort = portBase + names.firstIndex(of: "gateway")!
        try await waitUntilServing(port: gatewayPort)
        try await waitUntilServing(port: portBase + names.firstIndex(of: "accounts")!)

        let token = try await issuer.issue(subject: "bench", roles: ["admin"], ttl: 86_400)
        var configuration = ClientConfiguration()
        configuration.connections = 4
        let wire = try WireClient(host: "127.0.0.1", port: gatewayPort, configuration: configuration, interceptors: [BearerTokenInterceptor(token: token)])
        let gateway = Forge_Gateway_V1_GatewayClient(channel: wire)
        let httpPort = portBase + 1000

        // Every section answers (each service's part of this data set, where it has one).
        // The services that follow accounts' feed (loyalty, analytics) know an account once they
        // have read its creation: wait until they have caught up (at most two minutes).
        var sample = try await gateway.getCustomer360(.with { $0.accountID = ids.last! })
        for _ in 0..<120 where sample.sections.contains(where: { $0.status != .ok }) {
            try await Task.sleep(for: .seconds(1))
            sample = try await gateway.getCustomer360(.with { $0.accountID = ids.last! })
        }
        for index in names.indices { try await waitUntilCaughtUp(port: portBase + index) }
        print("sections: " + sample.sections.map { "\($0.name)=\($0.status)" + ($0.detail.isEmpty ? "" : " (\($0.detail))") }.joined(separator: " "))
        // Where a view's time goes: each section's own time (its call, as the gateway saw it),
        // averaged over 200 views one at a time.
        var elapsed: [String: Int] = [:]
        for _ in 0..<200 {
            for section in try await gateway.getCustomer360(.with { $0.accountID = ids.randomElement()! }).sections {
                elapsed[section.name, default: 0] += Int(section.elapsedMs)
            }
        }
        print("mean section time, C=1: " + sample.sections.map { String(format: "%@ %.2f ms", $0.name, Double(elapsed[$0.name] ?? 0) / 200) }.joined(separator: ", "))
        // Wire and HTTP take turns in rounds of a fraction of the duration each, so a drift of
        // the shared machine (other guests' load on the hypervisor) falls on both alike.
        let rounds = max(1, Int(duration / 2))
        print("each line: C calls in flight, \(duration) s in \(rounds) rounds taking turns (each after 1 s warm-up); wire on K=4 connections, HTTP/1.1 keep-alive on C connections (one request at a time each)")
        // The floor of each transport at C=1: a call that does nothing (Health/Check over the
        // wire, GET /healthz on the admin port, both answered by the gateway process).
        do {
            let health = Forge_Common_V1_HealthClient(channel: wire)
            let admin = try await HTTP1Connection.connect(host: "127.0.0.1", port: portBase + 100 + names.firstIndex(of: "gateway")!)
            let floor = LoadShape(connections: 1, concurrency: 1, duration: 3, warmup: 1, payloadBytes: 0)
            print((await drive(floor) { _ in _ = try await health.check(.init()) }).line(name: "C=1") + "   wire Health/Check (transport floor)")
            print((await drive(floor) { _ in _ = try await admin.get("/healthz") }).line(name: "C=1") + "   HTTP GET /healthz (transport floor)")
            await admin.close()
        }
        for concurrency in [1, 16, 64] {
            var connections: [HTTP1Connection] = []
            for _ in 0..<concurrency { connections.append(try await HTTP1Connection.connect(host: "127.0.0.1", port: httpPort)) }
            let http = connections
            let authorization = [("Authorization", "Bearer \(token)")]
            var wireResults: [LoadResult] = []
            var httpResults: [LoadResult] = []
            // The services' CPU per view: each round's CPU over its views, warm-up included
            // (counted at the round's measured rate).
            var wireCPU = (seconds: 0.0, views: 0.0)
            var httpCPU = (seconds: 0.0, views: 0.0)
            var wireCPUByService: [String: Double] = [:]
            let round = duration / Double(rounds)
            for _ in 0..<rounds {
                let byService = stack.cpuSecondsByService()
                // A wire caller takes the sections as protobuf (the gateway writes no JSON for it).
                wireResults.append(await drive(LoadShape(connections: 4, concurrency: concurrency, duration: round, warmup: 1, payloadBytes: 0)) { _ in
                    _ = try await gateway.getCustomer360(.with { $0.accountID = ids.randomElement()!; $0.sectionEncoding = .protobuf })
                })
                var spent = 0.0
                for (service, seconds) in stack.cpuSecondsByService() {
                    let delta = seconds - (byService[service] ?? seconds)
                    wireCPUByService[service, default: 0] += delta
                    spent += delta
                }
                wireCPU = (wireCPU.seconds + spent, wireCPU.views + wireResults.last!.callsPerSecond * (round + 1))
                let before = stack.cpuSeconds()
                httpResults.append(await drive(LoadShape(connections: concurrency, concurrency: concurrency, duration: round, warmup: 1, payloadBytes: 0)) { connection in
                    let response = try await http[connection].get("/api/v1/accounts/\(ids.randomElement()!)/360", headers: authorization)
                    guard response.status == 200, response.bytes > 0 else { throw ValidationError("HTTP \(response.status)") }
                })
                httpCPU = (httpCPU.seconds + stack.cpuSeconds() - before, httpCPU.views + httpResults.last!.callsPerSecond * (round + 1))
            }
            let wireResult = LoadResult.combined(wireResults)
            let httpResult = LoadResult.combined(httpResults)
            print(wireResult.line(name: "C=\(concurrency)") + "   wire GetCustomer360 (sections as protobuf), all services up")
            print(httpResult.line(name: "C=\(concurrency)") + "   HTTP GET /api/v1/accounts/{id}/360, all services up")
            print(String(format: "C=%d    HTTP / wire: throughput %.2f×, p50 %.2f×, p99 %.2f×", concurrency, httpResult.callsPerSecond / wireResult.callsPerSecond,
                         Double(httpResult.p50) / Double(wireResult.p50), Double(httpResult.histogram.valueAtPercentile(99)) / Double(wireResult.histogram.valueAtPercentile(99))))
            print(String(format: "C=%d    CPU of the eight services per view: wire %.2f ms, HTTP %.2f ms", concurrency,
                         wireCPU.seconds / wireCPU.views * 1000, httpCPU.seconds / httpCPU.views * 1000)
                  + " (wire: " + names.map { String(format: "%@ %.2f", $0, (wireCPUByService[$0] ?? 0) / wireCPU.views * 1000) }.joined(separator: ", ") + ")")
            for connection in http { await connection.close() }
        }

        let load = LoadShape(connections: 4, concurrency: 16, duration: duration, warmup: 2, payloadBytes: 0)
        kill(processes["pipeline"]!.processIdentifier, SIGKILL)
        print((await drive(load) { _ in
            let view = try await gateway.getCustomer360(.with { $0.accountID = ids.randomElement()! })
            guard view.sections.first(where: { $0.name == "pipeline" })?.status == .unavailable else { throw ValidationError("pipeline section") }
        }).line(name: "C=16") + "   wire GetCustomer360, pipeline killed (section UNAVAILABLE)")
        kill(processes["orders"]!.processIdentifier, SIGSTOP)
        print((await drive(load) { _ in
            let view = try await gateway.getCustomer360(.with { $0.accountID = ids.randomElement()! })
            guard view.sections.first(where: { $0.name == "orders" })?.status == .timedOut else { throw ValidationError("orders section") }
        }).line(name: "C=16") + "   wire GetCustomer360, pipeline killed and orders hung (SIGSTOP: section TIMED_OUT at the 300 ms deadline)")
        kill(processes["orders"]!.processIdentifier, SIGCONT)
        await wire.close()
    }
}
