import Foundation
import ForgeWire
import Histogram
import NIOCore
import NIOPosix
import Synchronization

/// The practical ceiling: a bare SwiftNIO server echoing length-prefixed frames, with no
/// envelope, no handler dispatch and no tasks; the client pipelines C/K frames per connection.
enum NIOEchoTarget {
    final class EchoHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let body = unwrapInboundIn(data)
            var frame = context.channel.allocator.buffer(capacity: 4 + body.readableBytes)
            frame.writeInteger(UInt32(body.readableBytes))
            frame.writeImmutableBuffer(body)
            context.write(wrapOutboundOut(frame), promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }
    }

    /// Keeps `inFlight` frames outstanding; replies come back in order, so send times are a FIFO.
    final class LoadHandler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let inFlight: Int
        let frame: ByteBuffer
        let measureFrom: NIODeadline
        let end: NIODeadline
        let done: EventLoopPromise<(UInt64, Histogram<UInt64>)>
        var sent: [NIODeadline] = []
        var head = 0
        var calls: UInt64 = 0
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var finished = false

        init(inFlight: Int, payloadBytes: Int, measureFrom: NIODeadline, end: NIODeadline, done: EventLoopPromise<(UInt64, Histogram<UInt64>)>) {
            self.inFlight = inFlight
            var frame = ByteBuffer()
            frame.writeInteger(UInt32(payloadBytes))
            frame.writeBytes(Array(repeating: 7, count: payloadBytes))
            self.frame = frame
            self.measureFrom = measureFrom
            self.end = end
            self.done = done
        }

        func channelActive(context: ChannelHandlerContext) {
            for _ in 0..<inFlight { send(context: context) }
            context.flush()
        }

        func send(context: ChannelHandlerContext) {
            sent.append(.now())
            context.write(wrapOutboundOut(frame), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let now = NIODeadline.now()
            let began = sent[head]
            head += 1
            if head > 4096 {
                sent.removeFirst(head)
                head = 0
            }
            if began >= measureFrom, now <= end {
                _ = histogram.record(UInt64((now - began).nanoseconds))
                calls += 1
            }
            if now < end {
                send(context: context)
            } else if !finished, head == sent.count {
                finished = true
                done.succeed((calls, histogram))
                context.close(promise: nil)
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }
    }

    static func run(_ load: LoadShape) async throws -> LoadResult {
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: 1 << 22)))
                    try channel.pipeline.syncOperations.addHandler(EchoHandler())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let measureFrom = NIODeadline.now() + .nanoseconds(Int64(load.warmup * 1e9))
        let end = measureFrom + .nanoseconds(Int64(load.duration * 1e9))
        let measureStart = ContinuousClock.now + .seconds(load.warmup)
        let counting = countAllocations(load, from: measureStart, to: measureStart + .seconds(load.duration))
        var futures: [EventLoopFuture<(UInt64, Histogram<UInt64>)>] = []
        for index in 0..<load.connections {
            let perConnection = load.concurrency / load.connections + (index < load.concurrency % load.connections ? 1 : 0)
            let loop = group.next()
            let done = loop.makePromise(of: (UInt64, Histogram<UInt64>).self)
            futures.append(done.futureResult)
            _ = try await ClientBootstrap(group: loop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maxFrameBytes: 1 << 22)))
                        try channel.pipeline.syncOperations.addHandler(
                            LoadHandler(inFlight: perConnection, payloadBytes: load.payloadBytes, measureFrom: measureFrom, end: end, done: done)
                        )
                    }
                }
                .connect(host: "127.0.0.1", port: server.localAddress!.port!).get()
        }
        var total = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var calls: UInt64 = 0
        for future in futures {
            let (count, histogram) = try await future.get()
            calls += count
            total.add(histogram)
        }
        try await server.close()
        return LoadResult(calls: calls, seconds: load.duration, histogram: total, errors: 0, allocations: await counting.value)
    }
}
