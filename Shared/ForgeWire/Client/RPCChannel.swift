import Foundation
import SwiftProtobuf

/// Something that carries unary calls to a server: the wire client, or a test double.
/// Generated clients are written against it.
public protocol RPCChannel: Sendable {
    /// Sends an already-serialized request and returns the serialized response.
    func unary(_ method: MethodDescriptor, payload: Data, options: CallOptions) async throws -> Data
}

extension RPCChannel {
    /// Sends `request` and decodes the response as `Response`.
    @inlinable
    public func unary<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor,
        request: Request,
        response: Response.Type,
        options: CallOptions
    ) async throws -> Response {
        let payload: Data
        do {
            payload = try request.serializedData()
        } catch {
            throw RPCError(.invalidArgument, "request does not serialize: \(error)")
        }
        let reply = try await unary(method, payload: payload, options: options)
        do {
            return try Response(serializedBytes: reply)
        } catch {
            throw RPCError(.internal, "response does not decode as \(Response.protoMessageName): \(error)")
        }
    }
}

/// Runs around every call a client makes: adds metadata (a token), records metrics.
public protocol ClientInterceptor: Sendable {
    func intercept(
        method: MethodDescriptor,
        options: CallOptions,
        next: @Sendable (CallOptions) async throws -> Data
    ) async throws -> Data
}

/// Adds `authorization: Bearer <token>` to every call that has none.
public struct BearerTokenInterceptor: ClientInterceptor {
    private let token: @Sendable () -> String

    public init(token: @escaping @Sendable () -> String) {
        self.token = token
    }

    public init(token: String) {
        self.token = { token }
    }

    public func intercept(
        method: MethodDescriptor,
        options: CallOptions,
        next: @Sendable (CallOptions) async throws -> Data
    ) async throws -> Data {
        var options = options
        if options.metadata[MetadataKey.authorization] == nil {
            options.metadata[MetadataKey.authorization] = "Bearer \(token())"
        }
        return try await next(options)
    }
}
