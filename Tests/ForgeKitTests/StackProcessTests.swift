import ForgeContracts
@testable import ForgeKit
import ForgeWire
import Foundation
import Testing

/// The real executables, started as processes on their own ports and data directory.
struct LocalStack {
    static let binaries = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug").path

    let dataDirectory: String
    let portBase: Int
    var processes: [String: Process] = [:]

    let durability: String

    init(portBase: Int, durability: String = "normal") throws {
        dataDirectory = NSTemporaryDirectory() + "forge-stack-\(UUID().uuidString)"
        self.portBase = portBase
        self.durability = durability
        let (privateKey, _) = try SigningKeys.generate()
        try SigningKeys.write(privateKey: privateKey, to: "\(dataDirectory)/keys")
    }

    func wirePort(_ service: String) -> Int {
        portBase + ServiceConfiguration.defaultPorts.firstIndex { $0.name == service }!
    }

    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["FORGE_DATA_DIR"] = dataDirectory
        environment["FORGE_DURABILITY"] = durability
        for (index, service) in ServiceConfiguration.defaultPorts.enumerated() {
            environment["FORGE_\(service.name.uppercased())_ADDR"] = "127.0.0.1:\(portBase + index)"
            environment["FORGE_\(service.name.uppercased())_ADMIN_PORT"] = "\(portBase + 100 + index)"
        }
        return environment
    }

    mutating func start(_ service: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(Self.binaries)/forge-\(service)")
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        processes[service] = process
    }

    /// Polls Health/Check until SERVING (bounded); returns whether it got there.
    func waitUntilServing(_ service: String, attempts: Int = 600) async -> Bool {
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
    static func waitForExit(_ process: Process, within seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !process.isRunning
    }

    func killAll() {
        for process in processes.values where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }
}

@Suite("The stack as real processes", .serialized, .timeLimit(.minutes(2)))
struct StackProcessTests {
    @Test("all eight executables start healthy and exit 0 on SIGTERM within the grace period")
    func startAndStop() async throws {
        var stack = try LocalStack(portBase: 27100)
        defer { stack.killAll() }
        for service in ServiceConfiguration.defaultPorts.map(\.name) {
            try stack.start(service)
        }
        for service in ServiceConfiguration.defaultPorts.map(\.name) {
            #expect(await stack.waitUntilServing(service), "forge-\(service) became healthy")
        }
        for process in stack.processes.values {
            process.terminate()
        }
        for (service, process) in stack.processes {
            #expect(await LocalStack.waitForExit(process, within: 12), "forge-\(service) exited within the grace period")
            #expect(process.terminationReason == .exit && process.terminationStatus == 0, "forge-\(service) exited 0")
        }
    }

    @Test("a bad configuration value stops the process with status 2 and one line naming the setting")
    func badConfiguration() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(LocalStack.binaries)/forge-orders")
        var environment = ProcessInfo.processInfo.environment
        environment["FORGE_LOG_LEVEL"] = "shouty"
        process.environment = environment
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        #expect(await LocalStack.waitForExit(process, within: 10))
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 2)
        #expect(output == "forge-orders: configuration error: FORGE_LOG_LEVEL: 'shouty' is not one of trace, debug, info, notice, warning, error, critical\n")
    }
}
