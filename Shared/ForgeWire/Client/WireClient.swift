import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A client of one upstream: a small pool of multiplexed connections (DESIGN §4).
///
/// Calls carry a deadline (the call's timeout or the default) and the caller's metadata, and go
/// round-robin over the pool. A call that was never sent is retried on another
/// connection; a call whose outcome is unknown is retried only when it has an idempotency key.
public final class WireClient: RPCChannel, Sendable {
    public let host: String
    public let port: Int
    private let configuration: ClientConfiguration
    private let interceptors: [any ClientInterceptor]
    private let connections: [ClientConnection]
    private let next = Atomic<Int>(0)

    public init(
        host: String,
        port: Int,
        configuration: ClientConfiguration = ClientConfiguration(),
        interceptors: [any ClientInterceptor] = [],
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.interceptors = interceptors
        let sslContext = try configuration.tls.map { try NIOSSLContext(configuration: $0) }
        self.connections = (0..<max(1, configuration.connections)).map { _ in
            ClientConnection(host: host, port: port, configuration: configuration, sslContext: sslContext, eventLoop: group.next())
        }
    }

    /// Parses `host:port`.
    public convenience init(
        address: String,
        configuration: ClientConfiguration = ClientConfiguration(),
        interceptors: [any ClientInterceptor] = [],
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw RPCError(.invalidArgument, "address '\(address)' is not host:port")
        }
        let host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        try self.init(host: host, port: port, configuration: configuration, interceptors: interceptors, group: group)
    }

    /// An executor on the event loop of this client's first connection: tasks that make many
    /// calls through this client can prefer it to avoid a thread hop per call.
    public var taskExecutor: EventLoopTaskExecutor {
        EventLoopTaskExecutor(eventLoop: connections[0].eventLoop)
    }

    public func unary(_ method: MethodDescriptor, payload: Data, options: CallOptions) async throws -> Data {
        try await intercept(index: 0, method: method, payload: payload, options: options)
    }

    /// Closes every connection.
    public func close() async {
        for connection in connections {
            await connection.shutdown()
        }
    }

    private func intercept(index: Int, method: MethodDescriptor, payload: Data, options: CallOptions) async throws -> Data {
        if index == interceptors.count {
            return try await send(method: method, payload: payload, options: options)
        }
        return try await interceptors[index].intercept(method: method, options: options) { options in
            try await self.intercept(index: index + 1, method: method, payload: payload, options: options)
        }
    }

    private func send(method: MethodDescriptor, payload: Data, options: CallOptions) async throws -> Data {
        try Task.checkCancellation()
        let timeout = options.timeout ?? configuration.defaultTimeout
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        // x-request-id travels when the caller has one (CallOptions(propagating:) carries it
        // downstream); otherwise the server assigns one, so a plain call sends no metadata map.
        var metadata = options.metadata
        if TextLanguage.current != .zh, metadata[MetadataKey.acceptLanguage] == nil {
            metadata[MetadataKey.acceptLanguage] = TextLanguage.current.rawValue
        }
        let idempotent = metadata[MetadataKey.idempotencyKey] != nil
        var index = next.add(1, ordering: .relaxed).oldValue
        var attempt = 1
        while true {
            let connection = connections[index % connections.count]
            do {
                return try await connection.call(method: method.path, metadata: metadata, deadline: deadline, payload: payload)
            } catch let failure as TransportFailure {
                let retryable = failure.outcome == .notSent || idempotent
                guard retryable, attempt < configuration.maxAttempts, NIODeadline.now() < deadline,
                      !Task.isCancelled
                else {
                    throw failure.error
                }
                attempt += 1
                index += 1
            }
        }
    }
}
