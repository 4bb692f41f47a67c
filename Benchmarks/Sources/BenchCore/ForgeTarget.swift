import ForgeContracts
import ForgeWire
import Foundation

/// Forge's wire runtime: the generated Echo handler and client, through the real server,
/// interceptors (logging and metrics, as every service runs them) and client pool.
public enum ForgeTarget {
    /// Answers with the request's payload (also served to the C client by ConnectorBench).
    public struct Echo: Forge_Testing_V1_EchoHandler {
        public init() {}
        public func echo(_ request: Forge_Testing_V1_EchoRequest, context: ServerContext) async throws -> Forge_Testing_V1_EchoResponse {
            .with { $0.payload = request.payload }
        }
        public func slow(_ request: Forge_Testing_V1_SlowRequest, context: ServerContext) async throws -> Forge_Testing_V1_SlowResponse { .init() }
        public func fail(_ request: Forge_Testing_V1_FailRequest, context: ServerContext) async throws -> Forge_Testing_V1_FailResponse { .init() }
    }

    public static func run(_ load: LoadShape, pinned: Bool) async throws -> LoadResult {
        var router = RPCRouter()
        Echo().register(in: &router)
        let server = WireServer(configuration: ServerConfiguration(port: 0), router: router)
        let address = try await server.start()
        var configuration = ClientConfiguration()
        configuration.connections = 1
        let wires = try (0..<load.connections).map { _ in
            try WireClient(host: "127.0.0.1", port: address.port!, configuration: configuration)
        }
        let clients = wires.map { Forge_Testing_V1_EchoClient(channel: $0) }
        let executors = wires.map(\.taskExecutor)
        let request = Forge_Testing_V1_EchoRequest.with { $0.payload = Data(repeating: 7, count: load.payloadBytes) }
        let result = await drive(load, executor: { pinned ? executors[$0] : nil }) { connection in
            _ = try await clients[connection].echo(request)
        }
        for client in clients { await (client.channel as? WireClient)?.close() }
        await server.shutdown()
        return result
    }
}
