import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// The loyalty part of the demo: ERP's order history from before Forge (one to six years of
/// it per customer, imported into forge-orders), so the partner programme starts with the customers spread over its tiers —
/// a few gold, more silver and bronze, many without a tier, and some within reach of the next
/// (a silver customer ¥0.4–0.9 M short of gold, bronze ones just under silver's ¥1 M) — plus
/// frame agreements with volume rebates for the gold customers and a few entitlements used.
/// Orders go by ERP order number and the rest by idempotency key, so an interrupted load finishes
/// without doubles.
struct LoyaltyDemoData {
    let issuer: TokenIssuer

    static let lines = ["加工中心", "数控车床", "激光切割", "注塑机"]
    static let yuan: Int64 = 1_000_000

    /// What each customer bought: (days ago, SKU, quantity, unit price in yuan) — deterministic per index.
    static func history(index: Int, account: DemoData.Account, random: inout SeededRandom) -> [(daysAgo: Int, sku: String, quantity: Int64, yuan: Int64)] {
        let home = lines.contains(account.productLine) ? account.productLine : lines[index % lines.count]
        func other(_ offset: Int) -> String { lines[(lines.firstIndex(of: home)! + offset) % lines.count] }
        let roll = index % 20
        let firstYears = 1 + random.next(6)
        var purchases: [(Int, String, Int64)] = [(firstYears * 365 + random.next(200), home, Int64(200_000 + random.next(300_000)))]
        switch roll {
        case 0, 1:  // gold: ¥5.5–8 M a year in three lines, long together
            purchases[0].0 = (3 + random.next(3)) * 365 + 30
            let total = Int64(5_500_000 + random.next(2_500_000))
            purchases += [(20 + random.next(60), home, total / 2), (100 + random.next(80), other(1), total * 3 / 10), (200 + random.next(100), other(2), total - total / 2 - total * 3 / 10)]
        case 2:  // silver, within reach of gold
            purchases[0].0 = 4 * 365
            let total = Int64(4_100_000 + random.next(500_000))
            purchases += [(30 + random.next(90), home, total * 6 / 10), (150 + random.next(150), other(1), total - total * 6 / 10)]
        case 3, 4, 5, 6:  // silver
            purchases[0].0 = (2 + random.next(3)) * 365
            let total = Int64(1_100_000 + random.next(2_400_000))
            purchases += [(10 + random.next(100), home, total * 7 / 10), (120 + random.next(200), other(1), total - total * 7 / 10)]
        case 7, 8:  // bronze just under silver's ¥1 M
            purchases += [(15 + random.next(200), home, Int64(850_000 + random.next(120_000)))]
        case 9, 10, 11, 12, 13:  // bronze
            purchases += [(15 + random.next(300), home, Int64(220_000 + random.next(500_000)))]
        default:  // nothing in the last twelve months
            break
        }
        // The machine of each product line, one unit at the amount invoiced.
        var orders = purchases.map { purchase in
            (daysAgo: purchase.0, sku: PipelineDemoData.products.first { $0.line == purchase.1 }?.sku ?? "VMC-850", quantity: Int64(1), yuan: purchase.2)
        }
        // Spare spindles, bought like clockwork by a third of the customers (about every 330
        // days, give or take 20): their purchase cycles, and a few gone quiet for a long time.
        if index % 3 == 0 {
            let interval = 310 + random.next(40)
            var ago = index % 9 == 0 ? 560 + random.next(200) : 20 + random.next(300)
            for _ in 0..<(3 + random.next(3)) {
                orders.append((daysAgo: ago, sku: "SP-SPINDLE-12K", quantity: Int64(1 + random.next(3)), yuan: 38_000))
                ago += interval - 20 + random.next(40)
            }
        }
        return orders
    }

    /// ERP's order history of every demo customer, the same on every call: loyalty's purchases,
    /// analytics' orders and the service desk's installed base (one machine per machine bought)
    /// all come from it, so they agree.
    static func erpHistory(_ accounts: [DemoData.Account]) -> [OrdersDemoData.HistoricOrder] {
        var random = SeededRandom(seed: 20261204)
        var history: [OrdersDemoData.HistoricOrder] = []
        for (index, account) in accounts.enumerated() {
            for (number, purchase) in Self.history(index: index, account: account, random: &random).enumerated() {
                history.append(.init(number: String(format: "ERP-H%05d", index * 10 + number + 1), accountID: account.id,
                                     daysAgo: purchase.daysAgo, sku: purchase.sku, quantity: purchase.quantity, yuan: purchase.yuan))
            }
        }
        return history
    }

    func load(accounts: [DemoData.Account], now: Date, progress: (DemoData.Progress) -> Void) async throws -> (members: Int, rebates: Int) {
        guard !accounts.isEmpty else { return (0, 0) }
        // Each part of the load goes in as the people (and systems) who would do it.
        var wires: [WireClient] = []
        defer { Task { [wires] in for wire in wires { await wire.close() } } }
        func loyalty(as subject: String, _ role: String) async throws -> Forge_Loyalty_V1_LoyaltyClient {
            let token = try await issuer.issue(subject: subject, roles: [role], ttl: 3600)
            let wire = try WireClient(address: StackLayout.address(of: "loyalty"), interceptors: [BearerTokenInterceptor(token: token)])
            wires.append(wire)
            return Forge_Loyalty_V1_LoyaltyClient(channel: wire)
        }
        let history = Self.erpHistory(accounts)
        // ERP's order history goes into forge-orders, as the nightly ERP file would: loyalty
        // counts each delivered order from orders' feed, analytics its order and margin, the
        // 360° view shows it. Then the load waits for loyalty to have placed the customers.
        let orders = OrdersDemoData(issuer: issuer)
        let done = try await orders.importHistory(history, now: now)
        let expected = accounts.indices.filter { $0 % 20 <= 13 }.count
        let reader = try await loyalty(as: "svc-mgr", Role.serviceManager)
        for attempt in 0..<600 {
            try Task.checkCancellation()
            let overview = try await reader.getProgrammeOverview(.init())
            if overview.tiers.filter({ !$0.tier.isEmpty }).reduce(0, { $0 + Int($1.members) }) >= expected { break }
            if attempt == 599 { throw RPCError(.unavailable, "forge-loyalty has not placed the demo customers after 60 s") }
            try await Task.sleep(for: .milliseconds(100))
        }
        progress(.init(step: "order history", done: done, total: history.count))

        // Frame agreements for the gold customers, this calendar year (finance's).
        let finance = try await loyalty(as: "finance", Role.finance)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        let year = calendar.component(.year, from: now)
        let start = calendar.date(from: DateComponents(year: year, month: 1, day: 1))!
        let end = calendar.date(from: DateComponents(year: year + 1, month: 1, day: 1))!
        var rebates = 0
        for (index, account) in accounts.enumerated() where index % 20 < 2 {
            _ = try await finance.createRebateAgreement(.with {
                $0.agreement = .with {
                    $0.accountID = account.id
                    $0.name = "\(year) 年度框架协议 Frame agreement"
                    $0.startAt = .init(date: start)
                    $0.endAt = .init(date: end)
                    $0.brackets = [.with { $0.threshold = .with { $0.amountMicros = 5_000_000 * Self.yuan }; $0.rateBp = 200 },
                                   .with { $0.threshold = .with { $0.amountMicros = 10_000_000 * Self.yuan }; $0.rateBp = 300 }]
                }
            }, options: CallOptions(idempotencyKey: "demo-rebate-\(account.id)"))
            rebates += 1
        }

        // A few benefits already used this year: training seats and a free diagnostic.
        let service = try await loyalty(as: "svc-mgr", Role.serviceManager)
        for (index, account) in accounts.enumerated() where index % 20 < 4 && index < 100 {
            _ = try await service.consumeEntitlement(.with {
                $0.accountID = account.id
                $0.code = "training_seat"
                $0.reference = "TRAIN-\(year)-05"
                $0.note = "五轴编程培训 five-axis programming course"
            })
        }
        let members = accounts.indices.filter { $0 % 20 <= 13 }.count
        progress(.init(step: "partner programme", done: members, total: accounts.count))
        return (members, rebates)
    }
}
