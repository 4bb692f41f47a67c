import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwiftProtobuf

/// The order pages: the order list, one order with its lines' production status, its status
/// timeline (every report ERP and MES sent) and its payment plan, and finance's receivables
/// page with the ageing and DSO. What a person sees is what orders answers for their token: a
/// rep gets no margins or credit figures, the receivables page is finance's and managers'.
struct OrderPages: Sendable {
    let pages: WebPages

    typealias Orders = Forge_Orders_V1_OrdersService.Method

    func register(in router: Router<GatewayRequestContext>) {
        router.get("/orders") { request, _ in
            let status = request.uri.queryParameters.get("status").flatMap(Int.init).flatMap(Forge_Orders_V1_OrderStatus.init(rawValue:))
            return await pages.page(request) { token in try await listPage(status: status, token: token) }
        }
        router.get("/orders/{id}") { request, context in
            await pages.page(request) { token in try await orderPage(id: context.parameters.get("id") ?? "", token: token) }
        }
        router.get("/receivables") { request, _ in await pages.page(request) { token in try await receivablesPage(token: token) } }
        router.post("/orders/{id}/approve") { request, context in
            await pages.action(request) { token, fields in
                let id = context.parameters.get("id") ?? ""
                _ = try await call(Orders.approveOrder, Forge_Orders_V1_ApproveOrderRequest.with {
                    $0.id = id
                    $0.creditOverrideReason = fields["credit_override_reason"] ?? ""
                }, token: token, as: Forge_Orders_V1_ApproveOrderResponse.self)
                return "/orders/\(id)"
            }
        }
        router.post("/orders/{id}/release") { request, context in
            await pages.action(request) { token, _ in
                let id = context.parameters.get("id") ?? ""
                _ = try await call(Orders.releaseOrder, Forge_Orders_V1_ReleaseOrderRequest.with { $0.id = id }, token: token, as: Forge_Orders_V1_ReleaseOrderResponse.self)
                return "/orders/\(id)"
            }
        }
        router.post("/orders/{id}/payments") { request, context in
            await pages.action(request) { token, fields in
                let id = context.parameters.get("id") ?? ""
                _ = try await call(Orders.recordPayment, Forge_Orders_V1_RecordPaymentRequest.with {
                    $0.orderID = id
                    $0.amount = .with { $0.amountMicros = ImportColumns.money(fields["amount"] ?? "") ?? 0 }
                    $0.reference = fields["reference"] ?? ""
                }, token: token, as: Forge_Orders_V1_RecordPaymentResponse.self)
                return "/orders/\(id)"
            }
        }
    }

    private func call<Response: SwiftProtobuf.Message>(_ method: MethodDescriptor, _ request: some SwiftProtobuf.Message, token: String, as type: Response.Type) async throws -> Response {
        try await pages.call("orders", method, request, token: token, as: type)
    }

    // MARK: The list

    private func listPage(status: Forge_Orders_V1_OrderStatus?, token: String) async throws -> String {
        let orders = try await call(Orders.listOrders, Forge_Orders_V1_ListOrdersRequest.with {
            $0.page.pageSize = 200
            if let status { $0.statuses = [status] }
        }, token: token, as: Forge_Orders_V1_ListOrdersResponse.self).orders
        let statuses: [Forge_Orders_V1_OrderStatus] = [.draft, .creditHold, .approved, .released, .delivered, .completed, .cancelled]
        let filter = "<p class=\"filters\"><a href=\"/orders\">\(L("全部", "All"))</a> " + statuses.map {
            "· <a href=\"/orders?status=\($0.rawValue)\"\($0 == status ? " class=\"current\"" : "")>\(OrdersLabels.status($0))</a>"
        }.joined(separator: " ") + "</p>"
        let rows = orders.map { order in
            """
            <tr data-order="\(HTML.escape(order.id))"><td><a href="/orders/\(HTML.escape(order.id))">\(HTML.escape(order.orderNumber))</a><br><span class="muted">\(WebPages.date(order.createdAt))</span></td>
            <td><a href="/accounts/\(HTML.escape(order.accountID))">\(HTML.escape(order.accountName.isEmpty ? order.accountID : order.accountName))</a></td>
            <td class="order-status">\(OrdersLabels.status(order.status))</td><td>\(OrdersLabels.production(order.productionStatus))</td>
            <td>\(order.hasTotal ? WebPages.money(order.total) : "—")</td><td>\(order.hasOutstanding && Self.owes(order) ? WebPages.money(order.outstanding) : "—")</td>
            <td>\(HTML.escape(order.ownerID))</td></tr>
            """
        }.joined()
        return HTML.page(title: L("订单", "Orders"), user: WebPages.subject(token), body: """
            <h1>\(L("订单", "Orders"))</h1>
            \(filter)
            \(orders.isEmpty ? "<p class=\"muted\">\(L("没有订单", "No orders"))</p>" : "")
            <table id="orders"><thead><tr><th>\(L("订单号", "Order no."))</th><th>\(L("客户", "Account"))</th><th>\(L("状态", "State"))</th><th>\(L("生产/物流", "Production / logistics"))</th><th>\(L("金额", "Amount"))</th><th>\(L("未回款", "Outstanding"))</th><th>\(L("负责人", "Owner"))</th></tr></thead><tbody>\(rows)</tbody></table>
            """)
    }

    /// Whether the order owes anything yet (a draft, a held or a cancelled one does not).
    static func owes(_ order: Forge_Orders_V1_Order) -> Bool {
        [.approved, .released, .delivered, .completed].contains(order.status)
    }

    // MARK: One order

    private func orderPage(id: String, token: String) async throws -> String {
        let reply = try await call(Orders.getOrder, Forge_Orders_V1_GetOrderRequest.with { $0.id = id }, token: token, as: Forge_Orders_V1_GetOrderResponse.self)
        let order = reply.order
        let finance = order.hasMargin || order.hasCreditCheck
        let lines = order.lines.map { line in
            let state = line.production
            var detail = OrdersLabels.production(state.status)
            if state.status == .inProduction { detail += " \(state.percent)%" + (state.workCentre.isEmpty ? "" : " · \(HTML.escape(state.workCentre))") }
            if !state.trackingNumber.isEmpty { detail += "<br><span class=\"muted\">\(HTML.escape(state.carrier)) \(HTML.escape(state.trackingNumber))</span>" }
            if state.status == .delivered { detail += "<br><span class=\"muted\">\(HTML.escape(state.signedBy)) \(L("签收", "Signed for")) \(WebPages.date(state.deliveredAt))\(line.deliveredOnTime ? "" : " \(L("· 逾期交付", "· delivered late"))")</span>" }
            return """
                <tr data-line="\(line.lineNo)"><td>\(line.lineNo)</td><td>\(HTML.escape(line.sku))<br><span class="muted">\(HTML.escape(line.name))</span></td><td>\(line.quantity) \(HTML.escape(line.unit))</td>
                <td>\(line.hasUnitPrice ? WebPages.money(line.unitPrice) : "—")</td><td>\(line.hasLineTotal ? WebPages.money(line.lineTotal) : "—")</td>
                \(finance ? "<td class=\"margin\">\(line.hasMargin ? WebPages.money(line.margin) : "—")</td>" : "")
                <td>\(line.hasPromisedDelivery ? WebPages.date(line.promisedDelivery) : "—")</td><td class="production">\(detail)</td>
                <td>\(line.serialNumbers.map(HTML.escape).joined(separator: "<br>"))</td></tr>
                """
        }.joined()
        let timeline = reply.history.map { event in
            """
            <li class="\(event.outcome == .historyOnly ? "muted" : "")"><span class="muted">\(WebPages.date(event.sourceTime))</span> \(OrdersLabels.production(event.status))\(event.lineNo == 0 ? "" : "\(L("（第 \(event.lineNo) 行）", " (line \(event.lineNo))"))")
            \(HTML.escape(event.details)) <span class="muted">· \(HTML.escape(event.source))\(event.outcome == .historyOnly ? " \(L("· 晚到，仅记录", "· arrived late, recorded only"))" : "")</span></li>
            """
        }.joined()
        let plan = order.paymentPlan.map { installment in
            let outstanding = installment.amount.amountMicros - installment.paid.amountMicros
            let overdue = installment.hasDueAt && outstanding > 0 && installment.dueAt.date < Date()
            return """
                <tr><td>\(HTML.escape(installment.label))</td><td>\(installment.percentBps > 0 ? "\(Double(installment.percentBps) / 100)%" : "")</td><td>\(WebPages.money(installment.amount))</td>
                <td>\(OrdersLabels.trigger(installment.trigger))\(installment.daysAfter > 0 ? " + \(installment.daysAfter) \(L("天", "days"))" : "")</td>
                <td>\(HTML.escape(installment.invoiceNumber))</td><td class="\(overdue ? "overdue" : "")">\(installment.hasDueAt ? WebPages.date(installment.dueAt) : "—")\(overdue ? " \(L("逾期", "Overdue"))" : "")</td>
                <td>\(WebPages.money(installment.paid))</td></tr>
                """
        }.joined()
        let credit = order.hasCreditCheck ? """
            <h2>\(L("信用检查", "Credit check"))</h2><p id="credit">\(order.creditCheck.limitSet ? "\(L("额度", "limit")) \(WebPages.money(order.creditCheck.creditLimit))\(L("，已占用", ", in use")) \(WebPages.money(order.creditCheck.openBalance))\(L("，本单", ", this order")) \(WebPages.money(order.creditCheck.orderTotal))" : L("未设置信用额度", "No credit limit set"))
            \(order.creditCheck.overLimit ? "<strong class=\"error\">\(L("超出额度", "Over the limit"))</strong>" : "")\(order.creditCheck.overrideReason.isEmpty ? "" : "<br>\(L("财务特批（", "Approved by finance ("))\(HTML.escape(order.creditCheck.overrideBy))\(L("）：", "): "))\(HTML.escape(order.creditCheck.overrideReason))")</p>
            """ : ""
        var actions: [String] = []
        if order.status == .draft || order.status == .creditHold {
            actions.append("""
                <form method="post" action="/orders/\(HTML.escape(order.id))/approve" id="approve-form">\(order.status == .creditHold ? "<input name=\"credit_override_reason\" id=\"credit_override_reason\" placeholder=\"\(L("超额度审批理由（财务）", "Reason to approve over the limit (finance)"))\">" : "")<button id="approve">\(L("审批", "Approve"))</button></form>
                """)
        }
        if order.status == .approved {
            actions.append("<form method=\"post\" action=\"/orders/\(HTML.escape(order.id))/release\"><button id=\"release\">\(L("下达 ERP", "Release to ERP"))</button></form>")
        }
        if finance, [.approved, .released, .delivered].contains(order.status) {
            actions.append("""
                <form method="post" action="/orders/\(HTML.escape(order.id))/payments" id="payment-form"><input name="amount" id="amount" placeholder="\(L("金额（元）", "Amount (CNY)"))"> <input name="reference" id="reference" placeholder="\(L("银行流水号", "Bank reference"))"> <button id="record-payment">\(L("登记回款", "Record payment"))</button></form>
                """)
        }
        return HTML.page(title: order.orderNumber, user: WebPages.subject(token), body: """
            <h1 id="order-number">\(HTML.escape(order.orderNumber)) <span class="muted" id="order-status">\(OrdersLabels.status(order.status))</span></h1>
            <dl>
            <dt>\(L("客户", "Account"))</dt><dd><a href="/accounts/\(HTML.escape(order.accountID))" id="account">\(HTML.escape(order.accountName.isEmpty ? order.accountID : order.accountName))</a></dd>
            \(order.opportunityID.isEmpty ? "" : "<dt>\(L("商机", "Opportunity"))</dt><dd><a href=\"/opportunities/\(HTML.escape(order.opportunityID))\">\(HTML.escape(order.opportunityID))</a></dd>")
            <dt>\(L("合同号", "Contract no."))</dt><dd>\(HTML.escape(order.contractNumber.isEmpty ? "—" : order.contractNumber))</dd>
            <dt>ERP \(L("订单号", "Order no."))</dt><dd>\(HTML.escape(order.erpOrderNumber.isEmpty ? "—" : order.erpOrderNumber))</dd>
            <dt>\(L("贸易条款", "Incoterms"))</dt><dd>\(HTML.escape(order.incoterms.isEmpty ? "—" : order.incoterms))</dd>
            <dt>\(L("交货地址", "Delivery address"))</dt><dd>\(HTML.escape(order.deliveryAddress))</dd>
            <dt>\(L("金额", "Amount"))</dt><dd id="total">\(order.hasTotal ? WebPages.money(order.total) : "—")</dd>
            \(order.hasMargin ? "<dt>\(L("毛利", "Gross margin"))</dt><dd id=\"margin\">\(WebPages.money(order.margin))</dd>" : "")
            <dt>\(L("已回款 / 未回款", "Paid / outstanding"))</dt><dd>\(order.hasPaid && Self.owes(order) ? WebPages.money(order.paid) + " / " + WebPages.money(order.outstanding) : "—")</dd>
            <dt>\(L("负责人", "Owner"))</dt><dd>\(HTML.escape(order.ownerID)) · \(HTML.escape(order.team))</dd>
            </dl>
            <p class="actions">\(actions.joined(separator: " "))</p>
            <h2>\(L("明细与生产状态", "Lines and production status"))</h2>
            <table id="lines"><thead><tr><th>#</th><th>\(L("物料", "Item"))</th><th>\(L("数量", "Quantity"))</th><th>\(L("单价", "Unit price"))</th><th>\(L("金额", "Amount"))</th>\(finance ? "<th>\(L("毛利", "Gross margin"))</th>" : "")<th>\(L("承诺交期", "Promised delivery"))</th><th>\(L("状态", "State"))</th><th>\(L("序列号", "Serial numbers"))</th></tr></thead><tbody>\(lines)</tbody></table>
            <h2>\(L("状态时间线", "Status timeline"))</h2>
            \(timeline.isEmpty ? "<p class=\"muted\">ERP/MES \(L("尚未回报状态", "No status reported yet"))</p>" : "<ul class=\"timeline\" id=\"timeline\">\(timeline)</ul>")
            \(plan.isEmpty ? "" : "<h2>\(L("付款计划", "Payment plan"))</h2><table id=\"plan\"><thead><tr><th>\(L("期次", "Instalment"))</th><th>\(L("比例", "Share"))</th><th>\(L("金额", "Amount"))</th><th>\(L("触发", "Due when"))</th><th>\(L("发票号", "Invoice no."))</th><th>\(L("到期", "Due"))</th><th>\(L("已付", "Paid"))</th></tr></thead><tbody>\(plan)</tbody></table>")
            \(credit)
            """)
    }

    // MARK: Receivables

    private func receivablesPage(token: String) async throws -> String {
        let receivables = try await call(Orders.getReceivables, Forge_Orders_V1_GetReceivablesRequest.with { $0.maxItems = 200 },
                                         token: token, as: Forge_Orders_V1_GetReceivablesResponse.self)
        let ageing = receivables.ageing
        let buckets: [(String, String, Forge_Common_V1_Money)] = [("current", L("未到期", "Not yet due"), ageing.current), ("d1-30", L("逾期 1–30 天", "1–30 days overdue"), ageing.days130),
                                                                 ("d31-60", "31–60 \(L("天", "days"))", ageing.days3160), ("d61-90", "61–90 \(L("天", "days"))", ageing.days6190),
                                                                 ("d90+", "90 \(L("天以上", "days or more"))", ageing.over90)]
        let largest = max(1, buckets.map(\.2.amountMicros).max() ?? 1)
        let bars = buckets.map { key, label, amount in
            """
            <div class="bar" data-bucket="\(key)"><span class="label">\(label)</span><span class="fill" style="width: \(Int(Double(amount.amountMicros) / Double(largest) * 100))%"></span><span class="amount">\(WebPages.money(amount))</span></div>
            """
        }.joined()
        let items = receivables.items.map { item in
            """
            <tr><td><a href="/orders/\(HTML.escape(item.orderID))">\(HTML.escape(item.orderNumber))</a></td><td><a href="/accounts/\(HTML.escape(item.accountID))">\(HTML.escape(item.accountName))</a></td>
            <td>\(HTML.escape(item.label))</td><td>\(HTML.escape(item.invoiceNumber))</td><td>\(WebPages.date(item.dueAt))</td>
            <td class="\(item.daysOverdue > 0 ? "overdue" : "")">\(item.daysOverdue > 0 ? "\(item.daysOverdue) \(L("天", "days"))" : L("未到期", "Not yet due"))</td><td>\(WebPages.money(item.outstanding))</td><td>\(HTML.escape(item.ownerID))</td></tr>
            """
        }.joined()
        return HTML.page(title: L("应收账款", "Receivables"), user: WebPages.subject(token), body: """
            <h1>\(L("应收账款", "Receivables"))</h1>
            <p id="dso">\(L("应收合计", "Total receivable")) <strong>\(WebPages.money(ageing.total))</strong> · DSO <strong>\(String(format: "%.1f", receivables.dso.dsoDays))</strong> \(L("天", "days"))
            <span class="muted">\(L("（应收", "(receivables")) \(WebPages.money(receivables.dso.receivables)) ÷ \(L("近", "over the last")) \(receivables.dso.days) \(L("天赊销", "days' credit sales")) \(WebPages.money(receivables.dso.creditSales)) × \(receivables.dso.days)\(L("）", ")"))</span></p>
            <div class="ageing" id="ageing">\(bars)</div>
            <h2>\(L("未结清款项（逾期最久在前）", "Open items (longest overdue first)"))</h2>
            \(items.isEmpty ? "<p class=\"muted\">\(L("没有未结清款项", "No open items"))</p>" : "<table id=\"open-items\"><thead><tr><th>\(L("订单", "Order"))</th><th>\(L("客户", "Account"))</th><th>\(L("期次", "Instalment"))</th><th>\(L("发票", "Invoice"))</th><th>\(L("到期日", "Due date"))</th><th>\(L("逾期", "Overdue"))</th><th>\(L("未付", "Unpaid"))</th><th>\(L("负责人", "Owner"))</th></tr></thead><tbody>\(items)</tbody></table>")
            """)
    }

    // MARK: The 360° card

    /// Open orders with their production status, the latest deliveries, the receivables'
    /// ageing (for who may see it), the on-time rate and the last twelve months.
    static func card(_ section: Forge_Gateway_V1_Section?) -> String {
        guard let section, section.status == .ok, let orders = try? Forge_Orders_V1_GetAccountOrdersResponse(jsonString: section.json) else {
            return "<p class=\"muted\">\(HTML.escape(section?.detail ?? ""))</p>"
        }
        let open = orders.openOrders.map {
            "<li><a href=\"/orders/\(HTML.escape($0.id))\">\(HTML.escape($0.orderNumber))</a> · \(OrdersLabels.status($0.status)) · \(OrdersLabels.production($0.productionStatus))\($0.hasTotal ? " · " + WebPages.money($0.total) : "")</li>"
        }.joined()
        let delivered = orders.recentDeliveries.map {
            "<li><a href=\"/orders/\(HTML.escape($0.id))\">\(HTML.escape($0.orderNumber.isEmpty ? $0.erpOrderNumber : $0.orderNumber))</a> · \(OrdersLabels.status($0.status)) \($0.hasDeliveredAt ? ChinaCalendar.day($0.deliveredAt.date) : "")\($0.hasTotal ? " · " + WebPages.money($0.total) : "")</li>"
        }.joined()
        let onTime = orders.deliveredLines == 0 ? "—" : "\(Int((Double(orders.onTimeLines) / Double(orders.deliveredLines) * 100).rounded()))%\(L("（", " ("))\(orders.onTimeLines)/\(orders.deliveredLines)\(L("）", ")"))"
        var text = (open.isEmpty ? "<p class=\"muted\">\(L("没有进行中的订单", "No orders in progress"))</p>" : "<ul class=\"timeline\">\(open)</ul>")
            + (delivered.isEmpty ? "" : "<h3>\(L("最近交付", "Recent deliveries"))</h3><ul class=\"timeline recent-deliveries\">\(delivered)</ul>")
            + "<dl><dt>\(L("近 12 个月", "Last 12 months"))</dt><dd>\(orders.ordersLast12Months) \(L("单", "orders"))\(orders.hasRevenueLast12Months ? " · " + WebPages.money(orders.revenueLast12Months) : "")</dd><dt>\(L("准时交付", "On time"))</dt><dd class=\"on-time\">\(onTime)</dd>"
        if orders.hasReceivables {
            let ageing = orders.receivables
            text += "<dt>\(L("应收", "Receivables"))</dt><dd class=\"receivables\">\(WebPages.money(ageing.total))\(ageing.total.amountMicros > ageing.current.amountMicros ? "\(L("（逾期", " (overdue")) \(WebPages.money(.with { $0.amountMicros = ageing.total.amountMicros - ageing.current.amountMicros }))\(L("）", ")"))" : "")</dd>"
        }
        return text + "</dl>"
    }
}
