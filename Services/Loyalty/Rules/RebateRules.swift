import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// Volume rebates under a frame agreement: the rate of the highest bracket the period's
/// purchases reach applies to all of them (the usual reading of "2 % above ¥5 M, 3 % above
/// ¥10 M" in a frame agreement: crossing ¥10 M makes the whole year 3 %). Amounts are whole
/// cents, rounded down, in CNY.
enum RebateRules {
    typealias Agreement = Forge_Loyalty_V1_RebateAgreement
    typealias Bracket = Forge_Loyalty_V1_RebateBracket

    struct Outcome: Equatable {
        var rateBp: Int32
        /// CNY micros, whole cents.
        var amount: Int64
        var next: Bracket?
        /// CNY micros still to buy to reach `next`.
        var toNext: Int64
    }

    static func outcome(purchases: Int64, brackets: [Bracket]) -> Outcome {
        let sorted = brackets.sorted { $0.threshold.amountMicros < $1.threshold.amountMicros }
        let reached = sorted.last { purchases > 0 && purchases >= $0.threshold.amountMicros }
        let rate = reached?.rateBp ?? 0
        let cents = max(purchases, 0) / MoneyText.microsPerCent
        let amount = cents * Int64(rate) / 10_000 * MoneyText.microsPerCent
        let next = sorted.first { $0.threshold.amountMicros > purchases }
        return Outcome(rateBp: rate, amount: amount, next: next, toNext: next.map { $0.threshold.amountMicros - purchases } ?? 0)
    }

    static func percent(_ basisPoints: Int32) -> String {
        "\(basisPoints / 100).\(basisPoints % 100 < 10 ? "0" : "")\(basisPoints % 100)%"
    }

    /// "再采购 CNY 1,200,000.00 可达 3.00%（当前 2.00%，预计返利 CNY 100,000.00）".
    static func statement(_ outcome: Outcome) -> String {
        let now = outcome.rateBp > 0 ? L("当前 \(percent(outcome.rateBp))，预计返利 \(MoneyText.display(outcome.amount, "CNY"))", "now \(percent(outcome.rateBp)), expected rebate \(MoneyText.display(outcome.amount, "CNY"))") : L("尚未达到返利门槛", "below the rebate threshold")
        guard let next = outcome.next else { return L("已达最高返利 \(percent(outcome.rateBp))，预计返利 \(MoneyText.display(outcome.amount, "CNY"))", "top rebate reached, \(percent(outcome.rateBp)), expected rebate \(MoneyText.display(outcome.amount, "CNY"))") }
        return L("再采购 \(MoneyText.display(outcome.toNext, "CNY")) 可达 \(percent(next.rateBp))（\(now)）", "\(MoneyText.display(outcome.toNext, "CNY")) more for \(percent(next.rateBp)) (\(now))")
    }

    static func validate(_ agreement: Agreement) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func check(_ ok: Bool, _ field: String, _ description: String) {
            if !ok { violations.append(FieldViolation(field: "agreement.\(field)", description: description)) }
        }
        check(!agreement.accountID.isBlank, "account_id", "is required")
        check(!agreement.name.isBlank, "name", "is required")
        check(agreement.name.count <= 200, "name", "is longer than 200 characters")
        check(agreement.hasStartAt, "start_at", "is required")
        check(agreement.hasEndAt, "end_at", "is required")
        if agreement.hasStartAt && agreement.hasEndAt {
            check(agreement.endAt.date > agreement.startAt.date, "end_at", "must be after start_at")
            check(agreement.endAt.date.timeIntervalSince(agreement.startAt.date) <= 3 * 366 * 86_400, "end_at", "makes a period longer than three years")
        }
        check((1...10).contains(agreement.brackets.count), "brackets", "is required: 1 to 10 thresholds with their rates")
        var previous: Int64 = 0
        for (index, bracket) in agreement.brackets.enumerated() {
            let field = "brackets[\(index)]"
            let currency = bracket.threshold.currencyCode
            check(currency.isEmpty || currency == "CNY", "\(field).threshold.currency_code", "must be CNY (rebates count purchases in CNY)")
            check(bracket.threshold.amountMicros > previous, "\(field).threshold", index == 0 ? "must be above zero" : "must be above the previous bracket's")
            check(bracket.threshold.amountMicros % MoneyText.microsPerCent == 0, "\(field).threshold", "must be whole cents")
            check((1...10_000).contains(bracket.rateBp), "\(field).rate_bp", "must be between 1 and 10000 basis points (0.01 % to 100 %)")
            previous = max(previous, bracket.threshold.amountMicros)
        }
        return violations
    }
}
