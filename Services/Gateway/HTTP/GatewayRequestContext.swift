import ForgeWire
import Hummingbird
import NIOCore

/// Hummingbird's basic request context plus the connection's event loop. An API request is
/// handled on that loop (`HTTPGateway.handle`), as a wire call is on its connection's: the
/// in-process call and the handler behind it stay on the thread that parsed the request and
/// writes the reply, where they used to start on the global executor and hop to an event loop
/// and back.
struct GatewayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let eventLoop: any EventLoop

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        eventLoop = source.channel.eventLoop
    }

    /// Made for the API requests that run on it (pages do not).
    var executor: EventLoopTaskExecutor { EventLoopTaskExecutor(eventLoop: eventLoop) }
}
