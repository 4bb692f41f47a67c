import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// The credit check on approval and the receivables' ageing and DSO (DESIGN §7's formula).
enum CreditRules {
    /// What the account still owes on its other approved orders (invoiced or not) plus this
    /// order, against its credit limit. An account without a limit set is not checked: finance
    /// sets limits for the customers it manages credit for.
    static func check(limit: Forge_Common_V1_Money?, openBalance: Int64, orderTotal: Int64, currency: String, at now: Date) -> Forge_Orders_V1_CreditCheck {
        .with {
            $0.limitSet = limit != nil
            if let limit { $0.creditLimit = limit }
            $0.openBalance = OrderRules.money(openBalance, currency)
            $0.orderTotal = OrderRules.money(orderTotal, currency)
            let exposure = openBalance.addingReportingOverflow(orderTotal)
            $0.overLimit = limit.map { exposure.overflow || exposure.partialValue > $0.amountMicros } ?? false
            $0.checkedAt = .init(date: now)
        }
    }

    /// The figures a refused approval explains.
    static func explanation(_ check: Forge_Orders_V1_CreditCheck) -> String {
        let currency = check.orderTotal.currencyCode
        return "over the credit limit: open balance \(OrderRules.display(check.openBalance.amountMicros, currency)) + this order "
            + "\(OrderRules.display(check.orderTotal.amountMicros, currency)) = \(OrderRules.display(check.openBalance.amountMicros &+ check.orderTotal.amountMicros, currency)) "
            + "> limit \(OrderRules.display(check.creditLimit.amountMicros, check.creditLimit.currencyCode.isEmpty ? currency : check.creditLimit.currencyCode)); "
            + "the order waits for finance's approval"
    }

    /// May approve an order over the limit (with a reason).
    static func mayOverride(_ principal: Principal) -> Bool {
        !principal.roles.isDisjoint(with: [Role.finance, Role.admin])
    }

    // MARK: Receivables

    enum Bucket: Int, CaseIterable {
        case current, days1to30, days31to60, days61to90, over90
    }

    /// Whole days past due at `now` (0 when not yet due).
    static func daysOverdue(due: Date, now: Date) -> Int {
        guard now > due else { return 0 }
        return Int(now.timeIntervalSince(due) / 86_400)
    }

    static func bucket(daysOverdue: Int) -> Bucket {
        switch daysOverdue {
        case ...0: .current
        case 1...30: .days1to30
        case 31...60: .days31to60
        case 61...90: .days61to90
        default: .over90
        }
    }

    static func ageing(_ amounts: [Bucket: Int64], currency: String) -> Forge_Orders_V1_Ageing {
        .with {
            $0.current = OrderRules.money(amounts[.current] ?? 0, currency)
            $0.days130 = OrderRules.money(amounts[.days1to30] ?? 0, currency)
            $0.days3160 = OrderRules.money(amounts[.days31to60] ?? 0, currency)
            $0.days6190 = OrderRules.money(amounts[.days61to90] ?? 0, currency)
            $0.over90 = OrderRules.money(amounts[.over90] ?? 0, currency)
            $0.total = OrderRules.money(amounts.values.reduce(0, +), currency)
        }
    }

    /// DSO = receivables / credit sales × days; 0 without credit sales in the window.
    static func dso(receivables: Int64, creditSales: Int64, days: Int32, currency: String) -> Forge_Orders_V1_DaysSalesOutstanding {
        .with {
            $0.receivables = OrderRules.money(receivables, currency)
            $0.creditSales = OrderRules.money(creditSales, currency)
            $0.days = days
            $0.dsoDays = creditSales > 0 ? (Double(receivables) / Double(creditSales) * Double(days) * 10).rounded() / 10 : 0
        }
    }
}
