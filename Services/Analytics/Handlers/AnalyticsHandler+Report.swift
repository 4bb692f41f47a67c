import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// The monthly management report: the month's KPIs against the month before and the same
/// month a year earlier; the top risks; the customers whose health moved most; the charts'
/// series (twelve months of revenue and NPS, NPS by region, ageing, the funnel).
extension AnalyticsHandler {
    /// KPIs of a structure rather than a flow (they need a year of orders to mean anything):
    /// measured over the twelve months to the month's end.
    static let trailingKeys: Set<String> = ["repeat_purchase_rate", "top10_share", "hhi"]

    func getReport(_ request: Forge_Analytics_V1_GetReportRequest, context: ServerContext) async throws -> Forge_Analytics_V1_GetReportResponse {
        let principal = try context.caller()
        let now = clock.now()
        let start: Date
        if request.month.isEmpty {
            start = ChinaCalendar.monthStart(now, adding: -1)
        } else if let named = ChinaCalendar.monthStart(named: request.month) {
            start = named
        } else {
            throw RPCError.invalidArgument([FieldViolation(field: "month", description: "must be a month like 2026-11")])
        }
        let scope = Self.scope(request.filter, principal: principal)
        let keys = Self.visibleKeys(principal, asked: [])
        let (facts, split) = try await cache.facts()
        return Self.report(facts, split: split, scope: scope, keys: keys, month: start, now: now)
    }

    static func report(_ facts: Facts, split: [String: Facts], scope: Scope, keys: [String], month start: Date, now: Date) -> Forge_Analytics_V1_GetReportResponse {
        func bounds(_ monthsBack: Int) -> (Double, Double) {
            (ChinaCalendar.monthStart(start, adding: -monthsBack).timeIntervalSince1970,
             ChinaCalendar.monthStart(start, adding: 1 - monthsBack).timeIntervalSince1970)
        }
        let slice = KpiRules.Slice(facts, scope)
        func kpis(_ monthsBack: Int) -> [String: Forge_Analytics_V1_Kpi] {
            let (from, to) = bounds(monthsBack)
            let flows = KpiRules.compute(slice, from: from, to: to, keys: keys.filter { !trailingKeys.contains($0) })
            let trailing = KpiRules.compute(slice, from: ChinaCalendar.monthStart(Date(timeIntervalSince1970: to), adding: -12).timeIntervalSince1970,
                                            to: to, keys: keys.filter(trailingKeys.contains))
            return Dictionary((flows + trailing).map { ($0.key, $0) }, uniquingKeysWith: { $1 })
        }
        let (current, previous, lastYear) = (kpis(0), kpis(1), kpis(12))
        let (from, to) = bounds(0)
        let moment = min(now.timeIntervalSince1970, to)
        var movers: [Forge_Analytics_V1_Mover] = []
        for account in facts.accounts where scope.admits(account) {
            let health = HealthRules.health(HealthRules.Customer(split[account.id] ?? Facts(), accountID: account.id), at: moment)
            let change = health.score - health.previousScore
            guard change != 0 else { continue }
            movers.append(.with {
                $0.accountID = account.id
                $0.accountName = account.name
                $0.ownerID = account.ownerID
                $0.score = health.score
                $0.change = change
                $0.reason = health.reasons.first.map { "\($0.label): \($0.explanation)" } ?? ""
            })
        }
        movers.sort { (abs($0.change), $1.accountID) > (abs($1.change), $0.accountID) }
        return .with {
            $0.month = ChinaCalendar.month(start)
            $0.from = Facts.stamp(from)
            $0.to = Facts.stamp(to)
            $0.generatedAt = .init(date: now)
            $0.lines = keys.compactMap { key in
                guard let kpi = current[key] else { return nil }
                return .with {
                    $0.current = kpi
                    if let before = previous[key] { $0.previousMonth = before }
                    if let before = lastYear[key] { $0.previousYear = before }
                }
            }
            $0.topRisks = Array(risks(facts, split: split, scope: scope, at: Date(timeIntervalSince1970: moment), minLevel: "medium").prefix(10))
            $0.movers = Array(movers.prefix(10))
            $0.charts = charts(slice, keys: Set(keys), from: from, to: to)
        }
    }

    /// - Parameter ageingAt: the moment of the receivables' ageing (the end, when not given).
    /// - Parameter known: the receivables figure at `ageingAt` when the caller has it (its parts
    ///   are the ageing chart; working it out again is a pass over every instalment).
    static func charts(_ slice: KpiRules.Slice, keys: Set<String>, from: Double, to: Double, ageingAt: Double? = nil,
                       receivables known: Forge_Analytics_V1_Kpi? = nil) -> [Forge_Analytics_V1_Series] {
        let end = Date(timeIntervalSince1970: to)
        let months = (1...12).reversed().map { back in
            (ChinaCalendar.month(ChinaCalendar.monthStart(end, adding: -back)),
             ChinaCalendar.monthStart(end, adding: -back).timeIntervalSince1970, ChinaCalendar.monthStart(end, adding: 1 - back).timeIntervalSince1970)
        }
        let bounds = months.map(\.1) + [months.last?.2 ?? to]
        func series(_ key: String, _ label: String, _ unit: String, _ values: [Double?]) -> Forge_Analytics_V1_Series {
            .with {
                $0.key = key
                $0.label = label
                $0.unit = unit
                $0.points = zip(months, values).map { month, value in .with { $0.label = month.0; $0.value = value ?? 0; $0.defined = value != nil } }
            }
        }
        var charts: [Forge_Analytics_V1_Series] = []
        if keys.contains("revenue") { charts.append(series("revenue_trend", L("营业收入 (近12个月)", "Revenue (last 12 months)"), "CNY", KpiRules.revenue(slice, bounds: bounds))) }
        charts.append(series("nps_trend", L("NPS (近12个月)", "NPS (last 12 months)"), "index", KpiRules.nps(slice, bounds: bounds)))
        let yearStart = ChinaCalendar.monthStart(end, adding: -12).timeIntervalSince1970
        charts.append(.with {
            $0.key = "nps_by_region"
            $0.label = L("各区域 NPS (近12个月)", "NPS by region (last 12 months)")
            $0.unit = "index"
            $0.points = KpiRules.npsByRegion(slice, from: yearStart, to: to).map { region, nps in .with { $0.label = region; $0.value = nps; $0.defined = true } }
        })
        if keys.contains("receivables"), let receivables = known ?? KpiRules.compute(slice, from: from, to: ageingAt ?? to, keys: ["receivables"]).first {
            charts.append(.with {
                $0.key = "ageing"
                $0.label = L("应收账龄", "Receivables ageing")
                $0.unit = "CNY"
                $0.points = receivables.parts.map { part in .with { $0.label = part.label; $0.value = part.value; $0.defined = true } }
            })
        }
        let cohort = slice.opportunities.filter { $0.createdAt >= yearStart && $0.createdAt < to }
        charts.append(.with {
            $0.key = "funnel"
            $0.label = L("销售漏斗 (近12个月新建商机)", "Sales funnel (opportunities created in the last 12 months)")
            $0.unit = "count"
            let stages: [(String, Int)] = [(L("技术咨询", "Consultation"), KpiRules.StageRank.consultation), (L("方案设计", "Solution design"), KpiRules.StageRank.design),
                                           (L("打样试用", "Sampling"), KpiRules.StageRank.sampling), (L("报价谈判", "Quotation"), KpiRules.StageRank.quotation),
                                           (L("合同", "Contract"), KpiRules.StageRank.contract), (L("赢单", "Won"), KpiRules.StageRank.won)]
            $0.points = stages.map { name, rank in .with { $0.label = name; $0.value = Double(cohort.filter { $0.maxRank >= rank }.count); $0.defined = true } }
        })
        return charts
    }
}
