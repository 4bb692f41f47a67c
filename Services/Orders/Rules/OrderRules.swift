import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// What makes an order valid, how its figures are computed and what each caller may see of it.
/// Money is integer micros throughout, rounded to the cent where a share is taken.
enum OrderRules {
    static let maxLines = 200
    /// The largest line total, micros: 200 of them add up within 64 bits.
    static let maxLineTotal: Int64 = 40_000_000_000 * 1_000_000
    static let microsPerCent: Int64 = 10_000
    static let incoterms: Set<String> = ["EXW", "FCA", "FAS", "FOB", "CFR", "CIF", "CPT", "CIP", "DAP", "DPU", "DDP"]
    /// The statuses in which an order still has a draft's editable fields.
    static let editable: Set<Forge_Orders_V1_OrderStatus> = [.draft, .creditHold]
    /// Approved and not yet finished: what the credit check counts as owed and production may report on.
    static let committed: Set<Forge_Orders_V1_OrderStatus> = [.approved, .released, .delivered]

    /// Field violations of an order as created or edited; empty when it may be stored.
    static func validate(_ order: Forge_Orders_V1_Order, now: Date) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func check(_ condition: Bool, _ field: String, _ description: String) {
            if !condition { violations.append(FieldViolation(field: "order.\(field)", description: description)) }
        }
        check(!order.accountID.isBlank, "account_id", "is required")
        check(order.lines.count <= maxLines, "lines", "must be at most \(maxLines) lines")
        check(!order.lines.isEmpty, "lines", "needs at least one line")
        let currency = currencyCode(order)
        check(currency.count == 3 && currency.allSatisfy { $0.isASCII && $0.isUppercase }, "currency_code", "must be a three-letter ISO 4217 code")
        var lineNumbers = Set<Int32>()
        for (index, line) in order.lines.enumerated() {
            let field = "lines[\(index)]"
            check(!line.sku.isBlank, "\(field).sku", "is required")
            check(line.sku.count <= 64, "\(field).sku", "must be at most 64 characters")
            check(line.name.count <= 200, "\(field).name", "must be at most 200 characters")
            check(line.quantity > 0, "\(field).quantity", "must be at least 1")
            check(line.quantity <= 1_000_000, "\(field).quantity", "must be at most 1,000,000")
            check(line.hasUnitPrice && line.unitPrice.amountMicros >= 0, "\(field).unit_price", "is required and must not be negative")
            check(!line.hasUnitPrice || line.unitPrice.amountMicros % microsPerCent == 0, "\(field).unit_price", "must be whole cents")
            check(!line.hasUnitPrice || line.unitPrice.amountMicros <= 1_000_000_000 * 1_000_000, "\(field).unit_price", "must be at most 1,000,000,000")
            check(!line.hasUnitPrice || line.unitPrice.currencyCode.isEmpty || line.unitPrice.currencyCode == currency,
                  "\(field).unit_price.currency_code", "must be the order's currency (\(currency))")
            // 40 billion a line at most, so that 200 lines still add up within 64 bits.
            let product = line.quantity.multipliedReportingOverflow(by: max(line.unitPrice.amountMicros, 0))
            check(product.overflow == false && product.partialValue <= maxLineTotal, "\(field).quantity", "quantity × unit price must be at most 40,000,000,000")
            if line.lineNo != 0 {
                // At most 10,000, so numbering the unnumbered lines after the highest cannot overflow.
                check(line.lineNo > 0 && line.lineNo <= 10_000 && lineNumbers.insert(line.lineNo).inserted, "\(field).line_no", "must be 1 to 10,000 and unique in the order")
            }
        }
        check(order.contractNumber.count <= 64, "contract_number", "must be at most 64 characters")
        check(order.incoterms.isEmpty || incoterms.contains(order.incoterms.uppercased()), "incoterms", "must be an Incoterms 2020 rule (EXW, FCA, FOB, CIF, DAP, DDP …)")
        check(order.deliveryAddress.count <= 500, "delivery_address", "must be at most 500 characters")
        check(order.deliveryContactName.count <= 100, "delivery_contact_name", "must be at most 100 characters")
        check(order.deliveryPhone.count <= 40, "delivery_phone", "must be at most 40 characters")
        check(order.notes.count <= 2000, "notes", "must be at most 2,000 characters")
        let total = violations.isEmpty ? self.total(order.lines) : 0
        violations += PaymentPlanRules.validate(order.paymentPlan, total: total)
        return violations
    }

    static func currencyCode(_ order: Forge_Orders_V1_Order) -> String {
        order.currencyCode.isEmpty ? "CNY" : order.currencyCode
    }

    static func total(_ lines: [Forge_Orders_V1_OrderLine]) -> Int64 {
        lines.reduce(0) { $0 + $1.quantity * $1.unitPrice.amountMicros }
    }

    static func money(_ micros: Int64, _ currency: String) -> Forge_Common_V1_Money {
        .with {
            $0.amountMicros = micros
            $0.currencyCode = currency
        }
    }

    /// Numbers the lines, computes line totals, the total, margins (from the products' standard
    /// costs), the plan's amounts and what is paid and owed.
    static func computeFigures(_ order: inout Forge_Orders_V1_Order, costs: [String: Int64]) {
        let currency = currencyCode(order)
        order.currencyCode = currency
        order.incoterms = order.incoterms.uppercased()
        var next = (order.lines.map(\.lineNo).max() ?? 0) + 1
        var margin: Int64 = 0
        for index in order.lines.indices {
            if order.lines[index].lineNo == 0 {
                order.lines[index].lineNo = next
                next += 1
            }
            order.lines[index].unitPrice.currencyCode = currency
            let line = order.lines[index]
            order.lines[index].lineTotal = money(line.quantity * line.unitPrice.amountMicros, currency)
            // A margin only where the cost of the line fits the bounds of a line total (40 billion),
            // so that neither a line's margin nor the order's sum of 200 of them can overflow.
            if let cost = costs[line.sku] {
                let (costTotal, overflow) = line.quantity.multipliedReportingOverflow(by: cost)
                order.lines[index].unitCost = money(cost, currency)
                if !overflow, costTotal <= maxLineTotal {
                    let lineMargin = line.quantity * line.unitPrice.amountMicros - costTotal
                    order.lines[index].margin = money(lineMargin, currency)
                    margin += lineMargin
                }
            }
        }
        let total = self.total(order.lines)
        order.total = money(total, currency)
        if costs.isEmpty { order.clearMargin() } else { order.margin = money(margin, currency) }
        PaymentPlanRules.computeAmounts(&order.paymentPlan, total: total, currency: currency)
        settleFigures(&order)
    }

    /// Paid and outstanding from the plan.
    static func settleFigures(_ order: inout Forge_Orders_V1_Order) {
        let currency = currencyCode(order)
        let paid = order.paymentPlan.reduce(0) { $0 + $1.paid.amountMicros }
        order.paid = money(paid, currency)
        order.outstanding = money(order.total.amountMicros - paid, currency)
    }

    /// The least advanced line's status (unspecified while a line has no report).
    static func productionStatus(_ lines: [Forge_Orders_V1_OrderLine]) -> Forge_Orders_V1_ProductionStatus {
        lines.map(\.production.status).min { $0.rawValue < $1.rawValue } ?? .unspecified
    }

    // MARK: Who sees what (DESIGN §9)

    /// Costs, margins, receivables and the credit figures: finance, managers and admin.
    static func maySeeFinance(_ principal: Principal?) -> Bool {
        guard let principal else { return false }
        return !principal.roles.isDisjoint(with: [Role.finance, Role.salesManager, Role.admin, Role.service])
    }

    /// Prices and totals: whoever may see amounts in the pipeline (the rep who negotiated them).
    static func maySeePrices(_ principal: Principal?) -> Bool {
        guard let principal else { return false }
        return !principal.roles.isDisjoint(with: [Role.finance, Role.salesManager, Role.salesRep, Role.admin, Role.analyst, Role.service, Role.erpConnector])
    }

    static func view(_ order: Forge_Orders_V1_Order, for principal: Principal?) -> Forge_Orders_V1_Order {
        var shown = order
        if !maySeeFinance(principal) {
            shown.clearMargin()
            shown.clearCreditCheck()
            for index in shown.lines.indices {
                shown.lines[index].clearUnitCost()
                shown.lines[index].clearMargin()
            }
        }
        if !maySeePrices(principal) {
            shown.clearTotal()
            shown.clearPaid()
            shown.clearOutstanding()
            shown.paymentPlan = []
            for index in shown.lines.indices {
                shown.lines[index].clearUnitPrice()
                shown.lines[index].clearLineTotal()
            }
        }
        return shown
    }

    /// An order as the 360° view shows it (OrderSummary): its state and what it holds; the
    /// total only for who may see prices.
    static func summary(_ order: Forge_Orders_V1_Order, for principal: Principal?) -> Forge_Orders_V1_OrderSummary {
        .with { summary in
            summary.id = order.id
            summary.orderNumber = order.orderNumber
            summary.erpOrderNumber = order.erpOrderNumber
            summary.status = order.status
            summary.productionStatus = order.productionStatus
            if maySeePrices(principal), order.hasTotal { summary.total = order.total }
            if order.hasCreatedAt { summary.createdAt = order.createdAt }
            if order.hasDeliveredAt { summary.deliveredAt = order.deliveredAt }
            summary.lines = order.lines.map { line in
                .with {
                    $0.lineNo = line.lineNo
                    $0.sku = line.sku
                    $0.name = line.name
                    $0.quantity = line.quantity
                    if line.hasPromisedDelivery { $0.promisedDelivery = line.promisedDelivery }
                    $0.status = line.production.status
                    $0.percent = line.production.percent
                    $0.carrier = line.production.carrier
                    $0.trackingNumber = line.production.trackingNumber
                    $0.deliveredOnTime = line.deliveredOnTime
                }
            }
        }
    }

    static func formatNumber(year: Int, sequence: Int64) -> String {
        "SO-\(year)-" + String(format: "%06lld", sequence)
    }

    /// "CNY 1,234.50" style figures for messages (finance reads these in errors and tasks).
    static func display(_ micros: Int64, _ currency: String) -> String {
        MoneyText.display(micros, currency)
    }

    static func changes(from old: Forge_Orders_V1_Order, to new: Forge_Orders_V1_Order) -> [String: String] {
        var changed: [String: String] = [:]
        func compare(_ name: String, _ a: String, _ b: String) { if a != b { changed[name] = b } }
        compare("lines", "\(old.lines.map { "\($0.sku)×\($0.quantity)@\($0.unitPrice.amountMicros)" })", "\(new.lines.map { "\($0.sku)×\($0.quantity)@\($0.unitPrice.amountMicros)" })")
        compare("total", "\(old.total.amountMicros)", "\(new.total.amountMicros)")
        compare("contact_id", old.contactID, new.contactID)
        compare("contract_number", old.contractNumber, new.contractNumber)
        compare("incoterms", old.incoterms, new.incoterms)
        compare("delivery_address", old.deliveryAddress, new.deliveryAddress)
        compare("payment_plan", "\(old.paymentPlan.map { "\($0.label):\($0.amount.amountMicros)" })", "\(new.paymentPlan.map { "\($0.label):\($0.amount.amountMicros)" })")
        compare("notes", old.notes, new.notes)
        return changed
    }
}
