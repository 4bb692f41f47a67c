import Foundation
import SwiftProtobuf

/// Maps method paths to handlers. Generated `register(in:)` methods fill it; the server
/// dispatches every call through it.
public struct RPCRouter: Sendable {
    /// A type-erased handler: serialized request in, serialized response out.
    public typealias Route = @Sendable (_ payload: Data, _ context: ServerContext) async throws -> Data

    @usableFromInline
    internal var routes: [String: (descriptor: MethodDescriptor, route: Route)] = [:]

    /// Serves the methods no route is registered for by passing them on (the gateway forwards
    /// a domain service's methods to that service, DESIGN §2); nil answers UNIMPLEMENTED. It
    /// must return a bounded set of descriptors (metrics label calls by them).
    public var forwarding: (@Sendable (_ path: String) -> (descriptor: MethodDescriptor, route: Route)?)?

    public init() {}

    /// Registers a handler for `method`; a second registration of the same method replaces the first.
    ///
    /// Inlinable so the decode/encode closure is specialized for the concrete message types in
    /// the generated code that calls it.
    @inlinable
    public mutating func register<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ method: MethodDescriptor,
        request: Request.Type,
        handler: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) {
        routes[method.path] = (method, { payload, context in
            let request: Request
            do {
                request = try Request(serializedBytes: payload)
            } catch {
                throw RPCError(
                    .invalidArgument,
                    "payload does not decode as \(Request.protoMessageName): \(error)"
                )
            }
            let undeclared = UndeclaredEnumValues.violations(in: request)
            guard undeclared.isEmpty else { throw RPCError.invalidArgument(undeclared) }
            let response = try await handler(request, context)
            return try response.serializedData()
        })
    }

    func route(for path: String) -> (descriptor: MethodDescriptor, route: Route, forwarded: Bool)? {
        if let (descriptor, route) = routes[path] { return (descriptor, route, false) }
        if let (descriptor, route) = forwarding?(path) { return (descriptor, route, true) }
        return nil
    }
}
