import ForgeContracts
@testable import ForgeKit
import ForgeWire
import ForgeTestSupport
import Foundation
import NIOCore
import NIOPosix
import SwiftProtobuf
import Testing

/// A plain HTTP/1.1 GET over loopback, enough to read the admin port.
func httpGet(port: Int, path: String) async throws -> (status: Int, body: String) {
    let reply = try await HTTPTestClient.request(port: port, "GET", path)
    return (reply.status, reply.body)
}

@Suite("Operating a service: admin port, JSON logs, backup and restore", .serialized, .timeLimit(.minutes(2)))
struct OperationsTests {
    @Test("the admin port answers /healthz, /readyz and Prometheus /metrics, counting calls to unknown methods; JSON logs are one object per line")
    func adminPortAndJSONLogs() async throws {
        var stack = try LocalStack(portBase: 30100)
        defer { stack.killAll() }
        let logs = Pipe()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(LocalStack.binaries)/forge-accounts")
        var environment = stack.environment
        environment["FORGE_LOG_FORMAT"] = "json"
        process.environment = environment
        process.standardError = logs
        process.standardOutput = logs
        try process.run()
        stack.processes["accounts"] = process
        #expect(await stack.waitUntilServing("accounts"))

        // A client calling a method the service lacks, with no token: UNIMPLEMENTED, and counted.
        let client = try WireClient(host: "127.0.0.1", port: stack.wirePort("accounts"))
        let unknown = await #expect(throws: RPCError.self) {
            _ = try await client.unary(MethodDescriptor(service: "forge.accounts.v1.Accounts", method: "NoSuchMethod"), payload: Data(), options: CallOptions())
        }
        #expect(unknown?.code == .unimplemented)
        await client.close()

        let adminPort = 30100 + 100 + 1
        let health = try await httpGet(port: adminPort, path: "/healthz")
        #expect(health.status == 200)
        let ready = try await httpGet(port: adminPort, path: "/readyz")
        #expect(ready.status == 200)
        #expect(ready.body.contains("database ok"))
        let metrics = try await httpGet(port: adminPort, path: "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("forge_rpc_server_calls_total{method=\"/forge.common.v1.Health/Check\",code=\"OK\"}"))
        #expect(metrics.body.contains("forge_rpc_server_calls_total{method=\"/unknown/unknown\",code=\"UNIMPLEMENTED\"} 1"), "\(metrics.body.split(separator: "\n").filter { $0.contains("calls_total") })")

        process.terminate()
        #expect(await LocalStack.waitForExit(process, within: 12))
        let lines = String(decoding: logs.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .split(separator: "\n").filter { !$0.isEmpty }
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] != nil && object?["message"] != nil, "not a JSON log line: \(line)")
        }
        #expect(lines.contains { $0.contains("\"message\":\"starting\"") })
    }

    @Test("forge call talks to a running service (JSON, exit status = wire status); forge backup copies its database while it runs; forge restore brings it back after loss")
    func backupAndRestore() async throws {
        var stack = try LocalStack(portBase: 31100)
        defer { stack.killAll() }
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        let token = try await issuer.issue(subject: "ops", roles: ["admin"], ttl: 600)
        try stack.start("accounts")
        #expect(await stack.waitUntilServing("accounts"))
        let client = try WireClient(host: "127.0.0.1", port: stack.wirePort("accounts"), interceptors: [BearerTokenInterceptor(token: token)])
        let accounts = Forge_Accounts_V1_AccountsClient(channel: client)
        let created = try await accounts.createAccount(.with { $0.account = .with { $0.name = "苏州精工模具有限公司" } })

        // forge call against the running process: JSON in, JSON out, status codes as exit codes.
        let address = "127.0.0.1:\(stack.wirePort("accounts"))"
        let health = try await Self.forgeOutput(["call", address, "forge.common.v1.Health/Check"], environment: stack.environment)
        #expect(health.status == 0)
        #expect(health.output.contains("\"status\":\"SERVING_STATUS_SERVING\""))
        var withToken = stack.environment
        withToken["FORGE_TOKEN"] = token
        let fetched = try await Self.forgeOutput(["call", address, "forge.accounts.v1.Accounts/GetAccount", "{\"id\":\"\(created.account.id)\"}"], environment: withToken)
        #expect(fetched.status == 0)
        #expect(fetched.output.contains("苏州精工模具有限公司"))
        let invalid = try await Self.forgeOutput(["call", address, "forge.accounts.v1.Accounts/CreateAccount", "{\"account\":{\"name\":\" \"}}"], environment: withToken)
        #expect(invalid.status == 3, "INVALID_ARGUMENT is exit status 3")
        #expect(invalid.output.contains("account.name: is required"))
        let anonymous = try await Self.forgeOutput(["call", address, "forge.accounts.v1.Accounts/GetAccount", "{\"id\":\"x\"}"], environment: stack.environment.filter { $0.key != "FORGE_TOKEN" })
        #expect(anonymous.status == 16, "UNAUTHENTICATED is exit status 16")

        let backup = NSTemporaryDirectory() + "forge-backup-\(UUID().uuidString)"
        #expect(try await Self.forge(["backup", backup, "--data-dir", stack.dataDirectory], environment: stack.environment) == 0)

        // Lose the data: stop the service and delete its database.
        stack.processes["accounts"]!.terminate()
        #expect(await LocalStack.waitForExit(stack.processes["accounts"]!, within: 12))
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: "\(stack.dataDirectory)/accounts.sqlite\(suffix)")
        }
        #expect(try await Self.forge(["restore", backup, "--data-dir", stack.dataDirectory], environment: stack.environment) == 0)

        try stack.start("accounts")
        #expect(await stack.waitUntilServing("accounts"))
        let restored = try await accounts.getAccount(.with { $0.id = created.account.id })
        #expect(restored.account.name == "苏州精工模具有限公司")
        await client.close()
    }

    @Test("forge import streams a GB18030 file to forge-accounts in batches and reports every row; running it again creates nothing")
    func importFile() async throws {
        var stack = try LocalStack(portBase: 26100)
        defer { stack.killAll() }
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        let token = try await issuer.issue(subject: "rep-a", roles: ["sales_rep"], team: "east", ttl: 600)
        try stack.start("accounts")
        #expect(await stack.waitUntilServing("accounts"))
        var environment = stack.environment
        environment["FORGE_TOKEN"] = token
        environment["FORGE_ACCOUNTS_ADDR"] = "127.0.0.1:\(stack.wirePort("accounts"))"

        var text = "客户名称,统一社会信用代码,行业,价值等级\n"
        for index in 1...25 { text += "华东精密机械\(index)号厂,,模具,A\n" }
        text += "华东精密机械1号厂,,模具,A\n,,模具,B\n"
        let file = NSTemporaryDirectory() + "forge-import-\(UUID().uuidString).csv"
        try #require(text.data(using: String.Encoding(rawValue: 0x8000_0632))).write(to: URL(fileURLWithPath: file))

        let dry = try await Self.forgeOutput(["import", "accounts", file, "--dry-run", "--batch-size", "10"], environment: environment)
        #expect(dry.status == 0, "\(dry.output)")
        #expect(dry.output.contains("25 created, 0 updated, 0 unchanged, 1 duplicate, 1 rejected (dry run: nothing written)"))
        let report = file + ".report.csv"
        let run = try await Self.forgeOutput(["import", "accounts", file, "--batch-size", "10", "--report", report], environment: environment)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("gb18030"))
        let lines = try String(contentsOfFile: report, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 28)
        #expect(lines[1].hasPrefix("2,created,acc_"))
        #expect(lines[26].hasPrefix("27,duplicate,"), "the 26th row repeats the first, across batches")
        #expect(lines[27].hasPrefix("28,rejected,") && lines[27].contains("name: is required"))

        let again = try await Self.forgeOutput(["import", "accounts", file, "--batch-size", "10"], environment: environment)
        #expect(again.output.contains("0 created, 0 updated, 0 unchanged, 26 duplicate, 1 rejected"))
    }

    static func forgeOutput(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(LocalStack.binaries)/forge")
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        _ = await LocalStack.waitForExit(process, within: 30)
        return (process.terminationStatus, output)
    }

    static func forge(_ arguments: [String], environment: [String: String]) async throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(LocalStack.binaries)/forge")
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        _ = await LocalStack.waitForExit(process, within: 30)
        return process.terminationStatus
    }
}
