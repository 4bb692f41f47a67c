import Foundation

/// Exponential backoff with a cap and ± jitter: reconnects, consumer retries, job retries and
/// process restarts all wait this way.
public struct Backoff: Sendable {
    public var initial: Duration
    public var multiplier: Double
    public var maximum: Duration
    /// ± fraction of the delay drawn at random (0 for none).
    public var jitter: Double

    public init(
        initial: Duration = .milliseconds(100),
        multiplier: Double = 1.6,
        maximum: Duration = .seconds(5),
        jitter: Double = 0.2
    ) {
        self.initial = initial
        self.multiplier = multiplier
        self.maximum = maximum
        self.jitter = jitter
    }

    /// The delay before retry `attempt` (0-based).
    public func delay(attempt: Int) -> Duration {
        let grown = min(maximum / .seconds(1), initial / .seconds(1) * pow(multiplier, Double(attempt)))
        let jittered = jitter > 0 ? grown * (1 + Double.random(in: -jitter...jitter)) : grown
        return .nanoseconds(Int64(max(0, jittered) * 1e9))
    }
}
