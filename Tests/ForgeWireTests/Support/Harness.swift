import ForgeContracts
@testable import ForgeWire
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SwiftProtobuf

/// A wire server serving the echo test service on 127.0.0.1, port 0 unless given.
struct TestServer {
    let server: WireServer
    let probe: Probe
    let port: Int

    static func start(
        port: Int = 0,
        probe: Probe = Probe(),
        interceptors: [any ServerInterceptor] = WireServer.defaultInterceptors,
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> TestServer {
        var configuration = ServerConfiguration(host: "127.0.0.1", port: port)
        configure(&configuration)
        var router = RPCRouter()
        EchoService(probe: probe).register(in: &router)
        let server = WireServer(configuration: configuration, router: router, interceptors: interceptors)
        let address = try await server.start()
        return TestServer(server: server, probe: probe, port: address.port!)
    }

    func client(configure: (inout ClientConfiguration) -> Void = { _ in }, interceptors: [any ClientInterceptor] = []) throws -> WireClient {
        var configuration = ClientConfiguration()
        // A loaded CI machine can take longer than the default 2 s to complete a loopback
        // connect (seen once in 60 runs with a release build and two busy loops on the two
        // cores); the pool then backs off and fails every waiting call UNAVAILABLE, as it
        // should. Tests are about what follows the connect. A refused connect still fails at once.
        configuration.connectTimeout = .seconds(30)
        configure(&configuration)
        return try WireClient(host: "127.0.0.1", port: port, configuration: configuration, interceptors: interceptors)
    }
}

/// A bare TCP connection speaking raw frames, to send what a well-behaved client never would.
final class RawConnection {
    /// The sending half alone, for a task that writes while another reads.
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let channel: any Channel

    private init(
        channel: any Channel,
        inbound: NIOAsyncChannelInboundStream<ByteBuffer>,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    ) {
        self.channel = channel
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// Connects, runs `body`, closes.
    static func with<T>(port: Int, _ body: (RawConnection) async throws -> T) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(FrameDecoder(maxFrameBytes: 64 * 1024 * 1024))
                    )
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(RawConnection(channel: channel.channel, inbound: inbound, outbound: outbound))
        }
    }

    func send(bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    func send(_ frame: Forge_Wire_V1_Frame) async throws {
        try await outbound.write(frame.encoded(allocator: .init()))
    }

    func call(_ id: UInt64, _ method: MethodDescriptor, _ request: some SwiftProtobuf.Message, timeoutMs: UInt32 = 0) async throws {
        try await send(Self.callFrame(id, method.path, payload: try request.serializedData(), timeoutMs: timeoutMs))
    }

    func cancel(_ id: UInt64) async throws {
        var frame = Forge_Wire_V1_Frame()
        frame.callID = id
        frame.kind = .cancel(Forge_Wire_V1_Cancel())
        try await send(frame)
    }

    static func callFrame(_ id: UInt64, _ path: String, payload: Data, timeoutMs: UInt32 = 0) -> Forge_Wire_V1_Frame {
        var frame = Forge_Wire_V1_Frame()
        frame.callID = id
        frame.kind = .call(.with {
            $0.method = path
            $0.payload = payload
            $0.timeoutMs = timeoutMs
        })
        return frame
    }

    /// The next frame, or nil once the server closed the connection.
    func next() async throws -> Forge_Wire_V1_Frame? {
        guard let body = try await inbound.next() else { return nil }
        return try Forge_Wire_V1_Frame(body: body)
    }

    /// Reads `count` frames (fewer if the connection closes first).
    func read(_ count: Int) async throws -> [Forge_Wire_V1_Frame] {
        var frames: [Forge_Wire_V1_Frame] = []
        while frames.count < count, let frame = try await next() {
            frames.append(frame)
        }
        return frames
    }

    /// Reads every frame until the server closes the connection.
    func readUntilClosed() async throws -> [Forge_Wire_V1_Frame] {
        var frames: [Forge_Wire_V1_Frame] = []
        while let frame = try await next() {
            frames.append(frame)
        }
        return frames
    }
}

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    static func serverTLS(requireClientCertificate: Bool) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(path("server.pem")).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: path("server.key"), format: .pem))
        )
        if requireClientCertificate {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .file(path("ca.pem"))
        }
        return tls
    }

    static func clientTLS(withCertificate: Bool) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(path("ca.pem"))
        if withCertificate {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(path("client.pem")).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: path("client.key"), format: .pem))
        }
        return tls
    }
}

extension Forge_Wire_V1_Frame {
    var replyCode: StatusCode? {
        if case .reply(let reply) = kind { return reply.status.code }
        return nil
    }

    var goAwayCode: StatusCode? {
        if case .goAway(let goAway) = kind { return goAway.reason.code }
        return nil
    }
}
