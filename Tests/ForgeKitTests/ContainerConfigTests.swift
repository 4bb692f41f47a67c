import ForgeContracts
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import Testing

/// docker-compose.yml's configuration run as plain processes (there is no container engine
/// here): keys made once by `forge keys init` and shared, a data directory per service,
/// listening on 0.0.0.0, upstreams by host name, health by the admin port's /readyz.
@Suite("The container configuration, as processes", .serialized, .timeLimit(.minutes(1)))
struct ContainerConfigTests {
    @Test("docker-compose.yml is valid; forge keys init + per-service data dirs + host names bring accounts and the gateway up ready, and the admin signs in")
    func composeConfiguration() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let compose = Process()
        compose.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        compose.arguments = ["docker-compose", "-f", "\(root)/docker-compose.yml", "config", "-q"]
        try compose.run()
        compose.waitUntilExit()
        #expect(compose.terminationStatus == 0, "docker-compose config")

        let base = NSTemporaryDirectory() + "forge-compose-\(UUID().uuidString)"
        let keysInit = Process()
        keysInit.executableURL = URL(fileURLWithPath: "\(LocalStack.binaries)/forge")
        keysInit.arguments = ["keys", "init", "--data-dir", "\(base)/shared"]
        try keysInit.run()
        keysInit.waitUntilExit()
        #expect(keysInit.terminationStatus == 0)

        let ports = ["gateway": 19100, "accounts": 19101]
        var environment = ProcessInfo.processInfo.environment
        environment["FORGE_LISTEN_HOST"] = "0.0.0.0"
        environment["FORGE_ADMIN_PASSWORD"] = "compose-admin-password"
        environment["FORGE_GATEWAY_HTTP_PORT"] = "19300"
        for (name, port) in ports {
            environment["FORGE_\(name.uppercased())_ADDR"] = "localhost:\(port)"
            environment["FORGE_\(name.uppercased())_ADMIN_PORT"] = "\(port + 100)"
        }
        var processes: [Process] = []
        defer { for process in processes where process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        for name in ["accounts", "gateway"] {
            let data = "\(base)/\(name)"
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: "\(data)/keys", withDestinationPath: "\(base)/shared/keys")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "\(LocalStack.binaries)/forge-\(name)")
            var own = environment
            own["FORGE_DATA_DIR"] = data
            process.environment = own
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            processes.append(process)
        }
        // The compose health check: GET /readyz on the admin port answers 200.
        for (name, port) in ports {
            var status = 0
            for _ in 0..<200 where status != 200 {
                status = (try? await HTTPTestClient.request(port: port + 100, "GET", "/readyz").status) ?? 0
                if status != 200 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(status == 200, "\(name) ready")
        }
        #expect(FileManager.default.fileExists(atPath: "\(base)/accounts/accounts.sqlite"))
        #expect(FileManager.default.fileExists(atPath: "\(base)/gateway/gateway.sqlite"))
        let signIn = try await HTTPTestClient.request(port: 19300, "POST", "/api/v1/auth/sign-in", headers: ["Content-Type": "application/json"],
                                                      body: #"{"username":"admin","password":"compose-admin-password"}"#)
        #expect(signIn.status == 200, "\(signIn.body)")
        let token = try #require(signIn.json["token"] as? String)
        let created = try await HTTPTestClient.request(port: 19300, "POST", "/api/v1/accounts", headers: ["Authorization": "Bearer \(token)"],
                                                       body: #"{"account":{"name":"容器配置测试客户"}}"#)
        #expect(created.status == 200, "the gateway reaches accounts by host name: \(created.body)")
    }
}
