import NIOCore
import NIOHTTP1
import NIOPosix

/// A lean HTTP/1.1 keep-alive connection for load generation: one request at a time, the
/// whole response collected. The wire side is measured with Forge's own lean client; the HTTP
/// side gets one of the same weight, so on two shared cores the comparison measures the
/// server, not AsyncHTTPClient's per-request machinery (request and response state machines,
/// connection-pool bookkeeping, async body streams).
///
/// HTTP/1.1 carries one request per connection at a time: a load of C requests in flight
/// opens C connections (`LoadShape.connections = concurrency`, each loop owns one).
public final class HTTP1Connection: Sendable {
    private let channel: any Channel
    private let host: String

    public static func connect(host: String, port: Int, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> HTTP1Connection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandlers([
                        NIOHTTPClientResponseAggregator(maxContentLength: 1 << 24),
                        ExchangeHandler(),
                    ])
                }
            }
            .connect(host: host, port: port).get()
        return HTTP1Connection(channel: channel, host: "\(host):\(port)")
    }

    private init(channel: any Channel, host: String) {
        self.channel = channel
        self.host = host
    }

    /// GET `path` with the extra headers; the status and the body's length (the body is read
    /// whole, as a client would before using it).
    public func get(_ path: String, headers extra: [(String, String)] = []) async throws -> (status: UInt, bytes: Int) {
        var headers = HTTPHeaders([("Host", host)])
        headers.add(contentsOf: extra)
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        let promise = channel.eventLoop.makePromise(of: NIOHTTPClientResponseFull.self)
        channel.writeAndFlush(ExchangeHandler.Exchange(head: head, response: promise), promise: nil)
        let response = try await promise.futureResult.get()
        return (response.head.status.code, response.body?.readableBytes ?? 0)
    }

    public func close() async {
        try? await channel.close()
    }

    /// Writes a request and answers its promise with the next full response; fails what is
    /// outstanding when the connection closes.
    final class ExchangeHandler: ChannelDuplexHandler {
        struct Exchange {
            let head: HTTPRequestHead
            let response: EventLoopPromise<NIOHTTPClientResponseFull>
        }
        typealias InboundIn = NIOHTTPClientResponseFull
        typealias OutboundIn = Exchange
        typealias OutboundOut = HTTPClientRequestPart

        private var waiting: [EventLoopPromise<NIOHTTPClientResponseFull>] = []

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let exchange = unwrapOutboundIn(data)
            waiting.append(exchange.response)
            context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
            context.write(wrapOutboundOut(.end(nil)), promise: promise)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !waiting.isEmpty else { return }
            waiting.removeFirst().succeed(unwrapInboundIn(data))
        }

        func channelInactive(context: ChannelHandlerContext) {
            struct ConnectionClosed: Error {}
            for promise in waiting { promise.fail(ConnectionClosed()) }
            waiting = []
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            for promise in waiting { promise.fail(error) }
            waiting = []
            context.close(promise: nil)
        }
    }
}
