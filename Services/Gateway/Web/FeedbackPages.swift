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

    func register(in router: Router<BasicRequestContext>) {
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
            return "<tr data-region=\"\(HTML.escape(name))\"><td><a href=\"/nps?region=\(HTML.escape(name))\">\(HTML.escape(name.isEmpty ? "（未填）" : name))</a></td><td class=\"nps\">\(Self.score(group.figures))</td><td>\(group.figures.responses)</td><td>\(Self.percent(group.figures.responseRate))</td></tr>"
        }.joined()
        return HTML.page(title: "NPS", user: WebPages.subject(token), body: """
            <h1>NPS 与满意度\(region.isEmpty ? "" : " · \(HTML.escape(region)) <a class=\"muted\" href=\"/nps\">全部地区</a>")</h1>
            <p class="muted">近 12 个月（\(WebPages.date(.init(date: year))) 起）· NPS = 推荐者% − 贬损者%（9–10 推荐，7–8 中立，0–6 贬损）</p>
            <div class="grid">
            <section class="card" id="nps-overall"><h2>NPS</h2>
            <p style="font-size:2.4rem;margin:.2rem 0" id="nps-value">\(Self.score(total))</p>
            \(Self.distribution(total))
            <dl><dt>回答</dt><dd id="nps-responses">\(total.responses)</dd><dt>发出</dt><dd>\(total.sent) · 回收率 \(Self.percent(total.responseRate))</dd>
            <dt>CSAT</dt><dd id="csat">\(total.csatResponses == 0 ? "—" : String(format: "%.2f / 5（满意 %@，%d 份）", total.csatAverage, Self.percent(total.csatSatisfiedShare), total.csatResponses))</dd></dl>
            </section>
            <section class="card" id="nps-trend"><h2>月度趋势</h2>\(Self.trendChart(figures.groups))</section>
            </div>
            <h2>按地区</h2>
            <table id="nps-regions"><thead><tr><th>地区</th><th>NPS</th><th>回答</th><th>回收率</th></tr></thead><tbody>\(regionRows)</tbody></table>
            <h2>最新回答</h2>
            <ul class="timeline" id="latest-answers">\(latest.surveys.map(Self.answerLine).joined())</ul>
            <p><a href="/follow-ups">跟进任务</a> · <a href="/ideas">客户创意</a></p>
            """)
    }

    static func score(_ figures: Forge_Feedback_V1_NpsFigures) -> String {
        figures.responses == 0 ? "<span class=\"muted\">暂无回答</span>" : String(format: "%+.0f", figures.nps)
    }

    static func percent(_ share: Double) -> String { String(format: "%.0f%%", share * 100) }

    /// Promoters, passives and detractors as one stacked bar.
    static func distribution(_ figures: Forge_Feedback_V1_NpsFigures) -> String {
        guard figures.responses > 0 else { return "" }
        let total = Double(figures.responses)
        var x = 0.0
        var bars = ""
        for (count, colour, label) in [(figures.promoters, "#12805c", "推荐"), (figures.passives, "#98a2b3", "中立"), (figures.detractors, "#b42318", "贬损")] {
            let width = Double(count) / total * 300
            bars += "<rect x=\"\(x)\" y=\"0\" width=\"\(width)\" height=\"18\" fill=\"\(colour)\"><title>\(label) \(count)</title></rect>"
            x += width
        }
        return """
            <svg viewBox="0 0 300 18" width="100%" height="18" preserveAspectRatio="none" role="img" aria-label="推荐 \(figures.promoters)，中立 \(figures.passives)，贬损 \(figures.detractors)">\(bars)</svg>
            <p class="muted" id="nps-split">推荐 \(figures.promoters) · 中立 \(figures.passives) · 贬损 \(figures.detractors)</p>
            """
    }

    /// NPS by month as bars around a zero line (−100…100), months without answers left empty.
    static func trendChart(_ groups: [Forge_Feedback_V1_NpsGroup]) -> String {
        let months = groups.filter { $0.figures.responses > 0 }.suffix(12)
        guard !months.isEmpty else { return "<p class=\"muted\">暂无回答</p>" }
        let width = 40.0
        var bars = ""
        for (index, group) in months.enumerated() {
            let value = group.figures.nps
            let height = abs(value) / 100 * 80
            let y = value >= 0 ? 90 - height : 90
            let x = Double(index) * width + 8
            bars += """
                <rect class="month" data-month="\(HTML.escape(group.keys.first ?? ""))" x="\(x)" y="\(y)" width="\(width - 12)" height="\(max(height, 1))" fill="\(value >= 0 ? "#1f5eff" : "#b42318")"><title>\(HTML.escape(group.keys.first ?? "")) NPS \(Int(value.rounded()))（\(group.figures.responses) 份）</title></rect>
                <text x="\(x + (width - 12) / 2)" y="\(value >= 0 ? y - 3 : y + height + 11)" font-size="10" text-anchor="middle">\(Int(value.rounded()))</text>
                <text x="\(x + (width - 12) / 2)" y="192" font-size="9" text-anchor="middle" fill="#667085">\(HTML.escape(String((group.keys.first ?? "").suffix(5))))</text>
                """
        }
        let total = Double(months.count) * width + 16
        return """
            <svg viewBox="0 0 \(total) 200" width="100%" height="200" role="img" aria-label="NPS 月度趋势">
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

    /// The default keyword rules' tags in Chinese; a company's own tags show as they are named.
    static let tagLabels = ["delivery": "交期", "quality": "质量", "price": "价格", "service": "服务", "documentation": "资料"]

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
                <td>\(HTML.escape(followUp.ownerID))</td><td class="\(late ? "overdue" : "")">\(Self.state(followUp.state)) · \(followUp.state == .closed ? "用时 \(String(format: "%.1f", followUp.hoursToClose)) 小时" : "到期 " + WebPages.dateTime(followUp.dueAt))</td></tr>
                """
        }.joined()
        return HTML.page(title: "跟进任务", user: WebPages.subject(token), body: """
            <h1>贬损者跟进</h1>
            <p class="filters"><a href="/follow-ups"\(closed ? "" : " class=\"current\"")>待处理</a> · <a href="/follow-ups?closed=1"\(closed ? " class=\"current\"" : "")>已关闭</a>\(closed && list.meanHoursToClose > 0 ? " · 平均用时 \(String(format: "%.1f", list.meanHoursToClose)) 小时" : "")</p>
            \(rows.isEmpty ? "<p class=\"muted\" id=\"no-follow-ups\">没有\(closed ? "已关闭的" : "待处理的")跟进任务</p>" : "<table id=\"follow-ups\"><thead><tr><th>客户</th><th>评分</th><th>留言</th><th>负责人</th><th>状态</th></tr></thead><tbody>\(rows)</tbody></table>")
            """)
    }

    static func state(_ state: Forge_Feedback_V1_FollowUpState) -> String {
        switch state {
        case .open: "待跟进"
        case .escalated: "已升级"
        case .closed: "已关闭"
        default: "—"
        }
    }

    private func followUpPage(id: String, token: String) async throws -> String {
        let found = try await call(Method.getFollowUp, Forge_Feedback_V1_GetFollowUpRequest.with { $0.id = id }, token: token, as: Forge_Feedback_V1_GetFollowUpResponse.self)
        let followUp = found.followUp
        let form = followUp.state == .closed ? """
            <dl id="closed"><dt>处理措施</dt><dd>\(HTML.escape(followUp.actionsTaken))</dd><dt>带来的改变</dt><dd id="what-changed">\(HTML.escape(followUp.whatChanged))</dd>
            <dt>关闭</dt><dd>\(HTML.escape(followUp.closedBy)) · \(WebPages.dateTime(followUp.closedAt)) · 用时 \(String(format: "%.1f", followUp.hoursToClose)) 小时 · \(followUp.customerTold ? "已告知客户" : "未告知客户")</dd></dl>
            """ : """
            <form class="stack" method="post" action="/follow-ups/\(HTML.escape(followUp.id))/close" id="close-form">
            <input type="hidden" name="version" value="\(followUp.version)">
            <label>做了什么 <textarea name="actions_taken" id="actions_taken" rows="3" required></textarea></label>
            <label>因此改变了什么 <textarea name="what_changed" id="what_changed" rows="3" required></textarea></label>
            <label class="check"><input type="checkbox" name="notify_customer" checked> 告知客户（邮件）</label>
            <button type="submit" id="close-follow-up">关闭跟进</button>
            </form>
            """
        return HTML.page(title: "跟进 \(followUp.accountName)", user: WebPages.subject(token), body: """
            <h1>跟进：<a href="/accounts/\(HTML.escape(followUp.accountID))">\(HTML.escape(followUp.accountName))</a></h1>
            <dl><dt>评分</dt><dd id="score">\(followUp.kind == .csat ? "CSAT" : "NPS") \(followUp.score)</dd>
            <dt>客户留言</dt><dd>\(followUp.comment.isEmpty ? "<span class=\"muted\">未留言</span>" : HTML.escape(followUp.comment))</dd>
            <dt>联系人</dt><dd>\(HTML.escape(followUp.contactName.isEmpty ? "—" : followUp.contactName))</dd>
            <dt>负责人</dt><dd>\(HTML.escape(followUp.ownerID))</dd>
            <dt>状态</dt><dd id="state">\(Self.state(followUp.state))（到期 \(WebPages.dateTime(followUp.dueAt))）</dd></dl>
            \(form)
            <p><a href="/follow-ups">返回跟进列表</a></p>
            """)
    }

    // MARK: Ideas

    static func ideaStatus(_ status: Forge_Feedback_V1_IdeaStatus) -> String {
        switch status {
        case .new: "新提交"
        case .underReview: "评估中"
        case .planned: "已排期"
        case .shipped: "已上线"
        case .declined: "不采纳"
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
                    <form method="post" action="/ideas/\(HTML.escape(idea.id))/status"><input type="hidden" name="version" value="\(idea.version)"><input type="hidden" name="status" value="\(next.rawValue)">\(next == .declined || next == .shipped ? "<input name=\"note\" placeholder=\"\(next == .declined ? "原因" : "版本")\" required size=\"6\">" : "")<button>\(Self.ideaStatus(next))</button></form>
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
        return HTML.page(title: "客户创意", user: WebPages.subject(token), body: """
            <h1>客户创意与需求</h1>
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
            "<li class=\"follow-up\"><a href=\"/follow-ups/\(HTML.escape($0.id))\">\(state($0.state))</a> \($0.kind == .csat ? "CSAT" : "NPS") \($0.score) · 到期 \(WebPages.dateTime($0.dueAt))</li>"
        }.joined()
        return """
            <dl><dt>NPS（12 个月）</dt><dd class="account-nps">\(score(figures))\(figures.responses > 0 ? "（\(figures.responses) 份）" : "")</dd>
            \(figures.csatResponses > 0 ? "<dt>CSAT</dt><dd>\(String(format: "%.1f", figures.csatAverage)) / 5</dd>" : "")</dl>
            \(followUps.isEmpty ? "" : "<ul class=\"timeline follow-ups\">\(followUps)</ul>")
            <ul class="timeline">\(feedback.latest.prefix(3).map(answerLine).joined())</ul>
            """
    }

    // MARK: The public survey page

    /// The customer's page: Chinese, one column, large touch targets; no session, no script.
    static func publicPage(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="zh-CN">
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
            switch survey.state {
            case .answered: return Self.closedPage("您已经提交过了", "这份问卷已经收到您的回答，谢谢！如需补充，请直接联系您的客户经理。")
            case .expired: return Self.closedPage("链接已过期", "这份问卷已于 \(WebPages.date(survey.expiresAt)) 截止。谢谢您的关注！")
            case .cancelled: return Self.closedPage("问卷已撤回", "这份问卷已不再需要填写，谢谢！")
            case .sent: break
            default: return Self.closedPage("链接无效", "请检查链接是否完整。")
            }
            let range = survey.kind == .csat ? Array(1...5) : Array(0...10)
            let options = range.map { "<label><input type=\"radio\" name=\"score\" value=\"\($0)\" required><span>\($0)</span></label>" }.joined()
            let ends = survey.kind == .csat ? ("非常不满意", "非常满意") : ("不可能", "非常可能")
            return WebPages.html(Self.publicPage(title: "问卷 · \(survey.accountName)", body: """
                <p class="note">\(HTML.escape(survey.contactName.isEmpty ? "您好" : survey.contactName + "，您好"))</p>
                <h1 id="question">\(HTML.escape(survey.question))</h1>
                \(error.map { "<p class=\"error\" id=\"error\">\(HTML.escape($0))</p>" } ?? "")
                <form method="post" action="/s/\(HTML.escape(token))" id="survey-form">
                <div class="scale\(survey.kind == .csat ? " csat" : "")" id="scale">\(options)</div>
                <div class="ends"><span>\(ends.0)</span><span>\(ends.1)</span></div>
                <p><label for="comment">\(HTML.escape(survey.commentPrompt))</label></p>
                <textarea name="comment" id="comment" rows="4" maxlength="4000"></textarea>
                <button type="submit" id="submit">提交</button>
                </form>
                <p class="note">本链接仅供您本人使用，有效期至 \(WebPages.date(survey.expiresAt))。</p>
                """))
        } catch let error as RPCError where error.code == .notFound {
            return Self.closedPage("链接无效", "请检查链接是否完整，或联系您的客户经理重新发送。", status: .notFound)
        } catch {
            return Self.closedPage("暂时无法打开", "请稍后再试。", status: .serviceUnavailable)
        }
    }

    private func answer(_ request: Request, token: String) async -> Response {
        let fields = WebPages.form((try? await request.body.collect(upTo: 32 * 1024)) ?? ByteBuffer())
        guard let score = Int32(fields["score"] ?? "") else { return await surveyPage(token: token, error: "请选择一个分数") }
        do {
            _ = try await publicCall(Method.answerSurvey, Forge_Feedback_V1_AnswerSurveyRequest.with {
                $0.surveyToken = token
                $0.score = score
                $0.comment = fields["comment"] ?? ""
                $0.channel = .link
            }, as: Forge_Feedback_V1_AnswerSurveyResponse.self)
            return Self.closedPage("谢谢您的反馈！", "我们已经收到您的回答。每一条意见都会有专人跟进。", id: "thanks")
        } catch let error as RPCError where error.code == .failedPrecondition {
            return Self.closedPage("您已经提交过了", error.message.contains("expired") ? "这份问卷已经截止，谢谢您的关注！" : "这份问卷已经收到您的回答，谢谢！", status: .conflict, id: "already")
        } catch let error as RPCError where error.code == .invalidArgument {
            return await surveyPage(token: token, error: error.violations.map(\.description).joined(separator: "；"))
        } catch let error as RPCError where error.code == .notFound {
            return Self.closedPage("链接无效", "请检查链接是否完整。", status: .notFound)
        } catch {
            return Self.closedPage("暂时无法提交", "请稍后再试，您的回答尚未保存。", status: .serviceUnavailable)
        }
    }

    static func closedPage(_ title: String, _ text: String, status: HTTPResponse.Status = .ok, id: String = "closed") -> Response {
        WebPages.html(publicPage(title: title, body: "<h1 id=\"\(id)\">\(HTML.escape(title))</h1><p>\(HTML.escape(text))</p>"), status: status)
    }
}
