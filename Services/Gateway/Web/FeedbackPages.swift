import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwiftProtobuf

/// Feedback's pages: the NPS dashboard (figures, a monthly trend and regions as inline SVG),
/// the follow-up cases and their close form, the ideas board, the 360° page's feedback card,
/// and the public survey page a customer reaches by a one-time link without signing in.
struct FeedbackPages: Sendable {
    let pages: WebPages

    typealias Method = Forge_Feedback_V1_FeedbackService.Method

    /// The identity the public page calls forge-feedback with: the link's token is the
    /// customer's credential, the gateway vouches only that the call came through its page.
    static let publicPage = Principal(subject: "gateway-survey-page", roles: [Role.service])

    func register(in router: Router<GatewayRequestContext>) {
        router.get("/nps") { request, _ in
            let region = request.uri.queryParameters.get("region") ?? ""
            return await pages.page(request) { token in try await dashboard(region: region, token: token) }
        }
        router.get("/follow-ups") { request, _ in
            let closed = request.uri.queryParameters.get("closed") == "1"
            return await pages.page(request) { token in try await followUpsPage(closed: closed, token: token) }
        }
        router.get("/follow-ups/{id}") { request, context in
            await pages.page(request) { token in try await followUpPage(id: context.parameters.get("id") ?? "", token: token) }
        }
        router.post("/follow-ups/{id}/close") { request, context in
            await pages.action(request) { token, fields in
                let id = context.parameters.get("id") ?? ""
                _ = try await call(Method.closeFollowUp, Forge_Feedback_V1_CloseFollowUpRequest.with {
                    $0.id = id
                    $0.version = Int64(fields["version"] ?? "") ?? 0
                    $0.actionsTaken = fields["actions_taken"] ?? ""
                    $0.whatChanged = fields["what_changed"] ?? ""
                    $0.notifyCustomer = fields["notify_customer"] != nil
                }, token: token, as: Forge_Feedback_V1_CloseFollowUpResponse.self)
                return "/follow-ups/\(id)"
            }
        }
        router.get("/ideas") { request, _ in
            await pages.page(request) { token in try await ideasPage(token: token) }
        }
        router.post("/ideas/{id}/status") { request, context in
            await pages.action(request) { token, fields in
                _ = try await call(Method.updateIdeaStatus, Forge_Feedback_V1_UpdateIdeaStatusRequest.with {
                    $0.id = context.parameters.get("id") ?? ""
                    $0.version = Int64(fields["version"] ?? "") ?? 0
                    $0.status = Int(fields["status"] ?? "").flatMap(Forge_Feedback_V1_IdeaStatus.init(rawValue:)) ?? .unspecified
                    $0.note = fields["note"] ?? ""
                }, token: token, as: Forge_Feedback_V1_UpdateIdeaStatusResponse.self)
                return "/ideas"
            }
        }
        // The public survey page: no session, mobile-first.
        router.get("/s/{token}") { _, context in await surveyPage(token: context.parameters.get("token") ?? "") }
        router.post("/s/{token}") { request, context in await answer(request, token: context.parameters.get("token") ?? "") }
    }

    func call<Response: SwiftProtobuf.Message>(_ method: MethodDescriptor, _ request: some SwiftProtobuf.Message, token: String, as type: Response.Type) async throws -> Response {
        try await pages.call("feedback", method, request, token: token, as: type)
    }

    // MARK: The NPS dashboard

    /// The first day (China time) of the month `months` before this one: the dashboard reports
    /// whole months, which forge-feedback answers from its running totals.
    static func monthStart(_ months: Int, before now: Date = Date()) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        let first = calendar.date(from: calendar.dateComponents([.year, .month], from: now)) ?? now
        return calendar.date(byAdding: .month, value: -months, to: first) ?? first
    }

    private func dashboard(region: String, token: String) async throws -> String {
        let year = Self.monthStart(11)
        async let overall = call(Method.getNps, Forge_Feedback_V1_GetNpsRequest.with {
            $0.region = region
            $0.from = .init(date: year)
            $0.groupBy = [.month]
        }, token: token, as: Forge_Feedback_V1_GetNpsResponse.self)
        async let byRegion = call(Method.getNps, Forge_Feedback_V1_GetNpsRequest.with {
            $0.from = .init(date: year)
            $0.groupBy = [.region]
        }, token: token, as: Forge_Feedback_V1_GetNpsResponse.self)
        async let detractors = call(Method.listSurveys, Forge_Feedback_V1_ListSurveysRequest.with {
            $0.states = [.answered]
            $0.region = region
            $0.page.pageSize = 10
        }, token: token, as: Forge_Feedback_V1_ListSurveysResponse.self)
        let (figures, regions, latest) = try await (overall, byRegion, detractors)
        let total = figures.overall
        let regionRows = regions.groups.map { group in
            let name = group.keys.first ?? ""
            return "<tr data-region=\"\(HTML.escape(name))\"><td><a href=\"/nps?region=\(HTML.escape(name))\">\(HTML.escape(name.isEmpty ? L("（未填）", "(not set)") : name))</a></td><td class=\"nps\">\(Self.score(group.figures))</td><td>\(group.figures.responses)</td><td>\(Self.percent(group.figures.responseRate))</td></tr>"
        }.joined()
        return HTML.page(title: "NPS", user: WebPages.subject(token), body: """
            <h1>NPS \(L("与满意度", "and satisfaction"))\(region.isEmpty ? "" : " · \(HTML.escape(region)) <a class=\"muted\" href=\"/nps\">\(L("全部地区", "All regions"))</a>")</h1>
            <p class="muted">\(L("近 12 个月（\(WebPages.date(.init(date: year))) 起）· NPS = 推荐者% − 贬损者%（9–10 推荐，7–8 中立，0–6 贬损）", "Last 12 months (from \(WebPages.date(.init(date: year)))) · NPS = promoters % − detractors % (9–10 promoter, 7–8 passive, 0–6 detractor)"))</p>
            <div class="grid">
            <section class="card" id="nps-overall"><h2>NPS</h2>
            <p style="font-size:2.4rem;margin:.2rem 0" id="nps-value">\(Self.score(total))</p>
            \(Self.distribution(total))
            <dl><dt>\(L("回答", "Answers"))</dt><dd id="nps-responses">\(total.responses)</dd><dt>\(L("发出", "Sent"))</dt><dd>\(total.sent) \(L("· 回收率", "· response rate")) \(Self.percent(total.responseRate))</dd>
            <dt>CSAT</dt><dd id="csat">\(total.csatResponses == 0 ? "—" : String(format: "%.2f / 5\(L("（满意", "(satisfied")) %@\(L("，%d 份）", ", %d answers)"))", total.csatAverage, Self.percent(total.csatSatisfiedShare), total.csatResponses))</dd></dl>
            </section>
            <section class="card" id="nps-trend"><h2>\(L("月度趋势", "Monthly trend"))</h2>\(Self.trendChart(figures.groups))</section>
            </div>
            <h2>\(L("按地区", "By region"))</h2>
            <table id="nps-regions"><thead><tr><th>\(L("地区", "Region"))</th><th>NPS</th><th>\(L("回答", "Answers"))</th><th>\(L("回收率", "Response rate"))</th></tr></thead><tbody>\(regionRows)</tbody></table>
            <h2>\(L("最新回答", "Latest answers"))</h2>
            <ul class="timeline" id="latest-answers">\(latest.surveys.map(Self.answerLine).joined())</ul>
            <p><a href="/follow-ups">\(L("跟进任务", "Follow-ups"))</a> · <a href="/ideas">\(L("客户创意", "Customer ideas"))</a></p>
            """)
    }

    static func score(_ figures: Forge_Feedback_V1_NpsFigures) -> String {
        figures.responses == 0 ? "<span class=\"muted\">\(L("暂无回答", "No answers yet"))</span>" : String(format: "%+.0f", figures.nps)
    }

    static func percent(_ share: Double) -> String { String(format: "%.0f%%", share * 100) }

    /// Promoters, passives and detractors as one stacked bar.
    static func distribution(_ figures: Forge_Feedback_V1_NpsFigures) -> String {
        guard figures.responses > 0 else { return "" }
        let total = Double(figures.responses)
        var x = 0.0
        var bars = ""
        for (count, colour, label) in [(figures.promoters, "#12805c", L("推荐", "Promoters")), (figures.passives, "#98a2b3", L("中立", "Passives")), (figures.detractors, "#b42318", L("贬损", "Detractors"))] {
            let width = Double(count) / total * 300
            bars += "<rect x=\"\(x)\" y=\"0\" width=\"\(width)\" height=\"18\" fill=\"\(colour)\"><title>\(label) \(count)</title></rect>"
            x += width
        }
        return """
            <svg viewBox="0 0 300 18" width="100%" height="18" preserveAspectRatio="none" role="img" aria-label="\(L("推荐", "Promoters")) \(figures.promoters)\(L("，中立", ", passives")) \(figures.passives)\(L("，贬损", ", detractors")) \(figures.detractors)">\(bars)</svg>
            <p class="muted" id="nps-split">\(L("推荐", "Promoters")) \(figures.promoters) \(L("· 中立", "· passives")) \(figures.passives) \(L("· 贬损", "· detractors")) \(figures.detractors)</p>
            """
    }

    /// NPS by month as bars around a zero line (−100…100), months without answers left empty.
    static func trendChart(_ groups: [Forge_Feedback_V1_NpsGroup]) -> String {
        let months = groups.filter { $0.figures.responses > 0 }.suffix(12)
        guard !months.isEmpty else { return "<p class=\"muted\">\(L("暂无回答", "No answers yet"))</p>" }
        let width = 40.0
        var bars = ""
        for (index, group) in months.enumerated() {
            let value = group.figures.nps
            let height = abs(value) / 100 * 80
            let y = value >= 0 ? 90 - height : 90
            let x = Double(index) * width + 8
            bars += """
                <rect class="month" data-month="\(HTML.escape(group.keys.first ?? ""))" x="\(x)" y="\(y)" width="\(width - 12)" height="\(max(height, 1))" fill="\(value >= 0 ? "#1f5eff" : "#b42318")"><title>\(HTML.escape(group.keys.first ?? "")) NPS \(Int(value.rounded()))\(L("（\(group.figures.responses) 份）", " (\(group.figures.responses) answers)"))</title></rect>
                <text x="\(x + (width - 12) / 2)" y="\(value >= 0 ? y - 3 : y + height + 11)" font-size="10" text-anchor="middle">\(Int(value.rounded()))</text>
                <text x="\(x + (width - 12) / 2)" y="192" font-size="9" text-anchor="middle" fill="#667085">\(HTML.escape(String((group.keys.first ?? "").suffix(5))))</text>
                """
        }
        let total = Double(months.count) * width + 16
        return """
            <svg viewBox="0 0 \(total) 200" width="100%" height="200" role="img" aria-label="NPS \(L("月度趋势", "Monthly trend"))">
            <line x1="0" x2="\(total)" y1="90" y2="90" stroke="#98a2b3"/>\(bars)</svg>
            """
    }

    static func answerLine(_ survey: Forge_Feedback_V1_Survey) -> String {
        let scoreClass = survey.scoreClass
        let css = [.promoter, .satisfied].contains(scoreClass) ? "sla met" : [.detractor, .dissatisfied].contains(scoreClass) ? "sla breached" : "muted"
        return """
            <li class="answer" data-class="\(scoreClass.rawValue)"><span class="\(css)">\(survey.kind == .csat ? "CSAT" : "NPS") \(survey.score)</span> · <a href="/accounts/\(HTML.escape(survey.accountID))">\(HTML.escape(survey.accountName))</a>\(survey.contactName.isEmpty ? "" : " · " + HTML.escape(survey.contactName)) · \(WebPages.date(survey.answeredAt))
            \(survey.comment.isEmpty ? "" : "<br>“\(HTML.escape(survey.comment))”")\(survey.tags.isEmpty ? "" : " <span class=\"muted\">#\(survey.tags.map { HTML.escape(tagLabels[$0] ?? $0) }.joined(separator: " #"))</span>")</li>
            """
    }

    /// The default keyword rules' tags in the page's language; a company's own tags show as they are named.
    static var tagLabels: [String: String] { ["delivery": L("交期", "delivery"), "quality": L("质量", "quality"), "price": L("价格", "price"), "service": L("服务", "service"), "documentation": L("资料", "documentation")] }

    // MARK: Follow-ups

    private func followUpsPage(closed: Bool, token: String) async throws -> String {
        let list = try await call(Method.listFollowUps, Forge_Feedback_V1_ListFollowUpsRequest.with {
            $0.states = closed ? [.closed] : [.open, .escalated]
            $0.page.pageSize = 200
        }, token: token, as: Forge_Feedback_V1_ListFollowUpsResponse.self)
        let now = Date()
        let rows = list.followUps.map { followUp in
            let late = followUp.state != .closed && followUp.dueAt.date < now
            return """
                <tr data-follow-up="\(HTML.escape(followUp.id))"><td><a href="/follow-ups/\(HTML.escape(followUp.id))">\(HTML.escape(followUp.accountName))</a></td>
                <td>\(followUp.kind == .csat ? "CSAT" : "NPS") \(followUp.score)</td><td>\(HTML.escape(String(followUp.comment.prefix(60))))</td>
                <td>\(HTML.escape(followUp.ownerID))</td><td class="\(late ? "overdue" : "")">\(Self.state(followUp.state)) · \(followUp.state == .closed ? "\(L("用时", "took")) \(String(format: "%.1f", followUp.hoursToClose)) \(L("小时", "hours"))" : "\(L("到期", "due")) " + WebPages.dateTime(followUp.dueAt))</td></tr>
                """
        }.joined()
        return HTML.page(title: L("跟进任务", "Follow-ups"), user: WebPages.subject(token), body: """
            <h1>\(L("贬损者跟进", "Detractor follow-ups"))</h1>
            <p class="filters"><a href="/follow-ups"\(closed ? "" : " class=\"current\"")>\(L("待处理", "Open"))</a> · <a href="/follow-ups?closed=1"\(closed ? " class=\"current\"" : "")>\(L("已关闭", "Closed"))</a>\(closed && list.meanHoursToClose > 0 ? " \(L("· 平均用时", "· mean time to close")) \(String(format: "%.1f", list.meanHoursToClose)) \(L("小时", "hours"))" : "")</p>
            \(rows.isEmpty ? "<p class=\"muted\" id=\"no-follow-ups\">\(closed ? L("没有已关闭的跟进任务", "No closed follow-ups") : L("没有待处理的跟进任务", "No open follow-ups"))</p>" : "<table id=\"follow-ups\"><thead><tr><th>\(L("客户", "Account"))</th><th>\(L("评分", "Score"))</th><th>\(L("留言", "Comment"))</th><th>\(L("负责人", "Owner"))</th><th>\(L("状态", "State"))</th></tr></thead><tbody>\(rows)</tbody></table>")
            """)
    }

    static func state(_ state: Forge_Feedback_V1_FollowUpState) -> String {
        switch state {
        case .open: L("待跟进", "To follow up")
        case .escalated: L("已升级", "Escalated")
        case .closed: L("已关闭", "Closed")
        default: "—"
        }
    }

    private func followUpPage(id: String, token: String) async throws -> String {
        let found = try await call(Method.getFollowUp, Forge_Feedback_V1_GetFollowUpRequest.with { $0.id = id }, token: token, as: Forge_Feedback_V1_GetFollowUpResponse.self)
        let followUp = found.followUp
        let form = followUp.state == .closed ? """
            <dl id="closed"><dt>\(L("处理措施", "Actions taken"))</dt><dd>\(HTML.escape(followUp.actionsTaken))</dd><dt>\(L("带来的改变", "What changed"))</dt><dd id="what-changed">\(HTML.escape(followUp.whatChanged))</dd>
            <dt>\(L("关闭", "Closed"))</dt><dd>\(HTML.escape(followUp.closedBy)) · \(WebPages.dateTime(followUp.closedAt)) \(L("· 用时", "· took")) \(String(format: "%.1f", followUp.hoursToClose)) \(L("小时 ·", "hours ·")) \(followUp.customerTold ? L("已告知客户", "customer told") : L("未告知客户", "customer not told"))</dd></dl>
            """ : """
            <form class="stack" method="post" action="/follow-ups/\(HTML.escape(followUp.id))/close" id="close-form">
            <input type="hidden" name="version" value="\(followUp.version)">
            <label>\(L("做了什么", "What was done")) <textarea name="actions_taken" id="actions_taken" rows="3" required></textarea></label>
            <label>\(L("因此改变了什么", "What changed because of it")) <textarea name="what_changed" id="what_changed" rows="3" required></textarea></label>
            <label class="check"><input type="checkbox" name="notify_customer" checked> \(L("告知客户（邮件）", "Tell the customer (e-mail)"))</label>
            <button type="submit" id="close-follow-up">\(L("关闭跟进", "Close the follow-up"))</button>
            </form>
            """
        return HTML.page(title: "\(L("跟进", "Follow-up")) \(followUp.accountName)", user: WebPages.subject(token), body: """
            <h1>\(L("跟进：", "Follow-up:"))<a href="/accounts/\(HTML.escape(followUp.accountID))">\(HTML.escape(followUp.accountName))</a></h1>
            <dl><dt>\(L("评分", "Score"))</dt><dd id="score">\(followUp.kind == .csat ? "CSAT" : "NPS") \(followUp.score)</dd>
            <dt>\(L("客户留言", "Customer comment"))</dt><dd>\(followUp.comment.isEmpty ? "<span class=\"muted\">\(L("未留言", "No comment"))</span>" : HTML.escape(followUp.comment))</dd>
            <dt>\(L("联系人", "Contact"))</dt><dd>\(HTML.escape(followUp.contactName.isEmpty ? "—" : followUp.contactName))</dd>
            <dt>\(L("负责人", "Owner"))</dt><dd>\(HTML.escape(followUp.ownerID))</dd>
            <dt>\(L("状态", "State"))</dt><dd id="state">\(Self.state(followUp.state))\(L("（到期", " (due")) \(WebPages.dateTime(followUp.dueAt))\(L("）", ")"))</dd></dl>
            \(form)
            <p><a href="/follow-ups">\(L("返回跟进列表", "Back to the follow-ups"))</a></p>
            """)
    }

    // MARK: Ideas

    static func ideaStatus(_ status: Forge_Feedback_V1_IdeaStatus) -> String {
        switch status {
        case .new: L("新提交", "New")
        case .underReview: L("评估中", "Evaluating")
        case .planned: L("已排期", "Scheduled")
        case .shipped: L("已上线", "Released")
        case .declined: L("不采纳", "Declined")
        default: "—"
        }
    }

    private func ideasPage(token: String) async throws -> String {
        let list = try await call(Method.listIdeas, Forge_Feedback_V1_ListIdeasRequest.with { $0.page.pageSize = 200 }, token: token, as: Forge_Feedback_V1_ListIdeasResponse.self)
        let columns: [Forge_Feedback_V1_IdeaStatus] = [.new, .underReview, .planned, .shipped, .declined]
        let board = columns.map { status in
            let ideas = list.ideas.filter { $0.status == status }.map { idea in
                let moves = (IdeaMoves.next[status] ?? []).map { next in
                    """
                    <form method="post" action="/ideas/\(HTML.escape(idea.id))/status"><input type="hidden" name="version" value="\(idea.version)"><input type="hidden" name="status" value="\(next.rawValue)">\(next == .declined || next == .shipped ? "<input name=\"note\" placeholder=\"\(next == .declined ? L("原因", "Reason") : L("版本", "Release"))\" required size=\"6\">" : "")<button>\(Self.ideaStatus(next))</button></form>
                    """
                }.joined()
                return """
                    <div class="deal idea" data-idea="\(HTML.escape(idea.id))"><strong>\(HTML.escape(idea.title))</strong> <span class="muted">▲\(idea.votes)</span><br>
                    <a href="/accounts/\(HTML.escape(idea.accountID))">\(HTML.escape(idea.accountName))</a>\(idea.productLine.isEmpty ? "" : " · " + HTML.escape(idea.productLine))
                    \(idea.statusNote.isEmpty ? "" : "<br><span class=\"muted\">\(HTML.escape(idea.statusNote))</span>")<br>\(moves)</div>
                    """
            }.joined()
            return "<div class=\"column\" data-status=\"\(status.rawValue)\"><h2>\(Self.ideaStatus(status))</h2>\(ideas)</div>"
        }.joined()
        return HTML.page(title: L("客户创意", "Customer ideas"), user: WebPages.subject(token), body: """
            <h1>\(L("客户创意与需求", "Customer ideas and requests"))</h1>
            <div class="board" style="grid-template-columns: repeat(5, minmax(170px, 1fr))">\(board)</div>
            """)
    }

    /// The moves the board offers (the service checks them again).
    enum IdeaMoves {
        static let next: [Forge_Feedback_V1_IdeaStatus: [Forge_Feedback_V1_IdeaStatus]] = [
            .new: [.underReview, .declined], .underReview: [.planned, .declined], .planned: [.shipped, .declined],
        ]
    }

    // MARK: The 360° card

    static func card(_ section: Forge_Gateway_V1_Section?) -> String {
        guard let section, section.status == .ok, let feedback = try? Forge_Feedback_V1_GetAccountFeedbackResponse(jsonString: section.json) else {
            return "<p class=\"muted\">\(HTML.escape(section?.detail ?? ""))</p>"
        }
        let figures = feedback.figures
        let followUps = feedback.openFollowUps.map {
            "<li class=\"follow-up\"><a href=\"/follow-ups/\(HTML.escape($0.id))\">\(state($0.state))</a> \($0.kind == .csat ? "CSAT" : "NPS") \($0.score) \(L("· 到期", "· due")) \(WebPages.dateTime($0.dueAt))</li>"
        }.joined()
        return """
            <dl><dt>NPS\(L("（12 个月）", " (12 months)"))</dt><dd class="account-nps">\(score(figures))\(figures.responses > 0 ? L("（\(figures.responses) 份）", " (\(figures.responses) answers)") : "")</dd>
            \(figures.csatResponses > 0 ? "<dt>CSAT</dt><dd>\(String(format: "%.1f", figures.csatAverage)) / 5</dd>" : "")</dl>
            \(followUps.isEmpty ? "" : "<ul class=\"timeline follow-ups\">\(followUps)</ul>")
            <ul class="timeline">\(feedback.latest.prefix(3).map(answerLine).joined())</ul>
            """
    }

    // MARK: The public survey page

    /// The customer's page: in the survey's language, one column, large touch targets; no session, no script.
    static func publicPage(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="\(TextLanguage.current.tag)">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="robots" content="noindex">
        <title>\(HTML.escape(title))</title>
        <style>
        * { box-sizing: border-box; }
        body { margin: 0; font: 17px/1.6 system-ui, -apple-system, "PingFang SC", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; color: #1d2330; background: #f7f8fa; }
        main { max-width: 560px; margin: 0 auto; padding: 1.2rem 1rem 3rem; }
        h1 { font-size: 1.25rem; }
        .scale { display: grid; grid-template-columns: repeat(6, 1fr); gap: .4rem; margin: .8rem 0 .3rem; }
        .scale.csat { grid-template-columns: repeat(5, 1fr); }
        .scale label { display: block; }
        .scale input { position: absolute; opacity: 0; }
        .scale span { display: block; text-align: center; padding: .7rem 0; border: 1px solid #d0d5dd; border-radius: 8px; background: #fff; font-weight: 600; }
        .scale input:checked + span { background: #1f5eff; color: #fff; border-color: #1f5eff; }
        .ends { display: flex; justify-content: space-between; color: #667085; font-size: .85rem; }
        textarea { width: 100%; font: inherit; padding: .6rem; border: 1px solid #d0d5dd; border-radius: 8px; }
        button { width: 100%; margin-top: 1rem; padding: .8rem; font: inherit; font-weight: 600; background: #1f5eff; color: #fff; border: 0; border-radius: 8px; }
        .note { color: #667085; font-size: .9rem; } .error { color: #b42318; }
        </style>
        </head>
        <body><main>
        \(body)
        </main></body>
        </html>
        """
    }

    private func publicCall<Response: SwiftProtobuf.Message>(_ method: MethodDescriptor, _ request: some SwiftProtobuf.Message, as type: Response.Type) async throws -> Response {
        let token = try await pages.gateway.callerTokens.mint(for: Self.publicPage)
        return try await pages.call("feedback", method, request, token: token, as: type)
    }

    private func surveyPage(token: String, error: String? = nil) async -> Response {
        do {
            let survey = try await publicCall(Method.openSurvey, Forge_Feedback_V1_OpenSurveyRequest.with { $0.token = token }, as: Forge_Feedback_V1_OpenSurveyResponse.self)
            // The survey's own language (its question is written in it) wins over the
            // browser's; the form posts it back so the answer's page speaks it too.
            return TextLanguage.$current.withValue(TextLanguage.parse(survey.locale) ?? TextLanguage.current) {
                Self.surveyForm(survey, token: token, error: error)
            }
        } catch let error as RPCError where error.code == .notFound {
            return Self.closedPage(L("链接无效", "Invalid link"), L("请检查链接是否完整，或联系您的客户经理重新发送。", "Please check that the link is complete, or ask your account manager to send it again."), status: .notFound)
        } catch {
            return Self.closedPage(L("暂时无法打开", "Cannot open the survey right now"), L("请稍后再试。", "Please try again later."), status: .serviceUnavailable)
        }
    }

    /// The open survey's form, or the polite page for one answered, expired or withdrawn.
    static func surveyForm(_ survey: Forge_Feedback_V1_OpenSurveyResponse, token: String, error: String?) -> Response {
        switch survey.state {
        case .answered: return Self.closedPage(L("您已经提交过了", "You have already answered"), L("这份问卷已经收到您的回答，谢谢！如需补充，请直接联系您的客户经理。", "We already have your answer to this survey, thank you! To add anything, please contact your account manager."))
        case .expired: return Self.closedPage(L("链接已过期", "This link has expired"), L("这份问卷已于 \(WebPages.date(survey.expiresAt)) 截止。谢谢您的关注！", "This survey closed on \(WebPages.date(survey.expiresAt)). Thank you for your interest!"))
        case .cancelled: return Self.closedPage(L("问卷已撤回", "Survey withdrawn"), L("这份问卷已不再需要填写，谢谢！", "This survey no longer needs an answer, thank you!"))
        case .sent: break
        default: return Self.closedPage(L("链接无效", "Invalid link"), L("请检查链接是否完整。", "Please check that the link is complete."))
        }
        let range = survey.kind == .csat ? Array(1...5) : Array(0...10)
        let options = range.map { "<label><input type=\"radio\" name=\"score\" value=\"\($0)\" required><span>\($0)</span></label>" }.joined()
        let ends = survey.kind == .csat ? (L("非常不满意", "Very dissatisfied"), L("非常满意", "Very satisfied")) : (L("不可能", "Not at all likely"), L("非常可能", "Extremely likely"))
        return WebPages.html(Self.publicPage(title: "\(L("问卷 ·", "Survey ·")) \(survey.accountName)", body: """
            <p class="note">\(HTML.escape(survey.contactName.isEmpty ? L("您好", "Hello") : L(survey.contactName + "，您好", "Hello " + survey.contactName)))</p>
            <h1 id="question">\(HTML.escape(survey.question))</h1>
            \(error.map { "<p class=\"error\" id=\"error\">\(HTML.escape($0))</p>" } ?? "")
            <form method="post" action="/s/\(HTML.escape(token))?lang=\(TextLanguage.current.rawValue)" id="survey-form">
            <div class="scale\(survey.kind == .csat ? " csat" : "")" id="scale">\(options)</div>
            <div class="ends"><span>\(ends.0)</span><span>\(ends.1)</span></div>
            <p><label for="comment">\(HTML.escape(survey.commentPrompt))</label></p>
            <textarea name="comment" id="comment" rows="4" maxlength="4000"></textarea>
            <button type="submit" id="submit">\(L("提交", "Submit"))</button>
            </form>
            <p class="note">\(L("本链接仅供您本人使用，有效期至", "This link is for you alone and is valid until")) \(WebPages.date(survey.expiresAt))\(L("。", "."))</p>
            """))
    }

    private func answer(_ request: Request, token: String) async -> Response {
        let fields = WebPages.form((try? await request.body.collect(upTo: 32 * 1024)) ?? ByteBuffer())
        guard let score = Int32(fields["score"] ?? "") else { return await surveyPage(token: token, error: L("请选择一个分数", "Please choose a score")) }
        do {
            _ = try await publicCall(Method.answerSurvey, Forge_Feedback_V1_AnswerSurveyRequest.with {
                $0.surveyToken = token
                $0.score = score
                $0.comment = fields["comment"] ?? ""
                $0.channel = .link
            }, as: Forge_Feedback_V1_AnswerSurveyResponse.self)
            return Self.closedPage(L("谢谢您的反馈！", "Thank you for your feedback!"), L("我们已经收到您的回答。每一条意见都会有专人跟进。", "We have received your answer. Someone will follow up on every comment."), id: "thanks")
        } catch let error as RPCError where error.code == .failedPrecondition {
            return Self.closedPage(L("您已经提交过了", "You have already answered"), error.message.contains("expired") ? L("这份问卷已经截止，谢谢您的关注！", "This survey has closed. Thank you for your interest!") : L("这份问卷已经收到您的回答，谢谢！", "We already have your answer to this survey, thank you!"), status: .conflict, id: "already")
        } catch let error as RPCError where error.code == .invalidArgument {
            return await surveyPage(token: token, error: error.violations.map(\.description).joined(separator: L("；", "; ")))
        } catch let error as RPCError where error.code == .notFound {
            return Self.closedPage(L("链接无效", "Invalid link"), L("请检查链接是否完整。", "Please check that the link is complete."), status: .notFound)
        } catch {
            return Self.closedPage(L("暂时无法提交", "Cannot submit right now"), L("请稍后再试，您的回答尚未保存。", "Please try again later; your answer has not been saved."), status: .serviceUnavailable)
        }
    }

    static func closedPage(_ title: String, _ text: String, status: HTTPResponse.Status = .ok, id: String = "closed") -> Response {
        WebPages.html(publicPage(title: title, body: "<h1 id=\"\(id)\">\(HTML.escape(title))</h1><p>\(HTML.escape(text))</p>"), status: status)
    }
}
