import ArgumentParser
import BenchCore
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import SwiftProtobuf

/// Loyalty at the size of issue 17 — 100,000 members, each with four years of purchases in
/// three product lines (every one gold) — measured against the real forge-accounts and
/// forge-loyalty processes and their database files: re-evaluating every member after a
/// programme change (UpdateProgramme to the evaluate-all job having measured the last member);
/// ConsumeEntitlement at C=16 (a training seat per call, each account's quota of five spread
/// over the calls); GetMembership, the 360° view's loyalty section (tier, explanation,
/// entitlements left, rebate progress). The members are seeded once through accounts'
/// ImportAccounts and loyalty's RecordPurchases and kept in `--data`.
@main
struct LoyaltyBench: AsyncParsableCommand {
    @Option(help: "Directory of the release executables.")
    var binaries = "../.build/release"

    @Option(help: "Where the seeded data set lives between runs.")
    var data = "/var/tmp/forge-loyalty-bench"

    @Option(help: "Members (accounts) to seed.")
    var members = 100_000

    @Option(help: "Concurrent consumers.")
    var concurrency = 16

    @Option(help: "Seconds per latency measurement.")
    var duration = 10.0

    @Option(help: "First wire port; admin ports are +100.")
    var portBase = 8_160

    @Flag(help: "Throw the data away and seed it again.")
    var reseed = false

    @Option(help: "Measurements to run: programme, consume, read (comma-separated).")
    var only = "programme,consume,read"

    static let yuan: Int64 = 1_000_000
    static let lines = ["加工中心", "数控车床", "激光切割"]

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores shared by accounts, loyalty and this load generator")
        try await SeededDataSet.run(binaries: binaries, data: data, marker: "seeded-\(members)", reseed: reseed, portBase: portBase,
                                    seeding: ["accounts", "loyalty"], measuring: ["accounts", "loyalty"], seed: seed, measure: measure)
    }

    func loyalty(_ stack: ServiceStack, issuer: TokenIssuer, subject: String, roles: [String], connections: Int = 2) async throws -> Forge_Loyalty_V1_LoyaltyClient {
        Forge_Loyalty_V1_LoyaltyClient(channel: try await stack.channel("loyalty", issuer: issuer, subject: subject, roles: roles, connections: connections))
    }

    func count(_ sql: String) async throws -> Int {
        try await DatabaseQueue(path: "\(data)/loyalty.sqlite").read { db in try Int.fetchOne(db, sql: sql) ?? 0 }
    }

    // MARK: Seeding

    func seed(_ stack: ServiceStack, issuer: TokenIssuer) async throws {
        let admin = try await issuer.issue(subject: "bench-admin", roles: [Role.admin], ttl: 86_400)
        let accountsClient = Forge_Accounts_V1_AccountsClient(channel: try WireClient(host: "127.0.0.1", port: stack.port("accounts"),
                                                                                       interceptors: [BearerTokenInterceptor(token: admin)]))
        var started = ContinuousClock.now
        for batch in stride(from: 0, to: members, by: 2_000) {
            _ = try await accountsClient.importAccounts(.with {
                $0.importID = "bench-accounts-\(batch)"
                $0.header = ["name", "region", "owner_id", "team"]
                $0.rows = (batch..<min(batch + 2_000, members)).map { index in
                    .with {
                        $0.line = Int32(index + 2)
                        $0.values = ["会员压测客户\(index)号装备有限公司", ["华东", "华南", "华北", "西南"][index % 4], String(format: "rep-%03d", index % 200), String(format: "team-%02d", index % 20)]
                    }
                }
            }, options: CallOptions(timeout: .seconds(600)))
        }
        while try await count("SELECT count(*) FROM account_directory") < members {
            try await Task.sleep(for: .seconds(1))
        }
        print(String(format: "seed: %d accounts imported and followed by loyalty in %.1f s", members, (ContinuousClock.now - started).seconds))

        let ids = try await DatabaseQueue(path: "\(data)/loyalty.sqlite").read { db in try String.fetchAll(db, sql: "SELECT account_id FROM account_directory ORDER BY account_id") }
        let erp = try await loyalty(stack, issuer: issuer, subject: "erp", roles: [Role.erpConnector])
        let now = Date()
        started = ContinuousClock.now
        // Four purchases each: four years ago, and ¥6.5 M this year in three product lines (gold).
        let purchases = ids.enumerated().flatMap { index, id -> [Forge_Loyalty_V1_Purchase] in
            [(1_460, 0, Int64(400_000)), (200, 0, 3_000_000), (120, 1, 2_500_000), (40, 2, 1_000_000)].enumerated().map { number, purchase in
                .with {
                    $0.key = "bench|\(index)|\(number)"
                    $0.accountID = id
                    $0.occurredAt = .init(date: now.addingTimeInterval(-Double(purchase.0 + index % 20) * 86_400))
                    $0.productLine = Self.lines[purchase.1]
                    $0.amount = .with { $0.amountMicros = purchase.2 * Self.yuan }
                }
            }
        }
        for batch in stride(from: 0, to: purchases.count, by: 1_000) {
            let results = try await erp.recordPurchases(.with { $0.purchases = Array(purchases[batch..<min(batch + 1_000, purchases.count)]) },
                                                        options: CallOptions(timeout: .seconds(120))).results
            guard results.allSatisfy({ $0.status == .created || $0.status == .unchanged }) else { throw ValidationError("rejected: \(results.filter { $0.status == .rejected }.prefix(2))") }
            if batch % 100_000 == 0 { print(String(format: "seed: %d purchases in %.0f s", batch, (ContinuousClock.now - started).seconds)) }
        }
        print(String(format: "seed: %d purchases recorded, %d members evaluated in %.1f s", purchases.count,
                     try await count("SELECT count(*) FROM membership"), (ContinuousClock.now - started).seconds))
    }

    // MARK: Measuring

    func measure(_ stack: ServiceStack, issuer: TokenIssuer) async throws {
        let bytes = (try? FileManager.default.attributesOfItem(atPath: "\(data)/loyalty.sqlite")[.size] as? Int) ?? 0
        let (memberCount, gold) = (try await count("SELECT count(*) FROM membership"), try await count("SELECT count(*) FROM membership WHERE tier = 'gold'"))
        print(String(format: "data set: %d members (%d gold), %d purchases; loyalty.sqlite %.2f GB", memberCount, gold,
                     try await count("SELECT count(*) FROM purchase"), Double(bytes) / 1e9))
        print("durability FULL (synchronous=FULL, WAL) for every measurement")
        let manager = try await loyalty(stack, issuer: issuer, subject: "boss", roles: [Role.salesManager])

        let parts = Set(only.split(separator: ",").map(String.init))
        if parts.contains("programme") { try await programmeChange(manager, memberCount: memberCount) }
        let ids = try await DatabaseQueue(path: "\(data)/loyalty.sqlite").read { db in try String.fetchAll(db, sql: "SELECT account_id FROM membership ORDER BY account_id") }
        if parts.contains("consume") { try await consume(stack, issuer: issuer, ids: ids) }
        if parts.contains("read") { await read(manager, ids: ids) }
    }

    func programmeChange(_ manager: Forge_Loyalty_V1_LoyaltyClient, memberCount: Int) async throws {
        // 1. A programme change: gold's threshold moves between ¥6 M and ¥7 M (every member
        //    crosses it: downgrades warned with their grace, or cancelled), all re-evaluated.
        var programme = try await manager.getProgramme(.init()).programme
        let index = programme.tiers.firstIndex { $0.code == "gold" }!
        let raise = programme.tiers[index].criteria[0].threshold < 7_000_000 * Self.yuan
        programme.tiers[index].criteria[0].threshold = (raise ? 7_000_000 : 5_000_000) * Self.yuan
        programme.changeNote = "bench: gold threshold to ¥\(raise ? 7 : 5) M"
        programme.clearEffectiveAt()
        let started = ContinuousClock.now
        let version = try await manager.updateProgramme(.with { $0.programme = programme }).programme.version
        while try await count("SELECT count(*) FROM jobs WHERE kind = 'loyalty.evaluate-all' AND state != 'done'") > 0 {
            try await Task.sleep(for: .milliseconds(100))
        }
        let seconds = (ContinuousClock.now - started).seconds
        let pending = try await count("SELECT count(*) FROM membership WHERE pending_until IS NOT NULL")
        print(String(format: "programme v%d (gold from ¥%d M): %d members re-evaluated in %.1f s (%.0f members/s); %d downgrades now pending", version, raise ? 7 : 5,
                     memberCount, seconds, Double(memberCount) / seconds, pending))

    }

    func consume(_ stack: ServiceStack, issuer: TokenIssuer, ids: [String]) async throws {
        // 2. ConsumeEntitlement: a training seat each call, spread over the accounts.
        let engineer = try await loyalty(stack, issuer: issuer, subject: "svc", roles: [Role.serviceManager], connections: 4)
        let run = UUID().uuidString.prefix(8)
        let next = Counter()
        let consume = await drive(LoadShape(connections: 4, concurrency: concurrency, duration: duration, warmup: 2, payloadBytes: 0)) { _ in
            let n = next.value.wrappingAdd(1, ordering: .relaxed).oldValue
            do {
                _ = try await engineer.consumeEntitlement(.with {
                    $0.accountID = ids[n % ids.count]
                    $0.code = "training_seat"
                    $0.reference = "bench-\(run)-\(n)"
                })
            } catch let error as RPCError where error.code == .failedPrecondition {
                // This account's seats are used up for the year (earlier runs): an answer too.
            }
        }
        print(consume.line(name: "C=\(concurrency)") + "   ConsumeEntitlement (a training seat; durable, group commit)")

    }

    func read(_ manager: Forge_Loyalty_V1_LoyaltyClient, ids: [String]) async {
        // 3. GetMembership, the 360° view's loyalty section, as a manager (rebates and discounts included).
        let reader = Counter()
        for load in [LoadShape(connections: 1, concurrency: 1, duration: duration, warmup: 2, payloadBytes: 0),
                     LoadShape(connections: 4, concurrency: concurrency, duration: duration, warmup: 2, payloadBytes: 0)] {
            let result = await drive(load) { _ in
                let n = reader.value.wrappingAdd(1, ordering: .relaxed).oldValue
                _ = try await manager.getMembership(.with { $0.accountID = ids[(n &* 7_919) % ids.count] })
            }
            print(result.line(name: "C=\(load.concurrency)") + "   GetMembership (the 360° loyalty section)")
        }
    }
}
