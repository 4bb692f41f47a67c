import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Calls a server's methods from inside its own process: the same interceptors (authentication,
/// roles, idempotency, logs, metrics), the same deadline rule and cancellation, without
/// encoding a frame, a socket round trip and decoding it again. The gateway's HTTP side calls
/// its own RPCs through one.
///
/// Made before the server (a service's setup runs first); the server it is handed to attaches
/// its dispatcher. A call before that is UNAVAILABLE.
public final class InProcessChannel: RPCChannel, Sendable {
    /// The attached server's dispatcher and longest call timeout: one lock per call.
    private let server = Mutex<(dispatcher: CallDispatcher, maxCallTimeout: Duration)?>(nil)
    private let logger: Logger
    private let eventLoop: any EventLoop

    public init(logger: Logger = Logger(label: "forge.wire.in-process"), eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()) {
        self.logger = logger
        self.eventLoop = eventLoop
    }

    func attach(_ dispatcher: CallDispatcher, maxCallTimeout: Duration) {
        server.withLock { $0 = (dispatcher, maxCallTimeout) }
    }

    public func unary(_ method: MethodDescriptor, payload: Data, options: CallOptions) async throws -> Data {
        guard let (dispatcher, limit) = server.withLock({ $0 }) else {
            throw RPCError(.unavailable, "the server is not started")
        }
        try Task.checkCancellation()
        let (descriptor, route, observersOnly, forwarded) = dispatcher.route(for: method.path)
        let timeout = options.timeout.map { min($0, limit) } ?? limit
        var context = ServerContext(received: descriptor, metadata: options.metadata, timeout: timeout, logger: logger, peer: "in-process")
        context.forwarded = forwarded
        // As on the wire: the handler runs in its own task, cancelled when the deadline passes
        // (an event-loop timer, freed when the call ends first) or when the caller is cancelled.
        let handler = Task { await dispatcher.dispatch(route: route, payload: payload, context: context, observersOnly: observersOnly) }
        let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) { handler.cancel() }
        let result = await withTaskCancellationHandler {
            await handler.value
        } onCancel: {
            handler.cancel()
        }
        timer.cancel()
        return try result.get()
    }
}
