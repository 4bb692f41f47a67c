import ArgumentParser
import BenchCore
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import Logging

/// The C connector library (Connectors/c) beside the Swift client, in one run (issue 14):
///
/// 1. Unary echo of a 100-byte payload at K=1 connection, one call at a time and 64 in flight
///    (pipelined), against one Forge wire server (the Echo handler behind the logging and
///    metrics interceptors every service runs) in this process: the Swift client runs here, the
///    C client (forge-echo-bench) as its own process, one after the other.
/// 2. The gateway's forwarding cost: `Orders/GetProduct` from C straight to forge-orders, and
///    through forge-gateway's wire port with a token and with an API key (the edge verifies the
///    key and signs a short-lived token for each call), real release processes.
@main
struct ConnectorBench: AsyncParsableCommand {
    @Option(help: "Directory of the release executables of the Forge services.")
    var binaries = "../.build/release"

    @Option(help: "Directory holding forge-echo-bench (make -C Connectors/c).")
    var cBuild = "../Connectors/c/build"

    @Option(help: "Seconds per measurement.")
    var duration = 10.0

    @Option(help: "Warm-up seconds before each measurement.")
    var warmup = 2.0

    @Option(help: "First wire port of the services; admin ports are +100.")
    var portBase = 7_860

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores shared by the server(s) and the client under test")
        try await echo()
        try await forwarding()
    }

    /// The C bench's one line: calls=… calls_per_s=… p50_us=… p90_us=… p99_us=… errors=…
    func cBench(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(cBuild)/forge-echo-bench")
        process.arguments = arguments + ["--seconds", "\(duration)", "--warmup", "\(warmup)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let line = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let fields = Dictionary(line.split(separator: " ").compactMap { pair -> (String, String)? in
            let parts = pair.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }, uniquingKeysWith: { $1 })
        func number(_ key: String) -> Double { Double(fields[key] ?? "") ?? 0 }
        return String(format: "%10.0f calls/s   p50 %7.1f µs   p90 %7.1f µs   p99 %7.1f µs   errors %@",
                      number("calls_per_s"), number("p50_us"), number("p90_us"), number("p99_us"), fields["errors"] ?? "?")
    }

    func swiftLine(_ result: LoadResult) -> String {
        func micros(_ value: UInt64) -> Double { Double(value) / 1000 }
        return String(format: "%10.0f calls/s   p50 %7.1f µs   p90 %7.1f µs   p99 %7.1f µs   errors 0",
                      result.callsPerSecond, micros(result.p50), micros(result.histogram.valueAtPercentile(90)), micros(result.histogram.valueAtPercentile(99)))
    }

    func echo() async throws {
        var router = RPCRouter()
        ForgeTarget.Echo().register(in: &router)
        let server = WireServer(configuration: ServerConfiguration(port: 0), router: router)
        let port = try await server.start().port!
        print("\n== unary echo, 100-byte payload, one connection (server in this process)")
        for depth in [1, 64] {
            var configuration = ClientConfiguration()
            configuration.connections = 1
            let wire = try WireClient(host: "127.0.0.1", port: port, configuration: configuration)
            let client = Forge_Testing_V1_EchoClient(channel: wire)
            let request = Forge_Testing_V1_EchoRequest.with { $0.payload = Data(repeating: 7, count: 100) }
            let executor = wire.taskExecutor
            let result = await drive(LoadShape(connections: 1, concurrency: depth, duration: duration, warmup: warmup, payloadBytes: 100),
                                     executor: { _ in executor }) { _ in _ = try await client.echo(request) }
            await wire.close()
            print("swift  depth \(String(depth).padding(toLength: 3, withPad: " ", startingAt: 0)) \(swiftLine(result))")
            print("C      depth \(String(depth).padding(toLength: 3, withPad: " ", startingAt: 0)) \(try cBench(["--port", "\(port)", "--depth", "\(depth)"]))")
        }
        await server.shutdown()
    }

    func forwarding() async throws {
        let data = NSTemporaryDirectory() + "forge-connector-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: "\(data)/keys", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let (privateKey, _) = try SigningKeys.generate()
        try SigningKeys.write(privateKey: privateKey, to: "\(data)/keys")
        let issuer = await TokenIssuer(privateKey: privateKey)
        try await issuer.issue(subject: "forge-stack", roles: ["service"], ttl: 3600)
            .write(toFile: ServiceToken.path(dataDirectory: data), atomically: true, encoding: .utf8)
        let stack = try ServiceStack(binaries: binaries, data: data, portBase: portBase, durability: "normal", services: ["accounts", "orders", "gateway"],
                                     environment: ["FORGE_GATEWAY_HTTP_PORT": "\(portBase + 200)"])
        defer { stack.stop() }
        try await stack.waitUntilServing()

        let admin = try await issuer.issue(subject: "admin", roles: ["admin"], ttl: 3600)
        let orders = try WireClient(host: "127.0.0.1", port: stack.port("orders"), interceptors: [BearerTokenInterceptor(token: admin)])
        _ = try await Forge_Orders_V1_OrdersClient(channel: orders).upsertProducts(.with {
            $0.products = [.with { $0.sku = "HP-200"; $0.name = "液压泵站 HP200"; $0.unit = "台"; $0.listPrice = .with { $0.amountMicros = 80_000_000_000 }; $0.active = true }]
        })
        await orders.close()
        let gateway = try WireClient(host: "127.0.0.1", port: stack.port("gateway"), interceptors: [BearerTokenInterceptor(token: admin)])
        let key = try await Forge_Gateway_V1_GatewayClient(channel: gateway).createApiKey(.with { $0.name = "bench"; $0.roles = ["erp_connector"] }).secret
        await gateway.close()
        let token = try await issuer.issue(subject: "mes-bench", roles: ["erp_connector"], ttl: 3600)

        print("\n== Orders/GetProduct from C: direct vs through the gateway's wire port (real processes)")
        for depth in [1, 64] {
            let common = ["--method", "get-product:HP-200", "--depth", "\(depth)"]
            print("direct            depth \(String(depth).padding(toLength: 3, withPad: " ", startingAt: 0)) \(try cBench(common + ["--port", "\(stack.port("orders"))", "--token", token]))")
            print("gateway, token    depth \(String(depth).padding(toLength: 3, withPad: " ", startingAt: 0)) \(try cBench(common + ["--port", "\(stack.port("gateway"))", "--token", token]))")
            print("gateway, API key  depth \(String(depth).padding(toLength: 3, withPad: " ", startingAt: 0)) \(try cBench(common + ["--port", "\(stack.port("gateway"))", "--token", key]))")
        }
    }
}
