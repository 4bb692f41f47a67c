import ArgumentParser
import BenchCore
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import Logging
import NIOCore

/// GetCustomer360 through the real processes: all eight services started from the release
/// build on the accounts data set of AccountsBench (run that first), the view called over the
/// wire and over HTTP at C=1, 16 and 64; then with one service killed and one hung (SIGSTOP),
/// which the view must survive within its 300 ms deadline.
@main
struct GatewayBench: AsyncParsableCommand {
    @Option(help: "Directory of the release executables.")
    var binaries = "../.build/release"

    @Option(help: "The seeded data directory of AccountsBench.")
    var data = "/var/tmp/forge-accounts-bench"

    @Option(help: "Seconds per measurement.")
    var duration = 10.0

    @Option(help: "First wire port; admin ports are +100, the gateway's HTTP port +1000.")
    var portBase = 7_960

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        let ids = try String(contentsOfFile: "\(data)/account-ids.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores shared by eight services and this load generator; \(ids.count) accounts")
        let names = ServiceConfiguration.defaultPorts.map(\.name)
        var environment = ProcessInfo.processInfo.environment
        environment["FORGE_DATA_DIR"] = data
        environment["FORGE_LOG_LEVEL"] = "error"
        environment["FORGE_GATEWAY_HTTP_PORT"] = "\(portBase + 1000)"
        environment["FORGE_GATEWAY_RATE_LIMIT"] = "1000000"
        environment["FORGE_ADMIN_PASSWORD"] = "bench-admin-password"
        for (index, name) in names.enumerated() {
            environment["FORGE_\(name.uppercased())_ADDR"] = "127.0.0.1:\(portBase + index)"
            environment["FORGE_\(name.uppercased())_ADMIN_PORT"] = "\(portBase + 100 + index)"
        }
        // The services call each other (and follow accounts' feed) as role `service`, with the
        // token `forge up` would write.
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(data)/keys/jwt-ed25519.key"))
        try await issuer.issue(subject: "forge-stack", roles: [Role.service], ttl: 86_400)
            .write(toFile: ServiceToken.path(dataDirectory: data), atomically: true, encoding: .utf8)
        var processes: [String: Process] = [:]
        for name in names {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "\(binaries)/forge-\(name)")
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            processes[name] = process
        }
        defer {
            for process in processes.values where process.isRunning {
                kill(process.processIdentifier, SIGCONT)
                process.terminate()
            }
        }
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
            for _ in 0..<rounds {
                wireResults.append(await drive(LoadShape(connections: 4, concurrency: concurrency, duration: duration / Double(rounds), warmup: 1, payloadBytes: 0)) { _ in
                    _ = try await gateway.getCustomer360(.with { $0.accountID = ids.randomElement()! })
                })
                httpResults.append(await drive(LoadShape(connections: concurrency, concurrency: concurrency, duration: duration / Double(rounds), warmup: 1, payloadBytes: 0)) { connection in
                    let response = try await http[connection].get("/api/v1/accounts/\(ids.randomElement()!)/360", headers: authorization)
                    guard response.status == 200, response.bytes > 0 else { throw ValidationError("HTTP \(response.status)") }
                })
            }
            let wireResult = LoadResult.combined(wireResults)
            let httpResult = LoadResult.combined(httpResults)
            print(wireResult.line(name: "C=\(concurrency)") + "   wire GetCustomer360, all services up")
            print(httpResult.line(name: "C=\(concurrency)") + "   HTTP GET /api/v1/accounts/{id}/360, all services up")
            print(String(format: "C=%d    HTTP / wire: throughput %.2f×, p50 %.2f×, p99 %.2f×", concurrency, httpResult.callsPerSecond / wireResult.callsPerSecond,
                         Double(httpResult.p50) / Double(wireResult.p50), Double(httpResult.histogram.valueAtPercentile(99)) / Double(wireResult.histogram.valueAtPercentile(99))))
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
