import Foundation
import Metrics
import NIOConcurrencyHelpers

/// Counts calls by method and status code and records their latency (swift-metrics), on the
/// server or the client side.
///
/// Metric names: `forge_rpc_<side>_calls_total{method,code}` and
/// `forge_rpc_<side>_duration_seconds{method}` (a timer; Prometheus exports it as a histogram).
public final class RPCMetrics: Sendable {
    /// The handles of one method: its latency timer, its OK counter (nearly every call) and
    /// the counters of the other codes it has answered with, made on first use.
    private final class MethodHandles: Sendable {
        let timer: Metrics.Timer
        private let side: String
        private let method: String
        private let ok: Counter
        private let others = NIOLockedValueBox([StatusCode: Counter]())

        init(side: String, method: String) {
            self.side = side
            self.method = method
            timer = Metrics.Timer(
                label: "forge_rpc_\(side)_duration_seconds",
                dimensions: [("method", method)],
                preferredDisplayUnit: .seconds
            )
            ok = Self.makeCounter(side: side, method: method, code: .ok)
        }

        func counter(for code: StatusCode) -> Counter {
            if code == .ok { return ok }
            return others.withLockedValue { counters in
                if let existing = counters[code] { return existing }
                let created = Self.makeCounter(side: side, method: method, code: code)
                counters[code] = created
                return created
            }
        }

        private static func makeCounter(side: String, method: String, code: StatusCode) -> Counter {
            Counter(label: "forge_rpc_\(side)_calls_total", dimensions: [("method", method), ("code", code.name)])
        }
    }

    private let side: String
    private let handles = NIOLockedValueBox([String: MethodHandles]())

    /// - Parameter side: `server` or `client`.
    public init(side: String) {
        self.side = side
    }

    func record(method: String, code: StatusCode, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        // One dictionary lookup per call; the handles are made on a method's first call.
        let methodHandles = handles.withLockedValue { handles in
            if let existing = handles[method] { return existing }
            let created = MethodHandles(side: side, method: method)
            handles[method] = created
            return created
        }
        methodHandles.counter(for: code).increment()
        methodHandles.timer.record(duration: elapsed)
    }
}

/// Server-side metrics: calls by method and code, latency by method.
public struct MetricsInterceptor: CallObserver {
    private let metrics: RPCMetrics

    public init(metrics: RPCMetrics = RPCMetrics(side: "server")) {
        self.metrics = metrics
    }

    public func intercept(
        request: Data,
        context: ServerContext,
        next: @Sendable (ServerContext) async throws -> Data
    ) async throws -> Data {
        do {
            let response = try await next(context)
            metrics.record(method: context.method.path, code: .ok, since: context.receivedAt)
            return response
        } catch {
            let mapped = RPCError(mapping: error, deadlineExpired: ContinuousClock.now >= context.deadline)
            metrics.record(method: context.method.path, code: mapped.code, since: context.receivedAt)
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
