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
    private var nextCallID: UInt64 = 1
    private var flushPending = false
    private(set) var draining = false

    /// Told when the server sends GoAway (the connection takes no new calls) and when the channel closes.
    var onGoAway: (() -> Void)?
    var onClose: (() -> Void)?

    var inFlight: Int { pending.count }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes `call` on this connection.
    func start(_ call: ClientCall) {
        guard let context, !draining else {
            call.fail(RPCError(.unavailable, "connection is closing"), outcome: .notSent)
            return
        }
        let callID = nextCallID
        nextCallID += 1
        call.callID = callID
        call.handler = self
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

    /// Stops `call` on the server (a Cancel frame); the caller answers the call itself.
    func cancel(_ call: ClientCall, error: RPCError) {
        guard pending.removeValue(forKey: call.callID) != nil, let context else { return }
        var frame = Forge_Wire_V1_Frame()
        frame.callID = call.callID
        frame.kind = .cancel(Forge_Wire_V1_Cancel())
        write(frame, context: context)
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
            closeIfDrained()
        case .goAway(let goAway):
            draining = true
            // Calls after last_call_id were never processed: the pool retries them elsewhere.
            for (callID, call) in pending where callID > goAway.lastCallID {
                pending.removeValue(forKey: callID)
                call.fail(RPCError(.unavailable, "server going away: \(goAway.reason.message)"), outcome: .notSent)
            }
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
        onClose?()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
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
