import Foundation
import Metrics
import NIOConcurrencyHelpers

/// Counts calls by method and status code and records their latency (swift-metrics), on the
/// server or the client side.
///
/// Metric names: `forge_rpc_<side>_calls_total{method,code}` and
/// `forge_rpc_<side>_duration_seconds{method}` (a timer; Prometheus exports it as a histogram).
public final class RPCMetrics: Sendable {
    private struct Key: Hashable {
        let method: String
        let code: Int
    }

    private struct Handles {
        var counters: [Key: Counter] = [:]
        var timers: [String: Metrics.Timer] = [:]
    }

    private let side: String
    private let handles = NIOLockedValueBox(Handles())

    /// - Parameter side: `server` or `client`.
    public init(side: String) {
        self.side = side
    }

    func record(method: String, code: StatusCode, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let key = Key(method: method, code: code.rawValue)
        let (counter, timer) = handles.withLockedValue { handles in
            let counter = handles.counters[key] ?? Counter(
                label: "forge_rpc_\(side)_calls_total",
                dimensions: [("method", method), ("code", code.name)]
            )
            handles.counters[key] = counter
            let timer = handles.timers[method] ?? Metrics.Timer(
                label: "forge_rpc_\(side)_duration_seconds",
                dimensions: [("method", method)],
                preferredDisplayUnit: .seconds
            )
            handles.timers[method] = timer
            return (counter, timer)
        }
        counter.increment()
        timer.record(duration: elapsed)
    }
}
/// Server-side metrics: calls by method and code, latency by method.
public struct MetricsInterceptor: ServerInterceptor {
    private let metrics: RPCMetrics

    public init(metrics: RPCMetrics = RPCMetrics(side: "server")) {
        self.metrics = metrics
    }

    public func intercept(
        request: Data,
        context: ServerContext,
        next: @Sendable (ServerContext) async throws -> Data
    ) async throws -> Data {
        let start = ContinuousClock.now
        do {
            let response = try await next(context)
            metrics.record(method: context.method.path, code: .ok, since: start)
            return response
        } catch {
            let mapped = RPCError(mapping: error, deadlineExpired: ContinuousClock.now >= context.deadline)
            metrics.record(method: context.method.path, code: mapped.code, since: start)
            throw error
        }
    }
}

/// Client-side metrics: calls by method and code, latency by method.
public struct ClientMetricsInterceptor: ClientInterceptor {
    private let metrics: RPCMetrics

    public init(metrics: RPCMetrics = RPCMetrics(side: "client")) {
        self.metrics = metrics
    }

    public func intercept(
        method: MethodDescriptor,
        options: CallOptions,
        next: @Sendable (CallOptions) async throws -> Data
    ) async throws -> Data {
        let start = ContinuousClock.now
        do {
            let response = try await next(options)
            metrics.record(method: method.path, code: .ok, since: start)
            return response
        } catch let error as RPCError {
            metrics.record(method: method.path, code: error.code, since: start)
            throw error
        }
    }
}
