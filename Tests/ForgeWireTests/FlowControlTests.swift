import ForgeContracts
@testable import ForgeWire
import Foundation
import NIOCore
import SwiftProtobuf
import Testing

// Three minutes: 125 MiB through a debug build, while the suites beside it run whole stacks
// (the journey's eight processes) on the same two cores; a hang still ends.
@Suite("Back-pressure and retries", .timeLimit(.minutes(3)))
struct FlowControlTests {
    @Test("a client that stops reading makes the server stop reading: it never buffers without bound")
    func slowReaderIsBackPressured() async throws {
        let server = try await TestServer.start { $0.maxConcurrentCallsPerConnection = 4096 }
        let calls = 2000
        let payload = Data(repeating: 0x5A, count: 64 * 1024)  // 2,000 × 64 KiB = 125 MiB of replies
        let (handledWhileStalled, received) = try await RawConnection.with(port: server.port) { connection in
            let outbound = connection.outbound
            let request = try Forge_Testing_V1_EchoRequest.with { $0.payload = payload }.serializedData()
            let sender = Task {
                for id in 1...calls {
                    let frame = RawConnection.callFrame(UInt64(id), Forge_Testing_V1_EchoService.Method.echo.path, payload: request)
                    try await outbound.write(frame.encoded(allocator: .init()))
                }
            }
            // Read nothing until the server has stopped taking calls: the count of handled
            // calls stops moving well short of what was sent.
            var last = -1
            var stableRounds = 0
            while stableRounds < 10 {
                try await Task.sleep(for: .milliseconds(30))
                let now = await server.probe.echoCount
                stableRounds = now == last ? stableRounds + 1 : 0
                last = now
            }
            // Now read: every call is answered, none lost.
            let frames = try await connection.read(calls)
            try await sender.value
            return (last, frames.count)
        }
        #expect(handledWhileStalled < calls / 2, "the server stopped reading (handled \(handledWhileStalled) of \(calls) while the client read nothing)")
        #expect(received == calls)
        await server.server.shutdown()
    }

    @Test("a call whose connection dies mid-flight is retried when it carries an idempotency key, and fails UNAVAILABLE when it does not")
    func retryOnlyIdempotentCalls() async throws {
        let server = try await TestServer.start()
        let client = try server.client { $0.connections = 1 }
        let echo = Forge_Testing_V1_EchoClient(channel: client)

        let keyed = Task {
            try await echo.slow(.with { $0.tag = "keyed" }, options: CallOptions(idempotencyKey: "retry-1"))
        }
        #expect(await server.probe.waitUntilStarted("keyed"), "keyed")
        server.server.abortConnections()
        await server.probe.open("keyed")
        #expect(try await keyed.value.tag == "keyed", "retried on a new connection")

        let plain = Task {
            try await echo.slow(.with { $0.tag = "plain" })
        }
        #expect(await server.probe.waitUntilStarted("plain"), "plain")
        server.server.abortConnections()
        let result = await plain.result
        #expect(throws: RPCError(.unavailable, "connection closed")) { try result.get() }
        await client.close()
        await server.server.shutdown()
    }
}
