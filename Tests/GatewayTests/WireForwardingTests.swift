import ForgeContracts
@testable import ForgeGateway
import ForgeKit
import ForgeWire
import Foundation
import NIOCore
import SwiftProtobuf
import Synchronization
import Testing

/// The gateway's wire forwarding (WireForwarder) between a real client and a real upstream
/// server: the bytes, the caller, the deadline, cancellation and metadata go through; the edge
/// refuses an unauthenticated call before it reaches the service.
@Suite("Gateway wire forwarding")
struct WireForwardingTests {
    /// The upstream: echoes what it saw of the call.
    final class Upstream: Forge_Testing_V1_EchoHandler {
        private let callCount = Atomic<Int>(0)
        var calls: Int { callCount.load(ordering: .relaxed) }
        private let cancelledFlag = Atomic<Bool>(false)
        var cancelled: Bool { cancelledFlag.load(ordering: .relaxed) }
        func resetCancelled() { cancelledFlag.store(false, ordering: .relaxed) }
        /// Milliseconds left of the deadline when the slow call arrived.
        private let budgetMs = Atomic<Int>(-1)
        var budget: Int { budgetMs.load(ordering: .relaxed) }
        /// How many slow calls have reached the handler.
        private let slowCount = Atomic<Int>(0)
        var slowCalls: Int { slowCount.load(ordering: .relaxed) }

        func echo(_ request: Forge_Testing_V1_EchoRequest, context: ServerContext) async throws -> Forge_Testing_V1_EchoResponse {
            callCount.add(1, ordering: .relaxed)
            return .with {
                $0.payload = request.payload
                $0.requestID = context.requestID
                $0.subject = context.principal?.subject ?? context.metadata[MetadataKey.authorization].map { _ in "token" } ?? ""
                $0.text = "key=\(context.idempotencyKey ?? "") internal=\(context.metadata.keys.contains { $0.hasPrefix("x-forge-") })"
            }
        }

        func slow(_ request: Forge_Testing_V1_SlowRequest, context: ServerContext) async throws -> Forge_Testing_V1_SlowResponse {
            budgetMs.store(Int((context.deadline - .now) / .milliseconds(1)), ordering: .relaxed)
            slowCount.add(1, ordering: .relaxed)
            do {
                try await Task.sleep(for: .seconds(30))
            } catch {
                cancelledFlag.store(true, ordering: .relaxed)
                throw error
            }
            return .with { $0.tag = request.tag }
        }

        func fail(_ request: Forge_Testing_V1_FailRequest, context: ServerContext) async throws -> Forge_Testing_V1_FailResponse {
            throw RPCError.invalidArgument([FieldViolation(field: request.field, description: "is wrong")])
        }
    }

    struct Setup {
        let upstream: Upstream
        let upstreamServer: WireServer
        let gateway: WireServer
        let gatewayPort: Int
        let token: String
        let upstreamClient: WireClient

        func client(token: String? = nil) throws -> Forge_Testing_V1_EchoClient {
            let interceptors: [any ClientInterceptor] = token.map { [BearerTokenInterceptor(token: $0)] } ?? []
            return Forge_Testing_V1_EchoClient(channel: try WireClient(host: "127.0.0.1", port: gatewayPort, interceptors: interceptors))
        }

        func stop() async {
            await upstreamClient.close()
            await gateway.shutdown()
            await upstreamServer.shutdown()
        }
    }

    static func setUp() async throws -> Setup {
        let upstream = Upstream()
        var upstreamRouter = RPCRouter()
        upstream.register(in: &upstreamRouter)
        let upstreamServer = WireServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0), router: upstreamRouter, interceptors: [])
        let upstreamPort = try await upstreamServer.start().port!

        let (privateKey, publicKey) = try SigningKeys.generate()
        let issuer = await TokenIssuer(privateKey: privateKey)
        let upstreamClient = try WireClient(host: "127.0.0.1", port: upstreamPort)
        // forge.testing.v1 stands in for a domain service: the forwarder picks the upstream by package.
        let forwarder = WireForwarder(upstreams: ["testing": upstreamClient], callerTokens: CallerTokens(issuer: issuer))
        var table = AccessTable()
        for method in forwarder.methods { table.allow(method, .authenticated) }
        let access = table
        var router = RPCRouter()
        router.forwarding = { forwarder.route(for: $0) }
        let authenticator = await JWTAuthenticator(publicKey: publicKey)
        let gateway = WireServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0), router: router, interceptors: [
            AuthenticationInterceptor(authenticator: authenticator) { access.access(for: $0) },
        ])
        let gatewayPort = try await gateway.start().port!
        let token = try await issuer.issue(subject: "mes-plant-2", roles: ["erp_connector"], ttl: 600)
        return Setup(upstream: upstream, upstreamServer: upstreamServer, gateway: gateway, gatewayPort: gatewayPort, token: token, upstreamClient: upstreamClient)
    }

    @Test("a forwarded call carries its bytes, request id, idempotency key and token to the service and its answer back")
    func passesThrough() async throws {
        let setup = try await Self.setUp()
        let client = try setup.client(token: setup.token)
        let payload = Data((0...255).map { UInt8($0) })
        let response = try await client.echo(.with { $0.payload = payload }, options: CallOptions(metadata: [
            MetadataKey.requestID: "req-42", MetadataKey.idempotencyKey: "batch-7", "x-forge-request-hash": "forged",
        ]))
        #expect(response.payload == payload)
        #expect(response.requestID == "req-42")
        #expect(response.text == "key=batch-7 internal=false", "the key passes; internal keys do not")
        #expect(response.subject == "token")
        await #expect { _ = try await client.fail(.with { $0.field = "reports[3].status" }) } throws: {
            let error = $0 as? RPCError
            return error?.code == .invalidArgument && error?.violations.first?.field == "reports[3].status"
        }
        await #expect { _ = try await client.channel.unary(MethodDescriptor(service: "forge.testing.v1.Echo", method: "Nope"), payload: Data(), options: CallOptions()) } throws: {
            ($0 as? RPCError)?.code == .unimplemented
        }
        await setup.stop()
    }

    @Test("the edge refuses a call without a valid token before the service sees it")
    func edgeAuthentication() async throws {
        let setup = try await Self.setUp()
        await #expect { _ = try await setup.client().echo(.init()) } throws: { ($0 as? RPCError)?.code == .unauthenticated }
        await #expect { _ = try await setup.client(token: "fk_nope_nope").echo(.init()) } throws: { ($0 as? RPCError)?.code == .unauthenticated }
        #expect(setup.upstream.calls == 0)
        await setup.stop()
    }

    @Test("the caller's deadline reaches the service, which is cancelled when it passes or when the caller gives up")
    func deadlineAndCancellation() async throws {
        let setup = try await Self.setUp()
        let client = try setup.client(token: setup.token)
        // Connections from the client to the gateway and on to the service are open before the
        // timed call (a loaded machine may take longer than its budget to open them).
        _ = try await client.echo(.init())
        // The budget is generous and every wait is bounded by 30 s, not by a fixed pause: on a
        // machine running the whole suite in parallel a hop may take seconds (CI saw a 5 s budget
        // spent before the call reached the service).
        await #expect { _ = try await client.slow(.with { $0.tag = "a" }, options: CallOptions(timeout: .seconds(10))) } throws: {
            ($0 as? RPCError)?.code == .deadlineExceeded
        }
        #expect(setup.upstream.slowCalls == 1, "the call reached the service before its deadline")
        let budget = setup.upstream.budget
        #expect(budget > 0 && budget <= 10_000, "the service got the caller's remaining budget, not the gateway's 30 s: \(budget) ms")
        for _ in 0..<3000 where !setup.upstream.cancelled { try await Task.sleep(for: .milliseconds(10)) }
        #expect(setup.upstream.cancelled, "the service's handler was cancelled")

        setup.upstream.resetCancelled()
        let call = Task { try await client.slow(.with { $0.tag = "b" }) }
        for _ in 0..<3000 where setup.upstream.slowCalls < 2 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(setup.upstream.slowCalls == 2, "the second call reached the service")
        call.cancel()
        for _ in 0..<3000 where !setup.upstream.cancelled { try await Task.sleep(for: .milliseconds(10)) }
        #expect(setup.upstream.cancelled, "a caller that gives up cancels the service's work")
        await setup.stop()
    }
}
