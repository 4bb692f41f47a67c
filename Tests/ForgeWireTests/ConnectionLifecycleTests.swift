import ForgeContracts
@testable import ForgeWire
import Foundation
import NIOCore
import NIOSSL
import SwiftProtobuf
import Testing

@Suite("Connection lifecycle, TLS and authentication", .timeLimit(.minutes(1)))
struct ConnectionLifecycleTests {
    @Test("graceful shutdown lets in-flight calls finish, sends GoAway and refuses new calls")
    func gracefulShutdown() async throws {
        let server = try await TestServer.start()
        let (inFlight, goAway, refused) = try await RawConnection.with(port: server.port) { connection in
            try await connection.call(1, Forge_Testing_V1_EchoService.Method.slow, Forge_Testing_V1_SlowRequest.with { $0.tag = "drain" })
            #expect(await server.probe.waitUntilStarted("drain"), "drain")
            let shutdown = Task { await server.server.shutdown() }
            let goAway = try await connection.read(1)
            // A call after GoAway is refused, never processed.
            try await connection.call(2, Forge_Testing_V1_EchoService.Method.echo, Forge_Testing_V1_EchoRequest())
            let refused = try await connection.read(1)
            await server.probe.open("drain")
            let rest = try await connection.readUntilClosed()
            await shutdown.value
            return (rest, goAway, refused)
        }
        #expect(goAway.map(\.goAwayCode) == [.unavailable])
        if case .goAway(let frame) = goAway.first?.kind {
            #expect(frame.lastCallID == 1)
        }
        #expect(refused.map(\.callID) == [2])
        #expect(refused.map(\.replyCode) == [.unavailable])
        #expect(inFlight.map(\.callID) == [1], "the in-flight call was answered before the close")
        #expect(inFlight.map(\.replyCode) == [.ok])
        await #expect(throws: (any Error).self, "the port no longer accepts connections") {
            try await RawConnection.with(port: server.port) { _ in }
        }
    }

    @Test("the client fails fast with UNAVAILABLE while the upstream is down, and reconnects after it restarts")
    func reconnect() async throws {
        let first = try await TestServer.start()
        let port = first.port
        let client = try first.client {
            $0.backoff.initial = .milliseconds(5)
            $0.backoff.maximum = .milliseconds(20)
        }
        let echo = Forge_Testing_V1_EchoClient(channel: client)
        #expect(try await echo.echo(.with { $0.text = "before" }).text == "before")

        await first.server.shutdown()
        let down = await #expect(throws: RPCError.self) { _ = try await echo.echo(.init()) }
        #expect(down?.code == .unavailable)

        let second = try await TestServer.start(port: port)
        // Reconnecting takes real backoff time; poll (bounded) until the pool is back.
        var text = ""
        for _ in 0..<500 where text.isEmpty {
            text = (try? await echo.echo(.with { $0.text = "after" }).text) ?? ""
            if text.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(text == "after")
        await client.close()
        await second.server.shutdown()
    }

    @Test("TLS: a round trip over an encrypted connection")
    func tlsRoundTrip() async throws {
        let server = try await TestServer.start { $0.tls = try? Fixtures.serverTLS(requireClientCertificate: false) }
        let client = try server.client {
            $0.tls = try? Fixtures.clientTLS(withCertificate: false)
            $0.tlsServerHostname = "localhost"
        }
        let response = try await Forge_Testing_V1_EchoClient(channel: client).echo(.with { $0.text = "加密" })
        #expect(response.text == "加密")
        await client.close()
        await server.server.shutdown()
    }

    @Test("mutual TLS admits a client with a certificate signed by the CA and refuses one without")
    func mutualTLS() async throws {
        let server = try await TestServer.start { $0.tls = try? Fixtures.serverTLS(requireClientCertificate: true) }
        let withCertificate = try server.client {
            $0.tls = try? Fixtures.clientTLS(withCertificate: true)
            $0.tlsServerHostname = "localhost"
        }
        let ok = try await Forge_Testing_V1_EchoClient(channel: withCertificate).echo(.with { $0.text = "ok" })
        #expect(ok.text == "ok")

        let without = try server.client {
            $0.tls = try? Fixtures.clientTLS(withCertificate: false)
            $0.tlsServerHostname = "localhost"
            $0.maxAttempts = 1
        }
        let refused = await #expect(throws: RPCError.self) {
            _ = try await Forge_Testing_V1_EchoClient(channel: without).echo(.with { $0.text = "no" })
        }
        #expect(refused?.code == .unavailable)
        #expect(await server.probe.echoCount == 1, "the refused client's call never reached the handler")
        await withCertificate.close()
        await without.close()
        await server.server.shutdown()
    }

    /// A stand-in verifier for the hook: the service kit plugs the JWT verifier in here.
    struct TableAuthenticator: Authenticator {
        func authenticate(token: String) throws -> Principal {
            switch token {
            case "rep-token": Principal(subject: "rep-1", roles: ["sales_rep"], team: "east")
            case "analyst-token": Principal(subject: "ana-1", roles: ["analyst"])
            default: throw RPCError(.unauthenticated, "invalid token")
            }
        }
    }

    @Test(
        "the authentication hook: no token or a bad one → UNAUTHENTICATED, wrong role → PERMISSION_DENIED, right role → the principal reaches the handler",
        arguments: [
            (nil as String?, StatusCode.unauthenticated),
            ("Bearer forged", .unauthenticated),
            ("Basic abc", .unauthenticated),
            ("Bearer analyst-token", .permissionDenied),
            ("Bearer rep-token", .ok),
        ]
    )
    func authentication(header: String?, expected: StatusCode) async throws {
        let auth = AuthenticationInterceptor(authenticator: TableAuthenticator()) { method in
            method == Forge_Testing_V1_EchoService.Method.fail ? .open : .roles(["sales_rep", "admin"])
        }
        let server = try await TestServer.start(interceptors: [LoggingInterceptor(), auth])
        let client = try server.client()
        let echo = Forge_Testing_V1_EchoClient(channel: client)
        var metadata: [String: String] = [:]
        metadata["authorization"] = header
        do {
            let response = try await echo.echo(.init(), options: CallOptions(metadata: metadata))
            #expect(expected == .ok)
            #expect(response.subject == "rep-1")
        } catch let error as RPCError {
            #expect(error.code == expected)
        }
        // An open method needs no token at all.
        let open = await #expect(throws: RPCError.self) { _ = try await echo.fail(.with { $0.code = 5 }) }
        #expect(open?.code == .notFound)
        await client.close()
        await server.server.shutdown()
    }
}
