import ArgumentParser

/// The load shape, shared by the throughput and the allocation benchmark.
public struct BenchOptions: ParsableArguments {
    @Option(name: .customShort("k"), help: "Connections.")
    public var connections = 4

    @Option(name: .customShort("c"), help: "Calls in flight, spread over the connections.")
    public var concurrency = 64

    @Option(help: "Seconds measured per target (after the warm-up).")
    public var duration = 10.0

    @Option(help: "Seconds of warm-up per target, not measured.")
    public var warmup = 2.0

    @Option(help: "Payload bytes per call.")
    public var payload = 100

    @Option(help: "Targets to run, comma-separated: forge, grpc, nio.")
    public var targets = "forge,grpc,nio"

    @Flag(help: "Run Forge's calling tasks on their connection's event loop (no thread hop per call).")
    public var pinned = false

    public init() {}

    public var targetList: [String] { targets.split(separator: ",").map(String.init) }

    public func load(allocationCounter: AllocationCounter? = nil) -> LoadShape {
        LoadShape(connections: connections, concurrency: concurrency, duration: duration, warmup: warmup, payloadBytes: payload, allocationCounter: allocationCounter)
    }
}
