import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// The product master as ERP sends it, and as a spreadsheet of it reads. No I/O.
enum ProductRules {
    static let maxBatch = 500

    static func validate(_ product: Forge_Orders_V1_Product) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func check(_ condition: Bool, _ field: String, _ description: String) {
            if !condition { violations.append(FieldViolation(field: field, description: description)) }
        }
        let sku = product.sku.trimmingCharacters(in: .whitespaces)
        check(!sku.isEmpty && sku.count <= 64, "sku", "is required, at most 64 characters")
        check(!product.name.isBlank && product.name.count <= 200, "name", "is required, at most 200 characters")
        check(product.model.count <= 100, "model", "must be at most 100 characters")
        check(product.productLine.count <= 100, "product_line", "must be at most 100 characters")
        check(product.unit.count <= 20, "unit", "must be at most 20 characters")
        check(product.hasListPrice && product.listPrice.amountMicros >= 0 && product.listPrice.amountMicros % OrderRules.microsPerCent == 0,
              "list_price", "is required, whole cents, not negative")
        check(!product.hasStandardCost || (product.standardCost.amountMicros >= 0 && product.standardCost.amountMicros % OrderRules.microsPerCent == 0),
              "standard_cost", "must be whole cents, not negative")
        check(product.leadTimeDays >= 0 && product.leadTimeDays <= 730, "lead_time_days", "must be between 0 and 730")
        check(product.tiers.count <= 20, "tiers", "must be at most 20")
        var previous: Int64 = 0
        for (index, tier) in product.tiers.enumerated() {
            check(tier.minQuantity > previous, "tiers[\(index)].min_quantity", "must be positive and increasing")
            check(tier.hasUnitPrice && tier.unitPrice.amountMicros >= 0 && tier.unitPrice.amountMicros % OrderRules.microsPerCent == 0,
                  "tiers[\(index)].unit_price", "is required, whole cents, not negative")
            previous = tier.minQuantity
        }
        return violations
    }

    /// The product as stored: SKU trimmed, currencies filled in.
    static func normalized(_ product: Forge_Orders_V1_Product) -> Forge_Orders_V1_Product {
        var product = product
        product.sku = product.sku.trimmingCharacters(in: .whitespaces)
        if product.listPrice.currencyCode.isEmpty { product.listPrice.currencyCode = "CNY" }
        if product.hasStandardCost, product.standardCost.currencyCode.isEmpty { product.standardCost.currencyCode = "CNY" }
        for index in product.tiers.indices where product.tiers[index].unitPrice.currencyCode.isEmpty {
            product.tiers[index].unitPrice.currencyCode = product.listPrice.currencyCode
        }
        return product
    }

    /// Whether an upsert changes what is stored (the bookkeeping fields aside).
    static func differs(_ stored: Forge_Orders_V1_Product, _ incoming: Forge_Orders_V1_Product) -> Bool {
        var a = stored
        var b = incoming
        a.clearUpdatedAt()
        a.version = 0
        b.clearUpdatedAt()
        b.version = 0
        return a != b
    }

    static func view(_ product: Forge_Orders_V1_Product, for principal: Principal?) -> Forge_Orders_V1_Product {
        guard !OrderRules.maySeeFinance(principal) else { return product }
        var shown = product
        shown.clearStandardCost()
        return shown
    }

    // MARK: Spreadsheets

    enum Column: String, CaseIterable {
        case sku, name, model, productLine = "product_line", unit, listPrice = "list_price", leadTime = "lead_time_days"
        case active, standardCost = "standard_cost", tiers
    }

    static let aliases: [String: Column] = ImportColumns.aliases([
        .sku: ["sku", "materialnumber", "material", "itemcode", "partnumber", "物料号", "物料编码", "物料编号", "产品编码", "货号"],
        .name: ["name", "productname", "description", "名称", "产品名称", "物料名称", "品名"],
        .model: ["model", "型号", "规格型号", "规格"],
        .productLine: ["productline", "line", "产品线", "产品系列", "系列"],
        .unit: ["unit", "uom", "单位", "计量单位"],
        .listPrice: ["listprice", "price", "unitprice", "单价", "价格", "标准价", "目录价", "含税单价"],
        .leadTime: ["leadtime", "leadtimedays", "交期", "交货期", "生产周期", "交期天数"],
        .active: ["active", "enabled", "在售", "启用", "状态"],
        .standardCost: ["standardcost", "cost", "标准成本", "成本"],
        .tiers: ["tiers", "volumeprices", "阶梯价", "批量价"],
    ])

    /// The product a row describes, or the cells it cannot read (named by column).
    static func product(_ cells: [Column: String]) -> (product: Forge_Orders_V1_Product, violations: [Forge_Common_V1_RowViolation]) {
        var product = Forge_Orders_V1_Product()
        var problems = ImportColumns.RowProblems<Column>()
        product.sku = cells[.sku] ?? ""
        product.name = cells[.name] ?? ""
        product.model = cells[.model] ?? ""
        product.productLine = cells[.productLine] ?? ""
        product.unit = cells[.unit] ?? "台"
        product.active = true
        if let text = cells[.listPrice] {
            if let micros = ImportColumns.money(text) { product.listPrice = OrderRules.money(micros, "CNY") } else { problems.add(.listPrice, "is not an amount in yuan") }
        }
        if let text = cells[.standardCost] {
            if let micros = ImportColumns.money(text) { product.standardCost = OrderRules.money(micros, "CNY") } else { problems.add(.standardCost, "is not an amount in yuan") }
        }
        if let text = cells[.leadTime] {
            if let days = Int32(text.replacingOccurrences(of: "天", with: "").trimmingCharacters(in: .whitespaces)) { product.leadTimeDays = days } else { problems.add(.leadTime, "is not a number of days") }
        }
        if let text = cells[.active] {
            if let active = ImportColumns.yesNo(text) ?? ImportColumns.choice(text, [true: ["在售", "启用", "active"], false: ["停售", "停用", "inactive"]]) {
                product.active = active
            } else { problems.add(.active, "is not yes or no (是/否)") }
        }
        if let text = cells[.tiers] {
            if let tiers = tiers(text) { product.tiers = tiers } else { problems.add(.tiers, "must be quantity:price pairs separated by ; (e.g. 10:9500; 50:9000)") }
        }
        return (product, problems.violations)
    }

    /// "10:9500; 50:9000" — from 10 units 9,500 each, from 50 units 9,000.
    static func tiers(_ text: String) -> [Forge_Common_V1_PriceTier]? {
        var tiers: [Forge_Common_V1_PriceTier] = []
        for pair in text.split(whereSeparator: { ";；".contains($0) }) {
            let parts = pair.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let quantity = Int64(parts[0]), let price = ImportColumns.money(parts[1]) else { return nil }
            tiers.append(.with {
                $0.minQuantity = quantity
                $0.unitPrice = OrderRules.money(price, "CNY")
            })
        }
        return tiers
    }
}
