import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// An installed-base spreadsheet as people fill it: Chinese or English headers, dates as
/// typed or as Excel stores them, statuses by their words. No I/O.
enum EquipmentImport {
    static let maxBatch = 2_000

    enum Column: String, CaseIterable {
        case serialNumber = "serial_number", model, productLine = "product_line", account, site, address, region
        case installedAt = "installed_at", acceptedAt = "accepted_at", warrantyUntil = "warranty_until"
        case serviceContract = "service_contract", serviceLevel = "service_level", runningHours = "running_hours", status, sku
    }

    static let aliases: [String: Column] = ImportColumns.aliases([
        .serialNumber: ["serial_number", "serial", "serialno", "sn", "序列号", "出厂编号", "机身号", "设备编号", "机号"],
        .model: ["model", "型号", "设备型号", "规格型号"],
        .productLine: ["product_line", "line", "产品线", "产品系列"],
        .account: ["account", "account_id", "customer", "客户", "客户名称", "客户编号", "用户单位"],
        .site: ["site", "现场", "使用现场", "车间", "工厂"],
        .address: ["address", "地址", "安装地址"],
        .region: ["region", "区域", "大区", "服务区域"],
        .installedAt: ["installed_at", "install_date", "安装日期", "安装时间"],
        .acceptedAt: ["accepted_at", "acceptance_date", "验收日期", "验收时间"],
        .warrantyUntil: ["warranty_until", "warranty_end", "保修截止", "质保到期", "保修到期"],
        .serviceContract: ["service_contract", "contract", "服务合同", "合同号"],
        .serviceLevel: ["service_level", "level", "服务等级", "服务级别"],
        .runningHours: ["running_hours", "hours", "运行小时", "运行时间", "累计运行小时"],
        .status: ["status", "状态", "设备状态"],
        .sku: ["sku", "物料号", "物料编码"],
    ])

    static let statuses: [Forge_Servicedesk_V1_EquipmentStatus: [String]] = [
        .inService: ["in_service", "in service", "running", "在用", "运行", "正常"],
        .down: ["down", "停机", "故障"],
        .underRepair: ["under_repair", "repair", "维修中", "维修"],
        .decommissioned: ["decommissioned", "scrapped", "报废", "停用"],
    ]

    /// The row's machine (its account as the file names it, resolved by the caller) and the
    /// cells that did not read.
    static func equipment(_ cells: [Column: String]) -> (equipment: Forge_Servicedesk_V1_Equipment, account: String, problems: [Forge_Common_V1_RowViolation]) {
        var problems = ImportColumns.RowProblems<Column>()
        var equipment = Forge_Servicedesk_V1_Equipment()
        equipment.serialNumber = cells[.serialNumber] ?? ""
        equipment.model = cells[.model] ?? ""
        equipment.productLine = cells[.productLine] ?? ""
        equipment.site = cells[.site] ?? ""
        equipment.address = cells[.address] ?? ""
        equipment.region = cells[.region] ?? ""
        equipment.serviceContract = cells[.serviceContract] ?? ""
        equipment.serviceLevel = (cells[.serviceLevel] ?? "").lowercased()
        equipment.sku = cells[.sku] ?? ""
        for (column, keyPath) in [(Column.installedAt, \Forge_Servicedesk_V1_Equipment.installedAt), (.acceptedAt, \.acceptedAt), (.warrantyUntil, \.warrantyUntil)] {
            guard let text = cells[column] else { continue }
            if let date = ImportColumns.date(text) { equipment[keyPath: keyPath] = Google_Protobuf_Timestamp(date: date) } else { problems.add(column, "is not a date like 2026-03-15") }
        }
        if let text = cells[.runningHours] {
            if let hours = Double(text.replacingOccurrences(of: ",", with: "")), hours >= 0, hours.isFinite { equipment.runningHours = hours } else { problems.add(.runningHours, "is not a number of hours") }
        }
        if let text = cells[.status] {
            if let status = ImportColumns.choice(text, statuses) { equipment.status = status } else { problems.add(.status, "is not 在用, 停机, 维修中 or 报废") }
        }
        if cells[.serialNumber] == nil { problems.add(.serialNumber, "is required") }
        if cells[.model] == nil { problems.add(.model, "is required") }
        if cells[.account] == nil { problems.add(.account, "is required (the account id or the customer's name)") }
        return (equipment, cells[.account] ?? "", problems.violations)
    }
}
