import ArgumentParser
import BenchCore
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Histogram
import Logging
import SwiftProtobuf
import Synchronization

/// Service-kit figures: event latency from commit to a consumer's applied transaction, and the
/// throughput of a durable single-row write RPC (FULL and NORMAL) and of a batched one.
@main
struct KitBench: AsyncParsableCommand {
    @Option(help: "Seconds per write measurement.")
    var duration = 5.0

    @Option(help: "Events for the latency measurement.")
    var events = 2000

    @Option(help: "Events per second while measuring latency (an idle-ish stack).")
    var rate = 200

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; client, server and consumer in this one process")
        try await eventLatency()
        for durability in [ServiceConfiguration.Durability.full, .normal] {
            for rows in [1, 100] {
                try await writes(durability: durability, rowsPerCall: rows)
            }
        }
    }

    /// A producer serving its outbox over the wire and a consumer pulling it.
    func eventLatency() async throws {
        let producer = try ForgeDatabase.open(path: NSTemporaryDirectory() + "kitbench-producer-\(UUID()).sqlite", durability: .full)
        let signal = CommitSignal()
        let observation = try signal.observe(table: "outbox", in: producer)
        var router = RPCRouter()
        EventFeedService(database: producer, signal: signal).register(in: &router)
        let server = WireServer(configuration: ServerConfiguration(port: 0), router: router, interceptors: [])
        let address = try await server.start()
        let client = try WireClient(host: "127.0.0.1", port: address.port!)
        let consumerDatabase = try ForgeDatabase.open(path: NSTemporaryDirectory() + "kitbench-consumer-\(UUID()).sqlite", durability: .full)
        let latencies = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three))
        let consumer = EventConsumer(upstream: "producer", feed: client, database: consumerDatabase, logger: Logger(label: "bench")) { _, event in
            // Applied inside the consumer's transaction; measured from the producer's commit.
            let sent = Double(try Forge_Common_V1_Money(serializedBytes: event.payload).amountMicros) / 1e9
            let now = Double(DispatchTime.now().uptimeNanoseconds) / 1e9
            _ = latencies.withLock { $0.record(UInt64(max(0, now - sent) * 1e9)) }
        }
        let consuming = Task {
            var applied = 0
            while applied < events {
                applied += (try? await consumer.poll(waitMilliseconds: 1000)) ?? 0
            }
        }
        let interval = 1.0 / Double(rate)
        for _ in 0..<events {
            try await producer.write { db in
                // The commit time is taken as late as possible inside the transaction.
                let stamp = Int64(DispatchTime.now().uptimeNanoseconds)
                try Outbox.append(db, Forge_Common_V1_Money.with { $0.amountMicros = stamp }, at: Date())
            }
            try await Task.sleep(for: .seconds(interval))
        }
        await consuming.value
        let histogram = latencies.withLock { $0 }
        func ms(_ value: UInt64) -> String { String(format: "%.2f ms", Double(value) / 1e6) }
        print("event latency commit → consumer applied (\(events) events at \(rate)/s, FULL): p50 \(ms(histogram.valueAtPercentile(50)))  p99 \(ms(histogram.valueAtPercentile(99)))  max \(ms(histogram.max))")
        observation.cancel()
        await client.close()
        await server.shutdown()
    }

    /// An RPC that writes `rowsPerCall` rows and one outbox event per row in one transaction.
    struct WriteService: Forge_Testing_V1_EchoHandler {
        let database: DatabasePool
        let rowsPerCall: Int

        func echo(_ request: Forge_Testing_V1_EchoRequest, context: ServerContext) async throws -> Forge_Testing_V1_EchoResponse {
            let rows = rowsPerCall
            try await database.write { db in
                for index in 0..<rows {
                    try db.execute(sql: "INSERT INTO note (text) VALUES (?)", arguments: ["\(request.text) \(index)"])
                    try Outbox.append(db, Forge_Common_V1_Money.with { $0.currencyCode = "CNY" }, at: Date())
                }
            }
            return .with { $0.text = request.text }
        }

        func slow(_ request: Forge_Testing_V1_SlowRequest, context: ServerContext) async throws -> Forge_Testing_V1_SlowResponse { .init() }
        func fail(_ request: Forge_Testing_V1_FailRequest, context: ServerContext) async throws -> Forge_Testing_V1_FailResponse { .init() }
    }

    func writes(durability: ServiceConfiguration.Durability, rowsPerCall: Int) async throws {
        let database = try ForgeDatabase.open(path: NSTemporaryDirectory() + "kitbench-writes-\(UUID()).sqlite", durability: durability) { migrator in
            migrator.registerMigration("note") { db in
                try db.create(table: "note") { t in
                    t.autoIncrementedPrimaryKey("id")
                    t.column("text", .text).notNull()
                }
            }
        }
        var router = RPCRouter()
        WriteService(database: database, rowsPerCall: rowsPerCall).register(in: &router)
        let server = WireServer(configuration: ServerConfiguration(port: 0), router: router)
        let address = try await server.start()
        let wire = try WireClient(host: "127.0.0.1", port: address.port!)
        let client = Forge_Testing_V1_EchoClient(channel: wire)
        let load = LoadShape(connections: 1, concurrency: 16, duration: duration, warmup: 1, payloadBytes: 0)
        let result = await drive(load) { _ in
            _ = try await client.echo(.with { $0.text = "客户备注" })
        }
        print(String(
            format: "durable write RPC, %@, %d row(s) per call, C=16: %.0f calls/s = %.0f rows/s   p50 %.2f ms   p99 %.2f ms",
            durability.rawValue.uppercased(), rowsPerCall, result.callsPerSecond, result.callsPerSecond * Double(rowsPerCall),
            Double(result.p50) / 1e6, Double(result.histogram.valueAtPercentile(99)) / 1e6
        ))
        await wire.close()
        await server.shutdown()
        try database.close()
    }
}
