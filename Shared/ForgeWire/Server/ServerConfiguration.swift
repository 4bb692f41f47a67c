import NIOSSL

/// The limits and endpoints of a wire server (DESIGN §4); every default is the design's.
public struct ServerConfiguration: Sendable {
    /// Address to listen on.
    public var host: String
    /// Port to listen on; 0 picks a free one (tests).
    public var port: Int
    /// Largest frame body accepted, in bytes.
    public var maxFrameBytes: Int = 4 * 1024 * 1024
    /// Calls in flight per connection; beyond it a call is answered RESOURCE_EXHAUSTED.
    public var maxConcurrentCallsPerConnection: Int = 512
    /// Open connections; beyond it a new connection gets GoAway RESOURCE_EXHAUSTED.
    public var maxConnections: Int = 4096
    /// A connection with no call in flight and no frame received for this long is closed (GoAway first).
    public var idleTimeout: Duration = .seconds(300)
    /// The bound of a call with `timeout_ms = 0`, and the cap of any call's timeout.
    public var maxCallTimeout: Duration = .seconds(30)
    /// How long in-flight calls may run after a graceful shutdown starts.
    public var shutdownGracePeriod: Duration = .seconds(10)
    /// Server TLS; with `trustRoots` set, clients must present a certificate (mutual TLS).
    public var tls: TLSConfiguration?
    /// Where handlers run: on the connection's event loop (no thread hop; handlers must not
    /// block) or on Swift's global concurrent executor.
    public var handlerExecutor: HandlerExecutor = .eventLoop

    public enum HandlerExecutor: Sendable {
        case eventLoop
        case global
    }

    public init(host: String = "127.0.0.1", port: Int) {
        self.host = host
        self.port = port
    }
}
