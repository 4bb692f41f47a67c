import Foundation
import Histogram
import Logging
import Synchronization

public struct LoadShape: Sendable {
    public var connections: Int
    public var concurrency: Int
    public var duration: Double
    public var warmup: Double
    public var payloadBytes: Int
    /// Starts and stops counting heap allocations around the measured window; returns the count.
    public var allocationCounter: AllocationCounter?

    public init(connections: Int, concurrency: Int, duration: Double, warmup: Double, payloadBytes: Int, allocationCounter: AllocationCounter? = nil) {
        self.connections = connections
        self.concurrency = concurrency
        self.duration = duration
        self.warmup = warmup
        self.payloadBytes = payloadBytes
        self.allocationCounter = allocationCounter
    }
}

/// Brackets the measured window: `start` resets and starts counting, `stop` returns the count.
public struct AllocationCounter: Sendable {
    public var start: @Sendable () -> Void
    public var stop: @Sendable () -> Int

    public init(start: @escaping @Sendable () -> Void, stop: @escaping @Sendable () -> Int) {
        self.start = start
        self.stop = stop
    }
}

/// Calls completed in the measured window and their latency histogram (nanoseconds).
public struct LoadResult: Sendable {
    public var calls: UInt64
    var seconds: Double
    public var histogram: Histogram<UInt64>
    var errors: Int
    /// Heap allocations (client + server, whole process) in the measured window; 0 when the
    /// interposer is not preloaded.
    var allocations: Int = 0

    public var allocationsPerCall: Double { calls == 0 ? 0 : Double(allocations) / Double(calls) }

    public var callsPerSecond: Double { Double(calls) / seconds }

    /// Several measured windows of one load as one: their calls, seconds and latencies added.
    public static func combined(_ results: [LoadResult]) -> LoadResult {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        for result in results { histogram.add(result.histogram) }
        return LoadResult(calls: results.reduce(0) { $0 + $1.calls }, seconds: results.reduce(0) { $0 + $1.seconds },
                          histogram: histogram, errors: results.reduce(0) { $0 + $1.errors }, allocations: results.reduce(0) { $0 + $1.allocations })
    }
    public var p50: UInt64 { histogram.valueAtPercentile(50) }

    public func line(name: String) -> String {
        func micros(_ value: UInt64) -> String { String(format: "%.0f µs", Double(value) / 1000) }
        return "\(name.padding(toLength: 6, withPad: " ", startingAt: 0)) \(String(format: "%10.0f", callsPerSecond)) calls/s   p50 \(micros(p50))   p90 \(micros(histogram.valueAtPercentile(90)))   p99 \(micros(histogram.valueAtPercentile(99)))   p99.9 \(micros(histogram.valueAtPercentile(99.9)))   errors \(errors)" + (allocations > 0 ? String(format: "   allocations/call %.1f", allocationsPerCall) : "")
    }
}

/// Runs `concurrency` loops of `call` until the window closes; each loop uses connection
/// `index % connections`. Only calls finishing inside the measured window count.
public func drive(
    _ load: LoadShape,
    executor: @escaping @Sendable (_ connection: Int) -> (any TaskExecutor)? = { _ in nil },
    call: @escaping @Sendable (_ connection: Int) async throws -> Void
) async -> LoadResult {
    let start = ContinuousClock.now
    let measureFrom = start + .seconds(load.warmup)
    let end = measureFrom + .seconds(load.duration)
    // Count heap allocations exactly over the measured window (LD_PRELOADed interposer).
    let counting = countAllocations(load, from: measureFrom, to: end)
    var result = await withTaskGroup(of: (UInt64, Histogram<UInt64>, Int).self) { group in
        for index in 0..<load.concurrency {
            group.addTask(executorPreference: executor(index % load.connections)) {
                var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
                var calls: UInt64 = 0
                var errors = 0
                while true {
                    let begin = ContinuousClock.now
                    if begin >= end { break }
                    do {
                        try await call(index % load.connections)
                    } catch {
                        errors += 1
                        continue
                    }
                    let finish = ContinuousClock.now
                    if begin >= measureFrom, finish <= end {
                        let elapsed = finish - begin
                        _ = histogram.record(UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000))
                        calls += 1
                    }
                }
                return (calls, histogram, errors)
            }
        }
        var total = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
        var calls: UInt64 = 0
        var errors = 0
        for await (count, histogram, failed) in group {
            calls += count
            total.add(histogram)
            errors += failed
        }
        return LoadResult(calls: calls, seconds: load.duration, histogram: total, errors: errors)
    }
    result.allocations = await counting.value
    return result
}

/// Counts allocations between two instants when the load has a counter; 0 otherwise.
func countAllocations(_ load: LoadShape, from: ContinuousClock.Instant, to: ContinuousClock.Instant) -> Task<Int, Never> {
    Task.detached {
        guard let counter = load.allocationCounter else { return 0 }
        try? await Task.sleep(until: from, clock: .continuous)
        counter.start()
        try? await Task.sleep(until: to, clock: .continuous)
        return counter.stop()
    }
}

/// Runs the named targets one after the other and prints each result and the ratios.
public func runTargets(_ names: [String], load: LoadShape, pinned: Bool) async throws {
    print("unary echo, \(load.payloadBytes)-byte payload, K=\(load.connections) connections, C=\(load.concurrency) in flight, \(load.duration) s each (after \(load.warmup) s warm-up)\(pinned ? ", forge callers pinned to their connection's event loop" : "")")
    print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, client and server in this one process sharing them")
    var results: [String: LoadResult] = [:]
    for target in names {
        let result: LoadResult
        switch target {
        case "forge": result = try await ForgeTarget.run(load, pinned: pinned)
        case "grpc": result = try await GRPCTarget.run(load)
        case "nio": result = try await NIOEchoTarget.run(load)
        default: throw BenchError.unknownTarget(target)
        }
        results[target] = result
        print(result.line(name: target))
    }
    if let forge = results["forge"] {
        if let grpc = results["grpc"] {
            print(String(format: "forge / grpc-swift-2 throughput: %.1f×   p50: %.2f×", forge.callsPerSecond / grpc.callsPerSecond, Double(forge.p50) / Double(grpc.p50)))
            if forge.allocations > 0 {
                print(String(format: "allocations per call: forge %.1f, grpc-swift-2 %.1f", forge.allocationsPerCall, grpc.allocationsPerCall))
            }
        }
        if let nio = results["nio"] {
            print(String(format: "forge / bare NIO throughput: %.1f %%   p50: %.2f×", 100 * forge.callsPerSecond / nio.callsPerSecond, Double(forge.p50) / Double(nio.p50)))
        }
    }
}

public enum BenchError: Error {
    case unknownTarget(String)
    case notServing(Int)
}

extension Duration {
    /// The duration in seconds, fractions included.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

/// Calls `body` for `0..<total` in ranges of `chunk`, on `workers` tasks at once (each takes
/// the next range when done with one): how the seeders keep C calls in flight.
public func inParallel(workers: Int, total: Int, chunk: Int = 1, _ body: @escaping @Sendable (Range<Int>) async throws -> Void) async throws {
    let next = Counter()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<workers {
            group.addTask {
                while true {
                    let first = next.value.wrappingAdd(chunk, ordering: .relaxed).oldValue
                    guard first < total else { return }
                    try await body(first..<min(first + chunk, total))
                }
            }
        }
        try await group.waitForAll()
    }
}

/// A shared counter for loops that take the next index.
public final class Counter: Sendable {
    public let value = Atomic<Int>(0)

    public init() {}
}
