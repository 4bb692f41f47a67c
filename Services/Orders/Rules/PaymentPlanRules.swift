import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// The payment plan: instalments as shares or fixed amounts, each due a number of days after a
/// trigger (approval, packing before shipment, delivery). Amounts are integer micros rounded
/// down to the cent; the last instalment takes what the others leave, so the plan always adds
/// up to the order's total exactly.
enum PaymentPlanRules {
    static let maxInstallments = 12
    static let fullBps: Int32 = 10_000

    /// Without a plan an order is paid in full 30 days after delivery.
    static let defaultPlan: [Forge_Orders_V1_Installment] = [.with {
        $0.number = 1
        $0.label = "货到30天付款"
        $0.percentBps = fullBps
        $0.trigger = .onDelivery
        $0.daysAfter = 30
    }]

    static func validate(_ plan: [Forge_Orders_V1_Installment], total: Int64) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func check(_ condition: Bool, _ field: String, _ description: String) {
            if !condition { violations.append(FieldViolation(field: "order.payment_plan\(field)", description: description)) }
        }
        guard !plan.isEmpty else { return [] }
        check(plan.count <= maxInstallments, "", "must have at most \(maxInstallments) instalments")
        for (index, installment) in plan.enumerated() {
            let field = "[\(index)]"
            let hasFixed = installment.hasFixedAmount && installment.fixedAmount.amountMicros != 0
            check(!installment.label.isBlank && installment.label.count <= 50, "\(field).label", "is required, at most 50 characters")
            check(installment.percentBps >= 0 && installment.percentBps <= fullBps, "\(field).percent_bps", "must be between 0 and 10000 (100 %)")
            check(!(hasFixed && installment.percentBps != 0), "\(field)", "takes a share (percent_bps) or a fixed_amount, not both")
            check(hasFixed || installment.percentBps != 0 || index == plan.count - 1, "\(field)", "needs a share (percent_bps) or a fixed_amount")
            check(!hasFixed || (installment.fixedAmount.amountMicros > 0 && installment.fixedAmount.amountMicros <= OrderRules.maxLineTotal
                                && installment.fixedAmount.amountMicros % OrderRules.microsPerCent == 0),
                  "\(field).fixed_amount", "must be positive whole cents, at most 40,000,000,000")
            check(installment.trigger != .unspecified, "\(field).trigger", "is required (ON_APPROVAL, BEFORE_SHIPMENT or ON_DELIVERY)")
            check(installment.daysAfter >= 0 && installment.daysAfter <= 365, "\(field).days_after", "must be between 0 and 365")
        }
        guard violations.isEmpty else { return violations }
        // Added up only once each instalment is within its bounds: at most 12 of them, so the
        // sums cannot overflow (adding as it checked, a share of 2,147,483,646 basis points or a
        // fixed amount of Int64.min trapped and took the service down).
        let fixed = plan.filter { $0.hasFixedAmount }.map(\.fixedAmount.amountMicros).reduce(0, +)
        let bps = plan.map(\.percentBps).reduce(0, +)
        let last = plan[plan.count - 1]
        let lastFixed = last.hasFixedAmount && last.fixedAmount.amountMicros != 0
        if fixed == 0 && last.percentBps != 0 {
            check(bps == fullBps, "", "shares add up to \(Double(bps) / 100) %, not 100 %")
        } else {
            // With fixed amounts (or a last instalment without a share) the last takes the rest.
            check(last.percentBps == 0, "[\(plan.count - 1)].percent_bps", "must be empty: with fixed amounts the last instalment takes the rest")
            check(bps <= fullBps, "", "shares add up to more than 100 %")
            let others = computedAmounts(plan, total: total).dropLast().reduce(0, +)
            check(others <= total, "", "instalments add up to \(OrderRules.display(others, "CNY")), more than the order's total \(OrderRules.display(total, "CNY"))")
            check(!lastFixed || others + last.fixedAmount.amountMicros == total, "[\(plan.count - 1)].fixed_amount",
                  "leaves the plan at \(OrderRules.display(others + last.fixedAmount.amountMicros, "CNY")), not the order's total \(OrderRules.display(total, "CNY"))")
        }
        return violations
    }

    /// Each instalment's amount: its fixed amount, or its share rounded down to the cent; the
    /// last gets the rest.
    static func computedAmounts(_ plan: [Forge_Orders_V1_Installment], total: Int64) -> [Int64] {
        var amounts: [Int64] = []
        for (index, installment) in plan.enumerated() {
            if index == plan.count - 1 {
                amounts.append(total - amounts.reduce(0, +))
            } else if installment.hasFixedAmount && installment.fixedAmount.amountMicros != 0 {
                amounts.append(installment.fixedAmount.amountMicros)
            } else {
                amounts.append(share(of: total, bps: installment.percentBps))
            }
        }
        return amounts
    }

    /// `bps` ten-thousandths of `total`, rounded down to the cent, without overflowing for any
    /// total an order can have (the product is split so no intermediate passes 64 bits).
    static func share(of total: Int64, bps: Int32) -> Int64 {
        let whole = total / Int64(fullBps) * Int64(bps) + total % Int64(fullBps) * Int64(bps) / Int64(fullBps)
        return whole / OrderRules.microsPerCent * OrderRules.microsPerCent
    }

    static func computeAmounts(_ plan: inout [Forge_Orders_V1_Installment], total: Int64, currency: String) {
        if plan.isEmpty { plan = defaultPlan }
        for (index, amount) in computedAmounts(plan, total: total).enumerated() {
            plan[index].number = Int32(index + 1)
            plan[index].amount = OrderRules.money(amount, currency)
            if plan[index].hasFixedAmount { plan[index].fixedAmount.currencyCode = currency }
            if !plan[index].hasPaid { plan[index].paid = OrderRules.money(0, currency) }
        }
    }

    /// A quote's payment terms ("on_order", "before_shipment", "after_acceptance", "net_30" …) as
    /// a plan. Unknown rules fall due on delivery.
    static func plan(from terms: [Forge_Pipeline_V1_PaymentTerm]) -> [Forge_Orders_V1_Installment] {
        terms.enumerated().map { index, term in
            .with {
                $0.number = Int32(index + 1)
                $0.label = term.label
                $0.percentBps = term.percent * 100
                let rule = term.dueRule.lowercased()
                switch rule {
                case "on_order", "on_approval", "deposit", "prepayment": $0.trigger = .onApproval
                case "before_shipment", "on_packing": $0.trigger = .beforeShipment
                case "after_acceptance", "on_delivery", "on_acceptance": $0.trigger = .onDelivery
                default:
                    $0.trigger = .onDelivery
                    if rule.hasPrefix("net_"), let days = Int32(rule.dropFirst(4)) { $0.daysAfter = min(max(days, 0), 365) }
                }
            }
        }
    }

    /// Instalments whose trigger just happened become invoiced and due; returns their indexes.
    static func trigger(_ plan: inout [Forge_Orders_V1_Installment], _ trigger: Forge_Orders_V1_DueTrigger, orderNumber: String, at now: Date) -> [Int] {
        var invoiced: [Int] = []
        for index in plan.indices where plan[index].trigger == trigger && !plan[index].hasInvoicedAt {
            invoice(&plan[index], number: "INV-\(orderNumber)-\(plan[index].number)", at: now)
            invoiced.append(index)
        }
        return invoiced
    }

    static func invoice(_ installment: inout Forge_Orders_V1_Installment, number: String, at date: Date) {
        installment.invoiceNumber = number
        installment.invoicedAt = .init(date: date)
        installment.dueAt = .init(date: date.addingTimeInterval(TimeInterval(installment.daysAfter) * 86_400))
    }

    static func outstanding(_ installment: Forge_Orders_V1_Installment) -> Int64 {
        installment.amount.amountMicros - installment.paid.amountMicros
    }

    /// Settles instalments oldest first with `amount`; returns the amount applied to each.
    static func apply(payment amount: Int64, to plan: inout [Forge_Orders_V1_Installment], at date: Date) -> [Int: Int64] {
        var left = amount
        var applied: [Int: Int64] = [:]
        for index in plan.indices where left > 0 {
            let owed = outstanding(plan[index])
            guard owed > 0 else { continue }
            let part = min(owed, left)
            plan[index].paid.amountMicros += part
            left -= part
            applied[index] = part
            if outstanding(plan[index]) == 0 { plan[index].paidAt = .init(date: date) }
        }
        return applied
    }
}
