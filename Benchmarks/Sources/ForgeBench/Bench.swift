import ArgumentParser
import Foundation
import Histogram
import Logging
import MallocInterposerSwift

/// Measures unary calls on loopback: Forge's wire runtime, grpc-swift-2 and a bare NIO echo,
/// side by side in one run, and prints throughput, percentiles and the ratios.
@main
struct Bench: AsyncParsableCommand {
    @Option(name: .customShort("k"), help: "Connections.")
    var connections = 4

    @Option(name: .customShort("c"), help: "Calls in flight, spread over the connections.")
    var concurrency = 64

    @Option(help: "Seconds measured per target (after the warm-up).")
    var duration = 10.0

    @Option(help: "Seconds of warm-up per target, not measured.")
    var warmup = 2.0

    @Option(help: "Payload bytes per call.")
    var payload = 100

    @Option(help: "Targets to run, comma-separated: forge, grpc, nio.")
    var targets = "forge,grpc,nio"

    @Flag(help: "Run Forge's calling tasks on their connection's event loop (no thread hop per call).")
    var pinned = false

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        let load = LoadShape(connections: connections, concurrency: concurrency, duration: duration, warmup: warmup, payloadBytes: payload)
        print("unary echo, \(payload)-byte payload, K=\(connections) connections, C=\(concurrency) in flight, \(duration) s each (after \(warmup) s warm-up)")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, client and server in this one process sharing them")
        var results: [String: LoadResult] = [:]
        for target in targets.split(separator: ",").map(String.init) {
            let result: LoadResult
            switch target {
            case "forge": result = try await ForgeTarget.run(load, pinned: pinned)
            case "grpc": result = try await GRPCTarget.run(load)
            case "nio": result = try await NIOEchoTarget.run(load)
            default: throw ValidationError("unknown target \(target)")
            }
            results[target] = result
            print(result.line(name: target))
        }
        if let forge = results["forge"] {
            if let grpc = results["grpc"] {
                print(String(format: "forge / grpc-swift-2 throughput: %.1f×   p50: %.2f×", forge.callsPerSecond / grpc.callsPerSecond, Double(forge.p50) / Double(grpc.p50)))
            }
            if let nio = results["nio"] {
                print(String(format: "forge / bare NIO throughput: %.1f %%   p50: %.2f×", 100 * forge.callsPerSecond / nio.callsPerSecond, Double(forge.p50) / Double(nio.p50)))
            }
        }
    }
}

struct LoadShape: Sendable {
    var connections: Int
    var concurrency: Int
    var duration: Double
    var warmup: Double
    var payloadBytes: Int
}

/// Calls completed in the measured window and their latency histogram (nanoseconds).
struct LoadResult: Sendable {
    var calls: UInt64
    var seconds: Double
    var histogram: Histogram<UInt64>
    var errors: Int
    /// Heap allocations (client + server, whole process) in the measured window; 0 when the
    /// interposer is not preloaded.
    var allocations: Int = 0

    var allocationsPerCall: Double { calls == 0 ? 0 : Double(allocations) / Double(calls) }

    var callsPerSecond: Double { Double(calls) / seconds }
    var p50: UInt64 { histogram.valueAtPercentile(50) }

    func line(name: String) -> String {
        func micros(_ value: UInt64) -> String { String(format: "%.0f µs", Double(value) / 1000) }
        return "\(name.padding(toLength: 6, withPad: " ", startingAt: 0)) \(String(format: "%10.0f", callsPerSecond)) calls/s   p50 \(micros(p50))   p90 \(micros(histogram.valueAtPercentile(90)))   p99 \(micros(histogram.valueAtPercentile(99)))   p99.9 \(micros(histogram.valueAtPercentile(99.9)))   errors \(errors)" + (allocations > 0 ? String(format: "   allocations/call %.1f", allocationsPerCall) : "")
    }
}

/// Runs `concurrency` loops of `call` until the window closes; each loop uses connection
/// `index % connections`. Only calls finishing inside the measured window count.
func drive(
    _ load: LoadShape,
    executor: @escaping @Sendable (_ connection: Int) -> (any TaskExecutor)? = { _ in nil },
    call: @escaping @Sendable (_ connection: Int) async throws -> Void
) async -> LoadResult {
    let start = ContinuousClock.now
    let measureFrom = start + .seconds(load.warmup)
    let end = measureFrom + .seconds(load.duration)
    // Count heap allocations exactly over the measured window (LD_PRELOADed interposer).
    let counting = Task.detached {
        try? await Task.sleep(until: measureFrom, clock: .continuous)
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
        try? await Task.sleep(until: end, clock: .continuous)
        MallocInterposerSwift.unhook()
        return MallocInterposerSwift.getStatistics().mallocCount
    }
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
