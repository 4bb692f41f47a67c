import ForgeContracts
@testable import ForgeKit
import ForgeWire
import ForgeTestSupport
import Foundation
import GRDB
import SwiftProtobuf
import Synchronization
import Testing

/// Writes through the real accounts process while SIGKILLing it (and the analytics consumer)
/// mid-stream, then proves every acknowledged write survived and analytics applied each
/// event exactly once.
@Suite("Crash test: SIGKILL mid-stream", .serialized, .timeLimit(.minutes(3)))
struct CrashTests {
    @Test("every acknowledged write survives SIGKILL, and the downstream consumer applies each event exactly once")
    func acknowledgedWritesSurvive() async throws {
        var stack = try LocalStack(portBase: 28100, durability: "full")
        defer { stack.killAll() }
        try await stack.writeServiceToken()
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        let token = try await issuer.issue(subject: "writer", roles: ["admin"], ttl: 3600)

        try stack.start("accounts")
        try stack.start("analytics")
        #expect(await stack.waitUntilServing("accounts"))
        #expect(await stack.waitUntilServing("analytics"))

        var configuration = ClientConfiguration()
        configuration.backoff.initial = .milliseconds(10)
        configuration.backoff.maximum = .milliseconds(100)
        let client = try WireClient(
            host: "127.0.0.1", port: stack.wirePort("accounts"), configuration: configuration,
            interceptors: [BearerTokenInterceptor(token: token)]
        )
        let accounts = Forge_Accounts_V1_AccountsClient(channel: client)
        let acknowledged = AcknowledgedWrites()
        let writes = 240
        let writers = 4

        // Writers: each write is retried with its idempotency key until acknowledged.
        let writing = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for index in stride(from: writer, to: writes, by: writers) {
                            let key = "crash-\(index)"
                            for _ in 0..<2000 {
                                do {
                                    let response = try await accounts.createAccount(
                                        .with { $0.account = .with { $0.name = "崩溃测试客户 \(index)"; $0.region = "华东" } },
                                        options: CallOptions(timeout: .seconds(2), idempotencyKey: key)
                                    )
                                    acknowledged.withLock { $0[key] = response.account.id }
                                    break
                                } catch {
                                    try await Task.sleep(for: .milliseconds(10))
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }

        // The killer: SIGKILL accounts at four points mid-stream, analytics at one; restart each.
        var kills = 0
        for threshold in [40, 90, 140, 190] {
            while acknowledged.withLock({ $0.count }) < threshold {
                try await Task.sleep(for: .milliseconds(5))
            }
            let victim = threshold == 90 ? "analytics" : "accounts"
            kill(stack.processes[victim]!.processIdentifier, SIGKILL)
            #expect(await LocalStack.waitForExit(stack.processes[victim]!, within: 5))
            try stack.start(victim)
            kills += 1
        }
        try await writing.value
        let acked = acknowledged.withLock { $0 }
        #expect(acked.count == writes)
        #expect(kills == 4)

        // Every acknowledged write is present.
        for (key, id) in acked {
            let account = try await accounts.getAccount(.with { $0.id = id })
            #expect(account.account.id == id, "write \(key) survived")
        }
        // Idempotency held across the crashes: one account per key, no duplicates.
        let database = try DatabaseQueue(path: "\(stack.dataDirectory)/accounts.sqlite")
        let stored = try await database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM account") }
        #expect(stored == writes)

        // The consumer catches up and applied every event exactly once.
        let analytics = try DatabaseQueue(path: "\(stack.dataDirectory)/analytics.sqlite")
        var applied: [String: Int] = [:]
        for _ in 0..<400 {
            applied = try await analytics.read { db in
                Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT account_id, events_applied FROM customer").map {
                    ($0["account_id"] as String, $0["events_applied"] as Int)
                })
            }
            if applied.count >= writes { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(Set(applied.keys) == Set(acked.values))
        #expect(applied.values.allSatisfy { $0 == 1 }, "no event applied twice")
        await client.close()
    }
}

/// Idempotency key → acknowledged account id, shared by the writers and the killer.
private final class AcknowledgedWrites: Sendable {
    private let writes = Mutex<[String: String]>([:])

    func withLock<T: Sendable>(_ body: (inout [String: String]) -> T) -> T {
        writes.withLock { body(&$0) }
    }
}
