import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation

/// The real executables, started as processes on their own ports and data directory.
/// Tests give each stack its own port base, below Linux's ephemeral range (32768 and up), so a
/// client connection's local port never takes a port a stack is about to listen on: wire ports
/// are base…base+7, admin ports base+100…, the gateway's HTTP port base+200.
public struct LocalStack {
    public static let binaries = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug").path

    public let dataDirectory: String
    public let portBase: Int
    public var processes: [String: Process] = [:]

    public let durability: String
    /// Further environment for every process started.
    public var extraEnvironment: [String: String] = [:]

    /// The gateway's HTTP port.
    public var httpPort: Int { portBase + 200 }

    public init(portBase: Int, durability: String = "normal") throws {
        dataDirectory = NSTemporaryDirectory() + "forge-stack-\(UUID().uuidString)"
        self.portBase = portBase
        self.durability = durability
        let (privateKey, _) = try SigningKeys.generate()
        try SigningKeys.write(privateKey: privateKey, to: "\(dataDirectory)/keys")
    }

    /// Writes the token the services present to each other (role `service`), as `forge up`
    /// does: consumers of another service's feed need it.
    public func writeServiceToken() async throws {
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(dataDirectory)/keys/jwt-ed25519.key"))
        try await issuer.issue(subject: "forge-stack", roles: ["service"], ttl: 3600)
            .write(toFile: ServiceToken.path(dataDirectory: dataDirectory), atomically: true, encoding: .utf8)
    }

    public func wirePort(_ service: String) -> Int {
        portBase + ServiceConfiguration.defaultPorts.firstIndex { $0.name == service }!
    }

    public var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["FORGE_DATA_DIR"] = dataDirectory
        environment["FORGE_DURABILITY"] = durability
        environment["FORGE_GATEWAY_HTTP_PORT"] = "\(httpPort)"
        for (index, service) in ServiceConfiguration.defaultPorts.enumerated() {
            environment["FORGE_\(service.name.uppercased())_ADDR"] = "127.0.0.1:\(portBase + index)"
            environment["FORGE_\(service.name.uppercased())_ADMIN_PORT"] = "\(portBase + 100 + index)"
        }
        return environment.merging(extraEnvironment) { $1 }
    }

    public mutating func start(_ service: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(Self.binaries)/forge-\(service)")
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        processes[service] = process
    }

    /// Polls Health/Check until SERVING (bounded); returns whether it got there.
    public func waitUntilServing(_ service: String, attempts: Int = 600) async -> Bool {
        for _ in 0..<attempts {
            if let client = try? WireClient(host: "127.0.0.1", port: wirePort(service)) {
                let response = try? await Forge_Common_V1_HealthClient(channel: client).check(.init(), options: CallOptions(timeout: .milliseconds(500)))
                await client.close()
                if response?.status == .serving { return true }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Waits (bounded) for a process to exit.
    public static func waitForExit(_ process: Process, within seconds: Double) async -> Bool {
        await Poll.until(seconds: seconds, every: .milliseconds(20)) { !process.isRunning }
    }

    public func killAll() {
        for process in processes.values where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }
}

