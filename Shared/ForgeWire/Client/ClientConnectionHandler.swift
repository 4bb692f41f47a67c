import Foundation
import NIOCore
import SwiftProtobuf

/// The client end of one connection: numbers calls, writes them, matches replies, handles
/// GoAway and Ping. Confined to the channel's event loop.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?
    private var pending: [UInt64: ClientCall] = [:]
    /// Calls beyond the server's per-connection limit, written as earlier ones finish: the
    /// server would refuse them RESOURCE_EXHAUSTED. Each still has its deadline and can be
    /// cancelled while it waits (it is then skipped here).
    private var queued = CircularBuffer<ClientCall>()
    private let maxInFlight: Int
    private var nextCallID: UInt64 = 1
    private var flushPending = false
    private(set) var draining = false

    /// Told when the server sends GoAway (the connection takes no new calls) and when the channel closes.
    var onGoAway: (() -> Void)?
    var onClose: (() -> Void)?

    var inFlight: Int { pending.count }

    /// - Parameter maxInFlight: the server's limit of concurrent calls per connection.
    init(maxInFlight: Int) {
        self.maxInFlight = max(1, maxInFlight)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes `call` on this connection, or queues it while the connection has the server's
    /// limit of calls in flight.
    func start(_ call: ClientCall) {
        guard context != nil, !draining else {
            call.fail(RPCError(.unavailable, "connection is closing"), outcome: .notSent)
            return
        }
        call.handler = self
        guard pending.count < maxInFlight, queued.isEmpty else {
            queued.append(call)
            return
        }
        write(call)
    }

    /// Writes queued calls while there is room.
    private func startQueued() {
        while pending.count < maxInFlight, let call = queued.popFirst() {
            if !call.finished { write(call) }
        }
    }

    private func write(_ call: ClientCall) {
        guard let context else {
            call.fail(RPCError(.unavailable, "connection is closing"), outcome: .notSent)
            return
        }
        let callID = nextCallID
        nextCallID += 1
        call.callID = callID
        pending[callID] = call

        var frame = Forge_Wire_V1_Frame()
        frame.callID = callID
        var wireCall = Forge_Wire_V1_Call()
        wireCall.method = call.method
        wireCall.metadata = call.metadata
        let remaining = call.deadline - .now()
        wireCall.timeoutMs = UInt32(clamping: max(1, (remaining.nanoseconds + 999_999) / 1_000_000))
        wireCall.payload = call.payload
        frame.kind = .call(wireCall)
        write(frame, context: context)
    }

    /// Stops `call` on the server (a Cancel frame); the caller answers the call itself. A call
    /// still queued was never written: it is skipped when its turn comes.
    func cancel(_ call: ClientCall, error: RPCError) {
        guard pending.removeValue(forKey: call.callID) != nil, let context else { return }
        var frame = Forge_Wire_V1_Frame()
        frame.callID = call.callID
        frame.kind = .cancel(Forge_Wire_V1_Cancel())
        write(frame, context: context)
        startQueued()
        closeIfDrained()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame: Forge_Wire_V1_Frame
        do {
            frame = try Forge_Wire_V1_Frame(body: unwrapInboundIn(data))
        } catch {
            context.close(promise: nil)
            return
        }
        switch frame.kind {
        case .reply(let reply):
            guard let call = pending.removeValue(forKey: frame.callID) else { return }
            if reply.status.code == .ok {
                call.succeed(reply.payload)
            } else {
                call.fail(RPCError(status: reply.status))
            }
            startQueued()
            closeIfDrained()
        case .goAway(let goAway):
            draining = true
            // Calls after last_call_id were never processed: the pool retries them elsewhere.
            for (callID, call) in pending where callID > goAway.lastCallID {
                pending.removeValue(forKey: callID)
                call.fail(RPCError(.unavailable, "server going away: \(goAway.reason.message)"), outcome: .notSent)
            }
            failQueued(RPCError(.unavailable, "server going away: \(goAway.reason.message)"))
            onGoAway?()
            closeIfDrained()
        case .ping(let ping):
            var pong = Forge_Wire_V1_Frame()
            pong.kind = .pong(.with { $0.nonce = ping.nonce })
            write(pong, context: context)
        case .pong:
            break
        case .call, .cancel, nil:
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        let failed = pending.values
        pending.removeAll()
        for call in failed {
            call.fail(RPCError(.unavailable, "connection closed"), outcome: .unknown)
        }
        failQueued(RPCError(.unavailable, "connection closed"))
        onClose?()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Queued calls were never written: the pool may send them elsewhere.
    private func failQueued(_ error: RPCError) {
        while let call = queued.popFirst() {
            call.fail(error, outcome: .notSent)
        }
    }

    private func closeIfDrained() {
        if draining, pending.isEmpty {
            context?.close(promise: nil)
        }
    }

    private func write(_ frame: Forge_Wire_V1_Frame, context: ChannelHandlerContext) {
        guard let buffer = try? frame.encoded(allocator: context.channel.allocator) else { return }
        context.write(wrapOutboundOut(buffer), promise: nil)
        guard !flushPending else { return }
        flushPending = true
        context.eventLoop.assumeIsolated().execute {
            self.flushPending = false
            context.flush()
        }
    }
}
