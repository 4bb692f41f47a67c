import Foundation
import NIOCore
import SwiftProtobuf

extension Forge_Wire_V1_Frame {
    /// Decodes a frame body in place (no copy of the body).
    init(body: ByteBuffer) throws {
        try self.init(serializedBytes: body.readableBytesSpan)
    }

    /// The frame as a length-prefixed buffer: serialized straight into the buffer after its
    /// 4-byte length, one allocation and no copy.
    func encoded(allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let framed: LengthPrefixedBytes = try serializedBytes()
        return framed.buffer
    }

    static func reply(callID: UInt64, status: RPCError?, payload: Data) -> Self {
        var frame = Self()
        frame.callID = callID
        var reply = Forge_Wire_V1_Reply()
        if let status {
            reply.status = status.status
        } else {
            reply.status = Forge_Wire_V1_Status()
            reply.payload = payload
        }
        frame.kind = .reply(reply)
        return frame
    }

    static func goAway(_ reason: RPCError, lastCallID: UInt64) -> Self {
        var frame = Self()
        var goAway = Forge_Wire_V1_GoAway()
        goAway.reason = reason.status
        goAway.lastCallID = lastCallID
        frame.kind = .goAway(goAway)
        return frame
    }
}

/// Lets swift-protobuf serialize directly into a `ByteBuffer` that starts with the frame's
/// big-endian length: the serializer asks for `count` zeroed bytes, then fills them in place.
struct LengthPrefixedBytes: SwiftProtobufContiguousBytes {
    var buffer: ByteBuffer

    init(repeating: UInt8, count: Int) {
        buffer = ByteBufferAllocator().buffer(capacity: 4 + count)
        buffer.writeInteger(UInt32(count))
        buffer.writeRepeatingByte(repeating, count: count)
    }

    init<S: Sequence>(_ sequence: S) where S.Element == UInt8 {
        let bytes = Array(sequence)
        buffer = ByteBufferAllocator().buffer(capacity: 4 + bytes.count)
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
    }

    var count: Int { buffer.readableBytes - 4 }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes { try body(UnsafeRawBufferPointer(rebasing: $0.dropFirst(4))) }
    }

    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeMutableReadableBytes { try body(UnsafeMutableRawBufferPointer(rebasing: $0.dropFirst(4))) }
    }
}
