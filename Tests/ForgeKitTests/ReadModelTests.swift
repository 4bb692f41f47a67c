import ForgeContracts
import ForgeKit
import ForgeWire
import ForgeTestSupport
import Foundation
import GRDB
import SwiftProtobuf
import Testing

/// Downstream read models follow the accounts event feed through the real processes.
@Suite("Read models over the accounts feed", .timeLimit(.minutes(1)))
struct ReadModelTests {
    @Test("AccountMerged re-points analytics: the merged customer's row goes, the survivor's stays")
    func analyticsFollowsMerge() async throws {
        var stack = try LocalStack(portBase: 25100)
        defer { stack.killAll() }
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        try await issuer.issue(subject: "forge-stack", roles: ["service"], ttl: 3600)
            .write(toFile: ServiceToken.path(dataDirectory: stack.dataDirectory), atomically: true, encoding: .utf8)
        let token = try await issuer.issue(subject: "boss", roles: ["admin"], ttl: 600)
        try stack.start("accounts")
        try stack.start("analytics")
        #expect(await stack.waitUntilServing("accounts"))
        #expect(await stack.waitUntilServing("analytics"))
        let client = try WireClient(host: "127.0.0.1", port: stack.wirePort("accounts"), interceptors: [BearerTokenInterceptor(token: token)])
        let accounts = Forge_Accounts_V1_AccountsClient(channel: client)
        let survivor = try await accounts.createAccount(.with { $0.account = .with { $0.name = "青岛海德液压" } }).account
        let duplicate = try await accounts.createAccount(.with {
            $0.account = .with { $0.name = "青岛海德液压有限公司" }
            $0.allowDuplicate = true
        }).account
        _ = try await accounts.mergeAccounts(.with {
            $0.survivorID = survivor.id
            $0.mergedIds = [duplicate.id]
            $0.reason = "重复录入"
        })

        let analytics = try DatabaseQueue(path: "\(stack.dataDirectory)/analytics.sqlite")
        var customers: [String] = []
        for _ in 0..<200 {
            customers = try await analytics.read { db in try String.fetchAll(db, sql: "SELECT account_id FROM customer ORDER BY account_id") }
            if customers == [survivor.id] { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(customers == [survivor.id])
        await client.close()
    }
}
