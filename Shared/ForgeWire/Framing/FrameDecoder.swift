import NIOCore

/// Splits the byte stream into frame bodies: `length:uint32 big-endian, body:length bytes`.
///
/// The length is checked before any of the body is buffered, so a peer announcing a 4 GiB frame
/// costs four bytes, not four gigabytes (as grpc-swift-nio-transport's `GRPCMessageDecoder`).
public struct FrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    /// The largest body accepted, in bytes.
    public let maxFrameBytes: Int

    public init(maxFrameBytes: Int) {
        self.maxFrameBytes = maxFrameBytes
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else {
            return nil
        }
        guard length > 0 else { throw FramingError.emptyFrame }
        guard Int(length) <= maxFrameBytes else {
            throw FramingError.frameTooLarge(length: Int(length), limit: maxFrameBytes)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        return buffer.readSlice(length: Int(length))
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try decode(buffer: &buffer)
    }
}

/// Why the byte stream could not be split into frames.
public enum FramingError: Error, Hashable, CustomStringConvertible {
    case frameTooLarge(length: Int, limit: Int)
    case emptyFrame

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit): "frame of \(length) bytes exceeds the limit of \(limit)"
        case .emptyFrame: "frame length 0 is not allowed"
        }
    }

    /// The GoAway a server sends for this error.
    var rpcError: RPCError {
        switch self {
        case .frameTooLarge: RPCError(.resourceExhausted, description)
        case .emptyFrame: RPCError(.invalidArgument, description)
        }
    }
}
