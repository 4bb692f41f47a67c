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
    /// The attached server's dispatcher and longest call timeout, and whether its handlers run
    /// on event loops: one lock per call.
    private let server = Mutex<(dispatcher: CallDispatcher, maxCallTimeout: Duration, onEventLoops: Bool)?>(nil)
    private let logger: Logger
    private let deadlines: ConcurrentDeadlineTracker
    /// One executor per loop of the group, for handlers that run on an event loop as the
    /// server's do (see `handlerExecutor`); a handler's own client calls then start on a loop,
    /// hop-free when it is their connection's.
    private let executors: [EventLoopTaskExecutor]
    private let nextExecutor = Atomic<Int>(0)

    public init(logger: Logger = Logger(label: "forge.wire.in-process"), group: MultiThreadedEventLoopGroup = .singleton) {
        self.logger = logger
        self.executors = group.makeIterator().map { EventLoopTaskExecutor(eventLoop: $0) }
        self.deadlines = ConcurrentDeadlineTracker(eventLoop: group.next())
    }

    func attach(_ dispatcher: CallDispatcher, maxCallTimeout: Duration, handlerExecutor: ServerConfiguration.HandlerExecutor) {
        server.withLock { $0 = (dispatcher, maxCallTimeout, handlerExecutor == .eventLoop) }
    }

    /// The caller's own loop when it runs on one of the group's, else the next in turn.
    private func executor() -> EventLoopTaskExecutor {
        if let current = MultiThreadedEventLoopGroup.currentEventLoop,
           let own = executors.first(where: { $0.eventLoop === current }) {
            return own
        }
        return executors[nextExecutor.wrappingAdd(1, ordering: .relaxed).oldValue % executors.count]
    }

    public func unary(_ method: MethodDescriptor, payload: Data, options: CallOptions) async throws -> Data {
        guard let (dispatcher, limit, onEventLoops) = server.withLock({ $0 }) else {
            throw RPCError(.unavailable, "the server is not started")
        }
        try Task.checkCancellation()
        let (descriptor, route, observersOnly, forwarded) = dispatcher.route(for: method.path)
        let timeout = options.timeout.map { min($0, limit) } ?? limit
        var context = ServerContext(received: descriptor, metadata: options.metadata, timeout: timeout, logger: logger, peer: "in-process")
        context.forwarded = forwarded
        // As on the wire: the handler runs in its own task, cancelled when the deadline passes
        // (one timer for all the channel's calls, see ConcurrentDeadlineTracker) or when the
        // caller is cancelled.
        let handler = Task(executorPreference: onEventLoops ? executor() : nil) {
            await dispatcher.dispatch(route: route, payload: payload, context: context, observersOnly: observersOnly)
        }
        let watch = deadlines.add(after: TimeAmount(timeout)) { handler.cancel() }
        let result = await withTaskCancellationHandler {
            await handler.value
        } onCancel: {
            handler.cancel()
        }
        deadlines.remove(watch)
        return try result.get()
    }
}
