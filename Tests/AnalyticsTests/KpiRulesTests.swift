@testable import ForgeAnalytics
import ForgeContracts
import Foundation
import Testing

/// Every KPI on a small data set worked out by hand. The period is the 180 days from
/// 2026-01-01 00:00 China time (`b`); every time below is a day offset from it.
///
/// Accounts: A (华东, rep-a, east, core), B (华东, rep-a, east, potential), C (华南, rep-b,
/// south, core), D (华南, rep-b, south), E (华北, rep-c, north). Margins are 30 % of revenue.
struct KpiRulesTests {
    static let b: Double = 1_767_196_800
    static func at(_ days: Double) -> Double { b + days * 86_400 }
    static let from = at(0), to = at(180)

    static let facts: Facts = {
        var facts = Facts()
        facts.accounts = [
            .init(id: "A", name: "甲", region: "华东", industry: "汽车", tier: "core", ownerID: "rep-a", team: "east"),
            .init(id: "B", name: "乙", region: "华东", industry: "汽车", tier: "potential", ownerID: "rep-a", team: "east"),
            .init(id: "C", name: "丙", region: "华南", industry: "电子", tier: "core", partnerTier: "gold", ownerID: "rep-b", team: "south"),
            .init(id: "D", name: "丁", region: "华南", industry: "电子", ownerID: "rep-b", team: "south"),
            .init(id: "E", name: "戊", region: "华北", industry: "能源", ownerID: "rep-c", team: "north"),
        ]
        func order(_ id: String, _ account: String, _ day: Double, _ yuan: Double, booked: Bool = true) -> Facts.Order {
            .init(id: id, accountID: account, orderedAt: at(day), booked: booked, revenue: yuan, margin: yuan * 0.3)
        }
        facts.orders = [
            order("a1", "A", -100, 100), order("a2", "A", 10, 200), order("a3", "A", 50, 300),
            order("a4", "A", 30, 999, booked: false),  // cancelled
            order("b1", "B", -200, 400),
            order("c1", "C", -30, 1000), order("c2", "C", 100, 500, booked: false), order("c3", "C", 120, 600),  // c2 a draft
            order("d1", "D", -500, 50), order("d2", "D", 60, 150),
            order("e1", "E", 20, 250),
        ]
        facts.lines = [
            .init(orderID: "a2", accountID: "A", productLine: "加工中心", orderedAt: at(10), booked: true, deliveredAt: at(40), onTime: true),
            .init(orderID: "a3", accountID: "A", productLine: "加工中心", orderedAt: at(50), booked: true, deliveredAt: at(90), onTime: false),
            .init(orderID: "c3", accountID: "C", productLine: "备件", orderedAt: at(120), booked: true, deliveredAt: at(150), onTime: true),
            .init(orderID: "c1", accountID: "C", productLine: "备件", orderedAt: at(-30), booked: true, deliveredAt: at(-5), onTime: false),
            .init(orderID: "e1", accountID: "E", productLine: "数控车床", orderedAt: at(20), booked: true, deliveredAt: nil, onTime: false),
        ]
        facts.installments = [
            .init(accountID: "A", amount: 100, invoicedAt: at(10), dueAt: at(40), paid: 100, paidAt: at(30)),
            .init(accountID: "A", amount: 200, invoicedAt: at(50), dueAt: at(80), paid: 50, paidAt: at(100)),
            .init(accountID: "C", amount: 600, invoicedAt: at(120), dueAt: at(170), paid: 0, paidAt: nil),
            .init(accountID: "C", amount: 300, invoicedAt: at(170), dueAt: at(200), paid: 0, paidAt: nil),
            .init(accountID: "D", amount: 50, invoicedAt: nil, dueAt: nil, paid: 0, paidAt: nil),
            .init(accountID: "E", amount: 80, invoicedAt: at(-30), dueAt: at(10), paid: 80, paidAt: at(200)),
        ]
        facts.opportunities = [
            .init(id: "o1", accountID: "A", createdAt: at(10), closedAt: at(40), outcome: .won, maxRank: 7),
            .init(id: "o2", accountID: "C", createdAt: at(20), closedAt: at(60), outcome: .lost, maxRank: 4),
            .init(id: "o3", accountID: "C", createdAt: at(30), closedAt: nil, outcome: .open, maxRank: 2),
            .init(id: "o4", accountID: "D", createdAt: at(5), closedAt: nil, outcome: .open, maxRank: 6),
            .init(id: "o5", accountID: "E", createdAt: at(-50), closedAt: at(15), outcome: .won, maxRank: 7),
        ]
        facts.tickets = [
            .init(accountID: "A", createdAt: at(10), resolvedAt: at(10) + 10 * 3600, firstResponse: Facts.slaMet, resolution: Facts.slaMet),
            .init(accountID: "C", createdAt: at(20), resolvedAt: at(20) + 30 * 3600, firstResponse: Facts.slaMissed, resolution: Facts.slaBreached),
            .init(accountID: "D", createdAt: at(170), resolvedAt: nil, firstResponse: Facts.slaMet, resolution: 1),
            .init(accountID: "E", createdAt: at(-5), resolvedAt: at(1), firstResponse: Facts.slaMet, resolution: Facts.slaMet),
        ]
        func answer(_ account: String, _ kind: Int, _ score: Int, _ day: Double, _ region: String, _ owner: String, _ team: String) -> Facts.Answer {
            .init(accountID: account, kind: kind, score: score, answeredAt: at(day), region: region, industry: "", tier: "", ownerID: owner, team: team)
        }
        facts.answers = [
            answer("A", 1, 10, 5, "华东", "rep-a", "east"), answer("B", 1, 9, 6, "华东", "rep-a", "east"),
            answer("C", 1, 7, 7, "华南", "rep-b", "south"), answer("D", 1, 3, 8, "华南", "rep-b", "south"),
            answer("E", 1, 6, 9, "华北", "rep-c", "north"), answer("A", 1, 0, -10, "华东", "rep-a", "east"),  // before the period
            answer("C", 2, 5, 11, "华南", "rep-b", "south"), answer("D", 2, 2, 12, "华南", "rep-b", "south"),
        ]
        facts.activities = [
            .init(accountID: "A", authorID: "rep-a", at: at(1)), .init(accountID: "A", authorID: "rep-a", at: at(100)),
            .init(accountID: "A", authorID: "rep-a", at: at(178)), .init(accountID: "C", authorID: "rep-b", at: at(50)),
            .init(accountID: "D", authorID: "boss", at: at(175)), .init(accountID: "E", authorID: "rep-c", at: at(-10)),
        ]
        return facts
    }()

    static func kpis(_ scope: Scope = .all) -> [String: Forge_Analytics_V1_Kpi] {
        Dictionary(uniqueKeysWithValues: KpiRules.compute(facts, scope: scope, from: from, to: to).map { ($0.key, $0) })
    }

    static func close(_ value: Double, _ expected: Double) -> Bool { abs(value - expected) < 0.01 }

    @Test("retention, churn, revenue, orders, AOV, repeat purchase, LTV and CLV by the standard formulas")
    func customersAndRevenue() throws {
        let k = Self.kpis()
        // Customers at start (a booked order in the 365 days before day 0): A (−100), B (−200),
        // C (−30) = 3; D's −500 is too old. At the end (orders in days −185…180): A, C, D (60),
        // E (20) = 4; B's −200 is too old. New = end − start = {D (won back), E (first order)}.
        // Retention = (4 − 2) / 3 = 66.67 %; churn = lost {B} / 3 = 33.33 %.
        #expect(k["retention"]?.numerator == 2 && k["retention"]?.denominator == 3 && Self.close(k["retention"]!.value, 66.67))
        #expect(k["retention"]?.parts.map(\.value) == [3, 4, 1, 1])
        #expect(k["churn"]?.numerator == 1 && k["churn"]?.denominator == 3 && Self.close(k["churn"]!.value, 33.33))
        // Booked in the period: A 200 + 300, C 600, D 150, E 250 = 1,500 in 5 orders (the
        // cancelled 999 and the draft 500 are not sales). AOV = 300.
        #expect(k["revenue"]?.value == 1500 && k["orders"]?.value == 5)
        #expect(k["aov"]?.numerator == 1500 && k["aov"]?.denominator == 5 && k["aov"]?.value == 300)
        // Orders in the period per customer: A 2, C 1, D 1, E 1 → 1 / 4 = 25 %.
        #expect(k["repeat_purchase_rate"]?.numerator == 1 && k["repeat_purchase_rate"]?.denominator == 4 && k["repeat_purchase_rate"]?.value == 25)
        // LTV: all booked revenue before the end 3,050 × 30 % = 915 over the 5 who bought = 183.
        #expect(Self.close(k["ltv"]!.numerator, 915) && k["ltv"]?.denominator == 5 && Self.close(k["ltv"]!.value, 183))
        // CLV: customers a year before the end (orders in days −550…−185): B, D; of them B is
        // gone → annual churn 50 % → 2 years. Margin of days −185…180: (600 + 1,600 + 150 + 250)
        // × 30 % = 780 over 4 current customers = 195 a year → CLV 390.
        #expect(Self.close(k["clv"]!.value, 390) && k["clv"]?.denominator == 4)
        #expect(k["clv"]?.parts.map { ($0.value * 100).rounded() / 100 } == [195, 50, 2])
    }

    @Test("NPS and CSAT count the period's answers; concentration by revenue share")
    func voiceAndConcentration() {
        let k = Self.kpis()
        // NPS answers in the period: 10, 9 (promoters), 7 (passive), 3, 6 (detractors); the 0
        // before the period does not count. (2 − 2) / 5 = 0.
        #expect(k["nps"]?.numerator == 0 && k["nps"]?.denominator == 5 && k["nps"]?.value == 0 && k["nps"]?.defined == true)
        #expect(k["nps"]?.parts.map(\.value) == [2, 1, 2])
        // CSAT 5 and 2: one satisfied of two = 50 %, average 3.5.
        #expect(k["csat"]?.value == 50 && k["csat"]?.parts.first?.value == 3.5)
        // Shares of 1,500: A 33.33 %, C 40 %, D 10 %, E 16.67 %. Top 10 = all = 100 %;
        // HHI = 1,111.11 + 1,600 + 100 + 277.78 = 3,088.89.
        #expect(k["top10_share"]?.value == 100)
        #expect(Self.close(k["hhi"]!.value, 3088.89) && k["hhi"]?.denominator == 4)
    }

    @Test("concentration over more than ten customers: the ten largest, in order, whatever the order of the accounts")
    func topTenOfMany() {
        var facts = Facts()
        // Twelve customers with revenue 1…12 (×100), listed in a shuffled order.
        let revenues: [Double] = [700, 1200, 100, 900, 300, 1100, 500, 200, 1000, 400, 800, 600]
        facts.accounts = revenues.indices.map { .init(id: "acc\($0)", name: "客户\($0)", region: "华东", industry: "电子", ownerID: "rep-a", team: "east") }
        facts.orders = revenues.enumerated().map { .init(id: "o\($0.offset)", accountID: "acc\($0.offset)", orderedAt: Self.at(10), booked: true, revenue: $0.element, margin: 0) }
        let k = Dictionary(uniqueKeysWithValues: KpiRules.compute(facts, scope: .all, from: Self.from, to: Self.to).map { ($0.key, $0) })
        // Total 7,800; the ten largest leave out 100 and 200 → 7,500 / 7,800.
        #expect(k["top10_share"]?.numerator == 7_500 && k["top10_share"]?.denominator == 7_800)
        // HHI = Σ (r / 7,800 × 100)² = Σ r² (6,500,000) / 7,800² × 10,000.
        #expect(Self.close(k["hhi"]!.value, 6_500_000 / (7_800.0 * 7_800) * 10_000) && k["hhi"]?.denominator == 12)
        #expect(k["hhi"]?.parts.map { ($0.value * 100).rounded() / 100 } == [1200, 1100, 1000, 900, 800, 700, 600, 500, 400, 300].map { ($0 / 7_800 * 10_000).rounded() / 100 })
    }

    @Test("the funnel, win rate and sales cycle")
    func funnel() {
        let k = Self.kpis()
        // Created in the period: o1 (won, 7), o2 (lost at quotation, 4), o3 (design, 2),
        // o4 (contract, 6). Reached: consultation 4, design 4, sampling 3, quotation 3,
        // contract 2, won 1.
        #expect(k["funnel_design"]?.value == 100)
        #expect(k["funnel_sampling"]?.numerator == 3 && k["funnel_sampling"]?.denominator == 4 && k["funnel_sampling"]?.value == 75)
        #expect(k["funnel_quotation"]?.value == 100)
        #expect(k["funnel_contract"]?.numerator == 2 && k["funnel_contract"]?.denominator == 3)
        #expect(k["funnel_won"]?.numerator == 1 && k["funnel_won"]?.denominator == 2 && k["funnel_won"]?.value == 50)
        // Closed in the period: o1 won, o2 lost, o5 won (created before) → 2 / 3. Cycle: o1
        // 30 days, o5 65 days → 47.5.
        #expect(k["win_rate"]?.numerator == 2 && k["win_rate"]?.denominator == 3)
        #expect(k["sales_cycle_days"]?.numerator == 95 && k["sales_cycle_days"]?.value == 47.5)
    }

    @Test("service and delivery: first response and SLA compliance, MTTR, on-time delivery")
    func service() {
        let k = Self.kpis()
        // Opened in the period: met / missed / met (first response) → 2 / 3; resolution met /
        // breached (the third is still on track) → 1 / 2.
        #expect(k["first_response_compliance"]?.numerator == 2 && k["first_response_compliance"]?.denominator == 3)
        #expect(k["sla_compliance"]?.numerator == 1 && k["sla_compliance"]?.denominator == 2 && k["sla_compliance"]?.value == 50)
        // Resolved in the period: 10 h, 30 h and the one opened 5 days before, resolved on
        // day 1 (144 h) → 184 / 3 = 61.33 h.
        #expect(k["mttr_hours"]?.numerator == 184 && k["mttr_hours"]?.denominator == 3 && Self.close(k["mttr_hours"]!.value, 61.33))
        // Lines delivered in the period: on time, late, on time (c1's was before) → 2 / 3.
        #expect(k["on_time_delivery"]?.numerator == 2 && k["on_time_delivery"]?.denominator == 3)
    }

    @Test("receivables with their ageing at the end, and DSO")
    func receivables() {
        let k = Self.kpis()
        // Open at day 180: A's 200 less the 50 paid (due day 80: 100 days late), C's 600 (due
        // 170: 10 days), C's 300 (due 200: current), E's 80 (paid only on day 200, after the
        // end; due day 10: 170 days). D's is not invoiced. 150 + 600 + 300 + 80 = 1,130.
        #expect(k["receivables"]?.value == 1130)
        #expect(k["receivables"]?.parts.map(\.value) == [300, 600, 0, 0, 230])
        // Invoiced in the period: 100 + 200 + 600 + 300 = 1,200. DSO = 1,130 / 1,200 × 180 = 169.5.
        #expect(k["dso"]?.numerator == 1130 && k["dso"]?.denominator == 1200 && k["dso"]?.value == 169.5)
    }

    @Test("CRM adoption: active users, activities per rep per week, the stale share")
    func adoption() {
        let k = Self.kpis()
        // Authors in the period: rep-a, rep-b, boss = 3 of {rep-a, rep-b, rep-c} ∪ authors = 4.
        #expect(k["active_users"]?.value == 3 && k["active_users"]?.denominator == 4)
        // 5 activities / (3 reps × 180/7 weeks) = 0.0648.
        #expect(k["activities_per_rep_week"]?.numerator == 5 && Self.close(k["activities_per_rep_week"]!.denominator, 77.14))
        // Activity in the 7 days before the end: A (178), D (175); stale: B, C, E = 3 / 5.
        #expect(k["stale_share"]?.numerator == 3 && k["stale_share"]?.denominator == 5 && k["stale_share"]?.value == 60)
        let reps = AdoptionRules.reps(Self.facts, scope: .all, from: Self.from, to: Self.to)
        #expect(reps.map(\.ownerID) == ["rep-a", "rep-b", "rep-c"])
        #expect(reps.map(\.staleAccounts) == [1, 1, 1] && reps.map(\.activities) == [3, 2, 0] && reps.map(\.active) == [true, true, false])
    }

    @Test("a filter narrows every figure: 华东's revenue and NPS, a rep's portfolio, a partner tier")
    func filters() {
        let east = Self.kpis(Scope(region: "华东"))
        // A and B: revenue 500 in 2 orders; NPS answers 10 and 9 → 100.
        #expect(east["revenue"]?.value == 500 && east["orders"]?.value == 2 && east["nps"]?.value == 100)
        var portfolio = Scope()
        portfolio.portfolio = ("rep-b", "south")
        let south = Self.kpis(portfolio)
        // C and D: 600 + 150; NPS 7 and 3 → (0 − 1) / 2 = −50.
        #expect(south["revenue"]?.value == 750 && south["nps"]?.value == -50)
        #expect(Self.kpis(Scope(partnerTier: "gold"))["revenue"]?.value == 600)
        #expect(Self.kpis(Scope(partnerTier: "none"))["revenue"]?.value == 900)
    }

    @Test("a repurchase cycle is predicted only when it is regular: 11 months ± 25 days yes, 50 then 550 days no")
    func regularCyclesOnly() {
        func lines(_ days: [Double]) -> [Facts.Line] {
            days.enumerated().map { .init(orderID: "o\($0.offset)", accountID: "A", productLine: "备件", orderedAt: Self.at($0.element), booked: true, deliveredAt: nil, onTime: false) }
        }
        // Intervals 310 and 360: mean 335, deviation 25 (≤ half the mean).
        let regular = RepurchaseRules.cycles(lines([0, 310, 670]), accountID: "A", before: Self.at(700))
        #expect(regular.map(\.meanIntervalDays) == [335] && regular.first?.deviationDays == 25)
        // Intervals 50 and 550: mean 300, deviation 250 — no window worth predicting.
        #expect(RepurchaseRules.cycles(lines([0, 50, 600]), accountID: "A", before: Self.at(700)).isEmpty)
        // Two purchases are not a cycle yet.
        #expect(RepurchaseRules.cycles(lines([0, 330]), accountID: "A", before: Self.at(700)).isEmpty)
    }
}