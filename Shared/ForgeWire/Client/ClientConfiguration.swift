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
    /// Attempts of one call when a retry is allowed (never-sent calls, idempotent calls).
    public var maxAttempts: Int = 3
    /// Client TLS; set `certificateChain`/`privateKey` for mutual TLS.
    public var tls: TLSConfiguration?
    /// The name checked against the server's certificate; defaults to the host.
    public var tlsServerHostname: String?

    public struct Backoff: Sendable {
        public var initial: Duration = .milliseconds(100)
        public var multiplier: Double = 1.6
        public var maximum: Duration = .seconds(5)
        public var jitter: Double = 0.2

        public init() {}

        /// The delay before attempt `attempt` (0-based), with jitter.
        func delay(attempt: Int) -> Duration {
            let base = Double(initial.components.seconds) + Double(initial.components.attoseconds) / 1e18
            let cap = Double(maximum.components.seconds) + Double(maximum.components.attoseconds) / 1e18
            let grown = min(cap, base * pow(multiplier, Double(attempt)))
            let jittered = grown * (1 + Double.random(in: -jitter...jitter))
            return .nanoseconds(Int64(max(0, jittered) * 1e9))
        }
    }

    public init() {}
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    var remaining = Int(exponent)
    while remaining > 0 {
        result *= base
        remaining -= 1
    }
    return result
}
