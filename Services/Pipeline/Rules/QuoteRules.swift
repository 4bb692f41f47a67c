import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// Quotes without I/O: what a quote must carry, its prices (volume tiers, then the line's
/// discount), its totals, and the approval its largest discount needs.
enum QuotePricing {
    static let defaultManagerThreshold: Int32 = 1_000
    static let defaultAdminThreshold: Int32 = 2_000
    static let defaultFollowUpDays: [Int32] = [3, 7, 14]

    static func followUpDays(_ rules: Forge_Pipeline_V1_QuoteRules) -> [Int32] {
        rules.followUpDays.isEmpty ? defaultFollowUpDays : rules.followUpDays.sorted()
    }

    static func validate(_ quote: Forge_Pipeline_V1_Quote, now: Date) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        if quote.opportunityID.isBlank { violations.append(FieldViolation(field: "quote.opportunity_id", description: "is required")) }
        if quote.lines.isEmpty || quote.lines.count > 200 {
            violations.append(FieldViolation(field: "quote.lines", description: "must hold 1 to 200 lines"))
        }
        let currency = quote.currencyCode.isEmpty ? "CNY" : quote.currencyCode
        if currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isUppercase }) {
            violations.append(FieldViolation(field: "quote.currency_code", description: "must be an ISO 4217 code such as CNY"))
        }
        for (index, line) in quote.lines.prefix(200).enumerated() {
            let field = "quote.lines[\(index)]"
            if line.sku.isBlank && line.name.isBlank {
                violations.append(FieldViolation(field: "\(field).sku", description: "a SKU or a name is required"))
            }
            if line.sku.count > 64 { violations.append(FieldViolation(field: "\(field).sku", description: "must be at most 64 characters")) }
            if line.name.count > 200 { violations.append(FieldViolation(field: "\(field).name", description: "must be at most 200 characters")) }
            if !(1...10_000_000).contains(line.quantity) {
                violations.append(FieldViolation(field: "\(field).quantity", description: "must be between 1 and 10,000,000"))
            }
            if !(0...1_000_000_000_000_000).contains(line.listUnitPrice.amountMicros) {
                violations.append(FieldViolation(field: "\(field).list_unit_price.amount_micros", description: "must be between 0 and 1,000,000,000 in the currency"))
            }
            for (name, money) in [("list_unit_price", line.listUnitPrice)] + line.tiers.enumerated().map({ ("tiers[\($0.offset)].unit_price", $0.element.unitPrice) })
            where !money.currencyCode.isEmpty && money.currencyCode != currency {
                violations.append(FieldViolation(field: "\(field).\(name).currency_code", description: "must be the quote's currency \(currency)"))
            }
            if !(0...10_000).contains(line.discountBps) {
                violations.append(FieldViolation(field: "\(field).discount_bps", description: "must be between 0 and 10,000"))
            }
            // 40 billion a line at most, so that 200 lines still add up within 64 bits.
            let largest = max(line.listUnitPrice.amountMicros, line.tiers.map(\.unitPrice.amountMicros).max() ?? 0)
            if largest.multipliedReportingOverflow(by: max(line.quantity, 1)).overflow || largest * max(line.quantity, 1) > 40_000_000_000_000_000 {
                violations.append(FieldViolation(field: "\(field).quantity", description: "quantity × price must be at most 40,000,000,000 in the currency"))
            }
            var previous: Int64 = 0
            for (tierIndex, tier) in line.tiers.enumerated() {
                if tier.minQuantity <= previous {
                    violations.append(FieldViolation(field: "\(field).tiers[\(tierIndex)].min_quantity", description: "must be above the previous tier's"))
                }
                if !(0...1_000_000_000_000_000).contains(tier.unitPrice.amountMicros) {
                    violations.append(FieldViolation(field: "\(field).tiers[\(tierIndex)].unit_price.amount_micros", description: "must be between 0 and 1,000,000,000 in the currency"))
                }
                previous = tier.minQuantity
            }
        }
        if !quote.paymentTerms.isEmpty {
            if quote.paymentTerms.contains(where: { !(1...100).contains($0.percent) }) || quote.paymentTerms.reduce(0, { $0 + Int($1.percent) }) != 100 {
                violations.append(FieldViolation(field: "quote.payment_terms", description: "percentages of 1 to 100 that add up to 100"))
            }
            if quote.paymentTerms.contains(where: { $0.label.isEmpty || $0.label.count > 50 || $0.dueRule.count > 50 }) {
                violations.append(FieldViolation(field: "quote.payment_terms", description: "each needs a label (at most 50 characters)"))
            }
        }
        if !quote.hasValidUntil {
            violations.append(FieldViolation(field: "quote.valid_until", description: "is required"))
        } else if quote.validUntil.date <= now {
            violations.append(FieldViolation(field: "quote.valid_until", description: "must be in the future"))
        }
        if quote.notes.count > 2_000 { violations.append(FieldViolation(field: "quote.notes", description: "must be at most 2,000 characters")) }
        return violations
    }

    /// The tier price the quantity reaches, else the list price.
    static func tierPrice(_ line: Forge_Pipeline_V1_QuoteLine) -> Int64 {
        line.tiers.filter { $0.minQuantity <= line.quantity }.max { $0.minQuantity < $1.minQuantity }?.unitPrice.amountMicros
            ?? line.listUnitPrice.amountMicros
    }

    /// Fills in each line's unit price and total, the quote's subtotal (at tier prices),
    /// total, largest discount and the approval it needs. Amounts are rounded to the cent.
    static func priced(_ requested: Forge_Pipeline_V1_Quote, rules: Forge_Pipeline_V1_QuoteRules) -> Forge_Pipeline_V1_Quote {
        var quote = requested
        let currency = quote.currencyCode.isEmpty ? "CNY" : quote.currencyCode
        quote.currencyCode = currency
        var subtotal = Decimal(0)
        var total = Decimal(0)
        for index in quote.lines.indices {
            var line = quote.lines[index]
            let base = Decimal(tierPrice(line))
            let unit = cents(base * Decimal(10_000 - Int(line.discountBps)) / 10_000)
            let lineTotal = unit * Decimal(line.quantity)
            subtotal += base * Decimal(line.quantity)
            total += lineTotal
            line.unitPrice = money(unit, currency)
            line.lineTotal = money(lineTotal, currency)
            if line.listUnitPrice.currencyCode.isEmpty { line.listUnitPrice.currencyCode = currency }
            quote.lines[index] = line
        }
        quote.subtotal = money(subtotal, currency)
        quote.total = money(total, currency)
        quote.maxDiscountBps = quote.lines.map(\.discountBps).max() ?? 0
        quote.approvalLevel = level(quote.maxDiscountBps, rules: rules)
        return quote
    }

    static func level(_ discount: Int32, rules: Forge_Pipeline_V1_QuoteRules) -> Forge_Pipeline_V1_ApprovalLevel {
        let manager = rules.managerApprovalAboveBps == 0 ? defaultManagerThreshold : rules.managerApprovalAboveBps
        let admin = rules.adminApprovalAboveBps == 0 ? defaultAdminThreshold : rules.adminApprovalAboveBps
        if discount > admin { return .admin }
        if discount > manager { return .manager }
        return .none
    }

    /// Whether `principal` may decide a quote needing `level` for an owner in `team`: an admin
    /// always; for MANAGER, a sales manager of the quote's team or one without a team.
    static func mayDecide(_ level: Forge_Pipeline_V1_ApprovalLevel, team: String, principal: Principal) -> Bool {
        if principal.roles.contains(Role.admin) { return true }
        guard level == .manager, principal.roles.contains(Role.salesManager) else { return false }
        return principal.team.isEmpty || principal.team == team
    }

    private static func cents(_ micros: Decimal) -> Decimal {
        var value = micros / 10_000
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 0, .plain)
        return rounded * 10_000
    }

    private static func money(_ micros: Decimal, _ currency: String) -> Forge_Common_V1_Money {
        .with {
            $0.currencyCode = currency
            $0.amountMicros = NSDecimalNumber(decimal: micros).int64Value
        }
    }
}
