import ArgumentParser
import AsyncHTTPClient
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

        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(data)/keys/jwt-ed25519.key"))
        let token = try await issuer.issue(subject: "bench", roles: ["admin"], ttl: 86_400)
        var configuration = ClientConfiguration()
        configuration.connections = 4
        let wire = try WireClient(host: "127.0.0.1", port: gatewayPort, configuration: configuration, interceptors: [BearerTokenInterceptor(token: token)])
        let gateway = Forge_Gateway_V1_GatewayClient(channel: wire)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(connectionPool: .init(idleTimeout: .seconds(60))))
        let httpPort = portBase + 1000

        // Every section answers: accounts with data, the other six "not built yet" (UNIMPLEMENTED).
        let sample = try await gateway.getCustomer360(.with { $0.accountID = ids[0] })
        print("sections: " + sample.sections.map { "\($0.name)=\($0.status)" }.joined(separator: " "))
        print("each line: K=4 connections, C calls in flight, \(duration) s after 2 s warm-up")
        for concurrency in [1, 16, 64] {
            let load = LoadShape(connections: 4, concurrency: concurrency, duration: duration, warmup: 2, payloadBytes: 0)
            print((await drive(load) { _ in
                _ = try await gateway.getCustomer360(.with { $0.accountID = ids.randomElement()! })
            }).line(name: "C=\(concurrency)") + "   wire GetCustomer360, all services up")
            print((await drive(load) { _ in
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(httpPort)/api/v1/accounts/\(ids.randomElement()!)/360")
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                let response = try await http.execute(request, timeout: .seconds(5))
                _ = try await response.body.collect(upTo: 1 << 22)
                guard response.status == .ok else { throw ValidationError("HTTP \(response.status)") }
            }).line(name: "C=\(concurrency)") + "   HTTP GET /api/v1/accounts/{id}/360, all services up")
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
        try await http.shutdown()
        await wire.close()
    }
}
