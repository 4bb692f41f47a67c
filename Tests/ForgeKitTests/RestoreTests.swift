import ForgeContracts
@testable import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Restoring a backup keeps the event flow whole", .serialized, .timeLimit(.minutes(3)))
struct RestoreTests {
    @Test("a backup whose consumers ran ahead of their producer: after forge restore every new account reaches analytics and the gateway's webhooks, and none is applied twice")
    func consumersAheadOfTheRestoredProducer() async throws {
        var stack = try LocalStack(portBase: 31400)
        defer { stack.killAll() }
        stack.extraEnvironment["FORGE_WEBHOOK_ALLOW_PRIVATE"] = "true"  // the hook points at 127.0.0.1
        try await stack.writeServiceToken()
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        let token = try await issuer.issue(subject: "ops", roles: ["admin"], ttl: 600)
        let services = ["accounts", "analytics", "gateway"]
        for service in services { try stack.start(service) }
        for service in services { #expect(await stack.waitUntilServing(service), "\(service)") }
        func clients() throws -> (Forge_Accounts_V1_AccountsClient, Forge_Gateway_V1_GatewayClient, [WireClient]) {
            let accounts = try WireClient(host: "127.0.0.1", port: stack.wirePort("accounts"), interceptors: [BearerTokenInterceptor(token: token)])
            let gateway = try WireClient(host: "127.0.0.1", port: stack.wirePort("gateway"), interceptors: [BearerTokenInterceptor(token: token)])
            return (Forge_Accounts_V1_AccountsClient(channel: accounts), Forge_Gateway_V1_GatewayClient(channel: gateway), [accounts, gateway])
        }
        var (accounts, gateway, wires) = try clients()
        _ = try await gateway.createWebhook(.with { $0.webhook = .with { $0.url = "http://127.0.0.1:9/forge-hook"; $0.eventTypes = ["AccountCreated"] } })
        func create(_ names: [String]) async throws -> [String] {
            var ids: [String] = []
            for name in names {
                ids.append(try await accounts.createAccount(.with { $0.account = .with { $0.name = name; $0.region = "华东" } }).account.id)
            }
            return ids
        }
        /// The account ids analytics and the gateway's webhook deliveries hold, once both hold
        /// `expected` (bounded wait).
        func consumed(_ expected: Set<String>) async throws -> (analytics: [String: Int], webhooks: [String: Int]) {
            var seen: ([String: Int], [String: Int]) = ([:], [:])
            for _ in 0..<400 {
                seen = (try Self.counts(stack, "analytics", "SELECT account_id, events_applied FROM customer"),
                        try Self.counts(stack, "gateway", "SELECT account_id, COUNT(*) FROM delivery GROUP BY account_id"))
                if expected.isSubset(of: seen.0.keys), expected.isSubset(of: seen.1.keys) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            return seen
        }

        // The producer is copied first; then more events flow and the consumers follow them;
        // then the consumers are copied — as forge backup, copying one database after another,
        // can find them.
        let before = try await create(["无锡一号机床厂", "无锡二号机床厂"])
        #expect(try await consumed(Set(before)).analytics.count == 2)
        let early = NSTemporaryDirectory() + "forge-backup-early-\(UUID().uuidString)"
        #expect(try await OperationsTests.forge(["backup", early, "--data-dir", stack.dataDirectory], environment: stack.environment) == 0)
        let lost = try await create(["常州三号模具厂", "常州四号模具厂", "常州五号模具厂"])
        #expect(try await consumed(Set(before + lost)).webhooks.count == 5)
        let late = NSTemporaryDirectory() + "forge-backup-late-\(UUID().uuidString)"
        #expect(try await OperationsTests.forge(["backup", late, "--data-dir", stack.dataDirectory], environment: stack.environment) == 0)
        try FileManager.default.removeItem(atPath: "\(late)/accounts.sqlite")
        try FileManager.default.copyItem(atPath: "\(early)/accounts.sqlite", toPath: "\(late)/accounts.sqlite")

        for wire in wires { await wire.close() }
        for service in services {
            stack.processes[service]!.terminate()
            #expect(await LocalStack.waitForExit(stack.processes[service]!, within: 15))
        }
        #expect(try await OperationsTests.forge(["restore", late, "--data-dir", stack.dataDirectory], environment: stack.environment) == 0)
        for service in services { try stack.start(service) }
        for service in services { #expect(await stack.waitUntilServing(service), "\(service)") }
        (accounts, gateway, wires) = try clients()

        // The restored producer numbers these after its copy's head: seqs the consumers had
        // already passed. Each must arrive all the same, exactly once.
        let after = try await create(["杭州六号泵阀厂", "杭州七号泵阀厂", "杭州八号泵阀厂", "杭州九号泵阀厂"])
        let seen = try await consumed(Set(before + lost + after))
        for id in after {
            #expect(seen.analytics[id] == 1, "\(id) reached analytics once")
            #expect(seen.webhooks[id] == 1, "\(id) reached the gateway's webhooks once")
        }
        for id in before + lost {
            #expect(seen.analytics[id] == 1 && seen.webhooks[id] == 1, "\(id) was not applied again")
        }
        // The consumers say what happened in their health.
        let health = try await Forge_Common_V1_HealthClient(channel: try WireClient(host: "127.0.0.1", port: stack.wirePort("analytics"))).check(.init())
        let consumer = health.components.first { $0.name == "consumer:accounts" }
        #expect(consumer?.detail.contains("restored from a backup") == true, "\(consumer?.detail ?? "")")
        for wire in wires { await wire.close() }
    }

    /// account id → count, read from a service's database file.
    static func counts(_ stack: LocalStack, _ service: String, _ sql: String) throws -> [String: Int] {
        let database = try DatabaseQueue(path: "\(stack.dataDirectory)/\(service).sqlite", configuration: {
            var configuration = Configuration()
            configuration.readonly = true
            return configuration
        }())
        defer { try? database.close() }
        return try database.read { db in
            Dictionary(try Row.fetchAll(db, sql: sql).map { ($0[0] as String, $0[1] as Int) }) { first, _ in first }
        }
    }
}

@Suite("Where a consumer resumes when its upstream's outbox changed under it")
struct ResyncRuleTests {
    private func response(head: UInt64, incarnation: String, startsAfter: UInt64 = 0) -> Forge_Common_V1_PullResponse {
        .with {
            $0.headSeq = head
            $0.incarnation = incarnation
            $0.incarnationStartsAfterSeq = startsAfter
        }
    }

    @Test("a new incarnation resumes at the lower of the cursor and where the restored copy ended; the same one goes on")
    func newIncarnation() {
        #expect(EventConsumer.resync(after: 120, incarnation: "a", response: response(head: 104, incarnation: "b", startsAfter: 100), upstream: "accounts")?.resume == 100)
        #expect(EventConsumer.resync(after: 80, incarnation: "a", response: response(head: 104, incarnation: "b", startsAfter: 100), upstream: "accounts")?.resume == 80)
        #expect(EventConsumer.resync(after: 80, incarnation: "a", response: response(head: 104, incarnation: "a"), upstream: "accounts") == nil)
        #expect(EventConsumer.resync(after: 80, incarnation: "", response: response(head: 104, incarnation: "a"), upstream: "accounts") == nil, "a first incarnation is adopted")
    }

    @Test("a cursor beyond the head in the same incarnation re-reads from the start, and says so")
    func beyondTheHead() {
        let resync = EventConsumer.resync(after: 120, incarnation: "a", response: response(head: 100, incarnation: "a"), upstream: "accounts")
        #expect(resync?.resume == 0)
        #expect(resync?.notice.contains("beyond the head of accounts") == true)
    }
}
