import ForgeContracts
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf

/// The same echo served by grpc-swift-2 over HTTP/2, with the same protobuf messages.
enum GRPCTarget {
    static let method = GRPCCore.MethodDescriptor(fullyQualifiedService: "forge.testing.v1.Echo", method: "Echo")

    struct EchoService: RegistrableRPCService {
        func registerMethods<Transport: ServerTransport>(with router: inout GRPCCore.RPCRouter<Transport>) {
            router.registerHandler(
                forMethod: GRPCTarget.method,
                deserializer: ProtobufDeserializer<Forge_Testing_V1_EchoRequest>(),
                serializer: ProtobufSerializer<Forge_Testing_V1_EchoResponse>()
            ) { request, _ in
                var reply = Forge_Testing_V1_EchoResponse()
                for try await message in request.messages {
                    reply.payload = message.payload
                }
                return StreamingServerResponse(single: ServerResponse(message: reply))
            }
        }
    }

    static func run(_ load: LoadShape) async throws -> LoadResult {
        let port = 17_399
        let server = GRPCServer(
            transport: .http2NIOPosix(address: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext),
            services: [EchoService()]
        )
        return try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await server.serve() }
            let clients = try (0..<load.connections).map { _ in
                GRPCClient(transport: try .http2NIOPosix(target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: .plaintext))
            }
            for client in clients {
                group.addTask { try await client.runConnections() }
            }
            let request = Forge_Testing_V1_EchoRequest.with { $0.payload = Data(repeating: 7, count: load.payloadBytes) }
            // Wait until the server answers before measuring.
            for _ in 0..<200 {
                if (try? await clients[0].unary(
                    request: ClientRequest(message: request), descriptor: method,
                    serializer: ProtobufSerializer<Forge_Testing_V1_EchoRequest>(),
                    deserializer: ProtobufDeserializer<Forge_Testing_V1_EchoResponse>(),
                    options: .defaults
                ) { try $0.message }) != nil { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let result = await drive(load) { connection in
                _ = try await clients[connection].unary(
                    request: ClientRequest(message: request), descriptor: method,
                    serializer: ProtobufSerializer<Forge_Testing_V1_EchoRequest>(),
                    deserializer: ProtobufDeserializer<Forge_Testing_V1_EchoResponse>(),
                    options: .defaults
                ) { try $0.message }
            }
            for client in clients { client.beginGracefulShutdown() }
            server.beginGracefulShutdown()
            return result
        }
    }
}
