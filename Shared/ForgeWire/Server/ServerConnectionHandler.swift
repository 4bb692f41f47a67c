import Foundation
import Logging
import NIOCore
import SwiftProtobuf

/// Asks a connection to drain: send GoAway, refuse new calls, close once in-flight calls end.
struct ServerShutdownEvent: Sendable {}

/// Serves the calls of one connection: decodes frames, starts a task per call, enforces the
/// concurrency limit, deadlines, Cancel, Ping, the idle timeout and graceful drain, and writes
/// replies in whatever order the handlers finish.
///
/// All state lives on the connection's event loop; handler tasks hand their result back to it.
final class ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct InFlightCall {
        var task: Task<Void, Never>?
    }

    private let configuration: ServerConfiguration
    private let dispatcher: CallDispatcher
    private let executor: EventLoopTaskExecutor?
    private var logger: Logger
    private var peer = "unknown"
    private var context: ChannelHandlerContext?

    private var inFlight: [UInt64: InFlightCall] = [:]
    private var lastCallID: UInt64 = 0
    private var draining = false
    private var closing = false
    private var readPending = false
    private var flushPending = false
    private var lastActivity = NIODeadline.now()
    private var idleTimer: Scheduled<Void>?
    private var deadlines: DeadlineTracker<UInt64>?

    init(configuration: ServerConfiguration, dispatcher: CallDispatcher, executor: EventLoopTaskExecutor?, logger: Logger) {
        self.configuration = configuration
        self.dispatcher = dispatcher
        self.executor = executor
        self.logger = logger
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        deadlines = DeadlineTracker(eventLoop: context.eventLoop) { [unowned self] callID in
            self.expire(callID: callID)
        }
        if let remote = context.channel.remoteAddress {
            peer = "\(remote)"
        }
        logger[metadataKey: "peer"] = "\(peer)"
        lastActivity = context.eventLoop.now
        scheduleIdleCheck(context: context, after: configuration.idleTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        deadlines?.cancelAll()
        for call in inFlight.values {
            call.task?.cancel()
        }
        inFlight.removeAll()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ServerShutdownEvent {
            startDraining(context: context, reason: RPCError(.unavailable, "server shutting down"))
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let framing = error as? FramingError {
            logger.info("closing connection", metadata: ["reason": "\(framing)"])
            goAwayAndClose(context: context, reason: framing.rpcError)
        } else {
            logger.debug("connection error", metadata: ["error": "\(error)"])
            closeNow(context: context)
        }
    }

    // MARK: Back-pressure: stop reading while the peer does not read our replies.

    func read(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            context.read()
        } else {
            readPending = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable, readPending {
            readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Frames

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        lastActivity = context.eventLoop.now
        let frame: Forge_Wire_V1_Frame
        do {
            frame = try Forge_Wire_V1_Frame(body: unwrapInboundIn(data))
        } catch {
            goAwayAndClose(context: context, reason: RPCError(.invalidArgument, "frame does not decode as forge.wire.v1.Frame"))
            return
        }
        switch frame.kind {
        case .call(let call):
            handleCall(context: context, callID: frame.callID, call: call)
        case .cancel:
            handleCancel(context: context, callID: frame.callID)
        case .ping(let ping):
            var pong = Forge_Wire_V1_Frame()
            pong.kind = .pong(.with { $0.nonce = ping.nonce })
            write(context: context, frame: pong)
        case .pong:
            break
        case .reply, .goAway:
            goAwayAndClose(context: context, reason: RPCError(.invalidArgument, "a client may not send Reply or GoAway frames"))
        case nil:
            goAwayAndClose(context: context, reason: RPCError(.invalidArgument, "frame has no kind"))
        }
    }

    private func handleCall(context: ChannelHandlerContext, callID: UInt64, call: Forge_Wire_V1_Call) {
        guard callID != 0 else {
            goAwayAndClose(context: context, reason: RPCError(.invalidArgument, "call_id 0 is reserved"))
            return
        }
        guard inFlight[callID] == nil else {
            goAwayAndClose(context: context, reason: RPCError(.invalidArgument, "call_id \(callID) is already in flight"))
            return
        }
        if draining {
            // Never processed: the client may retry it on another connection.
            writeReply(context: context, callID: callID, result: .failure(RPCError(.unavailable, "server shutting down")))
            return
        }
        guard inFlight.count < configuration.maxConcurrentCallsPerConnection else {
            let limit = configuration.maxConcurrentCallsPerConnection
            writeReply(context: context, callID: callID, result: .failure(RPCError(.resourceExhausted, "more than \(limit) calls in flight on this connection")))
            return
        }
        let (descriptor, route, observersOnly, forwarded) = dispatcher.route(for: call.method)
        lastCallID = max(lastCallID, callID)

        var timeout = configuration.maxCallTimeout
        if call.timeoutMs > 0 {
            timeout = min(timeout, .milliseconds(Int64(call.timeoutMs)))
        }
        var serverContext = ServerContext(received: descriptor, metadata: call.metadata, timeout: timeout, logger: logger, peer: peer)
        serverContext.forwarded = forwarded

        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let dispatcher = self.dispatcher
        let payload = call.payload
        let task = Task(executorPreference: executor) {
            let result = await dispatcher.dispatch(route: route, payload: payload, context: serverContext, observersOnly: observersOnly)
            if loop.inEventLoop {
                bound.value.complete(callID: callID, result: result)
            } else {
                loop.execute {
                    bound.value.complete(callID: callID, result: result)
                }
            }
        }
        deadlines?.add(callID, deadline: loop.now + TimeAmount(timeout))
        inFlight[callID] = InFlightCall(task: task)
    }

    private func handleCancel(context: ChannelHandlerContext, callID: UInt64) {
        guard let call = inFlight.removeValue(forKey: callID) else { return }
        call.task?.cancel()
        deadlines?.remove(callID)
        writeReply(context: context, callID: callID, result: .failure(RPCError(.cancelled, "cancelled by the client")))
        closeIfDrained(context: context)
    }

    private func expire(callID: UInt64) {
        guard let call = inFlight.removeValue(forKey: callID), let context else { return }
        call.task?.cancel()
        writeReply(context: context, callID: callID, result: .failure(RPCError(.deadlineExceeded, "deadline exceeded")))
        closeIfDrained(context: context)
    }

    private func complete(callID: UInt64, result: Result<Data, RPCError>) {
        // Absent when the deadline or a Cancel already answered the call.
        guard inFlight.removeValue(forKey: callID) != nil, let context else { return }
        deadlines?.remove(callID)
        guard !closing else { return }
        writeReply(context: context, callID: callID, result: result)
        closeIfDrained(context: context)
    }

    // MARK: Writing

    private func writeReply(context: ChannelHandlerContext, callID: UInt64, result: Result<Data, RPCError>) {
        let frame: Forge_Wire_V1_Frame
        switch result {
        case .success(let payload):
            frame = .reply(callID: callID, status: nil, payload: payload)
        case .failure(let error):
            frame = .reply(callID: callID, status: error, payload: Data())
        }
        write(context: context, frame: frame)
    }

    private func write(context: ChannelHandlerContext, frame: Forge_Wire_V1_Frame) {
        guard !closing else { return }
        do {
            let buffer = try frame.encoded(allocator: context.channel.allocator)
            context.write(wrapOutboundOut(buffer), promise: nil)
            scheduleFlush(context: context)
        } catch {
            logger.error("reply does not encode", metadata: ["error": "\(error)"])
        }
    }

    /// Coalesces the replies finished in one event-loop tick into one flush (one syscall).
    private func scheduleFlush(context: ChannelHandlerContext) {
        guard !flushPending else { return }
        flushPending = true
        context.eventLoop.assumeIsolated().execute {
            self.flushPending = false
            context.flush()
        }
    }

    // MARK: Drain, idle and close

    private func startDraining(context: ChannelHandlerContext, reason: RPCError) {
        guard !draining, !closing else { return }
        draining = true
        write(context: context, frame: .goAway(reason, lastCallID: lastCallID))
        closeIfDrained(context: context)
    }

    private func closeIfDrained(context: ChannelHandlerContext) {
        guard draining, inFlight.isEmpty, !closing else { return }
        closing = true
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func goAwayAndClose(context: ChannelHandlerContext, reason: RPCError) {
        guard !closing else { return }
        if let buffer = try? Forge_Wire_V1_Frame.goAway(reason, lastCallID: lastCallID).encoded(allocator: context.channel.allocator) {
            closing = true
            context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        } else {
            closeNow(context: context)
        }
    }

    private func closeNow(context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        context.close(promise: nil)
    }

    private func scheduleIdleCheck(context: ChannelHandlerContext, after delay: Duration) {
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
            self.checkIdle(context: context)
        }
    }

    private func checkIdle(context: ChannelHandlerContext) {
        guard !closing else { return }
        let idleFor = context.eventLoop.now - lastActivity
        let limit = TimeAmount(configuration.idleTimeout)
        if inFlight.isEmpty, idleFor >= limit {
            startDraining(context: context, reason: RPCError(.ok, "idle timeout"))
        } else {
            let remaining = inFlight.isEmpty ? limit - idleFor : limit
            scheduleIdleCheck(context: context, after: Duration(remaining))
        }
    }
}
