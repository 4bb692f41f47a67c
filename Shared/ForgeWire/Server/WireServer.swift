import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A Forge wire server: listens on a TCP port and serves the router's methods (DESIGN §4).
///
/// Run it as a swift-service-lifecycle `Service` (`run()` serves until graceful shutdown, then
/// drains), or drive it directly with `start()` and `shutdown()` (tests).
public final class WireServer: Service, Sendable {
    private struct State {
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var shuttingDown = false
    }

    public let configuration: ServerConfiguration
    private let dispatcher: CallDispatcher
    private let group: any EventLoopGroup
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    private let finished: EventLoopPromise<Void>

    /// The interceptors every server runs unless told otherwise: logging and metrics.
    public static var defaultInterceptors: [any ServerInterceptor] {
        [LoggingInterceptor(), MetricsInterceptor()]
    }

    /// - Parameters:
    ///   - interceptors: run in order around every call (the first is outermost).
    ///   - inProcess: a channel that from now on calls this server's methods without a socket.
    public init(
        configuration: ServerConfiguration,
        router: RPCRouter,
        interceptors: [any ServerInterceptor] = WireServer.defaultInterceptors,
        logger: Logger = Logger(label: "forge.wire.server"),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        inProcess: InProcessChannel? = nil
    ) {
        self.configuration = configuration
        self.dispatcher = CallDispatcher(router: router, interceptors: interceptors)
        inProcess?.attach(dispatcher, maxCallTimeout: configuration.maxCallTimeout, handlerExecutor: configuration.handlerExecutor)
        self.group = group
        self.logger = logger
        self.finished = group.any().makePromise()
    }

    /// The bound address, once started.
    public var localAddress: SocketAddress? {
        state.withLockedValue { $0.listener?.localAddress }
    }

    /// Binds the port and starts accepting connections.
    @discardableResult
    public func start() async throws -> SocketAddress {
        let sslContext = try configuration.tls.map { try NIOSSLContext(configuration: $0) }
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 * 1024, high: 1024 * 1024))
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [self] channel in
                self.initialize(connection: channel, sslContext: sslContext)
            }
        let listener = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        state.withLockedValue { $0.listener = listener }
        guard let address = listener.localAddress else {
            throw RPCError(.internal, "listener has no local address")
        }
        logger.info("wire server listening", metadata: ["address": "\(address)"])
        return address
    }

    /// Serves until the service group shuts down gracefully, then drains.
    public func run() async throws {
        if localAddress == nil {
            try await start()
        }
        try await withGracefulShutdownHandler {
            try await finished.futureResult.get()
        } onGracefulShutdown: {
            Task { await self.shutdown() }
        }
    }

    /// Graceful shutdown: stop accepting, GoAway to every connection, let in-flight calls finish
    /// within the grace period, then close whatever is left.
    public func shutdown() async {
        let listener: (any Channel)? = state.withLockedValue { state in
            guard !state.shuttingDown else { return nil }
            state.shuttingDown = true
            return state.listener
        }
        guard let listener else {
            try? await finished.futureResult.get()
            return
        }
        try? await listener.close()
        let connections = state.withLockedValue { Array($0.connections.values) }
        logger.info("draining", metadata: ["connections": "\(connections.count)"])
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ServerShutdownEvent())
        }
        let grace = configuration.shutdownGracePeriod
        let forceClose = Task {
            try await Task.sleep(for: grace)
            for connection in connections {
                connection.close(promise: nil)
            }
        }
        for connection in connections {
            try? await connection.closeFuture.get()
        }
        forceClose.cancel()
        logger.info("wire server stopped")
        finished.succeed()
    }

    /// Closes every connection at once, as a crash would (tests of client retries).
    func abortConnections() {
        let connections = state.withLockedValue { Array($0.connections.values) }
        for connection in connections {
            connection.close(promise: nil)
        }
    }

    private func initialize(connection channel: any Channel, sslContext: NIOSSLContext?) -> EventLoopFuture<Void> {
        let admitted = state.withLockedValue { state -> Bool in
            guard !state.shuttingDown, state.connections.count < configuration.maxConnections else { return false }
            state.connections[ObjectIdentifier(channel)] = channel
            return true
        }
        guard admitted else {
            let reason = RPCError(.resourceExhausted, "connection limit reached or server shutting down")
            if let buffer = try? Forge_Wire_V1_Frame.goAway(reason, lastCallID: 0).encoded(allocator: channel.allocator) {
                channel.writeAndFlush(buffer).whenComplete { _ in channel.close(promise: nil) }
            } else {
                channel.close(promise: nil)
            }
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        channel.closeFuture.whenComplete { [state] _ in
            state.withLockedValue { _ = $0.connections.removeValue(forKey: ObjectIdentifier(channel)) }
        }
        let executor: EventLoopTaskExecutor? =
            configuration.handlerExecutor == .eventLoop ? EventLoopTaskExecutor(eventLoop: channel.eventLoop) : nil
        return channel.eventLoop.makeCompletedFuture {
            let sync = channel.pipeline.syncOperations
            if let sslContext {
                try sync.addHandler(NIOSSLServerHandler(context: sslContext))
            }
            try sync.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: configuration.maxFrameBytes)))
            try sync.addHandler(
                ServerConnectionHandler(
                    configuration: configuration,
                    dispatcher: dispatcher,
                    executor: executor,
                    logger: logger
                )
            )
        }
    }
}
