import ArgumentParser
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation

/// `forge health`: one line per process.
struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the health of every Forge process.")

    func run() async throws {
        var allServing = true
        for service in StackLayout.services {
            let address = StackLayout.address(of: service)
            let line: String
            switch await Self.check(address: address) {
            case .success(let response):
                let components = response.components.map { "\($0.name) \($0.ok ? "ok" : "failing")\($0.lag > 0 ? " (lag \($0.lag))" : "")" }
                line = "\(response.status == .serving ? "SERVING" : "NOT_SERVING")  \(components.joined(separator: ", "))"
                allServing = allServing && response.status == .serving
            case .failure(let error):
                line = "\(error.code.name)  \(error.message)"
                allServing = false
            }
            print("forge-\(service)".padding(toLength: 18, withPad: " ", startingAt: 0) + address.padding(toLength: 17, withPad: " ", startingAt: 0) + line)
        }
        if !allServing { throw ExitCode(1) }
    }

    static func check(address: String, timeout: Duration = .seconds(2)) async -> Result<Forge_Common_V1_CheckResponse, RPCError> {
        var configuration = ClientConfiguration()
        configuration.connections = 1
        configuration.maxAttempts = 1
        guard let client = try? WireClient(address: address, configuration: configuration) else {
            return .failure(RPCError(.invalidArgument, "'\(address)' is not host:port"))
        }
        let result: Result<Forge_Common_V1_CheckResponse, RPCError>
        do {
            result = .success(try await Forge_Common_V1_HealthClient(channel: client).check(.init(), options: CallOptions(timeout: timeout)))
        } catch let error as RPCError {
            result = .failure(error)
        } catch {
            result = .failure(RPCError(.unknown, "\(error)"))
        }
        await client.close()
        return result
    }
}
