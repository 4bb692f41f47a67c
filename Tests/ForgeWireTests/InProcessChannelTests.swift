import ForgeContracts
@testable import ForgeWire
import Foundation
import NIOCore
import NIOEmbedded
import SwiftProtobuf
import Synchronization
import Testing

@Suite("Calling a server in its own process")
struct InProcessChannelTests {
    /// The echo service behind the authentication hook, reached only through `channel`.
    private func serve(probe: Probe, channel: InProcessChannel) async throws -> WireServer {
        var router = RPCRouter()
        EchoService(probe: probe).register(in: &router)
        let auth = AuthenticationInterceptor(authenticator: ConnectionLifecycleTests.TableAuthenticator()) { _ in .roles(["sales_rep"]) }
        let server = WireServer(configuration: ServerConfiguration(host: "127.0.0.1", port: 0), router: router,
                                interceptors: [LoggingInterceptor(), MetricsInterceptor(), auth], inProcess: channel)
        try await server.start()
        return server
    }

    @Test("an in-process call passes the server's interceptors: no token is UNAUTHENTICATED, a token's principal reaches the handler")
    func interceptors() async throws {
        let channel = InProcessChannel()
        let before = await #expect(throws: RPCError.self) {
            _ = try await Forge_Testing_V1_EchoClient(channel: channel).echo(.init())
        }
        #expect(before?.code == .unavailable, "no server attached yet")
        let server = try await serve(probe: Probe(), channel: channel)
        let echo = Forge_Testing_V1_EchoClient(channel: channel)
        let anonymous = await #expect(throws: RPCError.self) { _ = try await echo.echo(.init()) }
        #expect(anonymous?.code == .unauthenticated)
        let response = try await echo.echo(.with { $0.text = "你好" }, options: CallOptions(metadata: ["authorization": "Bearer rep-token", "x-request-id": "req-1"]))
        #expect(response.text == "你好" && response.subject == "rep-1" && response.requestID == "req-1")
        let unknown = await #expect(throws: RPCError.self) {
            _ = try await channel.unary(MethodDescriptor(service: "forge.nope.v1.Nope", method: "Nothing"), payload: Data(), options: CallOptions())
        }
        #expect(unknown?.code == .unimplemented)
        await server.shutdown()
    }

    @Test("the deadline fails the call with DEADLINE_EXCEEDED and cancels the handler; cancelling the caller cancels it too")
    func deadlineAndCancellation() async throws {
        let probe = Probe()
        let channel = InProcessChannel()
        let server = try await serve(probe: probe, channel: channel)
        let echo = Forge_Testing_V1_EchoClient(channel: channel)
        let token = CallOptions(timeout: .milliseconds(200), metadata: ["authorization": "Bearer rep-token"])
        let expired = await #expect(throws: RPCError.self) { _ = try await echo.slow(.with { $0.tag = "in-process-deadline" }, options: token) }
        #expect(expired?.code == .deadlineExceeded)
        // On a busy machine the deadline can pass before the handler runs; it then never starts.
        if await probe.hasStarted("in-process-deadline") {
            #expect(await probe.waitUntilCancelled("in-process-deadline"), "a started handler is cancelled")
        }

        let call = Task { try await echo.slow(.with { $0.tag = "in-process-cancel" }, options: CallOptions(metadata: ["authorization": "Bearer rep-token"])) }
        #expect(await probe.waitUntilStarted("in-process-cancel"))
        call.cancel()
        await #expect(throws: (any Error).self) { _ = try await call.value }
        #expect(await probe.waitUntilCancelled("in-process-cancel"))
        await server.shutdown()
    }
}

@Suite("Deadlines of calls from any thread, on one timer")
struct ConcurrentDeadlineTrackerTests {
    /// What expired, in order.
    final class Expired: Sendable {
        let keys = Mutex<[String]>([])
        func record(_ key: String) -> @Sendable () -> Void { { self.keys.withLock { $0.append(key) } } }
        var list: [String] { keys.withLock { $0 } }
    }

    @Test("each call expires at its own deadline — also one added after a later one, which re-arms the timer earlier — and a removed call never does")
    func expiries() throws {
        let loop = EmbeddedEventLoop()
        let tracker = ConcurrentDeadlineTracker(eventLoop: loop)
        let expired = Expired()
        _ = tracker.add(after: .seconds(30), expire: expired.record("thirty"))
        _ = tracker.add(after: .milliseconds(200), expire: expired.record("short"))
        let removed = tracker.add(after: .milliseconds(100), expire: expired.record("removed"))
        _ = tracker.add(after: .seconds(1), expire: expired.record("one"))
        tracker.remove(removed)
        loop.advanceTime(by: .milliseconds(199))
        #expect(expired.list.isEmpty)
        loop.advanceTime(by: .milliseconds(1))
        #expect(expired.list == ["short"])
        loop.advanceTime(by: .milliseconds(800))
        #expect(expired.list == ["short", "one"])
        loop.advanceTime(by: .seconds(29))
        #expect(expired.list == ["short", "one", "thirty"])
        _ = tracker.add(after: .seconds(5), expire: expired.record("later"))
        loop.advanceTime(by: .seconds(5))
        #expect(expired.list == ["short", "one", "thirty", "later"], "an idle tracker arms again")
        try loop.syncShutdownGracefully()
    }
}
