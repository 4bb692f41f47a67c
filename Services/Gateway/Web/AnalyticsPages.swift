import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwiftProtobuf

/// Analytics' pages: the KPI dashboard (filters, every KPI with how it was worked out, charts),
/// the churn-risk list, the monthly management report (and its CSV), and the 360° page's
/// health card. Charts are inline SVG drawn here; the numbers all come from forge-analytics.
struct AnalyticsPages: Sendable {
    let pages: WebPages

    typealias Method = Forge_Analytics_V1_AnalyticsService.Method

    func register(in router: Router<GatewayRequestContext>) {
        router.get("/analytics") { request, _ in
            await pages.page(request) { token in try await dashboard(query: Self.query(request), token: token) }
        }
        router.get("/analytics/risks") { request, _ in
            await pages.page(request) { token in try await risksPage(query: Self.query(request), token: token) }
        }
        router.get("/analytics/report") { request, _ in
            await pages.page(request) { token in try await reportPage(query: Self.query(request), token: token) }
        }
        router.get("/analytics/report.pdf") { request, _ in
            guard let token = WebPages.sessionToken(request) else { return Response.redirect(to: "/login", type: .found) }
            let query = Self.query(request)
            do {
                let html = try await reportPage(query: query, token: token)
                let pdf = try await PDFPrinter.print(html: html)
                let month = query["month"].flatMap { ChinaCalendar.monthStart(named: $0) != nil ? $0 : nil } ?? "latest"
                return Response(status: .ok, headers: [.contentType: "application/pdf",
                                                       .contentDisposition: "attachment; filename=\"forge-report-\(month).pdf\""],
                                body: .init(byteBuffer: ByteBuffer(bytes: pdf)))
            } catch {
                return await pages.page(request) { _ in throw error }
            }
        }
        router.get("/analytics/report.csv") { request, _ in
            guard let token = WebPages.sessionToken(request) else { return Response.redirect(to: "/login", type: .found) }
            let query = Self.query(request)
            do {
                let report = try await call(Method.getReport, Self.reportRequest(query), token: token, as: Forge_Analytics_V1_GetReportResponse.self)
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                                       .contentDisposition: "attachment; filename=\"forge-report-\(report.month).csv\""],
                                body: .init(byteBuffer: ByteBuffer(string: Self.csv(report))))
            } catch {
                return await pages.page(request) { _ in throw error }
            }
        }
    }

    func call<Response: SwiftProtobuf.Message>(_ method: MethodDescriptor, _ request: some SwiftProtobuf.Message, token: String, as type: Response.Type) async throws -> Response {
        try await pages.call("analytics", method, request, token: token, as: type)
    }

    static func query(_ request: Request) -> [String: String] {
        var fields: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { fields[String(name)] = String(value).removingPercentEncoding ?? String(value) }
        return fields
    }

    static let filterFields = ["region", "industry", "tier", "owner_id", "team", "partner_tier"]

    static func filter(_ query: [String: String]) -> Forge_Analytics_V1_KpiFilter {
        .with {
            $0.region = query["region"] ?? ""
            $0.industry = query["industry"] ?? ""
            $0.tier = query["tier"] ?? ""
            $0.ownerID = query["owner_id"] ?? ""
            $0.team = query["team"] ?? ""
            $0.partnerTier = query["partner_tier"] ?? ""
        }
    }

    /// The filters to carry into a link ("?region=…&team=…", or "" without any).
    static func carried(_ query: [String: String], _ fields: [String]) -> String {
        let pairs = fields.compactMap { name in
            query[name].flatMap { $0.isEmpty ? nil : "\(name)=\($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? "")" }
        }
        return pairs.isEmpty ? "" : "?" + pairs.joined(separator: "&")
    }

    static func reportRequest(_ query: [String: String]) -> Forge_Analytics_V1_GetReportRequest {
        .with {
            $0.month = query["month"] ?? ""
            $0.filter = filter(query)
        }
    }

    /// The filter form (months as "2026-01"; the period runs from the first month's start to
    /// the last month's end).
    static func filterForm(_ query: [String: String], action: String, months: Bool) -> String {
        let field = { (name: String, label: String, placeholder: String) in
            "<label>\(label) <input name=\"\(name)\" value=\"\(HTML.escape(query[name] ?? ""))\" placeholder=\"\(placeholder)\" size=\"9\"></label>"
        }
        let period = months ? field("from", L("起始月", "From month"), "2026-01") + " " + field("to", L("截止月", "To month"), "2026-12") + " " : ""
        return """
            <form method="get" action="\(action)" id="filters" class="filters">\(period)\(field("region", L("区域", "Region"), "华东")) \(field("industry", L("行业", "Industry"), "")) \
            \(field("tier", L("客户层级", "Account tier"), "core")) \(field("owner_id", L("负责人", "Owner"), "")) \(field("team", L("团队", "Team"), "")) \(field("partner_tier", L("会员等级", "Partner tier"), "gold")) \
            <button>\(L("筛选", "Filter"))</button></form>
            """
    }

    // MARK: Formatting

    static func value(_ kpi: Forge_Analytics_V1_Kpi) -> String {
        guard kpi.defined else { return "—" }
        return number(kpi.value, unit: kpi.unit)
    }

    static func number(_ value: Double, unit: String) -> String {
        switch unit {
        case "%": return String(format: "%.1f%%", value)
        case "CNY": return yuan(value)
        case "days": return String(format: "%.1f \(L("天", "days"))", value)
        case "hours": return String(format: "%.1f \(L("小时", "hours"))", value)
        case "count": return String(format: "%.0f", value)
        default: return String(format: "%.1f", value)
        }
    }

    /// Whole yuan with thousands separators: a dashboard's money has no cents.
    static func yuan(_ value: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = 0
        return "¥" + (formatter.string(from: NSNumber(value: value.rounded())) ?? String(format: "%.0f", value))
    }

    static func plain(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(format: "%.0f", value) : String(format: "%.2f", value)
    }

    /// How the figure was worked out: numerator / denominator, and the parts.
    static func working(_ kpi: Forge_Analytics_V1_Kpi) -> String {
        var text = kpi.denominatorLabel.isEmpty
            ? "\(HTML.escape(kpi.numeratorLabel)): \(plain(kpi.numerator))"
            : "\(HTML.escape(kpi.numeratorLabel)) \(plain(kpi.numerator)) / \(HTML.escape(kpi.denominatorLabel)) \(plain(kpi.denominator))"
        if !kpi.parts.isEmpty { text += "<br>" + kpi.parts.map { "\(HTML.escape($0.label)) \(plain($0.value))" }.joined(separator: " · ") }
        return text
    }

    static func card(_ kpi: Forge_Analytics_V1_Kpi) -> String {
        """
        <section class="card kpi" id="kpi-\(kpi.key)" data-value="\(kpi.defined ? String(kpi.value) : "")" title="\(HTML.escape(kpi.formula))">
        <h3>\(HTML.escape(kpi.label))</h3><p class="kpi-value" style="font-size:1.6rem;margin:.2rem 0">\(value(kpi))</p>
        <p class="muted" style="font-size:.8rem">\(working(kpi))</p></section>
        """
    }

    /// The dashboard's sections, headed in the request's language (`L`): computed per call —
    /// a stored constant kept the language of the first page served for every page after it.
    static var groups: [(String, [String])] {
        [
            (L("销售与客户", "Sales and customers"), ["revenue", "orders", "aov", "retention", "churn", "repeat_purchase_rate", "ltv", "clv", "top10_share", "hhi"]),
            (L("客户之声", "Voice of the customer"), ["nps", "csat"]),
            (L("销售漏斗", "Sales funnel"), ["funnel_design", "funnel_sampling", "funnel_quotation", "funnel_contract", "funnel_won", "win_rate", "sales_cycle_days"]),
            (L("服务与交付", "Service and delivery"), ["first_response_compliance", "sla_compliance", "mttr_hours", "on_time_delivery"]),
            (L("回款", "Collections"), ["receivables", "dso"]),
            (L("CRM 使用", "CRM adoption"), ["active_users", "activities_per_rep_week", "stale_share"]),
        ]
    }

    // MARK: Charts

    /// What a chart's axes measure: the categories along the bottom, the unit up the side.
    static func axisTitles(_ series: Forge_Analytics_V1_Series) -> (x: String, y: String) {
        let x = switch series.key {
        case "nps_by_region": L("区域", "Region")
        case "ageing": L("逾期天数", "Days overdue")
        case "funnel": L("商机阶段", "Opportunity stage")
        default: L("月份", "Month")
        }
        let y = switch series.unit {
        case "CNY": L("金额（元）", "Amount (CNY)")
        case "%": "\(L("百分比", "Percent")) (%)"
        case "days": L("天", "days")
        case "hours": L("小时", "hours")
        case "count": L("数量", "Count")
        default: series.key.hasPrefix("nps") ? L("NPS（−100 至 100）", "NPS (−100 to 100)") : L("指数", "Index")
        }
        return (x, y)
    }

    /// A bar chart of a series; negative values (NPS) hang below the axis. Both axes say what
    /// they measure.
    static func chart(_ series: Forge_Analytics_V1_Series) -> String {
        let points = series.points
        guard !points.isEmpty else { return "" }
        let width = 640.0, height = 214.0, top = 16.0, bottom = 50.0, left = 18.0
        let axes = axisTitles(series)
        let values = points.map { $0.defined ? $0.value : 0 }
        let high = max(values.max() ?? 0, 0), low = min(values.min() ?? 0, 0)
        let span = high - low == 0 ? 1 : high - low
        let plot = height - top - bottom
        let zero = top + plot * high / span
        let slot = (width - left) / Double(points.count)
        let bars = points.enumerated().map { index, point -> String in
            let value = point.defined ? point.value : 0
            let barHeight = abs(value) / span * plot
            let y = value >= 0 ? zero - barHeight : zero
            let x = left + Double(index) * slot + slot * 0.15
            let color = value < 0 ? "#d92d20" : "#2e90fa"
            return """
                <rect x="\(Int(x))" y="\(Int(y))" width="\(Int(slot * 0.7))" height="\(max(Int(barHeight), point.defined ? 1 : 0))" fill="\(color)"><title>\(HTML.escape(point.label)): \(point.defined ? number(point.value, unit: series.unit) : "—")</title></rect>\
                <text x="\(Int(x + slot * 0.35))" y="\(Int(height - bottom + 14))" font-size="10" text-anchor="middle">\(HTML.escape(point.label))</text>\
                <text x="\(Int(x + slot * 0.35))" y="\(Int(max(y - 3, 10)))" font-size="9" text-anchor="middle">\(point.defined ? HTML.escape(short(point.value, unit: series.unit)) : "—")</text>
                """
        }.joined()
        return """
            <figure class="card chart" id="chart-\(series.key)"><figcaption><strong>\(HTML.escape(series.label))</strong></figcaption>
            <svg viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" role="img" aria-label="\(HTML.escape(series.label))">\
            <line x1="\(Int(left))" x2="\(Int(width))" y1="\(Int(zero))" y2="\(Int(zero))" stroke="#98a2b3"/>\
            <line x1="\(Int(left))" x2="\(Int(left))" y1="\(Int(top))" y2="\(Int(height - bottom))" stroke="#98a2b3"/>\
            <text class="axis-y" x="-\(Int(top + plot / 2))" y="11" font-size="10" text-anchor="middle" transform="rotate(-90)">\(HTML.escape(axes.y))</text>\
            <text class="axis-x" x="\(Int(left + (width - left) / 2))" y="\(Int(height - 6))" font-size="10" text-anchor="middle">\(HTML.escape(axes.x))</text>\
            \(bars)</svg></figure>
            """
    }

    /// A bar's label: money in 万, the rest as the unit says.
    static func short(_ value: Double, unit: String) -> String {
        unit == "CNY" ? (abs(value) >= 10_000 ? L(String(format: "%.0f万", value / 10_000), String(format: "%.0fk", value / 1_000)) : String(format: "%.0f", value)) : number(value, unit: unit)
    }

    // MARK: The dashboard

    private func dashboard(query: [String: String], token: String) async throws -> String {
        var request = Forge_Analytics_V1_GetKpisRequest.with {
            $0.filter = Self.filter(query)
            $0.withCharts = true
        }
        if let fromText = query["from"], !fromText.isEmpty || !(query["to"] ?? "").isEmpty {
            guard let from = ChinaCalendar.monthStart(named: fromText), let to = ChinaCalendar.monthStart(named: query["to"] ?? "") else {
                throw RPCError.invalidArgument([FieldViolation(field: "from", description: "from and to must be months like 2026-01")])
            }
            request.from = .init(date: from)
            request.to = .init(date: ChinaCalendar.monthStart(to, adding: 1))
        }
        let kpis = try await call(Method.getKpis, request, token: token, as: Forge_Analytics_V1_GetKpisResponse.self)
        let byKey = Dictionary(kpis.kpis.map { ($0.key, $0) }, uniquingKeysWith: { $1 })
        let sections = Self.groups.compactMap { title, keys -> String? in
            let cards = keys.compactMap { byKey[$0] }.map(Self.card).joined()
            return cards.isEmpty ? nil : "<h2>\(title)</h2><div class=\"grid kpis\">\(cards)</div>"
        }.joined()
        let link = Self.carried(query, Self.filterFields)
        return HTML.page(title: L("经营分析", "Business analytics"), user: WebPages.subject(token), body: """
            <h1>\(L("经营分析", "Business analytics"))</h1>
            <p class="muted" id="period">\(WebPages.date(kpis.from)) – \(WebPages.date(.init(date: kpis.to.date.addingTimeInterval(-1)))) · \
            <a href="/analytics/risks\(link)">\(L("风险客户", "At-risk accounts"))</a> · <a href="/analytics/report\(link)">\(L("月度报告", "Monthly report"))</a></p>
            \(Self.filterForm(query, action: "/analytics", months: true))
            \(sections)
            <h2>\(L("趋势与结构（截至", "Trends and structure (to")) \(HTML.escape(ChinaCalendar.month(kpis.to.date.addingTimeInterval(-1))))\(L("）", ")"))</h2>
            <div class="grid charts" style="grid-template-columns:repeat(auto-fill,minmax(560px,1fr))">\(kpis.charts.map(Self.chart).joined())</div>
            """)
    }

    // MARK: Risks

    static func levelBadge(_ level: String) -> String {
        let (css, text) = switch level {
        case "high": ("breached", L("高", "High"))
        case "medium": ("at-risk", L("中", "Medium"))
        default: ("met", L("低", "Low"))
        }
        return "<span class=\"sla \(css)\">\(text)</span>"
    }

    static func riskRows(_ risks: [Forge_Analytics_V1_RiskEntry]) -> String {
        risks.map { risk in
            """
            <tr data-account="\(HTML.escape(risk.accountID))" data-level="\(HTML.escape(risk.churn.level))"><td><a href="/accounts/\(HTML.escape(risk.accountID))">\(HTML.escape(risk.accountName.isEmpty ? risk.accountID : risk.accountName))</a></td>
            <td>\(levelBadge(risk.churn.level)) \(Int(risk.churn.score))\(risk.churn.alerted ? " \(L("· 已提醒", "· owner alerted"))" : "")</td><td>\(Int(risk.health))</td>
            <td>\(risk.churn.signals.map { "\(HTML.escape($0.label))\(L("（", " ("))\(HTML.escape($0.explanation))\(L("）", ")"))" }.joined(separator: L("；", "; ")))</td>
            <td>\(HTML.escape(risk.ownerID))</td><td>\(HTML.escape(risk.region))</td></tr>
            """
        }.joined()
    }

    static var riskHeader: String { "<thead><tr><th>\(L("客户", "Account"))</th><th>\(L("流失风险", "Churn risk"))</th><th>\(L("健康度", "Health"))</th><th>\(L("信号", "Signals"))</th><th>\(L("负责人", "Owner"))</th><th>\(L("区域", "Region"))</th></tr></thead>" }

    private func risksPage(query: [String: String], token: String) async throws -> String {
        let risks = try await call(Method.listRisks, Forge_Analytics_V1_ListRisksRequest.with {
            $0.filter = Self.filter(query)
            $0.minLevel = query["min_level"] ?? ""
            $0.limit = 200
        }, token: token, as: Forge_Analytics_V1_ListRisksResponse.self)
        return HTML.page(title: L("风险客户", "At-risk accounts"), user: WebPages.subject(token), body: """
            <h1>\(L("流失风险客户", "Accounts at risk of churn"))</h1>
            <p class="muted" id="risk-total">\(L("共", "")) \(risks.total) \(L("家（中高风险）· 信号：久未下单、联系减少、订单金额下滑、贬损者、SLA 未达标 ·", "accounts (medium or high risk) · signals: no order for long, fewer contacts, falling order value, detractor, SLA missed ·")) <a href="/analytics">\(L("返回看板", "Back to the dashboard"))</a></p>
            \(Self.filterForm(query, action: "/analytics/risks", months: false))
            \(risks.risks.isEmpty ? "<p class=\"muted\" id=\"no-risks\">\(L("没有中高风险客户", "No accounts at medium or high risk"))</p>" : "<table id=\"risks\">\(Self.riskHeader)<tbody>\(Self.riskRows(risks.risks))</tbody></table>")
            """)
    }

    // MARK: The report

    func reportPage(query: [String: String], token: String) async throws -> String {
        let report = try await call(Method.getReport, Self.reportRequest(query), token: token, as: Forge_Analytics_V1_GetReportResponse.self)
        let rows = report.lines.map { line in
            let change = line.current.defined && line.previousMonth.defined ? line.current.value - line.previousMonth.value : nil
            return """
                <tr id="line-\(line.current.key)"><td title="\(HTML.escape(line.current.formula))">\(HTML.escape(line.current.label))</td>
                <td class="current">\(Self.value(line.current))</td><td>\(Self.value(line.previousMonth))\(change.map { $0 == 0 ? "" : " <span class=\"muted\">(\($0 > 0 ? "+" : "")\(Self.number($0, unit: line.current.unit)))</span>" } ?? "")</td>
                <td>\(Self.value(line.previousYear))</td><td class="muted" style="font-size:.8rem">\(Self.working(line.current))</td></tr>
                """
        }.joined()
        let movers = report.movers.map { mover in
            """
            <li data-account="\(HTML.escape(mover.accountID))"><a href="/accounts/\(HTML.escape(mover.accountID))">\(HTML.escape(mover.accountName))</a> \
            \(L("健康度", "Health")) \(Int(mover.score)) <span class="sla \(mover.change > 0 ? "met" : "breached")">\(mover.change > 0 ? "+" : "")\(Int(mover.change))</span> · \(HTML.escape(mover.reason))</li>
            """
        }.joined()
        let link = Self.carried(query, Self.filterFields + ["month"])
        return HTML.page(title: "\(L("月度报告", "Monthly report")) \(report.month)", user: WebPages.subject(token), body: """
            <h1>\(L("月度经营报告", "Monthly business report")) <span id="report-month">\(HTML.escape(report.month))</span></h1>
            <p class="muted">\(WebPages.date(report.from)) – \(WebPages.date(.init(date: report.to.date.addingTimeInterval(-1))))\(L("；复购率与集中度按截至月末的12个月计 ·", "; repeat purchase and concentration over the 12 months to the month end ·")) \
            <a href="/analytics/report.csv\(link)" id="csv">\(L("下载 CSV", "Download CSV"))</a> · \
            <a href="/analytics/report.pdf\(link)" id="pdf">\(L("下载 PDF", "Download PDF"))</a> · <a href="/analytics">\(L("返回看板", "Back to the dashboard"))</a></p>
            <form method="get" action="/analytics/report"><label>\(L("月份", "Month")) <input name="month" value="\(HTML.escape(report.month))" size="8"></label> <button>\(L("查看", "Show"))</button></form>
            <table id="report-lines"><thead><tr><th>\(L("指标", "KPI"))</th><th>\(L("本月", "This month"))</th><th>\(L("上月", "Last month"))</th><th>\(L("去年同月", "Same month last year"))</th><th>\(L("计算", "Working"))</th></tr></thead><tbody>\(rows)</tbody></table>
            <h2>\(L("重点风险客户", "Top accounts at risk"))</h2>
            \(report.topRisks.isEmpty ? "<p class=\"muted\">\(L("没有中高风险客户", "No accounts at medium or high risk"))</p>" : "<table id=\"top-risks\">\(Self.riskHeader)<tbody>\(Self.riskRows(report.topRisks))</tbody></table>")
            <h2>\(L("健康度变化最大的客户", "Accounts whose health moved most"))</h2>
            \(movers.isEmpty ? "<p class=\"muted\">\(L("本月没有变化", "No change this month"))</p>" : "<ul class=\"timeline\" id=\"movers\">\(movers)</ul>")
            <h2>\(L("图表", "Charts"))</h2>
            <div class="grid charts" style="grid-template-columns:repeat(auto-fill,minmax(560px,1fr))">\(report.charts.map(Self.chart).joined())</div>
            """)
    }

    /// The report as a spreadsheet: one row per KPI with its working.
    static func csv(_ report: Forge_Analytics_V1_GetReportResponse) -> String {
        func cell(_ text: String) -> String { text.contains(where: { ",\"\n".contains($0) }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text }
        func figure(_ kpi: Forge_Analytics_V1_Kpi) -> String { kpi.defined ? plain(kpi.value) : "" }
        var lines = ["month,key,label,unit,value,numerator,numerator_label,denominator,denominator_label,previous_month,previous_year,formula"]
        for line in report.lines {
            let kpi = line.current
            lines.append([report.month, kpi.key, kpi.label, kpi.unit, figure(kpi), plain(kpi.numerator), kpi.numeratorLabel, plain(kpi.denominator),
                          kpi.denominatorLabel, figure(line.previousMonth), figure(line.previousYear), kpi.formula].map(cell).joined(separator: ","))
        }
        // A BOM so that Excel opens the labels (Chinese by default) as UTF-8.
        return "\u{FEFF}" + lines.joined(separator: "\r\n") + "\r\n"
    }

    // MARK: The 360° card

    static func card(_ section: Forge_Gateway_V1_Section?) -> String {
        guard let section, section.status == .ok, let found = try? Forge_Analytics_V1_GetAccountHealthResponse(jsonString: section.json) else {
            return "<p class=\"muted\">\(HTML.escape(section?.detail ?? ""))</p>"
        }
        let health = found.health
        let reasons = health.reasons.map { "<li>\(HTML.escape($0.label)) \($0.change > 0 ? "+" : "")\(Int($0.change.rounded()))\(L("：", ": "))\(HTML.escape($0.explanation))</li>" }.joined()
        let signals = health.churn.signals.map { "\(HTML.escape($0.label))\(L("（", " ("))\(HTML.escape($0.explanation))\(L("）", ")"))" }.joined(separator: L("；", "; "))
        let cycles = health.cycles.map {
            "<li>\(HTML.escape($0.productLine))\(L("：约每", ": about every")) \(Int($0.meanIntervalDays)) ± \(Int($0.deviationDays)) \(L("天，预计", "days, next expected")) \(WebPages.date($0.windowOpens)) – \(WebPages.date($0.windowCloses))</li>"
        }.joined()
        return """
            <p><span class="health-score" style="font-size:2rem">\(Int(health.score))</span> <span class="muted">/ 100\(L("（上月", " (last month")) \(Int(health.previousScore))\(L("）", ")"))</span></p>
            \(reasons.isEmpty ? "" : "<h3>\(L("变化原因", "What moved it"))</h3><ul class=\"timeline reasons\">\(reasons)</ul>")
            <p class="churn" data-level="\(HTML.escape(health.churn.level))">\(L("流失风险", "Churn risk")) \(levelBadge(health.churn.level)) \(Int(health.churn.score))\(signals.isEmpty ? "" : " · " + signals)</p>
            \(cycles.isEmpty ? "<p class=\"muted\">\(L("采购记录不足以推算复购周期", "Too few purchases to estimate a repurchase cycle"))</p>" : "<h3>\(L("复购周期", "Repurchase cycle"))</h3><ul class=\"timeline cycles\">\(cycles)</ul>")
            """
    }
}

/// The report as a PDF: the report page printed by headless Chromium (Debian's `chromium`, the
/// browser the page tests already drive; `FORGE_CHROMIUM` names another). Without it, the page
/// and its CSV remain and the PDF answers UNAVAILABLE saying why.
enum PDFPrinter {
    static func browser() -> String? {
        let candidates = [ProcessInfo.processInfo.environment["FORGE_CHROMIUM"] ?? "", "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        return candidates.first { !$0.isEmpty && FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func print(html: String) async throws -> [UInt8] {
        guard let browser = browser() else {
            throw RPCError(.unavailable, "PDF \(L("需要服务器安装 Chromium（或设置 FORGE", "needs Chromium on the server (or FORGE"))_CHROMIUM\(L("）；请使用页面打印或下载 CSV", "); print the page or download the CSV instead"))")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("forge-pdf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let page = folder.appendingPathComponent("report.html"), pdf = folder.appendingPathComponent("report.pdf")
        try html.write(to: page, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: browser)
        process.arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--user-data-dir=\(folder.path)/profile",
                             "--print-to-pdf=\(pdf.path)", page.absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { process.terminationHandler = nil; continuation.resume(throwing: error) }
        }
        guard status == 0, let bytes = FileManager.default.contents(atPath: pdf.path), bytes.starts(with: Array("%PDF".utf8)) else {
            throw RPCError(.internal, "Chromium could not print the report (exit status \(status))")
        }
        return [UInt8](bytes)
    }
}
