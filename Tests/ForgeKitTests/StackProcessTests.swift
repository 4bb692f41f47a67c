import ForgeContracts
@testable import ForgeKit
import ForgeWire
import ForgeTestSupport
import Foundation
import Testing

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
