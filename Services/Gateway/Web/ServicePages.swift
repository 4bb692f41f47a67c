import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwiftProtobuf

/// The service desk's pages: the ticket queue sorted by SLA time left, a ticket with its SLA
/// clocks, history and the complaint loop's steps (the forms an engineer works it with), the
/// 360° page's service card; a machine and the work orders are in EquipmentPages.swift. What a person sees is what the
/// service desk answers for their token.
struct ServicePages: Sendable {
    let pages: WebPages

    typealias Desk = Forge_Servicedesk_V1_ServiceDeskService.Method

    func register(in router: Router<BasicRequestContext>) {
        router.get("/tickets") { request, _ in
            let mine = request.uri.queryParameters.get("mine") == "1"
            return await pages.page(request) { token in try await queuePage(mine: mine, token: token) }
        }
        router.get("/tickets/{id}") { request, context in
            await pages.page(request) { token in try await ticketPage(id: context.parameters.get("id") ?? "", token: token) }
        }
        router.get("/equipment/{id}") { request, context in
            let metric = request.uri.queryParameters.get("metric") ?? ""
            let days = Int(request.uri.queryParameters.get("days") ?? "") ?? 7
            return await pages.page(request) { token in try await equipmentPage(id: context.parameters.get("id") ?? "", metric: metric, days: days, token: token) }
        }
        router.get("/work-orders") { request, _ in
            let mine = request.uri.queryParameters.get("mine") == "1"
            return await pages.page(request) { token in try await workOrdersPage(mine: mine, token: token) }
        }
        router.post("/work-orders/{id}/{action}") { request, context in
            await pages.action(request) { token, fields in
                try await performWorkOrder(context.parameters.get("action") ?? "", id: context.parameters.get("id") ?? "", fields: fields, token: token)
            }
        }
        router.post("/tickets/{id}/{action}") { request, context in
            await pages.action(request) { token, fields in
                let id = context.parameters.get("id") ?? ""
                try await perform(context.parameters.get("action") ?? "", id: id, fields: fields, token: token)
                return "/tickets/\(id)"
            }
        }
    }

    func call<Response: SwiftProtobuf.Message>(_ method: MethodDescriptor, _ request: some SwiftProtobuf.Message, token: String, as type: Response.Type) async throws -> Response {
        try await pages.call("servicedesk", method, request, token: token, as: type)
    }

    private func perform(_ action: String, id: String, fields: [String: String], token: String) async throws {
        let note = fields["note"] ?? ""
        switch action {
        case "respond":
            _ = try await call(Desk.respondToTicket, Forge_Servicedesk_V1_RespondToTicketRequest.with { $0.id = id; $0.note = note }, token: token,
                               as: Forge_Servicedesk_V1_RespondToTicketResponse.self)
        case "wait", "resume":
            _ = try await call(Desk.setWaitingOnCustomer, Forge_Servicedesk_V1_SetWaitingOnCustomerRequest.with { $0.id = id; $0.waiting = action == "wait"; $0.note = note },
                               token: token, as: Forge_Servicedesk_V1_SetWaitingOnCustomerResponse.self)
        case "resolve":
            _ = try await call(Desk.resolveTicket, Forge_Servicedesk_V1_ResolveTicketRequest.with { $0.id = id; $0.resolution = fields["resolution"] ?? "" },
                               token: token, as: Forge_Servicedesk_V1_ResolveTicketResponse.self)
        case "close":
            _ = try await call(Desk.closeTicket, Forge_Servicedesk_V1_CloseTicketRequest.with { $0.id = id; $0.overrideReason = fields["override_reason"] ?? "" },
                               token: token, as: Forge_Servicedesk_V1_CloseTicketResponse.self)
        case "complaint":
            let step = Int(fields["step"] ?? "").flatMap(Forge_Servicedesk_V1_ComplaintStep.init(rawValue:)) ?? .unspecified
            _ = try await call(Desk.advanceComplaint, Forge_Servicedesk_V1_AdvanceComplaintRequest.with { $0.id = id; $0.step = step; $0.note = note },
                               token: token, as: Forge_Servicedesk_V1_AdvanceComplaintResponse.self)
        default:
            throw RPCError(.notFound, "no such action")
        }
    }

    // MARK: Labels

    static func state(_ state: Forge_Servicedesk_V1_TicketState) -> String {
        switch state {
        case .open: "待响应"
        case .inProgress: "处理中"
        case .waitingCustomer: "等待客户"
        case .resolved: "已解决"
        case .closed: "已关闭"
        default: "—"
        }
    }

    static func category(_ category: Forge_Servicedesk_V1_Category) -> String {
        switch category {
        case .fault: "故障"
        case .complaint: "投诉"
        case .question: "咨询"
        case .installation: "安装"
        case .maintenance: "保养"
        default: "—"
        }
    }

    static func priority(_ priority: Forge_Servicedesk_V1_Priority) -> String {
        priority.rawValue >= 1 && priority.rawValue <= 4 ? "P\(priority.rawValue)" : "—"
    }

    /// A clock's state as the pages show it: a class for its colour and a text.
    static func sla(_ clock: Forge_Servicedesk_V1_SlaClock) -> (key: String, text: String) {
        let left = clock.targetMinutes - clock.elapsedMinutes
        let span = "\(abs(left) / 60) 小时 \(abs(left) % 60) 分"
        switch clock.status {
        case .onTrack: return ("on-track", "剩余 \(span)")
        case .atRisk: return ("at-risk", "即将超时 · 剩余 \(span)")
        case .breached: return ("breached", "已超时 \(span)")
        case .met: return ("met", "已达成")
        case .missed: return ("missed", "超时达成")
        case .paused: return ("paused", "暂停（等待客户）")
        default: return ("", "—")
        }
    }

    static func step(_ step: Forge_Servicedesk_V1_ComplaintStep) -> String {
        switch step {
        case .received: "已受理"
        case .acknowledged: "已确认（24 小时内）"
        case .rootCause: "根因分析"
        case .correctiveAction: "纠正措施"
        case .verified: "效果验证"
        case .customerConfirmed: "客户确认"
        default: "—"
        }
    }

    /// The clock that matters now: the first response until given, then the resolution.
    static func runningClock(_ ticket: Forge_Servicedesk_V1_Ticket) -> Forge_Servicedesk_V1_SlaClock {
        ticket.sla.firstResponse.hasMetAt ? ticket.sla.resolution : ticket.sla.firstResponse
    }

    // MARK: Pages

    private func queuePage(mine: Bool, token: String) async throws -> String {
        let reply = try await call(Desk.listTickets, Forge_Servicedesk_V1_ListTicketsRequest.with {
            $0.page.pageSize = 200
            if mine { $0.assigneeID = WebPages.subject(token) ?? "" }
        }, token: token, as: Forge_Servicedesk_V1_ListTicketsResponse.self)
        let rows = reply.tickets.map { ticket in
            let clock = Self.sla(Self.runningClock(ticket))
            return """
                <tr data-ticket="\(HTML.escape(ticket.id))"><td><a href="/tickets/\(HTML.escape(ticket.id))">\(HTML.escape(ticket.number))</a></td><td>\(Self.priority(ticket.priority))</td>
                <td>\(Self.category(ticket.category))</td><td>\(HTML.escape(ticket.subject))</td><td><a href="/accounts/\(HTML.escape(ticket.accountID))">\(HTML.escape(ticket.accountName))</a></td>
                <td>\(HTML.escape(ticket.assigneeID.isEmpty ? "未分派" : ticket.assigneeID))</td><td>\(Self.state(ticket.state))</td>
                <td class="sla \(clock.key)">\(clock.text)</td></tr>
                """
        }.joined()
        return HTML.page(title: "服务工单", user: WebPages.subject(token), body: """
            <h1>服务工单 <span class="muted">按 SLA 剩余时间排序</span></h1>
            <p><a href="/tickets">全部</a> · <a href="/tickets?mine=1">我的</a></p>
            <table id="queue"><tr><th>工单</th><th>优先级</th><th>类别</th><th>主题</th><th>客户</th><th>处理人</th><th>状态</th><th>SLA</th></tr>\(rows)</table>
            \(reply.tickets.isEmpty ? "<p class=\"muted\">没有进行中的工单</p>" : "")
            """)
    }

    private func ticketPage(id: String, token: String) async throws -> String {
        let ticket = try await call(Desk.getTicket, Forge_Servicedesk_V1_GetTicketRequest.with { $0.id = id }, token: token, as: Forge_Servicedesk_V1_GetTicketResponse.self).ticket
        let response = Self.sla(ticket.sla.firstResponse), resolution = Self.sla(ticket.sla.resolution)
        let history = ticket.history.map { step in
            let what = step.kind == "complaint" ? Self.step(step.complaintStep) : Self.historyLabel(step.kind)
            let note = Self.historyNote(step)
            return "<li><span class=\"muted\">\(WebPages.dateTime(step.at))</span> \(what)\(step.assigneeID.isEmpty ? "" : " → \(HTML.escape(step.assigneeID))") <span class=\"muted\">\(HTML.escape(step.actor))</span>\(note.isEmpty ? "" : "<br>\(HTML.escape(note))")</li>"
        }.joined()
        let base = "/tickets/\(HTML.escape(ticket.id))"
        var actions: [String] = []
        let open = [.open, .inProgress, .waitingCustomer].contains(ticket.state)
        if open, !ticket.sla.firstResponse.hasMetAt, ticket.category != .complaint {
            actions.append("<form method=\"post\" action=\"\(base)/respond\"><input name=\"note\" placeholder=\"首次响应内容\"> <button id=\"respond\">首次响应</button></form>")
        }
        // The loop's next step, until the customer has confirmed.
        if ticket.category == .complaint, ticket.state != .closed, ticket.complaintStep != .customerConfirmed,
           let next = Forge_Servicedesk_V1_ComplaintStep(rawValue: ticket.complaintStep.rawValue + 1) {
            actions.append("""
                <form method="post" action="\(base)/complaint" id="complaint-form"><input type="hidden" name="step" value="\(next.rawValue)">
                <input name="note" id="complaint-note" placeholder="\(Self.step(next))：说明"> <button id="complaint-next">\(Self.step(next))</button></form>
                """)
        }
        if open {
            actions.append(ticket.state == .waitingCustomer
                ? "<form method=\"post\" action=\"\(base)/resume\"><button id=\"resume\">客户已回复，继续处理</button></form>"
                : "<form method=\"post\" action=\"\(base)/wait\"><input name=\"note\" placeholder=\"等待客户什么\"> <button id=\"wait\">等待客户</button></form>")
            actions.append("<form method=\"post\" action=\"\(base)/resolve\"><input name=\"resolution\" id=\"resolution\" placeholder=\"处理结果\"> <button id=\"resolve\">解决</button></form>")
        }
        if ticket.state == .resolved {
            let needsReason = ticket.category == .complaint && ticket.complaintStep != .customerConfirmed
            actions.append("<form method=\"post\" action=\"\(base)/close\">\(needsReason ? "<input name=\"override_reason\" id=\"override_reason\" placeholder=\"客户未确认：服务经理关闭理由\"> " : "")<button id=\"close\">关闭</button></form>")
        }
        return HTML.page(title: ticket.number, user: WebPages.subject(token), body: """
            <h1 id="ticket-number">\(HTML.escape(ticket.number)) <span class="muted" id="ticket-state">\(Self.state(ticket.state))</span></h1>
            <p><strong>\(HTML.escape(ticket.subject))</strong></p>
            <dl>
            <dt>客户</dt><dd><a href="/accounts/\(HTML.escape(ticket.accountID))">\(HTML.escape(ticket.accountName))</a></dd>
            \(ticket.equipmentID.isEmpty ? "" : "<dt>设备</dt><dd><a href=\"/equipment/\(HTML.escape(ticket.equipmentID))\">\(HTML.escape(ticket.serialNumber))</a></dd>")
            <dt>类别 · 优先级</dt><dd>\(Self.category(ticket.category)) · \(Self.priority(ticket.priority)) · 服务等级 \(HTML.escape(Self.level(ticket.sla.serviceLevel)))</dd>
            <dt>区域</dt><dd>\(HTML.escape(ticket.region.isEmpty ? "—" : ticket.region))</dd>
            <dt>处理人</dt><dd id="assignee">\(HTML.escape(ticket.assigneeID.isEmpty ? "未分派" : ticket.assigneeID))</dd>
            <dt>首次响应</dt><dd class="sla \(response.key)" id="sla-response">\(response.text) · 时限 \(WebPages.dateTime(ticket.sla.firstResponse.dueAt))</dd>
            <dt>解决</dt><dd class="sla \(resolution.key)" id="sla-resolution">\(resolution.text) · 时限 \(WebPages.dateTime(ticket.sla.resolution.dueAt))</dd>
            \(ticket.category == .complaint ? "<dt>投诉进度</dt><dd id=\"complaint-step\">\(Self.step(ticket.complaintStep))</dd>" : "")
            \(ticket.resolution.isEmpty ? "" : "<dt>处理结果</dt><dd>\(HTML.escape(ticket.resolution))</dd>")
            \(ticket.overrideReason.isEmpty ? "" : "<dt>未经客户确认关闭</dt><dd>\(HTML.escape(ticket.overrideReason))</dd>")
            </dl>
            <p>\(HTML.escape(ticket.description_p))</p>
            <div class="actions">\(actions.joined(separator: "\n"))</div>
            <h2>处理记录</h2><ul class="timeline" id="history">\(history)</ul>
            """)
    }

    static func historyLabel(_ kind: String) -> String {
        switch kind {
        case "opened": "创建"
        case "assigned": "分派"
        case "responded": "首次响应"
        case "waiting": "等待客户"
        case "resumed": "继续处理"
        case "resolved": "解决"
        case "closed": "关闭"
        case "sla_warning": "SLA 预警（80%）"
        case "sla_escalated": "SLA 超时，升级至服务经理"
        case "imported": "自原服务系统导入"
        default: HTML.escape(kind)
        }
    }

    /// A history entry's note: people's words as written; the service's own codes in words.
    static func historyNote(_ step: Forge_Servicedesk_V1_TicketStep) -> String {
        switch (step.kind, step.note) {
        case ("assigned", "auto"): "按区域、技能和负载自动分派"
        case ("sla_warning", "first_response"), ("sla_escalated", "first_response"): "首次响应时限"
        case ("sla_warning", "resolution"), ("sla_escalated", "resolution"): "解决时限"
        default: step.note
        }
    }

    /// A service level as people call it.
    static func level(_ level: String) -> String {
        switch level {
        case "", "standard": "标准"
        case "silver": "银牌"
        case "gold": "金牌"
        default: level
        }
    }

    /// The 360° page's service card: machines, open tickets with their SLA state, the year's
    /// service record.
    static func card(_ section: Forge_Gateway_V1_Section?) -> String {
        guard let section, section.status == .ok, let service = try? Forge_Servicedesk_V1_GetAccountServiceResponse(jsonString: section.json) else {
            return "<p class=\"muted\">\(HTML.escape(section?.detail ?? ""))</p>"
        }
        let tickets = service.openTickets.map { ticket in
            let clock = sla(runningClock(ticket))
            return "<li><a href=\"/tickets/\(HTML.escape(ticket.id))\">\(HTML.escape(ticket.number))</a> \(priority(ticket.priority)) \(category(ticket.category)) · \(HTML.escape(ticket.subject)) <span class=\"sla \(clock.key)\">\(clock.text)</span></li>"
        }.joined()
        let machines = service.equipment.prefix(5).map {
            "<a href=\"/equipment/\(HTML.escape($0.id))\">\(HTML.escape($0.serialNumber))</a>"
        }.joined(separator: "，")
        return (tickets.isEmpty ? "<p class=\"muted\">没有进行中的工单</p>" : "<ul class=\"timeline\">\(tickets)</ul>") + """
            <dl><dt>设备</dt><dd class="equipment-count">\(service.equipmentCount) 台\(machines.isEmpty ? "" : "：" + machines)</dd>
            <dt>近 12 个月</dt><dd>\(service.ticketsLast12Months) 张工单 · SLA 超时 \(service.slaMissedLast12Months)</dd>
            \(service.complaintsOpen > 0 ? "<dt>未结投诉</dt><dd class=\"error\">\(service.complaintsOpen)</dd>" : "")
            \(service.workOrdersOpen > 0 ? "<dt>待上门</dt><dd>\(service.workOrdersOpen) 张派工单</dd>" : "")
            \(service.hasLastPrediction ? "<dt>故障预测</dt><dd class=\"prediction\(service.lastPrediction.state == .open ? " error" : "")\">\(prediction(service.lastPrediction))</dd>" : "")</dl>
            """
    }
}
