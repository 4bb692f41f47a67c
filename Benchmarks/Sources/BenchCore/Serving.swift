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
