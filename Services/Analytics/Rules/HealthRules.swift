import ForgeContracts
import ForgeKit
import Foundation
import SwiftProtobuf

/// One customer's health score and churn risk at a moment, from that customer's facts only.
///
/// Health, 0–100, the sum of six weighted components (each 0–100):
/// - contact recency (20): the last activity ≤ 14 days ago 100, ≥ 90 days 0, linear between;
/// - order recency (20): days since the last booked order against the customer's usual
///   interval (the mean gap between its orders; 365 days with fewer than two): within it 100,
///   at twice it 0, linear between; never ordered 0;
/// - order trend (15): the last 365 days' revenue against the 365 before: ≥ 100 % → 100,
///   ≤ 50 % → 0, linear between; a first year of buying 100; nothing in either 0;
/// - NPS (15): the latest NPS answer × 10; no answer 50 (unknown, neither good nor bad);
/// - service (15): 100 − 25 per ticket open at the moment − 25 per SLA miss in 90 days;
/// - payment (15): the most overdue unpaid invoice: none 100, 1–30 days 60, 31–60 30,
///   61–90 10, beyond 0.
/// The three reasons are the components whose points changed most since 30 days earlier.
///
/// Churn risk, 0–100, the weights of the silent signals present: no order for 1.5× the usual
/// interval (30, needs two orders), fewer contacts than usual (15: the last 90 days' activities
/// under half the quarterly mean of the year before, when that mean is at least 1), falling
/// order value (20: the last 365 days' revenue under 70 % of the 365 before), a detractor
/// (20: the latest NPS answer, within 365 days, 0–6), an SLA miss in 90 days (15). High at 50,
/// medium at 30; an alert (a task for the owner) opens at high and closes below medium.
enum HealthRules {
    struct Component {
        var key: String
        var label: String
        var weight: Double
        var score: Double
        var explanation: String
        var points: Double { weight * score / 100 }
    }

    static let day = Facts.day
    static let highRisk = 50.0, mediumRisk = 30.0

    /// One account's facts (the store loads them by account).
    struct Customer {
        var orders: [Facts.Order] = []
        var installments: [Facts.Installment] = []
        var tickets: [Facts.Ticket] = []
        var answers: [Facts.Answer] = []
        var activities: [Facts.Activity] = []

        init(_ facts: Facts, accountID: String) {
            orders = facts.orders.filter { $0.accountID == accountID && $0.booked }.sorted { $0.orderedAt < $1.orderedAt }
            installments = facts.installments.filter { $0.accountID == accountID }
            tickets = facts.tickets.filter { $0.accountID == accountID }
            answers = facts.answers.filter { $0.accountID == accountID && $0.kind == 1 }.sorted { $0.answeredAt < $1.answeredAt }
            activities = facts.activities.filter { $0.accountID == accountID }
        }

        func revenue(from: Double, to: Double) -> Double {
            orders.filter { $0.orderedAt >= from && $0.orderedAt < to }.reduce(0) { $0 + $1.revenue }
        }

        /// The mean gap between booked orders before `moment`, in seconds; nil with fewer than two.
        func usualInterval(before moment: Double) -> Double? {
            let times = orders.map(\.orderedAt).filter { $0 < moment }
            guard times.count >= 2, let first = times.first, let last = times.last else { return nil }
            return (last - first) / Double(times.count - 1)
        }

        func lastAnswer(before moment: Double) -> Facts.Answer? { answers.last { $0.answeredAt < moment } }

        func slaMisses(from: Double, to: Double) -> Int {
            tickets.filter { $0.createdAt >= from && $0.createdAt < to
                && [$0.firstResponse, $0.resolution].contains { [Facts.slaMissed, Facts.slaBreached].contains($0) } }.count
        }
    }

    static func linear(_ value: Double, best: Double, worst: Double) -> Double {
        guard best != worst else { return value <= best ? 100 : 0 }
        let share = (value - worst) / (best - worst)
        return (max(0, min(1, share)) * 100).rounded()
    }

    static func days(_ seconds: Double) -> Int { Int((seconds / day).rounded(.down)) }

    static func components(_ c: Customer, at moment: Double) -> [Component] {
        var result: [Component] = []
        if let last = c.activities.filter({ $0.at < moment }).map(\.at).max() {
            let ago = (moment - last) / day
            result.append(.init(key: "contact_recency", label: L("联系频度", "Contact recency"), weight: 20, score: linear(ago, best: 14, worst: 90),
                                explanation: L("最近一次联系在 \(days(moment - last)) 天前", "Last contact \(days(moment - last)) days ago")))
        } else {
            result.append(.init(key: "contact_recency", label: L("联系频度", "Contact recency"), weight: 20, score: 0, explanation: L("没有联系记录", "No contact logged")))
        }
        if let last = c.orders.last(where: { $0.orderedAt < moment })?.orderedAt {
            let usual = c.usualInterval(before: moment) ?? 365 * day
            let gap = moment - last
            result.append(.init(key: "order_recency", label: L("下单间隔", "Order recency"), weight: 20, score: linear(gap, best: usual, worst: 2 * usual),
                                explanation: L("最近一次下单在 \(days(gap)) 天前，通常每 \(days(usual)) 天一单", "Last order \(days(gap)) days ago, usually one every \(days(usual)) days")))
        } else {
            result.append(.init(key: "order_recency", label: L("下单间隔", "Order recency"), weight: 20, score: 0, explanation: L("还没有订单", "No orders yet")))
        }
        let recent = c.revenue(from: moment - 365 * day, to: moment), prior = c.revenue(from: moment - 730 * day, to: moment - 365 * day)
        switch (recent > 0, prior > 0) {
        case (_, true):
            let share = recent / prior
            result.append(.init(key: "order_trend", label: L("订单趋势", "Order trend"), weight: 15, score: linear(share, best: 1, worst: 0.5),
                                explanation: L("近 12 个月采购额为前 12 个月的 \(percent(share))", "Purchases in the last 12 months are \(percent(share)) of the 12 months before")))
        case (true, false):
            result.append(.init(key: "order_trend", label: L("订单趋势", "Order trend"), weight: 15, score: 100, explanation: L("合作第一年", "First year of cooperation")))
        case (false, false):
            result.append(.init(key: "order_trend", label: L("订单趋势", "Order trend"), weight: 15, score: 0, explanation: L("两年内没有订单", "No orders in two years")))
        }
        if let answer = c.lastAnswer(before: moment) {
            result.append(.init(key: "nps", label: "NPS", weight: 15, score: Double(answer.score * 10),
                                explanation: L("最近一次 NPS 评分 \(answer.score)", "Latest NPS score \(answer.score)")))
        } else {
            result.append(.init(key: "nps", label: "NPS", weight: 15, score: 50, explanation: L("还没有 NPS 评分", "No NPS score yet")))
        }
        let open = c.tickets.filter { $0.createdAt < moment && ($0.resolvedAt.map { $0 >= moment } ?? true) }.count
        let misses = c.slaMisses(from: moment - 90 * day, to: moment)
        result.append(.init(key: "service", label: L("服务", "Service"), weight: 15, score: max(0, 100 - 25 * Double(open + misses)),
                            explanation: L("\(open) 张未解决工单，90 天内 \(misses) 次 SLA 未达标", "\(open) open tickets, \(misses) SLA misses in 90 days")))
        let overdue = c.installments.compactMap { item -> Int? in
            guard let invoiced = item.invoicedAt, invoiced < moment, let due = item.dueAt, due < moment else { return nil }
            let paid = (item.paidAt.map { $0 < moment } ?? false) ? item.paid : 0
            return item.amount - paid > 0.000_5 ? days(moment - due) : nil
        }.max()
        let paymentScore: Double = switch overdue ?? 0 {
        case ...0: 100
        case 1...30: 60
        case 31...60: 30
        case 61...90: 10
        default: 0
        }
        result.append(.init(key: "payment", label: L("回款", "Payments"), weight: 15, score: paymentScore,
                            explanation: overdue.map { $0 > 0 ? L("有发票逾期 \($0) 天", "An invoice \($0) days overdue") : L("没有逾期", "Nothing overdue") } ?? L("没有逾期", "Nothing overdue")))
        return result
    }

    static func percent(_ share: Double) -> String { "\(Int((share * 100).rounded())) %" }

    /// The score, its components against 30 days earlier, and the three largest moves.
    static func health(_ c: Customer, at moment: Double) -> Forge_Analytics_V1_AccountHealth {
        let now = components(c, at: moment), before = components(c, at: moment - 30 * day)
        let previous = Dictionary(uniqueKeysWithValues: before.map { ($0.key, $0.points) })
        return .with {
            $0.score = now.reduce(0) { $0 + $1.points }.rounded()
            $0.previousScore = before.reduce(0) { $0 + $1.points }.rounded()
            $0.components = now.map { component in
                .with {
                    $0.key = component.key
                    $0.label = component.label
                    $0.weight = component.weight
                    $0.score = component.score
                    $0.points = component.points
                    $0.explanation = component.explanation
                    $0.previousPoints = previous[component.key] ?? 0
                }
            }
            $0.reasons = reasons(now, previous: previous)
        }
    }

    /// The three components whose points moved most (at least half a point), largest first.
    static func reasons(_ now: [Component], previous: [String: Double]) -> [Forge_Analytics_V1_HealthReason] {
        let moves: [(Component, Double)] = now.map { ($0, $0.points - (previous[$0.key] ?? 0)) }.filter { abs($0.1) >= 0.5 }
        let ranked = moves.sorted { left, right in
            abs(left.1) != abs(right.1) ? abs(left.1) > abs(right.1) : left.0.key < right.0.key
        }
        return ranked.prefix(3).map { component, change in
            Forge_Analytics_V1_HealthReason.with {
                $0.component = component.key
                $0.label = component.label
                $0.change = change
                $0.explanation = component.explanation
            }
        }
    }

    // MARK: Churn risk

    static func churn(_ c: Customer, at moment: Double) -> Forge_Analytics_V1_ChurnRisk {
        var signals: [Forge_Analytics_V1_ChurnSignal] = []
        func signal(_ key: String, _ label: String, _ weight: Double, _ explanation: String) {
            signals.append(.with { $0.key = key; $0.label = label; $0.weight = weight; $0.explanation = explanation })
        }
        if let usual = c.usualInterval(before: moment), let last = c.orders.last(where: { $0.orderedAt < moment })?.orderedAt,
           moment - last > 1.5 * usual {
            signal("no_order", L("久未下单", "No recent order"), 30, L("已 \(days(moment - last)) 天未下单，通常每 \(days(usual)) 天一单", "No order for \(days(moment - last)) days, usually one every \(days(usual)) days"))
        }
        let recentContacts = c.activities.filter { $0.at >= moment - 90 * day && $0.at < moment }.count
        let usualContacts = Double(c.activities.filter { $0.at >= moment - 450 * day && $0.at < moment - 90 * day }.count) / 4
        if usualContacts >= 1, Double(recentContacts) < usualContacts / 2 {
            signal("fewer_contacts", L("联系减少", "Fewer contacts"), 15, L("90 天内联系 \(recentContacts) 次，通常 \(Int(usualContacts.rounded())) 次", "\(recentContacts) contacts in 90 days, usually \(Int(usualContacts.rounded()))"))
        }
        let recent = c.revenue(from: moment - 365 * day, to: moment), prior = c.revenue(from: moment - 730 * day, to: moment - 365 * day)
        if prior > 0, recent < 0.7 * prior {
            signal("falling_value", L("订单金额下滑", "Falling order value"), 20, L("近 12 个月采购额为前 12 个月的 \(percent(recent / prior))", "Purchases in the last 12 months are \(percent(recent / prior)) of the 12 months before"))
        }
        if let answer = c.lastAnswer(before: moment), answer.score <= 6, answer.answeredAt >= moment - 365 * day {
            signal("detractor", L("贬损者", "Detractors"), 20, L("最近一次 NPS 评分 \(answer.score)", "Latest NPS score \(answer.score)"))
        }
        let misses = c.slaMisses(from: moment - 90 * day, to: moment)
        if misses > 0 { signal("sla_miss", L("SLA 未达标", "SLA missed"), 15, L("90 天内 \(misses) 次 SLA 未达标", "\(misses) SLA misses in 90 days")) }
        let score = signals.reduce(0) { $0 + $1.weight }
        return .with {
            $0.score = score
            $0.level = score >= highRisk ? "high" : score >= mediumRisk ? "medium" : "low"
            $0.signals = signals
        }
    }

    static func rank(_ level: String) -> Int { ["low": 0, "medium": 1, "high": 2][level] ?? 1 }
}
