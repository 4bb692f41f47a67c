import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwiftProtobuf

/// The sales pages: my leads and tasks, the pipeline board by stage, an opportunity with its
/// quotes, and the printable quote. Every button is a form posting to a path that calls one
/// pipeline RPC with the person's token and returns to the page; a refused call (a gate not
/// met, a quote waiting for approval) shows its message.
struct PipelinePages: Sendable {
    let pages: WebPages

    typealias Pipeline = Forge_Pipeline_V1_PipelineService.Method

    func register(in router: Router<GatewayRequestContext>) {
        router.get("/leads") { request, _ in await pages.page(request) { token in try await leadsPage(token: token, notice: nil) } }
        router.get("/pipeline") { request, _ in
            // `?stage=N`: that stage alone, with more of its deals.
            let stage = request.uri.queryParameters.get("stage").flatMap(Int.init).flatMap(Forge_Pipeline_V1_Stage.init(rawValue:))
                .flatMap { PipelineStages.open.contains($0) ? $0 : nil }
            return await pages.page(request) { token in try await boardPage(token: token, stage: stage) }
        }
        router.get("/opportunities/{id}") { request, context in
            await pages.page(request) { token in try await opportunityPage(id: context.parameters.get("id") ?? "", token: token) }
        }
        router.get("/quotes/{id}/print") { request, context in
            await pages.page(request) { token in try await printPage(id: context.parameters.get("id") ?? "", token: token) }
        }
        router.post("/leads") { request, _ in
            await pages.action(request) { token, fields in
                let reply = try await call(Pipeline.captureLead, Forge_Pipeline_V1_CaptureLeadRequest.with {
                    $0.lead = .with {
                        $0.companyName = fields["company_name"] ?? ""
                        $0.contactName = fields["contact_name"] ?? ""
                        $0.phone = fields["phone"] ?? ""
                        $0.email = fields["email"] ?? ""
                        $0.region = fields["region"] ?? ""
                        $0.productLine = fields["product_line"] ?? ""
                        $0.need = fields["need"] ?? ""
                        $0.source = Forge_Pipeline_V1_LeadSource(rawValue: Int(fields["source"] ?? "") ?? 0) ?? .manual
                    }
                }, token: token, as: Forge_Pipeline_V1_CaptureLeadResponse.self)
                return reply.outcome == .existingAccount ? "/accounts/\(reply.accountID)" : "/leads"
            }
        }
        router.post("/leads/{id}/touch") { request, context in
            await pages.action(request) { token, fields in
                _ = try await call(Pipeline.touchLead, Forge_Pipeline_V1_TouchLeadRequest.with {
                    $0.id = context.parameters.get("id") ?? ""
                    $0.note = fields["note"] ?? ""
                }, token: token, as: Forge_Pipeline_V1_TouchLeadResponse.self)
                return "/leads"
            }
        }
        router.post("/leads/{id}/convert") { request, context in
            await pages.action(request) { token, _ in
                let reply = try await call(Pipeline.convertLead, Forge_Pipeline_V1_ConvertLeadRequest.with { $0.leadID = context.parameters.get("id") ?? "" },
                                           token: token, as: Forge_Pipeline_V1_ConvertLeadResponse.self)
                return "/opportunities/\(reply.opportunity.id)"
            }
        }
        router.post("/tasks/{id}/complete") { request, context in
            await pages.action(request) { token, _ in
                _ = try await call(Pipeline.completeTask, Forge_Pipeline_V1_CompleteTaskRequest.with { $0.id = context.parameters.get("id") ?? "" },
                                   token: token, as: Forge_Pipeline_V1_CompleteTaskResponse.self)
                return "/leads"
            }
        }
        router.post("/opportunities/{id}/stage") { request, context in
            await pages.action(request) { token, fields in
                let id = context.parameters.get("id") ?? ""
                _ = try await call(Pipeline.advanceStage, Forge_Pipeline_V1_AdvanceStageRequest.with {
                    $0.id = id
                    $0.stage = Forge_Pipeline_V1_Stage(rawValue: Int(fields["stage"] ?? "") ?? 0) ?? .unspecified
                    $0.lostReason = Forge_Pipeline_V1_LostReason(rawValue: Int(fields["lost_reason"] ?? "") ?? 0) ?? .unspecified
                    $0.lostTo = fields["lost_to"] ?? ""
                }, token: token, as: Forge_Pipeline_V1_AdvanceStageResponse.self)
                return fields["back"] == "board" ? "/pipeline" : "/opportunities/\(id)"
            }
        }
        router.post("/opportunities/{id}/quotes") { request, context in
            await pages.action(request) { token, fields in
                let id = context.parameters.get("id") ?? ""
                // An empty price takes the product master's for the SKU; text that is no amount is refused.
                let price = (fields["unit_price"] ?? "").trimmingCharacters(in: .whitespaces)
                let micros = price.isEmpty ? nil : ImportColumns.money(price) ?? -1
                let days = Double(fields["valid_days"] ?? "") ?? 30
                _ = try await call(Pipeline.createQuote, Forge_Pipeline_V1_CreateQuoteRequest.with {
                    $0.quote = .with {
                        $0.opportunityID = id
                        $0.lines = [.with {
                            $0.sku = fields["sku"] ?? ""
                            $0.name = fields["name"] ?? ""
                            $0.unit = fields["unit"] ?? L("台", "units")
                            $0.quantity = Int64(fields["quantity"] ?? "") ?? 0
                            if let micros { $0.listUnitPrice = .with { $0.amountMicros = micros } }
                            $0.discountBps = Int32((Double(fields["discount_percent"] ?? "") ?? 0) * 100)
                        }]
                        $0.paymentTerms = [.with { $0.label = L("预付款", "Deposit"); $0.percent = 30; $0.dueRule = "on_order" },
                                           .with { $0.label = L("发货前", "Before shipment"); $0.percent = 60; $0.dueRule = "before_shipment" },
                                           .with { $0.label = L("验收后", "After acceptance"); $0.percent = 10; $0.dueRule = "after_acceptance" }]
                        $0.validUntil = .init(date: Date().addingTimeInterval(days * 86400))
                    }
                }, token: token, as: Forge_Pipeline_V1_CreateQuoteResponse.self)
                return "/opportunities/\(id)"
            }
        }
        router.post("/quotes/{id}/send") { request, context in
            await pages.action(request) { token, _ in
                let quote = try await call(Pipeline.sendQuote, Forge_Pipeline_V1_SendQuoteRequest.with { $0.id = context.parameters.get("id") ?? "" },
                                           token: token, as: Forge_Pipeline_V1_SendQuoteResponse.self).quote
                return "/opportunities/\(quote.opportunityID)"
            }
        }
        router.post("/quotes/{id}/decide") { request, context in
            await pages.action(request) { token, fields in
                let quote = try await call(Pipeline.decideQuote, Forge_Pipeline_V1_DecideQuoteRequest.with {
                    $0.id = context.parameters.get("id") ?? ""
                    $0.approve = fields["approve"] == "true"
                    $0.comment = fields["comment"] ?? ""
                }, token: token, as: Forge_Pipeline_V1_DecideQuoteResponse.self).quote
                return "/opportunities/\(quote.opportunityID)"
            }
        }
        router.post("/quotes/{id}/answer") { request, context in
            await pages.action(request) { token, fields in
                let reply = try await call(Pipeline.recordQuoteAnswer, Forge_Pipeline_V1_RecordQuoteAnswerRequest.with {
                    $0.id = context.parameters.get("id") ?? ""
                    $0.accepted = fields["accepted"] == "true"
                    $0.note = fields["note"] ?? ""
                }, token: token, as: Forge_Pipeline_V1_RecordQuoteAnswerResponse.self)
                return "/opportunities/\(reply.quote.opportunityID)"
            }
        }
    }

    // MARK: Plumbing

    private func call<Response: SwiftProtobuf.Message>(_ method: MethodDescriptor, _ request: some SwiftProtobuf.Message, token: String, as type: Response.Type) async throws -> Response {
        try await pages.call("pipeline", method, request, token: token, as: type)
    }

    // MARK: My leads and tasks

    private func leadsPage(token: String, notice: String?) async throws -> String {
        let leads = try await call(Pipeline.listLeads, Forge_Pipeline_V1_ListLeadsRequest.with { $0.page.pageSize = 100 },
                                   token: token, as: Forge_Pipeline_V1_ListLeadsResponse.self).leads
        let tasks = try await call(Pipeline.listMyTasks, Forge_Pipeline_V1_ListMyTasksRequest.with { $0.page.pageSize = 100 },
                                   token: token, as: Forge_Pipeline_V1_ListMyTasksResponse.self).tasks
        let now = Date()
        let taskRows = tasks.map { task in
            let overdue = task.dueAt.date < now
            return """
                <tr><td class="\(overdue ? "overdue" : "")">\(WebPages.date(task.dueAt))\(overdue ? " \(L("逾期", "Overdue"))" : "")</td>
                <td>\(task.opportunityID.isEmpty ? HTML.escape(task.title) : "<a href=\"/opportunities/\(HTML.escape(task.opportunityID))\">\(HTML.escape(task.title))</a>")</td>
                <td><form method="post" action="/tasks/\(HTML.escape(task.id))/complete"><button>\(L("完成", "Done"))</button></form></td></tr>
                """
        }.joined()
        let leadRows = leads.map { lead in
            let reasons = lead.scoreReasons.map { "\($0.factor) \($0.detail) +\($0.points)" }.joined(separator: L("；", "; "))
            return """
                <tr data-lead="\(HTML.escape(lead.id))"><td><strong>\(HTML.escape(lead.companyName))</strong><br><span class="muted">\(HTML.escape(lead.contactName)) \(HTML.escape(lead.phone))</span></td>
                <td>\(HTML.escape(lead.region)) · \(HTML.escape(lead.productLine))</td>
                <td title="\(HTML.escape(reasons))"><strong>\(lead.score)</strong></td>
                <td>\(lead.status == .new ? L("新", "New") : L("跟进中", "Working"))\(lead.inquiryCount > 1 ? " \(L("· 询盘", "· inquiries")) \(lead.inquiryCount)\(L(" 次", ""))" : "")<br><span class="muted">\(L("首次联系截止", "first touch due")) \(WebPages.date(lead.firstTouchDueAt))</span></td>
                <td>\(HTML.escape(lead.ownerID))</td>
                <td><form method="post" action="/leads/\(HTML.escape(lead.id))/touch"><input type="hidden" name="note" value="\(L("已联系", "Touched"))"><button class="touch">\(L("已联系", "Touched"))</button></form>
                <form method="post" action="/leads/\(HTML.escape(lead.id))/convert"><button class="convert">\(L("转为商机", "Convert"))</button></form></td></tr>
                """
        }.joined()
        let sources: [(Forge_Pipeline_V1_LeadSource, String)] = [(.manual, L("手工录入", "Manual")), (.tradeShow, L("展会", "Trade show")), (.webInquiry, L("网站询盘", "Web inquiry")), (.channelPartner, L("渠道伙伴", "Channel partner")), (.referral, L("客户转介绍", "Referral"))]
        return HTML.page(title: L("线索与任务", "Leads and tasks"), user: WebPages.subject(token), body: """
            <h1>\(L("我的任务", "My tasks"))</h1>
            \(tasks.isEmpty ? "<p class=\"muted\">\(L("没有待办任务", "No open tasks"))</p>" : "<table id=\"tasks\"><thead><tr><th>\(L("截止", "Due"))</th><th>\(L("任务", "Task"))</th><th></th></tr></thead><tbody>\(taskRows)</tbody></table>")
            <h1>\(L("线索（按评分）", "Leads (by score)"))</h1>
            \(notice.map { "<p>\(HTML.escape($0))</p>" } ?? "")
            <table id="leads"><thead><tr><th>\(L("公司 / 联系人", "Company / contact"))</th><th>\(L("区域 · 产品线", "Region · product line"))</th><th>\(L("评分", "Score"))</th><th>\(L("状态", "State"))</th><th>\(L("负责人", "Owner"))</th><th></th></tr></thead><tbody>\(leadRows)</tbody></table>
            <h2>\(L("新线索", "New lead"))</h2>
            <form class="stack" method="post" action="/leads" id="new-lead">
            <label>\(L("公司", "Company")) <input name="company_name" id="company_name"></label>
            <label>\(L("联系人", "Contact")) <input name="contact_name" id="contact_name"></label>
            <label>\(L("电话", "Phone")) <input name="phone" id="phone"></label>
            <label>\(L("邮箱", "E-mail")) <input name="email" id="email"></label>
            <label>\(L("区域", "Region")) <input name="region" id="region" placeholder="华东"></label>
            <label>\(L("产品线", "Product line")) <input name="product_line" id="product_line"></label>
            <label>\(L("需求", "Need")) <input name="need" id="need"></label>
            <label>\(L("来源", "Source")) <select name="source">\(sources.map { "<option value=\"\($0.0.rawValue)\">\($0.1)</option>" }.joined())</select></label>
            <button type="submit" id="capture">\(L("保存线索", "Save the lead"))</button>
            </form>
            """)
    }

    // MARK: The board

    private func boardPage(token: String, stage only: Forge_Pipeline_V1_Stage?) async throws -> String {
        let shown: Int32 = only == nil ? 25 : 100
        let columns = try await call(Pipeline.getBoard, Forge_Pipeline_V1_GetBoardRequest.with {
            $0.perStage = shown
            if let only { $0.stage = only }
        }, token: token, as: Forge_Pipeline_V1_GetBoardResponse.self).columns
        let html = columns.map { column in
            let stage = column.stage
            // Totals per currency over every open deal of the stage, not only the ones shown.
            let totals = column.totals.isEmpty ? "" : " · " + column.totals.map(WebPages.money).joined(separator: " + ")
            let weighted = column.weighted.isEmpty ? "" : "<br><span class=\"muted\">\(L("加权", "Weighted")) \(column.weighted.map(WebPages.money).joined(separator: " + "))</span>"
            let left = column.count - Int64(column.opportunities.count)
            let more = left <= 0 ? "" : only == nil
                ? "<p class=\"muted\"><a href=\"/pipeline?stage=\(stage.rawValue)\">\(L("另有 \(left) 个", "\(left) more"))</a></p>"
                : "<p class=\"muted\">\(L("另有 \(left) 个到期较晚的商机", "\(left) more closing later"))</p>"
            return """
                <div class="column" id="stage-\(stage.rawValue)"><h2>\(PipelineLabels.stage(stage)) <span class="muted" data-count="\(column.count)">\(column.count)\(totals)</span>\(weighted)</h2>
                \(column.opportunities.isEmpty ? "<p class=\"muted\">\(L("暂无商机", "No opportunities"))</p>" : "")
                <div class="deals">\(column.opportunities.map { deal in
                    """
                    <div class="deal" data-opportunity="\(HTML.escape(deal.id))"><a href="/opportunities/\(HTML.escape(deal.id))">\(HTML.escape(deal.name))</a><br>
                    <span class="muted">\(deal.hasAmount ? WebPages.money(deal.amount) : "") \(deal.hasExpectedClose ? "· " + WebPages.date(deal.expectedClose) : "") · \(HTML.escape(deal.ownerID))</span><br>
                    \(PipelineStages.forwardMoves(from: deal.stage).map { next in
                        "<form method=\"post\" action=\"/opportunities/\(HTML.escape(deal.id))/stage\"><input type=\"hidden\" name=\"stage\" value=\"\(next.rawValue)\"><input type=\"hidden\" name=\"back\" value=\"board\"><button>→ \(PipelineLabels.stage(next))</button></form>"
                    }.joined())
                    </div>
                    """
                }.joined())</div>
                \(more)
                </div>
                """
        }.joined()
        return HTML.page(title: L("商机看板", "Pipeline"), user: WebPages.subject(token), body: """
            <h1>\(L("商机看板", "Pipeline"))</h1>
            <p class="muted">\(L("每个阶段显示最先到期的 \(shown) 个商机；数量与金额按全部未结商机计算。", "Each stage shows the \(shown) deals closing soonest; counts and amounts cover every open deal."))\(only == nil ? "" : " <a href=\"/pipeline\">\(L("全部阶段", "All stages"))</a>")</p>
            <div class="board\(only == nil ? "" : " one-stage")" id="board">\(html)</div>
            """)
    }

    // MARK: One opportunity

    private func opportunityPage(id: String, token: String) async throws -> String {
        let opportunity = try await call(Pipeline.getOpportunity, Forge_Pipeline_V1_GetOpportunityRequest.with { $0.id = id },
                                         token: token, as: Forge_Pipeline_V1_GetOpportunityResponse.self).opportunity
        let quotes = try await call(Pipeline.listQuotes, Forge_Pipeline_V1_ListQuotesRequest.with { $0.opportunityID = id },
                                    token: token, as: Forge_Pipeline_V1_ListQuotesResponse.self).quotes
        let account = try? await pages.call("accounts", Forge_Accounts_V1_AccountsService.Method.getAccount, Forge_Accounts_V1_GetAccountRequest.with { $0.id = opportunity.accountID },
                                            token: token, as: Forge_Accounts_V1_GetAccountResponse.self).account
        let open = opportunity.stage != .won && opportunity.stage != .lost
        let history = opportunity.history.map { change in
            "<li>\(WebPages.date(change.at)) \(PipelineLabels.stage(change.from)) → \(PipelineLabels.stage(change.to))\(L("（", " ("))\(HTML.escape(change.by))\(L("，", ", "))\(String(format: "%.1f", change.daysInFrom)) \(L("天）", "days)"))</li>"
        }.joined()
        let quoteRows = quotes.map { quote in
            var actions = "<a href=\"/quotes/\(HTML.escape(quote.id))/print\">\(L("打印", "Print"))</a>"
            switch quote.status {
            case .approved:
                actions += " <form method=\"post\" action=\"/quotes/\(HTML.escape(quote.id))/send\"><button class=\"send\">\(L("发送给客户", "Send to the customer"))</button></form>"
            case .pendingApproval:
                actions += " <form method=\"post\" action=\"/quotes/\(HTML.escape(quote.id))/decide\"><input type=\"hidden\" name=\"approve\" value=\"true\"><button class=\"approve\">\(L("批准", "Approve"))</button></form>"
            case .sent:
                actions += " <form method=\"post\" action=\"/quotes/\(HTML.escape(quote.id))/answer\"><input type=\"hidden\" name=\"accepted\" value=\"true\"><button class=\"accept\">\(L("客户接受", "Customer accepted"))</button></form>"
            default:
                break
            }
            return """
                <tr data-quote="\(HTML.escape(quote.id))"><td>\(L("第 \(quote.revision) 版", "Version \(quote.revision)"))</td><td class="quote-status">\(PipelineLabels.quoteStatus(quote.status))</td>
                <td>\(WebPages.money(quote.hasTotal ? quote.total : nil))</td><td>\(Double(quote.maxDiscountBps) / 100)%</td><td>\(WebPages.date(quote.validUntil))</td><td>\(actions)</td></tr>
                """
        }.joined()
        let lostReasons: [(Forge_Pipeline_V1_LostReason, String)] = [(.price, L("价格", "Price")), (.leadTime, L("交期", "Lead time")), (.technology, L("技术", "Technical")), (.relationship, L("关系", "Relationship")), (.competitor, L("竞争对手", "Competitor")), (.projectCancelled, L("项目取消", "Project cancelled"))]
        return HTML.page(title: opportunity.name, user: WebPages.subject(token), body: """
            <h1 id="opportunity-name">\(HTML.escape(opportunity.name))</h1>
            <dl>
            <dt>\(L("阶段", "Stage"))</dt><dd id="stage">\(PipelineLabels.stage(opportunity.stage))</dd>
            <dt>\(L("客户", "Account"))</dt><dd><a href="/accounts/\(HTML.escape(opportunity.accountID))" id="account" data-account="\(HTML.escape(opportunity.accountID))">\(HTML.escape(account?.name ?? opportunity.accountID))</a></dd>
            <dt>\(L("金额", "Amount"))</dt><dd>\(opportunity.hasAmount ? WebPages.money(opportunity.amount) : "—")</dd>
            <dt>\(L("赢单概率", "Win probability"))</dt><dd>\(opportunity.probabilityPercent)%</dd>
            <dt>\(L("预计成交", "Expected close"))</dt><dd>\(opportunity.hasExpectedClose ? WebPages.date(opportunity.expectedClose) : "—")</dd>
            <dt>\(L("负责人", "Owner"))</dt><dd>\(HTML.escape(opportunity.ownerID)) · \(HTML.escape(opportunity.team))</dd>
            \(opportunity.stage == .lost ? "<dt>\(L("丢单原因", "Loss reason"))</dt><dd>\(lostReasons.first { $0.0 == opportunity.lostReason }?.1 ?? "") \(HTML.escape(opportunity.lostTo))</dd>" : "")
            </dl>
            \(open ? "<p id=\"moves\">" + PipelineStages.forwardMoves(from: opportunity.stage).map { next in
                "<form method=\"post\" action=\"/opportunities/\(HTML.escape(opportunity.id))/stage\"><input type=\"hidden\" name=\"stage\" value=\"\(next.rawValue)\"><button class=\"move\" data-stage=\"\(next.rawValue)\">\(L("推进到", "Advance to")) \(PipelineLabels.stage(next))</button></form>"
            }.joined(separator: " ") + "</p>" : "")
            <h2>\(L("阶段历史", "Stage history"))</h2>\(history.isEmpty ? "<p class=\"muted\">\(L("还没有阶段变化", "No stage changes yet"))</p>" : "<ul class=\"timeline\">\(history)</ul>")
            <h2>\(L("报价", "Quotes"))</h2>
            \(quotes.isEmpty ? "<p class=\"muted\">\(L("还没有报价：在下面生成第一版。", "No quote yet: create the first version below."))</p>" : "")
            <table id="quotes"><thead><tr><th>\(L("版本", "Version"))</th><th>\(L("状态", "State"))</th><th>\(L("总价", "Total"))</th><th>\(L("最大折扣", "Largest discount"))</th><th>\(L("有效期至", "Valid until"))</th><th></th></tr></thead><tbody>\(quoteRows)</tbody></table>
            \(open ? """
                <h2>\(L("新报价", "New quote"))</h2>
                <form class="stack" method="post" action="/opportunities/\(HTML.escape(opportunity.id))/quotes" id="new-quote">
                <label>\(L("物料号 SKU", "Part no. (SKU)")) <input name="sku" id="sku"></label>
                <label>\(L("名称", "Name")) <input name="name" id="quote-name"></label>
                <label>\(L("数量", "Quantity")) <input name="quantity" id="quantity" value="1"></label>
                <label>\(L("单价（元，留空按产品主数据）", "Unit price (CNY; blank for the product master's)"))<input name="unit_price" id="unit_price"></label>
                <label>\(L("折扣", "Discount")) % <input name="discount_percent" id="discount_percent" value="0"></label>
                <label>\(L("有效天数", "Days valid")) <input name="valid_days" id="valid_days" value="30"></label>
                <button type="submit" id="create-quote">\(L("生成报价", "Create the quote"))</button>
                </form>
                <h2>\(L("丢单", "Lost"))</h2>
                <form method="post" action="/opportunities/\(HTML.escape(opportunity.id))/stage"><input type="hidden" name="stage" value="\(Forge_Pipeline_V1_Stage.lost.rawValue)">
                <select name="lost_reason">\(lostReasons.map { "<option value=\"\($0.0.rawValue)\">\($0.1)</option>" }.joined())</select>
                <input name="lost_to" placeholder="\(L("竞争对手", "Competitor"))"> <button>\(L("标记为丢单", "Mark as lost"))</button></form>
                """ : "")
            """)
    }

    // MARK: The printable quote

    private func printPage(id: String, token: String) async throws -> String {
        let quote = try await call(Pipeline.getQuote, Forge_Pipeline_V1_GetQuoteRequest.with { $0.id = id }, token: token, as: Forge_Pipeline_V1_GetQuoteResponse.self).quote
        let account = try? await pages.call("accounts", Forge_Accounts_V1_AccountsService.Method.getAccount, Forge_Accounts_V1_GetAccountRequest.with { $0.id = quote.accountID },
                                            token: token, as: Forge_Accounts_V1_GetAccountResponse.self).account
        let lines = quote.lines.enumerated().map { index, line in
            """
            <tr><td>\(index + 1)</td><td>\(HTML.escape(line.sku))</td><td>\(HTML.escape(line.name))</td><td>\(line.quantity) \(HTML.escape(line.unit))</td>
            <td>\(WebPages.money(line.hasListUnitPrice ? line.listUnitPrice : nil))</td><td>\(Double(line.discountBps) / 100)%</td>
            <td>\(WebPages.money(line.hasUnitPrice ? line.unitPrice : nil))</td><td>\(WebPages.money(line.hasLineTotal ? line.lineTotal : nil))</td></tr>
            """
        }.joined()
        let terms = quote.paymentTerms.map { "<li>\(HTML.escape($0.label)) \($0.percent)%</li>" }.joined()
        return HTML.page(title: "\(L("报价单", "Quotation")) \(quote.id)", user: WebPages.subject(token), body: """
            <article id="quote-sheet">
            <h1>\(L("报 价 单", "QUOTATION"))</h1>
            <dl>
            <dt>\(L("报价编号", "Quote no."))</dt><dd>\(HTML.escape(quote.id))\(L("（第 \(quote.revision) 版）", " (version \(quote.revision))"))</dd>
            <dt>\(L("客户", "Account"))</dt><dd id="customer">\(HTML.escape(account?.name ?? quote.accountID))</dd>
            <dt>\(L("报价日期", "Quote date"))</dt><dd>\(WebPages.date(quote.createdAt))</dd>
            <dt>\(L("有效期至", "Valid until"))</dt><dd>\(WebPages.date(quote.validUntil))</dd>
            <dt>\(L("状态", "State"))</dt><dd>\(PipelineLabels.quoteStatus(quote.status))</dd>
            </dl>
            <table id="quote-lines"><thead><tr><th>\(L("序号", "No."))</th><th>\(L("物料号", "Part no."))</th><th>\(L("名称", "Name"))</th><th>\(L("数量", "Quantity"))</th><th>\(L("标准单价", "List price"))</th><th>\(L("折扣", "Discount"))</th><th>\(L("成交单价", "Net price"))</th><th>\(L("金额", "Amount"))</th></tr></thead>
            <tbody>\(lines)</tbody>
            <tfoot><tr><td colspan="7">\(L("合计（含税，", "Total (incl. tax,"))\(HTML.escape(quote.currencyCode))\(L("）", ")"))</td><td id="quote-total"><strong>\(WebPages.money(quote.hasTotal ? quote.total : nil))</strong></td></tr></tfoot></table>
            <h2>\(L("付款条件", "Payment terms"))</h2><ul>\(terms)</ul>
            \(quote.notes.isEmpty ? "" : "<p>\(HTML.escape(quote.notes))</p>")
            <p class="muted">\(L("本报价单经双方签字盖章后生效。", "This quotation takes effect when signed and sealed by both parties."))</p>
            <p class="no-print"><button onclick="window.print()" type="button">\(L("打印", "Print"))</button></p>
            </article>
            """)
    }
}
