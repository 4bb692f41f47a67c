import ForgeContracts
import ForgeKit
import Foundation
import SwiftProtobuf

/// ERP's nightly status file (CSV) as status reports: one row per order line's status, with
/// the row's own event id when ERP gives one, else one made from the file's import id and the
/// row (so a file imported twice applies once). No I/O.
enum StatusImportMapping {
    enum Column: String, CaseIterable {
        case eventID = "event_id", orderID = "order_id", erpOrderNumber = "erp_order_number", lineNo = "line_no", status
        case sourceTime = "source_time", percent, workCentre = "work_centre", carrier, trackingNumber = "tracking_number"
        case signedBy = "signed_by", serialNumbers = "serial_numbers", note
    }

    static let aliases: [String: Column] = ImportColumns.aliases([
        .eventID: ["eventid", "id", "事件号", "记录号", "流水号"],
        .orderID: ["orderid", "forgeorder", "订单id", "crm订单号"],
        .erpOrderNumber: ["erpordernumber", "erporder", "salesorder", "ordernumber", "erp订单号", "销售订单号", "订单号"],
        .lineNo: ["lineno", "line", "item", "行号", "行项目"],
        .status: ["status", "state", "状态", "生产状态"],
        .sourceTime: ["sourcetime", "time", "timestamp", "date", "时间", "日期", "更新时间"],
        .percent: ["percent", "progress", "完成率", "进度"],
        .workCentre: ["workcentre", "workcenter", "工作中心", "车间", "产线"],
        .carrier: ["carrier", "物流公司", "承运商", "快递公司"],
        .trackingNumber: ["trackingnumber", "tracking", "运单号", "物流单号", "快递单号"],
        .signedBy: ["signedby", "签收人"],
        .serialNumbers: ["serialnumbers", "serials", "serial", "序列号", "出厂编号"],
        .note: ["note", "notes", "remark", "备注"],
    ])

    static let statuses: [Forge_Orders_V1_ProductionStatus: [String]] = [
        .scheduled: ["scheduled", "planned", "已排产", "排产"],
        .materialReady: ["material ready", "material_ready", "备料完成", "物料齐套", "齐套"],
        .inProduction: ["in production", "in_production", "producing", "生产中", "在制"],
        .qualityInspection: ["quality inspection", "quality_inspection", "inspection", "qc", "质检", "质检中"],
        .packed: ["packed", "packed awaiting shipment", "待发货", "已包装", "包装完成"],
        .shipped: ["shipped", "已发货", "发货"],
        .delivered: ["delivered", "已签收", "签收", "已送达"],
    ]

    static func report(_ cells: [Column: String], importID: String, line: Int32) -> (report: Forge_Orders_V1_StatusReport, violations: [Forge_Common_V1_RowViolation]) {
        var report = Forge_Orders_V1_StatusReport()
        var problems = ImportColumns.RowProblems<Column>()
        report.source = "erp-file"
        report.orderID = cells[.orderID] ?? ""
        report.erpOrderNumber = cells[.erpOrderNumber] ?? ""
        report.workCentre = cells[.workCentre] ?? ""
        report.carrier = cells[.carrier] ?? ""
        report.trackingNumber = cells[.trackingNumber] ?? ""
        report.signedBy = cells[.signedBy] ?? ""
        report.note = cells[.note] ?? ""
        report.serialNumbers = (cells[.serialNumbers] ?? "").split(whereSeparator: { ";；,，".contains($0) })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        report.eventID = cells[.eventID].map { "erp-file:\($0)" } ?? "erp-file:\(importID):\(line)"
        if let text = cells[.lineNo] {
            if let number = Int32(text), number >= 0 { report.lineNo = number } else { problems.add(.lineNo, "is not a line number") }
        }
        if let text = cells[.status] {
            if let status = ImportColumns.choice(text, statuses) { report.status = status } else { problems.add(.status, "is not a status (已排产, 生产中, 质检, 待发货, 已发货, 已签收 …)") }
        } else {
            problems.add(.status, "is required")
        }
        if let text = cells[.sourceTime] {
            if let date = ImportColumns.date(text) { report.sourceTime = .init(date: date) } else { problems.add(.sourceTime, "is not a date (2026-03-15 14:30)") }
        } else {
            problems.add(.sourceTime, "is required")
        }
        if let text = cells[.percent] {
            if let percent = Int32(text.replacingOccurrences(of: "%", with: "")) { report.percent = percent } else { problems.add(.percent, "is not a percentage") }
        }
        return (report, problems.violations)
    }
}
