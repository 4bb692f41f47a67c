import NIOSSL

/// How a wire client reaches one upstream.
public struct ClientConfiguration: Sendable {
    /// Connections kept to the upstream; calls are spread over them round-robin.
    public var connections: Int = 2
    /// Timeout of a call whose options set none.
    public var defaultTimeout: Duration = .seconds(30)
    /// Bound on establishing one TCP (and TLS) connection.
    public var connectTimeout: Duration = .seconds(2)
    /// Reconnect backoff: first delay, growth factor, cap, and ± jitter as a fraction.
    public var backoff = Backoff()
    /// Largest frame accepted from the server.
    public var maxFrameBytes: Int = 4 * 1024 * 1024
    /// Calls in flight on one connection; more wait for a free slot (within their deadline).
    /// The server's limit (`ServerConfiguration.maxConcurrentCallsPerConnection`, default 512):
    /// beyond it the server refuses calls RESOURCE_EXHAUSTED, which Forge's own clients never cause.
    public var maxConcurrentCallsPerConnection: Int = 512
    /// Attempts of one call when a retry is allowed (never-sent calls, idempotent calls).
    public var maxAttempts: Int = 3
    /// Client TLS; set `certificateChain`/`privateKey` for mutual TLS.
    public var tls: TLSConfiguration?
    /// The name checked against the server's certificate; defaults to the host.
    public var tlsServerHostname: String?

    public init() {}
}
