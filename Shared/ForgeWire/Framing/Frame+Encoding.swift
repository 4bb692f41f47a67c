import Foundation
import NIOCore
import SwiftProtobuf

extension Forge_Wire_V1_Frame {
    /// Decodes a frame body.
    init(body: ByteBuffer) throws {
        var body = body
        let bytes = body.readBytes(length: body.readableBytes) ?? []
        try self.init(serializedBytes: bytes)
    }

    /// Writes this frame with its length prefix into `buffer`.
    func write(into buffer: inout ByteBuffer) throws {
        let bytes: [UInt8] = try serializedBytes()
        buffer.reserveCapacity(minimumWritableBytes: 4 + bytes.count)
        buffer.writeInteger(UInt32(bytes.count))
        buffer.writeBytes(bytes)
    }

    /// The frame as a length-prefixed buffer.
    func encoded(allocator: ByteBufferAllocator) throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 0)
        try write(into: &buffer)
        return buffer
    }

    static func reply(callID: UInt64, status: RPCError?, payload: Data, metadata: [String: String]) -> Self {
        var frame = Self()
        frame.callID = callID
        var reply = Forge_Wire_V1_Reply()
        if let status {
            reply.status = status.status
        } else {
            reply.status = Forge_Wire_V1_Status()
            reply.payload = payload
        }
        reply.metadata = metadata
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
