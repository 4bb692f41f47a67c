import ForgeContracts
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import SwiftProtobuf
import Testing

/// Analytics as a process following the real feeds: its NPS by region equals the owning
/// service's (feedback's), and a rebuild through the RPC — the read model dropped, every feed
/// replayed from the start — comes back to exactly the same figures.
@Suite("Analytics as processes", .serialized)
struct AnalyticsProcessTests {
    @Test("NPS by region equals feedback's; Rebuild replays every feed to the same KPIs")
    func crossCheckAndRebuild() async throws {
        var stack = try LocalStack(portBase: 27600)
        defer { stack.killAll() }
        try await stack.writeServiceToken()
        for service in ["accounts", "orders", "feedback", "analytics"] {
            try stack.start(service)
            #expect(await stack.waitUntilServing(service))
        }
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        func client(_ service: String, _ subject: String, _ roles: [String]) async throws -> WireClient {
            let token = try await issuer.issue(subject: subject, roles: roles, ttl: 3600)
            return try WireClient(host: "127.0.0.1", port: stack.wirePort(service), interceptors: [BearerTokenInterceptor(token: token)])
        }
        let accounts = Forge_Accounts_V1_AccountsClient(channel: try await client("accounts", "admin", ["admin"]))
        let feedback = Forge_Feedback_V1_FeedbackClient(channel: try await client("feedback", "mkt", ["marketing"]))
        let erp = Forge_Orders_V1_OrdersClient(channel: try await client("orders", "erp-bridge", ["erp_connector"]))
        let analytics = Forge_Analytics_V1_AnalyticsClient(channel: try await client("analytics", "admin", ["admin"]))

        var ids: [String] = []
        for (name, region) in [("宁波精工机械有限公司", "华东"), ("苏州德锐自动化有限公司", "华东"), ("东莞鸿图模具有限公司", "华南")] {
            ids.append(try await accounts.createAccount(.with {
                $0.account = .with { $0.name = name; $0.region = region; $0.ownerID = "rep-a"; $0.team = "east"; $0.industry = "机械" }
            }).account.id)
        }
        let now = Date()
        // 华东: 10, 9, 3 → (2 − 1) / 3 = 33.3; 华南: 6, 8 → −50. Feedback refuses an answer for an
        // account its feed has not brought yet: sent again until it has.
        let scores: [(Int, Int32)] = [(0, 10), (1, 9), (1, 3), (2, 6), (2, 8)]
        var recorded = 0
        for _ in 0..<300 where recorded < scores.count {
            let response = try await feedback.importAnswers(.with {
                $0.answers = scores.enumerated().map { index, pair in
                    .with { $0.key = "phone-\(index)"; $0.accountID = ids[pair.0]; $0.kind = .nps; $0.score = pair.1; $0.answeredAt = .init(date: now.addingTimeInterval(-3600)) }
                }
            })
            recorded = Int(response.recorded + response.alreadyRecorded)
            if recorded < scores.count { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(recorded == scores.count)
        // ERP's history: two orders, one delivered late.
        for _ in 0..<300 {
            let results = try await erp.importOrders(.with {
                $0.orders = [(0, 200_000, "ERP-1"), (2, 90_000, "ERP-2")].map { index, yuan, number in
                    .with {
                        $0.accountID = ids[index]
                        $0.erpOrderNumber = number
                        $0.status = .completed
                        $0.createdAt = .init(date: now.addingTimeInterval(-40 * 86_400))
                        $0.deliveredAt = .init(date: now.addingTimeInterval(-10 * 86_400))
                        $0.lines = [.with { $0.sku = "VMC-850"; $0.name = "立式加工中心"; $0.quantity = 1; $0.unitPrice = .with { $0.amountMicros = Int64(yuan) * 1_000_000 }
                            $0.promisedDelivery = .init(date: now.addingTimeInterval(-20 * 86_400)) }]
                    }
                }
            }).results
            if results.allSatisfy({ $0.status != .rejected }) { break }
            try await Task.sleep(for: .milliseconds(50))
        }

        let nps = try await feedback.getNps(.with { $0.groupBy = [.region] })
        let request = Forge_Analytics_V1_GetKpisRequest.with { $0.groupBy = .region }
        func settled(_ expectation: (Forge_Analytics_V1_GetKpisResponse) -> Bool) async throws -> Forge_Analytics_V1_GetKpisResponse {
            var response = try await analytics.getKpis(request)
            for _ in 0..<300 where !expectation(response) {
                try await Task.sleep(for: .milliseconds(100))
                response = try await analytics.getKpis(request)
            }
            return response
        }
        let before = try await settled { $0.kpis.first { $0.key == "nps" }?.denominator == 5 && $0.kpis.first { $0.key == "orders" }?.value == 2 }
        for group in nps.groups {
            let region = try #require(group.keys.first)
            let ours = try #require(before.groups.first { $0.key == region }?.kpis.first { $0.key == "nps" })
            #expect(abs(ours.value - group.figures.nps) < 0.05 && Int32(ours.denominator) == group.figures.responses, "\(region): \(ours.value) vs \(group.figures.nps)")
        }
        #expect(nps.groups.count == 2 && before.kpis.first { $0.key == "on_time_delivery" }?.value == 0)

        // The rebuild: same figures once the feeds are replayed (the period is pinned, so
        // that the clock moving on changes nothing).
        let pinned = Forge_Analytics_V1_GetKpisRequest.with { $0.groupBy = .region; $0.from = before.from; $0.to = before.to }
        let expected = try await analytics.getKpis(pinned)
        let rebuilt = try await analytics.rebuild(.init())
        #expect(rebuilt.feedsReset >= 3)
        var again = try await analytics.getKpis(pinned)
        for _ in 0..<300 where again != expected {
            try await Task.sleep(for: .milliseconds(100))
            again = try await analytics.getKpis(pinned)
        }
        #expect(again == expected)
    }
}
