import ForgeContracts
import ForgeKit
import Foundation
import SwiftProtobuf

/// The KPIs by DESIGN §7's standard definitions, each with its numerator, denominator and
/// period so that a manager can check it by hand. Pure functions of the facts.
///
/// Definitions where §7 leaves a choice (written down once, here):
/// - A *customer at a moment* is an account with a booked order in the 365 days before it; a
///   *new customer* of [from, to) a customer at `to` who was not one at `from` (a first order
///   or one won back after a silent year: either way not retained), so retention + churn is
///   100 %; a customer *lost* one that was a customer at `from` and is not at `to`.
/// - Revenue and orders: booked orders (approved, released, delivered, completed) by order date.
/// - LTV: historical gross margin of every booked order before `to`, per customer who ever
///   bought. CLV projects it: the last 365 days' margin per current customer × the expected
///   remaining years, 1 / the last 365 days' churn (at most 10 years).
/// - Funnel: opportunities created in the period, by the furthest stage each reached (bidding
///   is optional, so quotation → contract skips it); conversion = reached next / reached this.
/// - Win rate and sales cycle: opportunities closed in the period.
/// - SLA: tickets opened in the period whose target was met in time, of those with a result;
///   MTTR: hours from opening to resolution of tickets resolved in the period.
/// - On-time delivery: order lines delivered in the period (orders' own rule per line).
/// - Receivables and ageing: invoiced and unpaid at `to`; DSO = receivables at `to` / invoiced
///   in the period × the period's days.
/// - CRM adoption: active users wrote an activity in the period; reps are the owners of the
///   accounts in scope; an account is stale with no activity in the 7 days before `to`.
enum KpiRules {
    typealias Kpi = Forge_Analytics_V1_Kpi

    static let activeWindow: Double = 365 * Facts.day
    static let staleAfter: Double = 7 * Facts.day

    /// Every KPI key in the order the dashboard shows them.
    static let keys = [
        "revenue", "orders", "aov", "retention", "churn", "repeat_purchase_rate", "ltv", "clv",
        "nps", "csat",
        "funnel_design", "funnel_sampling", "funnel_quotation", "funnel_contract", "funnel_won", "win_rate", "sales_cycle_days",
        "first_response_compliance", "sla_compliance", "mttr_hours", "on_time_delivery",
        "receivables", "dso", "top10_share", "hhi",
        "active_users", "activities_per_rep_week", "stale_share",
    ]

    /// The facts of the accounts in scope (unfiltered: all, those of accounts not yet known too),
    /// indexed (see `Facts.indexed()`). A filtered slice copies a kind of fact only when a figure
    /// first reads it: one KPI in one region copied every array of the region (3 M instalments
    /// for a revenue figure that reads only orders).
    final class Slice {
        let accounts: [Facts.Account]
        let slots: Int
        private let facts: Facts
        private let scope: Scope
        /// Per account position, whether the scope admits it; nil when unfiltered.
        private let admitted: [Bool]?

        init(_ unindexed: Facts, _ scope: Scope) {
            facts = unindexed.indexed()
            self.scope = scope
            slots = facts.accountSlots
            // Unfiltered: the arrays as they are (no copy).
            guard !scope.isUnfiltered else {
                accounts = facts.accounts
                admitted = nil
                return
            }
            var admitted = [Bool](repeating: false, count: facts.accountSlots)
            for (position, account) in facts.accounts.enumerated() where scope.admits(account) { admitted[position] = true }
            self.admitted = admitted
            accounts = facts.accounts.filter(scope.admits)
        }

        private func admitted<F>(_ all: [F], _ account: (F) -> Int32) -> [F] {
            guard let admitted else { return all }
            return all.filter { admitted[Int(account($0))] }
        }

        lazy var orders = admitted(facts.orders, \.account)
        lazy var lines = admitted(facts.lines, \.account)
        lazy var installments = admitted(facts.installments, \.account)
        lazy var opportunities = admitted(facts.opportunities, \.account)
        lazy var tickets = admitted(facts.tickets, \.account)
        lazy var activities = admitted(facts.activities, \.account)
        /// Who was an active customer at a moment, once per moment for all the figures of one
        /// question (retention, churn and CLV ask for the same moments: a pass over every order each).
        var active: [Double: [Bool]] = [:]
        /// The customers' revenue in [from, to) (top-10 share and HHI).
        var ranking: [[Double]: Ranking] = [:]
        /// Booked orders' sums in [from, to) (revenue, orders and AOV ask for the same).
        var booked: [[Double]: (revenue: Double, margin: Double, count: Int)] = [:]
        /// The sales reps who own accounts in the slice.
        lazy var reps = Set(accounts.lazy.map(\.ownerID).filter { !$0.isEmpty })
        /// Receivables' ageing and the invoiced sum by [moment, from, to] (receivables and DSO).
        var aged: [[Double]: (buckets: [Bucket], invoiced: Double)] = [:]

        lazy var answers: [Facts.Answer] = {
            guard admitted != nil else { return facts.answers }
            return facts.answers.filter { answer in
                scope.admits(answer, partnerTier: answer.account < facts.accounts.count ? facts.accounts[Int(answer.account)].partnerTier : nil)
            }
        }()
    }

    static func compute(_ facts: Facts, scope: Scope, from: Double, to: Double, keys wanted: [String] = []) -> [Kpi] {
        compute(Slice(facts, scope), from: from, to: to, keys: wanted)
    }

    /// The figures over a slice a caller asks several questions of (periods, charts): its
    /// filtered facts and shared passes are worked out once for all of them.
    static func compute(_ slice: Slice, from: Double, to: Double, keys wanted: [String] = []) -> [Kpi] {
        let keys = wanted.isEmpty ? Self.keys : Self.keys.filter(wanted.contains)
        let stamp = { (kpi: inout Kpi) in
            kpi.from = Facts.stamp(from)
            kpi.to = Facts.stamp(to)
        }
        return keys.compactMap { key in
            guard var kpi = Self.kpi(key, slice, from: from, to: to) else { return nil }
            stamp(&kpi)
            return kpi
        }
    }

    // MARK: The figures

    static func kpi(_ key: String, _ s: Slice, from: Double, to: Double) -> Kpi? {
        let inPeriod = { (t: Double) in t >= from && t < to }
        switch key {
        case "revenue":
            let revenue = booked(s, from: from, to: to).revenue
            return total(key, L("营业收入", "Revenue"), revenue, L("已下订单金额（元）", "Booked order value (CNY)"), unit: "CNY", formula: L("Σ 已确认订单金额", "Σ booked order value"))
        case "orders":
            let count = booked(s, from: from, to: to).count
            return total(key, L("订单数", "Orders"), Double(count), L("已下订单数", "Booked orders"), unit: "count", formula: L("已确认订单数", "Booked orders"))
        case "aov":
            let booked = booked(s, from: from, to: to)
            return ratio(key, L("客单价 (AOV)", "Average order value (AOV)"), booked.revenue, L("收入", "Revenue"), Double(booked.count), L("订单数", "Orders"),
                         unit: "CNY", formula: L("客单价 = 收入 / 订单数", "AOV = revenue / orders"))
        case "retention", "churn":
            let start = active(s, at: from), end = active(s, at: to)
            var (startCount, endCount, new, lost) = (0, 0, 0, 0)
            var isNew = [Bool](repeating: false, count: s.slots)
            for slot in 0..<s.slots {
                if start[slot] { startCount += 1 }
                if end[slot] { endCount += 1 }
                if end[slot] && !start[slot] { new += 1; isNew[slot] = true }
                if start[slot] && !end[slot] { lost += 1 }
            }
            if key == "retention" {
                // New customers who had bought before (won back) have an order older than a year before `from`.
                var wonBack = [Bool](repeating: false, count: s.slots)
                for order in s.orders where order.booked && order.orderedAt < from - activeWindow && isNew[Int(order.account)] { wonBack[Int(order.account)] = true }
                let back = wonBack.lazy.filter { $0 }.count
                return ratio(key, L("客户保留率", "Retention"), Double(endCount - new), L("期末客户数 − 新客户数", "Customers at the end − new customers"), Double(startCount), L("期初客户数", "Customers at the start"),
                             scale: 100, unit: "%", formula: L("保留率 =（期末客户数 − 新客户数）/ 期初客户数", "Retention = (customers at the end − new customers) / customers at the start"),
                             parts: [(L("期初客户数", "Customers at the start"), Double(startCount)), (L("期末客户数", "Customers at the end"), Double(endCount)),
                                     (L("新客户：首单", "New customers: first order"), Double(new - back)), (L("新客户：赢回", "New customers: won back"), Double(back))])
            }
            return ratio(key, L("客户流失率", "Churn"), Double(lost), L("流失客户数", "Customers lost"), Double(startCount), L("期初客户数", "Customers at the start"),
                         scale: 100, unit: "%", formula: L("流失率 = 流失客户数 / 期初客户数", "Churn = customers lost / customers at the start"))
        case "repeat_purchase_rate":
            var counts = [Int32](repeating: 0, count: s.slots)
            for order in s.orders where order.booked && order.orderedAt >= from && order.orderedAt < to { counts[Int(order.account)] += 1 }
            return ratio(key, L("复购率", "Repeat-purchase rate"), Double(counts.lazy.filter { $0 >= 2 }.count), L("下过 2 单及以上的客户数", "Customers with 2 or more orders"),
                         Double(counts.lazy.filter { $0 >= 1 }.count), L("下过 1 单及以上的客户数", "Customers with 1 or more orders"), scale: 100, unit: "%",
                         formula: L("复购率 = 下过 2 单及以上的客户数 / 下过 1 单及以上的客户数", "Repeat-purchase rate = customers with 2+ orders / customers with 1+ orders"))
        case "ltv":
            var margin = 0.0
            var bought = [Bool](repeating: false, count: s.slots)
            for order in s.orders where order.booked && order.orderedAt < to {
                margin += order.margin
                bought[Int(order.account)] = true
            }
            return ratio(key, L("客户终身价值 (历史毛利)", "Customer lifetime value (historical margin)"), margin, L("全部订单毛利", "Gross margin of all orders"),
                         Double(bought.lazy.filter { $0 }.count), L("有过购买的客户数", "Customers who ever bought"), unit: "CNY",
                         formula: L("LTV = Σ 毛利 / 有过购买的客户数", "LTV = Σ gross margin / customers who ever bought"))
        case "clv":
            let yearAgo = to - activeWindow
            let now = active(s, at: to), before = active(s, at: yearAgo)
            var (current, previous, gone) = (0, 0, 0)
            for slot in 0..<s.slots {
                if now[slot] { current += 1 }
                if before[slot] { previous += 1 }
                if before[slot] && !now[slot] { gone += 1 }
            }
            let margin = booked(s, from: yearAgo, to: to).margin
            let churn = previous == 0 ? 0 : Double(gone) / Double(previous)
            let years = churn > 0 ? min(10, 1 / churn) : 10
            let perCustomer = current == 0 ? 0 : margin / Double(current)
            var kpi = ratio(key, L("客户生命周期价值 (预测)", "Customer lifetime value (projected)"), perCustomer * years, L("近 365 天每客户毛利 × 预期年限", "Margin per customer in the last 365 days × expected years"),
                            current == 0 ? 0 : 1, "", unit: "CNY",
                            formula: L("CLV = 近 365 天每客户毛利 × 预期年限（1 / 年流失率，至多 10 年）", "CLV = margin per customer in the last 365 days × expected years (1 / yearly churn, at most 10 years)"),
                            parts: [(L("每客户毛利", "Margin per customer"), perCustomer), (L("年流失率 %", "Yearly churn %"), churn * 100), (L("预期年限", "Expected years"), years)])
            kpi.denominator = Double(current)
            kpi.denominatorLabel = L("当前客户数", "Current customers")
            return kpi
        case "nps":
            let scores = s.answers.filter { $0.kind == 1 && inPeriod($0.answeredAt) }.map(\.score)
            let promoters = scores.filter { $0 >= 9 }.count, detractors = scores.filter { $0 <= 6 }.count
            return ratio(key, L("净推荐值 (NPS)", "Net Promoter Score (NPS)"), Double(promoters - detractors), L("推荐者 − 贬损者", "Promoters − detractors"), Double(scores.count), L("答卷数", "Answers"),
                         scale: 100, unit: "index", formula: L("NPS = 推荐者占比（9–10 分）− 贬损者占比（0–6 分）", "NPS = share of promoters (9–10) − share of detractors (0–6)"),
                         parts: [(L("推荐者", "Promoters"), Double(promoters)), (L("被动者", "Passives"), Double(scores.count - promoters - detractors)), (L("贬损者", "Detractors"), Double(detractors))])
        case "csat":
            let scores = s.answers.filter { $0.kind == 2 && inPeriod($0.answeredAt) }.map(\.score)
            return ratio(key, L("满意度 (CSAT)", "Satisfaction (CSAT)"), Double(scores.filter { $0 >= 4 }.count), L("满意答卷（4–5 分）", "Satisfied answers (4–5)"), Double(scores.count), L("答卷数", "Answers"),
                         scale: 100, unit: "%", formula: L("CSAT = 满意答卷（4–5 分）/ 答卷数", "CSAT = satisfied answers (4–5) / answers"),
                         parts: [(L("平均分", "Mean score"), scores.isEmpty ? 0 : Double(scores.reduce(0, +)) / Double(scores.count))])
        case let funnel where funnel.hasPrefix("funnel_"):
            guard let step = funnelSteps.first(where: { $0.key == funnel }) else { return nil }
            let cohort = s.opportunities.filter { inPeriod($0.createdAt) }
            let reached = { (rank: Int) in Double(cohort.filter { $0.maxRank >= rank }.count) }
            return ratio(funnel, step.label, reached(step.to), L("到达\(step.toName)", "reached \(step.toName)"), reached(step.from), L("到达\(step.fromName)", "reached \(step.fromName)"),
                         scale: 100, unit: "%", formula: L("期间创建的商机中到达\(step.toName)的 / 到达\(step.fromName)的", "opportunities created in the period that reached \(step.toName) / that reached \(step.fromName)"))
        case "win_rate":
            let closed = s.opportunities.filter { $0.outcome != .open && $0.closedAt.map(inPeriod) == true }
            let won = closed.filter { $0.outcome == .won }.count
            return ratio(key, L("赢单率", "Win rate"), Double(won), L("赢单", "Won"), Double(closed.count), L("赢单 + 输单", "Won + lost"), scale: 100, unit: "%",
                         formula: L("赢单率 = 赢单 /（赢单 + 输单）", "Win rate = won / (won + lost)"))
        case "sales_cycle_days":
            let won = s.opportunities.filter { $0.outcome == .won && $0.closedAt.map(inPeriod) == true }
            let days = won.reduce(0) { $0 + (($1.closedAt ?? $1.createdAt) - $1.createdAt) / Facts.day }
            return ratio(key, L("销售周期", "Sales cycle"), days, L("从创建到赢单的天数合计", "Days from creation to win, summed"), Double(won.count), L("赢单商机数", "Opportunities won"),
                         unit: "days", formula: L("销售周期 = Σ 创建到赢单天数 / 赢单商机数", "Sales cycle = Σ days from creation to win / opportunities won"))
        case "first_response_compliance", "sla_compliance":
            let first = key == "first_response_compliance"
            let results = s.tickets.filter { inPeriod($0.createdAt) }.map { first ? $0.firstResponse : $0.resolution }
                .filter { [Facts.slaMet, Facts.slaMissed, Facts.slaBreached].contains($0) }
            return ratio(key, first ? L("首次响应达标率", "First-response compliance") : L("SLA 解决达标率", "SLA resolution compliance"), Double(results.filter { $0 == Facts.slaMet }.count), L("按时达标", "Met in time"),
                         Double(results.count), L("有 SLA 结果的工单数", "Tickets with an SLA result"), scale: 100, unit: "%",
                         formula: first ? L("首次响应达标率 = 达标 /（达标 + 未达标 + 严重超时）", "First-response compliance = met / (met + missed + breached)") : L("SLA 解决达标率 = 按时解决 /（达标 + 未达标 + 严重超时）", "SLA resolution compliance = resolved in time / (met + missed + breached)"))
        case "mttr_hours":
            let resolved = s.tickets.filter { $0.resolvedAt.map(inPeriod) == true }
            let hours = resolved.reduce(0) { $0 + (($1.resolvedAt ?? $1.createdAt) - $1.createdAt) / 3600 }
            return ratio(key, L("平均修复时间 (MTTR)", "Mean time to repair (MTTR)"), hours, L("从开单到解决的小时数合计", "Hours from opening to resolution, summed"), Double(resolved.count), L("已解决工单数", "Tickets resolved"),
                         unit: "hours", formula: L("MTTR = Σ 解决用时（小时）/ 已解决工单数", "MTTR = Σ hours to resolve / tickets resolved"))
        case "on_time_delivery":
            var (delivered, onTime) = (0, 0)
            for line in s.lines {
                guard let at = line.deliveredAt, inPeriod(at) else { continue }
                delivered += 1
                if line.onTime { onTime += 1 }
            }
            return ratio(key, L("准时交付率", "On-time delivery"), Double(onTime), L("按时交付行数", "Lines delivered on time"), Double(delivered),
                         L("已交付行数", "Lines delivered"), scale: 100, unit: "%", formula: L("准时交付率 = 按时交付行数 / 已交付行数", "On-time delivery = lines delivered on time / lines delivered"))
        case "receivables":
            // The same pass as DSO's (the invoiced sum comes along), shared when both are asked.
            let buckets = ageing(s, at: to, invoicedFrom: from, to: to).buckets
            return total(key, L("应收账款", "Receivables"), buckets.reduce(0) { $0 + $1.amount }, L("期末已开票未付（元）", "Invoiced and unpaid at the end (CNY)"), unit: "CNY",
                         formula: L("Σ 已开票未付金额", "Σ invoiced and unpaid"), parts: buckets.map { ($0.label, $0.amount) })
        case "dso":
            let aged = ageing(s, at: to, invoicedFrom: from, to: to)
            let receivables = aged.buckets.reduce(0) { $0 + $1.amount }, credit = aged.invoiced
            let days = ((to - from) / Facts.day).rounded()
            return ratio(key, L("应收账款周转天数 (DSO)", "Days sales outstanding (DSO)"), receivables, L("期末应收账款", "Receivables at the end"), credit, L("期间赊销额（已开票）", "Credit sales in the period (invoiced)"),
                         scale: days, unit: "days", formula: L("DSO = 应收账款 / 期间赊销额 × 天数", "DSO = receivables / credit sales in the period × days"), parts: [(L("天数", "Days"), days)])
        case "top10_share", "hhi":
            let ranking = ranking(s, from: from, to: to)
            let total = ranking.total
            if key == "top10_share" {
                return ratio(key, L("前十大客户集中度", "Top-10 customer share"), ranking.top.reduce(0, +), L("前十大客户收入", "Revenue of the top 10 customers"), total, L("总收入", "Total revenue"), scale: 100, unit: "%",
                             formula: L("前十大客户集中度 = 前十大客户收入 / 总收入", "Top-10 share = revenue of the top 10 customers / total revenue"))
            }
            // Σ (revenue / total × 100)² = Σ revenue² × (100 / total)².
            var kpi = total > 0
                ? ratio(key, L("赫芬达尔指数 (HHI)", "Herfindahl index (HHI)"), ranking.sumOfSquares * (100 / total) * (100 / total), L("Σ（占比 %）²", "Σ (share %)²"), 1, "", unit: "index",
                        formula: L("HHI = Σ（各客户收入占比 %）²，0–10,000", "HHI = Σ (each customer's revenue share %)², 0–10,000"),
                        parts: ranking.top.enumerated().map { (L("第 \($0.offset + 1) 大客户占比 (%)", "Share of customer no. \($0.offset + 1) (%)"), $0.element / total * 100) })
                : ratio(key, L("赫芬达尔指数 (HHI)", "Herfindahl index (HHI)"), 0, L("Σ（占比 %）²", "Σ (share %)²"), 0, "", unit: "index", formula: L("HHI = Σ（各客户收入占比 %）²，0–10,000", "HHI = Σ (each customer's revenue share %)², 0–10,000"))
            kpi.denominator = Double(ranking.customers)
            kpi.denominatorLabel = L("有收入的客户数", "Customers with revenue")
            return kpi
        case "active_users":
            let authors = Set(s.activities.filter { inPeriod($0.at) }.map(\.authorID))
            return ratio(key, L("活跃用户", "Active users"), Double(authors.count), L("记录过跟进的用户数", "Users who logged an activity"), Double(s.reps.union(authors).count), L("销售及记录人", "Reps and authors"),
                         unit: "count", formula: L("活跃用户 = 期间记录过跟进的用户", "Active users = users who logged an activity in the period"), valueIsNumerator: true)
        case "activities_per_rep_week":
            let count = s.activities.filter { inPeriod($0.at) }.count
            let reps = s.reps.count
            let weeks = (to - from) / (7 * Facts.day)
            return ratio(key, L("人均周活动数", "Activities per rep per week"), Double(count), L("跟进记录数", "Activities logged"), Double(reps) * weeks, L("销售人数 × 周数", "Reps × weeks"),
                         unit: "per rep per week", formula: L("跟进记录数 /（销售人数 × 周数）", "Activities logged / (reps × weeks)"), parts: [(L("销售人数", "Reps"), Double(reps)), (L("周数", "Weeks"), weeks)])
        case "stale_share":
            var recent = Set<String>()
            for activity in s.activities where activity.at >= to - staleAfter && activity.at < to { recent.insert(activity.accountID) }
            var (owned, stale) = (0, 0)
            for index in s.accounts.indices where !s.accounts[index].ownerID.isEmpty {
                owned += 1
                if !recent.contains(s.accounts[index].id) { stale += 1 }
            }
            return ratio(key, L("沉睡客户占比", "Share of stale accounts"), Double(stale), L("7 天内无跟进的客户", "Accounts without an activity in 7 days"),
                         Double(owned), L("名下客户数", "Accounts owned"), scale: 100, unit: "%", formula: L("停滞客户占比 = 停滞客户数 / 名下客户数", "Stale share = stale accounts / accounts owned"))
        default:
            return nil
        }
    }

    // MARK: Series (the charts: one pass each, not a KPI per month)

    /// Booked revenue per period of `bounds` (consecutive [bounds[i], bounds[i+1])).
    static func revenue(_ s: Slice, bounds: [Double]) -> [Double] {
        var sums = [Double](repeating: 0, count: max(bounds.count - 1, 0))
        guard let first = bounds.first, let last = bounds.last else { return sums }
        for order in s.orders where order.booked && order.orderedAt >= first && order.orderedAt < last {
            let bucket = bounds.lastIndex { $0 <= order.orderedAt } ?? 0
            if bucket < sums.count { sums[bucket] += order.revenue }
        }
        return sums
    }

    /// NPS per period of `bounds`; nil where nobody answered.
    static func nps(_ s: Slice, bounds: [Double]) -> [Double?] {
        var counts = [NpsCount](repeating: NpsCount(), count: max(bounds.count - 1, 0))
        guard let first = bounds.first, let last = bounds.last else { return [] }
        for answer in s.answers where answer.kind == 1 && answer.answeredAt >= first && answer.answeredAt < last {
            let bucket = bounds.lastIndex { $0 <= answer.answeredAt } ?? 0
            guard bucket < counts.count else { continue }
            counts[bucket].answers += 1
            if answer.score >= 9 { counts[bucket].promoters += 1 } else if answer.score <= 6 { counts[bucket].detractors += 1 }
        }
        return counts.map(\.nps)
    }

    struct NpsCount {
        var promoters = 0, detractors = 0, answers = 0
        var nps: Double? { answers == 0 ? nil : Double(promoters - detractors) / Double(answers) * 100 }
    }

    /// NPS by the region each answer was given in (as feedback counts it), over [from, to).
    static func npsByRegion(_ s: Slice, from: Double, to: Double) -> [(region: String, nps: Double)] {
        var counts: [String: NpsCount] = [:]
        for answer in s.answers where answer.kind == 1 && answer.answeredAt >= from && answer.answeredAt < to && !answer.region.isEmpty {
            counts[answer.region, default: NpsCount()].answers += 1
            if answer.score >= 9 { counts[answer.region, default: NpsCount()].promoters += 1 } else if answer.score <= 6 { counts[answer.region, default: NpsCount()].detractors += 1 }
        }
        return counts.keys.sorted().map { region in (region, counts[region]?.nps ?? 0) }
    }

    // MARK: Customers and sales

    /// Which account positions have a booked order in the 365 days before `moment`.
    static func active(_ s: Slice, at moment: Double) -> [Bool] {
        if let known = s.active[moment] { return known }
        var accounts = [Bool](repeating: false, count: s.slots)
        for order in s.orders where order.booked && order.orderedAt >= moment - activeWindow && order.orderedAt < moment {
            accounts[Int(order.account)] = true
        }
        s.active[moment] = accounts
        return accounts
    }

    /// The customers who bought in a period: their revenue's total and sum of squares, how
    /// many they are, and the ten largest (descending) — what top-10 share and HHI need,
    /// without sorting a hundred thousand customers.
    struct Ranking {
        var total = 0.0, sumOfSquares = 0.0, customers = 0
        var top: [Double] = []
    }

    /// Each customer's booked revenue in [from, to), ranked once per slice and period.
    static func ranking(_ s: Slice, from: Double, to: Double) -> Ranking {
        if let known = s.ranking[[from, to]] { return known }
        var perAccount = [Double](repeating: 0, count: s.slots)
        var bought = [Bool](repeating: false, count: s.slots)
        for order in s.orders where order.booked && order.orderedAt >= from && order.orderedAt < to {
            perAccount[Int(order.account)] += order.revenue
            bought[Int(order.account)] = true
        }
        var ranking = Ranking()
        for slot in 0..<s.slots where bought[slot] {
            let revenue = perAccount[slot]
            ranking.total += revenue
            ranking.sumOfSquares += revenue * revenue
            ranking.customers += 1
            if ranking.top.count < 10 || revenue > ranking.top[ranking.top.count - 1] {
                ranking.top.insert(revenue, at: ranking.top.firstIndex { $0 < revenue } ?? ranking.top.count)
                if ranking.top.count > 10 { ranking.top.removeLast() }
            }
        }
        s.ranking[[from, to]] = ranking
        return ranking
    }

    /// Booked orders ordered in [from, to): revenue, margin, how many — one pass per slice
    /// and period (revenue, orders and AOV ask for the same).
    static func booked(_ s: Slice, from: Double, to: Double) -> (revenue: Double, margin: Double, count: Int) {
        if let known = s.booked[[from, to]] { return known }
        var sums = (revenue: 0.0, margin: 0.0, count: 0)
        for order in s.orders where order.booked && order.orderedAt >= from && order.orderedAt < to {
            sums.revenue += order.revenue
            sums.margin += order.margin
            sums.count += 1
        }
        s.booked[[from, to]] = sums
        return sums
    }

    // MARK: Funnel

    /// Pipeline's stages ranked (Stage's raw values up to contract; won above them).
    enum StageRank {
        static let consultation = 1, design = 2, sampling = 3, quotation = 4, bidding = 5, contract = 6, won = 7
    }

    struct FunnelStep { var key: String; var label: String; var from: Int; var fromName: String; var to: Int; var toName: String }

    /// In the language of the request (`L`), so computed per call.
    static var funnelSteps: [FunnelStep] { [
        FunnelStep(key: "funnel_design", label: L("漏斗: 技术咨询 → 方案设计", "Funnel: consultation → solution design"), from: StageRank.consultation, fromName: L("技术咨询", "Consultation"), to: StageRank.design, toName: L("方案设计", "Solution design")),
        FunnelStep(key: "funnel_sampling", label: L("漏斗: 方案设计 → 打样试用", "Funnel: solution design → sampling"), from: StageRank.design, fromName: L("方案设计", "Solution design"), to: StageRank.sampling, toName: L("打样试用", "Sampling")),
        FunnelStep(key: "funnel_quotation", label: L("漏斗: 打样试用 → 报价谈判", "Funnel: sampling → quotation"), from: StageRank.sampling, fromName: L("打样试用", "Sampling"), to: StageRank.quotation, toName: L("报价谈判", "Quotation")),
        FunnelStep(key: "funnel_contract", label: L("漏斗: 报价谈判 → 合同", "Funnel: quotation → contract"), from: StageRank.quotation, fromName: L("报价谈判", "Quotation"), to: StageRank.contract, toName: L("合同", "Contract")),
        FunnelStep(key: "funnel_won", label: L("漏斗: 合同 → 赢单", "Funnel: contract → won"), from: StageRank.contract, fromName: L("合同", "Contract"), to: StageRank.won, toName: L("赢单", "Won")),
    ] }

    // MARK: Ageing

    struct Bucket { var label: String; var amount: Double }

    /// Invoiced, unpaid money at `moment` by days overdue (orders' buckets). A payment counts
    /// from its day on.
    static func ageing(_ installments: [Facts.Installment], at moment: Double) -> [Bucket] {
        ageing(installments, at: moment, invoicedFrom: moment, to: moment).buckets
    }

    /// `ageing(_:at:invoicedFrom:to:)` of a slice's instalments, once per slice and arguments.
    static func ageing(_ s: Slice, at moment: Double, invoicedFrom from: Double, to: Double) -> (buckets: [Bucket], invoiced: Double) {
        if let known = s.aged[[moment, from, to]] { return known }
        let aged = ageing(s.installments, at: moment, invoicedFrom: from, to: to)
        s.aged[[moment, from, to]] = aged
        return aged
    }

    /// The ageing at `moment`, and what was invoiced in [from, to) — one pass over the
    /// instalments, reading fields in place (copying each instalment, id included, costs more
    /// than the arithmetic at millions of them).
    static func ageing(_ installments: [Facts.Installment], at moment: Double, invoicedFrom from: Double, to: Double) -> (buckets: [Bucket], invoiced: Double) {
        var amounts = [0.0, 0, 0, 0, 0]
        var invoicedInPeriod = 0.0
        for index in installments.indices {
            guard let invoiced = installments[index].invoicedAt else { continue }
            let amount = installments[index].amount
            if invoiced >= from && invoiced < to { invoicedInPeriod += amount }
            guard invoiced < moment else { continue }
            let paid = (installments[index].paidAt.map { $0 < moment } ?? false) ? installments[index].paid : 0
            let open = amount - paid
            guard open > 0.000_5 else { continue }
            let days = installments[index].dueAt.map { moment > $0 ? Int((moment - $0) / Facts.day) : 0 } ?? 0
            amounts[days <= 0 ? 0 : days <= 30 ? 1 : days <= 60 ? 2 : days <= 90 ? 3 : 4] += open
        }
        let buckets = zip([L("未到期", "Not yet due"), L("逾期 1–30 天", "1–30 days overdue"), L("逾期 31–60 天", "31–60 days overdue"), L("逾期 61–90 天", "61–90 days overdue"), L("逾期 90 天以上", "Over 90 days overdue")], amounts).map { Bucket(label: $0, amount: $1) }
        return (buckets, invoicedInPeriod)
    }

    // MARK: Building a KPI

    static func ratio(_ key: String, _ label: String, _ numerator: Double, _ numeratorLabel: String, _ denominator: Double,
                      _ denominatorLabel: String, scale: Double = 1, unit: String, formula: String,
                      parts: [(String, Double)] = [], valueIsNumerator: Bool = false) -> Kpi {
        .with {
            $0.key = key
            $0.label = label
            $0.numerator = numerator
            $0.denominator = denominator
            $0.numeratorLabel = numeratorLabel
            $0.denominatorLabel = denominatorLabel
            $0.unit = unit
            $0.formula = formula
            $0.defined = denominator != 0
            $0.value = valueIsNumerator ? numerator : denominator != 0 ? numerator / denominator * scale : 0
            $0.parts = parts.map { part in .with { $0.label = part.0; $0.value = part.1 } }
        }
    }

    /// A sum: the value is the numerator; there is no denominator.
    static func total(_ key: String, _ label: String, _ value: Double, _ what: String, unit: String, formula: String,
                      parts: [(String, Double)] = []) -> Kpi {
        var kpi = ratio(key, label, value, what, 0, "", unit: unit, formula: formula, parts: parts, valueIsNumerator: true)
        kpi.defined = true
        return kpi
    }
}
