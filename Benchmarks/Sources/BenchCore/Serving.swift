import ForgeContracts
import ForgeWire
import Foundation

/// Polls Health/Check on a local port until the process serves (at most a minute).
public func waitUntilServing(port: Int) async throws {
    for _ in 0..<600 {
        if let client = try? WireClient(host: "127.0.0.1", port: port) {
            let response = try? await Forge_Common_V1_HealthClient(channel: client).check(.init(), options: CallOptions(timeout: .milliseconds(500)))
            await client.close()
            if response?.status == .serving { return }
        }
        try await Task.sleep(for: .milliseconds(100))
    }
    throw BenchError.notServing(port)
}

/// Polls Health/Check on a local port until every consumer of the process has read its
/// upstream's feed to the end (lag 0 on each), so a measurement does not share the cores with a
/// catching-up consumer; at most `limit`.
public func waitUntilCaughtUp(port: Int, limit: Duration = .seconds(600)) async throws {
    let client = try WireClient(host: "127.0.0.1", port: port)
    defer { Task { await client.close() } }
    let end = ContinuousClock.now + limit
    while ContinuousClock.now < end {
        let response = try? await Forge_Common_V1_HealthClient(channel: client).check(.init(), options: CallOptions(timeout: .seconds(1)))
        if let response, response.components.allSatisfy({ !$0.name.hasPrefix("consumer:") || $0.lag == 0 }) { return }
        try await Task.sleep(for: .milliseconds(500))
    }
    throw BenchError.notServing(port)
}
