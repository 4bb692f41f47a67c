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

    func register(in router: Router<GatewayRequestContext>) {
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
        case .open: L("待响应", "Awaiting response")
        case .inProgress: L("处理中", "In progress")
        case .waitingCustomer: L("等待客户", "Waiting on customer")
        case .resolved: L("已解决", "Resolved")
        case .closed: L("已关闭", "Closed")
        default: "—"
        }
    }

    static func category(_ category: Forge_Servicedesk_V1_Category) -> String {
        switch category {
        case .fault: L("故障", "Fault")
        case .complaint: L("投诉", "Complaint")
        case .question: L("咨询", "Question")
        case .installation: L("安装", "Installation")
        case .maintenance: L("保养", "Maintenance")
        default: "—"
        }
    }

    static func priority(_ priority: Forge_Servicedesk_V1_Priority) -> String {
        priority.rawValue >= 1 && priority.rawValue <= 4 ? "P\(priority.rawValue)" : "—"
    }

    /// A clock's state as the pages show it: a class for its colour and a text.
    static func sla(_ clock: Forge_Servicedesk_V1_SlaClock) -> (key: String, text: String) {
        let left = clock.targetMinutes - clock.elapsedMinutes
        let span = "\(abs(left) / 60) \(L("小时", "hours")) \(abs(left) % 60) \(L("分", "min"))"
        switch clock.status {
        case .onTrack: return ("on-track", L("剩余 \(span)", "\(span) left"))
        case .atRisk: return ("at-risk", L("即将超时 · 剩余 \(span)", "At risk · \(span) left"))
        case .breached: return ("breached", "\(L("已超时", "Breached")) \(span)")
        case .met: return ("met", L("已达成", "Met"))
        case .missed: return ("missed", L("超时达成", "Met late"))
        case .paused: return ("paused", L("暂停（等待客户）", "Paused (waiting on customer)"))
        default: return ("", "—")
        }
    }

    static func step(_ step: Forge_Servicedesk_V1_ComplaintStep) -> String {
        switch step {
        case .received: L("已受理", "Received")
        case .acknowledged: L("已确认（24 小时内）", "Acknowledged (within 24 h)")
        case .rootCause: L("根因分析", "Root cause")
        case .correctiveAction: L("纠正措施", "Corrective action")
        case .verified: L("效果验证", "Verified")
        case .customerConfirmed: L("客户确认", "Customer confirmed")
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
                <td>\(HTML.escape(ticket.assigneeID.isEmpty ? L("未分派", "Unassigned") : ticket.assigneeID))</td><td>\(Self.state(ticket.state))</td>
                <td class="sla \(clock.key)">\(clock.text)</td></tr>
                """
        }.joined()
        return HTML.page(title: L("服务工单", "Tickets"), user: WebPages.subject(token), body: """
            <h1>\(L("服务工单", "Tickets")) <span class="muted">\(L("按 SLA 剩余时间排序", "by SLA time left"))</span></h1>
            <p><a href="/tickets">\(L("全部", "All"))</a> · <a href="/tickets?mine=1">\(L("我的", "Mine"))</a></p>
            <table id="queue"><tr><th>\(L("工单", "Ticket"))</th><th>\(L("优先级", "Priority"))</th><th>\(L("类别", "Category"))</th><th>\(L("主题", "Subject"))</th><th>\(L("客户", "Account"))</th><th>\(L("处理人", "Assignee"))</th><th>\(L("状态", "State"))</th><th>SLA</th></tr>\(rows)</table>
            \(reply.tickets.isEmpty ? "<p class=\"muted\">\(L("没有进行中的工单", "No open tickets"))</p>" : "")
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
            actions.append("<form method=\"post\" action=\"\(base)/respond\"><input name=\"note\" placeholder=\"\(L("首次响应内容", "First response"))\"> <button id=\"respond\">\(L("首次响应", "First response"))</button></form>")
        }
        // The loop's next step, until the customer has confirmed.
        if ticket.category == .complaint, ticket.state != .closed, ticket.complaintStep != .customerConfirmed,
           let next = Forge_Servicedesk_V1_ComplaintStep(rawValue: ticket.complaintStep.rawValue + 1) {
            actions.append("""
                <form method="post" action="\(base)/complaint" id="complaint-form"><input type="hidden" name="step" value="\(next.rawValue)">
                <input name="note" id="complaint-note" placeholder="\(Self.step(next))\(L("：说明", ": details"))"> <button id="complaint-next">\(Self.step(next))</button></form>
                """)
        }
        if open {
            actions.append(ticket.state == .waitingCustomer
                ? "<form method=\"post\" action=\"\(base)/resume\"><button id=\"resume\">\(L("客户已回复，继续处理", "Customer replied, resume"))</button></form>"
                : "<form method=\"post\" action=\"\(base)/wait\"><input name=\"note\" placeholder=\"\(L("等待客户什么", "Waiting on the customer for"))\"> <button id=\"wait\">\(L("等待客户", "Waiting on customer"))</button></form>")
            actions.append("<form method=\"post\" action=\"\(base)/resolve\"><input name=\"resolution\" id=\"resolution\" placeholder=\"\(L("处理结果", "Result"))\"> <button id=\"resolve\">\(L("解决", "Resolve"))</button></form>")
        }
        if ticket.state == .resolved {
            let needsReason = ticket.category == .complaint && ticket.complaintStep != .customerConfirmed
            actions.append("<form method=\"post\" action=\"\(base)/close\">\(needsReason ? "<input name=\"override_reason\" id=\"override_reason\" placeholder=\"\(L("客户未确认：服务经理关闭理由", "Without the customer's confirmation: the service manager's reason"))\"> " : "")<button id=\"close\">\(L("关闭", "Close"))</button></form>")
        }
        return HTML.page(title: ticket.number, user: WebPages.subject(token), body: """
            <h1 id="ticket-number">\(HTML.escape(ticket.number)) <span class="muted" id="ticket-state">\(Self.state(ticket.state))</span></h1>
            <p><strong>\(HTML.escape(ticket.subject))</strong></p>
            <dl>
            <dt>\(L("客户", "Account"))</dt><dd><a href="/accounts/\(HTML.escape(ticket.accountID))">\(HTML.escape(ticket.accountName))</a></dd>
            \(ticket.equipmentID.isEmpty ? "" : "<dt>\(L("设备", "Equipment"))</dt><dd><a href=\"/equipment/\(HTML.escape(ticket.equipmentID))\">\(HTML.escape(ticket.serialNumber))</a></dd>")
            <dt>\(L("类别 · 优先级", "Category · priority"))</dt><dd>\(Self.category(ticket.category)) · \(Self.priority(ticket.priority)) \(L("· 服务等级", "· service level")) \(HTML.escape(Self.level(ticket.sla.serviceLevel)))</dd>
            <dt>\(L("区域", "Region"))</dt><dd>\(HTML.escape(ticket.region.isEmpty ? "—" : ticket.region))</dd>
            <dt>\(L("处理人", "Assignee"))</dt><dd id="assignee">\(HTML.escape(ticket.assigneeID.isEmpty ? L("未分派", "Unassigned") : ticket.assigneeID))</dd>
            <dt>\(L("首次响应", "First response"))</dt><dd class="sla \(response.key)" id="sla-response">\(response.text) \(L("· 时限", "· target")) \(WebPages.dateTime(ticket.sla.firstResponse.dueAt))</dd>
            <dt>\(L("解决", "Resolution"))</dt><dd class="sla \(resolution.key)" id="sla-resolution">\(resolution.text) \(L("· 时限", "· target")) \(WebPages.dateTime(ticket.sla.resolution.dueAt))</dd>
            \(ticket.category == .complaint ? "<dt>\(L("投诉进度", "Complaint progress"))</dt><dd id=\"complaint-step\">\(Self.step(ticket.complaintStep))</dd>" : "")
            \(ticket.resolution.isEmpty ? "" : "<dt>\(L("处理结果", "Result"))</dt><dd>\(HTML.escape(ticket.resolution))</dd>")
            \(ticket.overrideReason.isEmpty ? "" : "<dt>\(L("未经客户确认关闭", "Closed without the customer's confirmation"))</dt><dd>\(HTML.escape(ticket.overrideReason))</dd>")
            </dl>
            <p>\(HTML.escape(ticket.description_p))</p>
            <div class="actions">\(actions.joined(separator: "\n"))</div>
            <h2>\(L("处理记录", "History"))</h2><ul class="timeline" id="history">\(history)</ul>
            """)
    }

    static func historyLabel(_ kind: String) -> String {
        switch kind {
        case "opened": L("创建", "Created")
        case "assigned": L("分派", "Assigned")
        case "responded": L("首次响应", "First response")
        case "waiting": L("等待客户", "Waiting on customer")
        case "resumed": L("继续处理", "Resumed")
        case "resolved": L("解决", "Resolved")
        case "closed": L("关闭", "Closed")
        case "sla_warning": "SLA \(L("预警（80%）", "Warning (80 %)"))"
        case "sla_escalated": "SLA \(L("超时，升级至服务经理", "Breached, escalated to the service manager"))"
        case "imported": L("自原服务系统导入", "Imported from the previous service system")
        default: HTML.escape(kind)
        }
    }

    /// A history entry's note: people's words as written; the service's own codes in words.
    static func historyNote(_ step: Forge_Servicedesk_V1_TicketStep) -> String {
        switch (step.kind, step.note) {
        case ("assigned", "auto"): L("按区域、技能和负载自动分派", "Assigned by region, skill and load")
        case ("sla_warning", "first_response"), ("sla_escalated", "first_response"): L("首次响应时限", "First response target")
        case ("sla_warning", "resolution"), ("sla_escalated", "resolution"): L("解决时限", "Resolution target")
        default: step.note
        }
    }

    /// A service level as people call it.
    static func level(_ level: String) -> String {
        switch level {
        case "", "standard": L("标准", "Standard")
        case "silver": L("银牌", "Silver")
        case "gold": L("金牌", "Gold")
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
        }.joined(separator: L("，", ", "))
        return (tickets.isEmpty ? "<p class=\"muted\">\(L("没有进行中的工单", "No open tickets"))</p>" : "<ul class=\"timeline\">\(tickets)</ul>") + """
            <dl><dt>\(L("设备", "Equipment"))</dt><dd class="equipment-count">\(service.equipmentCount) \(L("台", "units"))\(machines.isEmpty ? "" : L("：", ": ") + machines)</dd>
            <dt>\(L("近 12 个月", "Last 12 months"))</dt><dd>\(service.ticketsLast12Months) \(L("张工单 · SLA 超时", "tickets · SLA breached")) \(service.slaMissedLast12Months)</dd>
            \(service.complaintsOpen > 0 ? "<dt>\(L("未结投诉", "Open complaints"))</dt><dd class=\"error\">\(service.complaintsOpen)</dd>" : "")
            \(service.workOrdersOpen > 0 ? "<dt>\(L("待上门", "Visits due"))</dt><dd>\(service.workOrdersOpen) \(L("张派工单", "work orders"))</dd>" : "")
            \(service.hasLastPrediction ? "<dt>\(L("故障预测", "Failure predictions"))</dt><dd class=\"prediction\(service.lastPrediction.state == .open ? " error" : "")\">\(prediction(service.lastPrediction))</dd>" : "")</dl>
            """
    }
}
