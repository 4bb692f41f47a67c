import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// A machine's page (its telemetry chart with the rules' limits, predictions, work orders and
/// tickets) and the work order list an engineer works from.
extension ServicePages {
    func equipmentPage(id: String, metric requested: String, days: Int, token: String) async throws -> String {
        let reply = try await call(Desk.getEquipment, Forge_Servicedesk_V1_GetEquipmentRequest.with { $0.id = id }, token: token, as: Forge_Servicedesk_V1_GetEquipmentResponse.self)
        let machine = reply.equipment
        let base = "/equipment/\(HTML.escape(machine.id))"
        let span = [1, 7, 30, 90, 365].contains(days) ? days : 7
        let metric = reply.metrics.contains(requested) ? requested
            : reply.metrics.first { $0 != "running_hours" } ?? reply.metrics.first ?? ""
        var chart = "<p class=\"muted\">\(L("没有遥测数据", "No telemetry"))</p>"
        if !metric.isEmpty {
            let telemetry = try await call(Desk.getTelemetry, Forge_Servicedesk_V1_GetTelemetryRequest.with {
                $0.equipmentID = machine.id
                $0.metric = metric
                $0.from = Google_Protobuf_Timestamp(date: Date().addingTimeInterval(-Double(span) * 86_400))
                $0.hourly = span > 7
            }, token: token, as: Forge_Servicedesk_V1_GetTelemetryResponse.self)
            let metrics = reply.metrics.map { name in
                "<a href=\"\(base)?metric=\(HTML.escape(name))&days=\(span)\"\(name == metric ? " class=\"current\"" : "")>\(HTML.escape(Self.metricName(name)))</a>"
            }.joined(separator: " · ")
            let spans = [(1, L("1 天", "1 day")), (7, L("7 天", "7 days")), (30, L("30 天", "30 days")), (90, L("90 天", "90 days")), (365, L("1 年", "1 year"))].map { value, label in
                "<a href=\"\(base)?metric=\(HTML.escape(metric))&days=\(value)\"\(value == span ? " class=\"current\"" : "")>\(label)</a>"
            }.joined(separator: " · ")
            chart = "<p class=\"filters\">\(metrics)<br>\(spans)</p>" + TelemetryChart.svg(telemetry.values, limits: telemetry.rules.map { ($0.limit, $0.name) },
                                                                                               label: Self.metricName(metric))
        }
        let predictions = reply.predictions.map { prediction in
            "<li class=\"prediction\(prediction.state == .open ? " error" : "")\"><span class=\"muted\">\(WebPages.dateTime(prediction.createdAt))</span> \(Self.prediction(prediction))</li>"
        }.joined()
        let orders = reply.workOrders.map(workOrderItem).joined()
        let tickets = reply.tickets.map {
            "<li><span class=\"muted\">\(WebPages.date($0.createdAt))</span> <a href=\"/tickets/\(HTML.escape($0.id))\">\(HTML.escape($0.number))</a> \(Self.category($0.category)) · \(Self.state($0.state)) · \(HTML.escape($0.subject))</li>"
        }.joined()
        return HTML.page(title: machine.serialNumber, user: WebPages.subject(token), body: """
            <h1 id="serial">\(HTML.escape(machine.serialNumber)) <span class="muted">\(HTML.escape(machine.model))</span></h1>
            <dl>
            <dt>\(L("客户", "Account"))</dt><dd><a href="/accounts/\(HTML.escape(machine.accountID))">\(HTML.escape(machine.accountName))</a></dd>
            <dt>\(L("现场", "Site"))</dt><dd>\(HTML.escape([machine.region, machine.site, machine.address].filter { !$0.isEmpty }.joined(separator: " · ")))</dd>
            <dt>\(L("安装 · 质保至", "Installed · warranty until"))</dt><dd>\(machine.hasInstalledAt ? WebPages.date(machine.installedAt) : "—") · \(machine.hasWarrantyUntil ? WebPages.date(machine.warrantyUntil) : "—")</dd>
            <dt>\(L("服务等级", "Service level"))</dt><dd>\(HTML.escape(Self.level(machine.serviceLevel)))\(machine.serviceContract.isEmpty ? "" : " \(L("· 合同", "· contract")) \(HTML.escape(machine.serviceContract))")</dd>
            <dt>\(L("运行小时", "Running hours"))</dt><dd id="running-hours">\(Int(machine.runningHours))</dd>
            \(machine.orderID.isEmpty ? "" : "<dt>\(L("订单", "Order"))</dt><dd><a href=\"/orders/\(HTML.escape(machine.orderID))\">\(HTML.escape(machine.orderID))</a></dd>")
            </dl>
            <h2>\(L("遥测", "Telemetry"))</h2>\(chart)
            <h2>\(L("故障预测", "Failure predictions"))</h2><ul class="timeline" id="predictions">\(predictions.isEmpty ? "<li class=\"muted\">\(L("没有预测", "No predictions"))</li>" : predictions)</ul>
            <h2>\(L("派工单", "Work orders"))</h2><ul class="timeline" id="work-orders">\(orders.isEmpty ? "<li class=\"muted\">\(L("没有派工单", "No work orders"))</li>" : orders)</ul>
            <h2>\(L("服务记录", "Service history"))</h2><ul class="timeline" id="equipment-tickets">\(tickets.isEmpty ? "<li class=\"muted\">\(L("没有工单", "No tickets"))</li>" : tickets)</ul>
            """)
    }

    /// One work order as a list item; an open one with the form that records the visit.
    func workOrderItem(_ order: Forge_Servicedesk_V1_WorkOrder) -> String {
        let open = order.state == .open || order.state == .scheduled
        let parts = order.parts.map { "\(HTML.escape($0.partNumber)) × \(TelemetryChart.number($0.quantity))" }.joined(separator: L("，", ", "))
        let detail = open
            ? (order.hasDueAt ? " \(L("· 期限", "· due")) \(WebPages.date(order.dueAt))" : "") + (order.hasScheduledAt ? " \(L("· 上门", "· visit")) \(WebPages.dateTime(order.scheduledAt))" : "")
            : order.state == .completed ? " · \(TelemetryChart.number(order.labourHours)) \(L("工时", "labour hours"))\(parts.isEmpty ? "" : " \(L("· 备件", "· parts")) " + parts) · \(HTML.escape(order.result))"
            : " · \(HTML.escape(order.cancelReason))"
        let form = open ? """
            <form method="post" action="/work-orders/\(HTML.escape(order.id))/complete" class="complete-work-order"><input name="result" placeholder="\(L("处理结果", "Result"))" required>
            <input name="labour_hours" placeholder="\(L("工时", "labour hours"))" size="4"> <input name="parts" placeholder="\(L("备件 物料号×数量，逗号分隔", "Parts: part no.×quantity, comma-separated"))" size="24"> <button>\(L("完工", "Complete"))</button></form>
            """ : ""
        return """
            <li data-work-order="\(HTML.escape(order.id))"><span class="muted">\(WebPages.date(order.createdAt))</span> <strong>\(HTML.escape(order.number))</strong> \(Self.workOrderKind(order.kind)) · \(Self.workOrderState(order.state))\
             · <a href="/equipment/\(HTML.escape(order.equipmentID))">\(HTML.escape(order.serialNumber))</a> \(HTML.escape(order.engineerID))\(detail)<br>\(HTML.escape(order.description_p))\(form)</li>
            """
    }

    func workOrdersPage(mine: Bool, token: String) async throws -> String {
        let reply = try await call(Desk.listWorkOrders, Forge_Servicedesk_V1_ListWorkOrdersRequest.with {
            $0.page.pageSize = 200
            if mine { $0.engineerID = WebPages.subject(token) ?? "" }
        }, token: token, as: Forge_Servicedesk_V1_ListWorkOrdersResponse.self)
        return HTML.page(title: L("派工单", "Work orders"), user: WebPages.subject(token), body: """
            <h1>\(L("派工单", "Work orders")) <span class="muted">\(L("未完成，最新在前", "open, newest first"))</span></h1>
            <p class="filters"><a href="/work-orders"\(mine ? "" : " class=\"current\"")>\(L("全部", "All"))</a> · <a href="/work-orders?mine=1"\(mine ? " class=\"current\"" : "")>\(L("我的", "Mine"))</a></p>
            <ul class="timeline" id="work-orders">\(reply.workOrders.isEmpty ? "<li class=\"muted\">\(L("没有未完成的派工单", "No open work orders"))</li>" : reply.workOrders.map(workOrderItem).joined())</ul>
            """)
    }

    /// Completes a work order from its form; back to the machine's page.
    func performWorkOrder(_ action: String, id: String, fields: [String: String], token: String) async throws -> String {
        guard action == "complete" else { throw RPCError(.notFound, "no such action") }
        var parts: [Forge_Servicedesk_V1_PartUsed] = []
        for item in (fields["parts"] ?? "").split(whereSeparator: { ",，;；".contains($0) }) {
            let pieces = item.split(whereSeparator: { "×x*".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }
            parts.append(.with {
                $0.partNumber = pieces.first ?? ""
                $0.quantity = pieces.count > 1 ? Double(pieces[1]) ?? 0 : 1
            })
        }
        let labour = (fields["labour_hours"] ?? "").trimmingCharacters(in: .whitespaces)
        let completed = try await call(Desk.completeWorkOrder, Forge_Servicedesk_V1_CompleteWorkOrderRequest.with {
            $0.id = id
            $0.result = fields["result"] ?? ""
            $0.labourHours = labour.isEmpty ? 0 : Double(labour) ?? -1
            $0.parts = parts
        }, token: token, as: Forge_Servicedesk_V1_CompleteWorkOrderResponse.self).workOrder
        return "/equipment/\(completed.equipmentID)"
    }

    // MARK: Labels

    static func metricName(_ metric: String) -> String {
        switch metric {
        case "vibration": "\(L("振动", "Vibration")) (mm/s)"
        case "temperature": "\(L("温度", "Temperature")) (°C)"
        case "pressure": "\(L("压力", "Pressure")) (bar)"
        case "running_hours": L("运行小时", "Running hours")
        case "current": "\(L("电流", "Current")) (A)"
        default: metric
        }
    }

    /// A prediction in words: the machine, the rule, what was seen, when it reaches the limit.
    static func prediction(_ prediction: Forge_Servicedesk_V1_Prediction) -> String {
        let seen = prediction.slopePerHour != 0
            ? "\(metricName(prediction.metric)) \(L("每小时", "per hour")) \(prediction.slopePerHour > 0 ? "+" : "")\(TelemetryChart.number(prediction.slopePerHour))\(L("，当前", ", now")) \(TelemetryChart.number(prediction.value))"
            : "\(metricName(prediction.metric)) \(L("持续超限，当前", "above the limit for a sustained period, now")) \(TelemetryChart.number(prediction.value))"
        let projected = prediction.hasProjectedFailureAt ? L("，预计 \(WebPages.date(prediction.projectedFailureAt)) 达到限值", ", expected to reach the limit on \(WebPages.date(prediction.projectedFailureAt))") : ""
        let parts = prediction.parts.isEmpty ? "" : " \(L("· 备件", "· parts")) \(prediction.parts.joined(separator: L("，", ", ")))"
        return "<a href=\"/equipment/\(HTML.escape(prediction.equipmentID))\">\(HTML.escape(prediction.serialNumber))</a> \(HTML.escape(prediction.ruleName))\(L("：", ": "))\(HTML.escape(seen))\(projected)\(HTML.escape(parts))"
            + (prediction.state == .open ? L("（处理中）", " (open)") : L("（已处理）", " (handled)"))
    }

    static func workOrderKind(_ kind: Forge_Servicedesk_V1_WorkOrderKind) -> String {
        switch kind {
        case .repair: L("维修", "Repair")
        case .preventive: L("预防性保养", "Preventive maintenance")
        case .predictive: L("预测性维护", "Predictive maintenance")
        case .installation: L("安装", "Installation")
        case .diagnostic: L("免费诊断", "Free diagnostic")
        default: "—"
        }
    }

    static func workOrderState(_ state: Forge_Servicedesk_V1_WorkOrderState) -> String {
        switch state {
        case .open: L("待排期", "To schedule")
        case .scheduled: L("已排期", "Scheduled")
        case .completed: L("已完工", "Completed")
        case .cancelled: L("已取消", "Cancelled")
        default: "—"
        }
    }
}

/// A telemetry series as an inline SVG line chart: the values (hourly aggregates with their
/// min–max band), the rules' limits dashed, the time span and value range labelled.
enum TelemetryChart {
    static func number(_ value: Double) -> String {
        abs(value) >= 100 ? String(format: "%.0f", value) : abs(value) >= 1 ? String(format: "%.1f", value) : String(format: "%.3f", value)
    }

    static func svg(_ values: [Forge_Servicedesk_V1_TelemetryValue], limits: [(value: Double, name: String)], label: String,
                    width: Double = 720, height: Double = 220) -> String {
        guard let first = values.first, let last = values.last else { return "<p class=\"muted\">\(L("这段时间没有数据", "No data in this period"))</p>" }
        let left = 48.0, right = 12.0, top = 12.0, bottom = 28.0
        let low = (values.map(\.min) + limits.map(\.value)).min() ?? 0
        let high = (values.map(\.max) + limits.map(\.value)).max() ?? 1
        let pad = max((high - low) * 0.08, 0.001)
        let y0 = low - pad, y1 = high + pad
        let t0 = Double(first.time.seconds), t1 = max(Double(last.time.seconds), t0 + 1)
        func x(_ t: Int64) -> Double { left + (Double(t) - t0) / (t1 - t0) * (width - left - right) }
        func y(_ v: Double) -> Double { top + (y1 - v) / (y1 - y0) * (height - top - bottom) }
        func point(_ t: Int64, _ v: Double) -> String { String(format: "%.1f,%.1f", x(t), y(v)) }
        var parts: [String] = []
        if values.contains(where: { $0.count > 1 }) {
            let band = values.map { point($0.time.seconds, $0.max) } + values.reversed().map { point($0.time.seconds, $0.min) }
            parts.append("<polygon points=\"\(band.joined(separator: " "))\" fill=\"#1f5eff\" fill-opacity=\"0.12\"/>")
        }
        parts.append("<polyline id=\"telemetry-line\" points=\"\(values.map { point($0.time.seconds, $0.value) }.joined(separator: " "))\" fill=\"none\" stroke=\"#1f5eff\" stroke-width=\"1.5\"/>")
        for limit in limits {
            let ly = String(format: "%.1f", y(limit.value))
            parts.append("<line class=\"limit\" x1=\"\(left)\" x2=\"\(width - right)\" y1=\"\(ly)\" y2=\"\(ly)\" stroke=\"#b42318\" stroke-dasharray=\"6 4\"/>")
            parts.append("<text x=\"\(width - right - 4)\" y=\"\(String(format: "%.1f", y(limit.value) - 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#b42318\">\(HTML.escape(limit.name)) \(number(limit.value))</text>")
        }
        let axis = "#667085"
        parts.append("<text x=\"\(left + 4)\" y=\"\(top + 10)\" font-size=\"11\" fill=\"\(axis)\">\(HTML.escape(label))\(values.contains { $0.count > 1 } ? "\(L("（小时均值，阴影为最小", " (hourly mean, shaded min"))–\(L("最大）", "max)"))" : "")</text>")
        parts.append("<line x1=\"\(left)\" x2=\"\(left)\" y1=\"\(top)\" y2=\"\(height - bottom)\" stroke=\"#e4e7ec\"/>")
        parts.append("<text x=\"\(left - 4)\" y=\"\(String(format: "%.1f", y(high)))\" text-anchor=\"end\" font-size=\"11\" fill=\"\(axis)\">\(number(high))</text>")
        parts.append("<text x=\"\(left - 4)\" y=\"\(String(format: "%.1f", y(low)))\" text-anchor=\"end\" font-size=\"11\" fill=\"\(axis)\">\(number(low))</text>")
        parts.append("<text x=\"\(left)\" y=\"\(height - 8)\" font-size=\"11\" fill=\"\(axis)\">\(WebPages.dateTime(first.time))</text>")
        parts.append("<text x=\"\(width - right)\" y=\"\(height - 8)\" text-anchor=\"end\" font-size=\"11\" fill=\"\(axis)\">\(WebPages.dateTime(last.time))</text>")
        return """
            <svg id="telemetry-chart" viewBox="0 0 \(Int(width)) \(Int(height))" width="100%" style="max-width:\(Int(width))px;background:#fff;border:1px solid #e4e7ec;border-radius:6px" \
            role="img" aria-label="\(HTML.escape(label))">\(parts.joined())</svg>
            """
    }
}
