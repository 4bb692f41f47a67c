@testable import ForgeWire
import Logging
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Foundation
import SwiftProtobuf
import Testing

@Suite("Frame decoder")
struct FrameDecoderTests {
    private func framed(_ body: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(body.count))
        buffer.writeBytes(body)
        return buffer
    }

    @Test("frames decode identically however the bytes are split, down to one byte at a time")
    func dripFed() throws {
        let bodies: [[UInt8]] = [[1], Array(repeating: 7, count: 300), Array(0...255)]
        let pairs = bodies.map { (framed($0), [ByteBuffer(bytes: $0)]) }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            FrameDecoder(maxFrameBytes: 1024)
        }
    }

    @Test("a length above the limit is rejected from the 4-byte header alone, before any body is buffered")
    func oversizeRejectedEarly() throws {
        var decoder = FrameDecoder(maxFrameBytes: 1024)
        var header = ByteBuffer()
        header.writeInteger(UInt32(4 * 1024 * 1024 * 1024 - 1))
        #expect(throws: FramingError.frameTooLarge(length: 4 * 1024 * 1024 * 1024 - 1, limit: 1024)) {
            _ = try decoder.decode(buffer: &header)
        }
    }

    @Test("a frame exactly at the limit is accepted")
    func atLimit() throws {
        var decoder = FrameDecoder(maxFrameBytes: 16)
        var buffer = framed(Array(repeating: 1, count: 16))
        let body = try decoder.decode(buffer: &buffer)
        #expect(body?.readableBytes == 16)
    }

    @Test("a zero length is rejected")
    func emptyFrame() throws {
        var decoder = FrameDecoder(maxFrameBytes: 16)
        var buffer = ByteBuffer(bytes: [0, 0, 0, 0])
        #expect(throws: FramingError.emptyFrame) { _ = try decoder.decode(buffer: &buffer) }
    }
}

/// The server's connection handler on an embedded channel: no sockets, and time moved by hand.
@Suite("Server connection on an embedded channel")
struct EmbeddedServerTests {
    private func makeChannel(configure: (inout ServerConfiguration) -> Void = { _ in }) throws -> EmbeddedChannel {
        var configuration = ServerConfiguration(port: 0)
        configure(&configuration)
        let dispatcher = CallDispatcher(router: RPCRouter(), interceptors: [])
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ByteToMessageHandler(FrameDecoder(maxFrameBytes: configuration.maxFrameBytes))
        )
        try channel.pipeline.syncOperations.addHandler(
            ServerConnectionHandler(configuration: configuration, dispatcher: dispatcher, executor: nil, logger: Logger(label: "test"))
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    private func readFrames(_ channel: EmbeddedChannel) throws -> [Forge_Wire_V1_Frame] {
        var frames: [Forge_Wire_V1_Frame] = []
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            var decoder = FrameDecoder(maxFrameBytes: 1 << 26)
            while let body = try decoder.decode(buffer: &buffer) {
                frames.append(try Forge_Wire_V1_Frame(body: body))
            }
        }
        return frames
    }

    @Test("an oversize length gets GoAway RESOURCE_EXHAUSTED and the connection closes")
    func oversize() throws {
        let channel = try makeChannel { $0.maxFrameBytes = 1024 }
        var header = ByteBuffer()
        header.writeInteger(UInt32(1025))
        _ = try? channel.writeInbound(header)
        let frames = try readFrames(channel)
        #expect(frames.map(\.goAwayCode) == [.resourceExhausted])
        #expect(!channel.isActive)
    }

    @Test("a body that is not a Frame gets GoAway INVALID_ARGUMENT and the connection closes")
    func garbage() throws {
        let channel = try makeChannel()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(4))
        buffer.writeBytes([0xFF, 0xFF, 0xFF, 0xFF])
        try channel.writeInbound(buffer)
        let frames = try readFrames(channel)
        #expect(frames.map(\.goAwayCode) == [.invalidArgument])
        #expect(!channel.isActive)
    }

    @Test("a Ping is answered with a Pong carrying its nonce")
    func ping() throws {
        let channel = try makeChannel()
        var frame = Forge_Wire_V1_Frame()
        frame.kind = .ping(.with { $0.nonce = 42 })
        try channel.writeInbound(frame.encoded(allocator: .init()))
        channel.embeddedEventLoop.run()
        let frames = try readFrames(channel)
        guard case .pong(let pong) = frames.first?.kind else {
            Issue.record("expected a Pong, got \(frames)")
            return
        }
        #expect(pong.nonce == 42)
    }

    @Test("a Reply from a client is a protocol violation: GoAway INVALID_ARGUMENT")
    func replyFromClient() throws {
        let channel = try makeChannel()
        let frame = Forge_Wire_V1_Frame.reply(callID: 1, status: nil, payload: Data())
        try channel.writeInbound(frame.encoded(allocator: .init()))
        let frames = try readFrames(channel)
        #expect(frames.map(\.goAwayCode) == [.invalidArgument])
        #expect(!channel.isActive)
    }

    @Test("an idle connection gets GoAway after the idle timeout and is closed; activity postpones it")
    func idleTimeout() throws {
        let channel = try makeChannel { $0.idleTimeout = .seconds(300) }
        channel.embeddedEventLoop.advanceTime(by: .seconds(200))
        var ping = Forge_Wire_V1_Frame()
        ping.kind = .ping(.with { $0.nonce = 1 })
        try channel.writeInbound(ping.encoded(allocator: .init()))
        channel.embeddedEventLoop.advanceTime(by: .seconds(200))
        #expect(channel.isActive, "a ping 200 s ago keeps the connection")
        _ = try readFrames(channel)
        channel.embeddedEventLoop.advanceTime(by: .seconds(101))
        let frames = try readFrames(channel)
        #expect(frames.map(\.goAwayCode) == [.ok])
        #expect(!channel.isActive)
    }
}
