import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// The partner programme's configuration: the default a new database starts with, and what a
/// change must satisfy before it becomes a version.
enum ProgrammeRules {
    typealias Programme = Forge_Loyalty_V1_Programme
    typealias Criterion = Forge_Loyalty_V1_Criterion
    typealias Entitlement = Forge_Loyalty_V1_EntitlementDefinition

    static let yuan: Int64 = 1_000_000
    static let serviceLevels = ["standard", "silver", "gold"]

    /// A machinery maker's programme (seed 000's sixth step): bronze for any steady customer,
    /// silver for ¥1 M a year with some depth, gold for ¥5 M a year, three years together and a
    /// strategic or deep relationship.
    static func standard(now: Date) -> Programme {
        func criterion(_ kind: Forge_Loyalty_V1_CriterionKind, _ threshold: Int64, mandatory: Bool = false) -> Criterion {
            .with { $0.kind = kind; $0.threshold = threshold; $0.mandatory = mandatory }
        }
        func benefit(_ code: String, _ name: String, quota: Int32 = 0, value: String = "", financeOnly: Bool = false) -> Entitlement {
            .with { $0.code = code; $0.name = name; $0.yearlyQuota = quota; $0.value = value; $0.financeOnly = financeOnly }
        }
        return .with {
            $0.version = 1
            $0.effectiveAt = .init(date: now)
            $0.downgradeGraceDays = 90
            $0.changeNote = "初始方案"
            $0.changedBy = "system"
            $0.changedAt = .init(date: now)
            $0.tiers = [
                .with {
                    $0.code = "bronze"; $0.name = "铜牌"; $0.rank = 1; $0.serviceLevel = "standard"
                    $0.criteria = [criterion(.purchases12M, 200_000 * yuan, mandatory: true)]
                    $0.entitlements = [
                        benefit("priority_response", "优先响应", value: "8h"),
                        benefit("training_seat", "培训名额", quota: 1),
                    ]
                },
                .with {
                    $0.code = "silver"; $0.name = "银牌"; $0.rank = 2; $0.serviceLevel = "silver"
                    $0.criteria = [
                        criterion(.purchases12M, 1_000_000 * yuan, mandatory: true),
                        criterion(.yearsOfCooperation, 2),
                        criterion(.productLines, 2),
                        criterion(.nps, 9),
                        criterion(.paymentBehaviour, 0),
                    ]
                    $0.optionalRequired = 2
                    $0.entitlements = [
                        benefit("on_site_diagnostic", "免费上门诊断", quota: 1),
                        benefit("priority_response", "优先响应", value: "4h"),
                        benefit("training_seat", "培训名额", quota: 3),
                        benefit("discount", "采购折扣", value: "2%", financeOnly: true),
                    ]
                },
                .with {
                    $0.code = "gold"; $0.name = "金牌"; $0.rank = 3; $0.serviceLevel = "gold"
                    $0.criteria = [
                        criterion(.purchases12M, 5_000_000 * yuan, mandatory: true),
                        criterion(.yearsOfCooperation, 3, mandatory: true),
                        criterion(.productLines, 3),
                        criterion(.industryShowcase, 0),
                        criterion(.bringsPartners, 0),
                        criterion(.nps, 9),
                        criterion(.paymentBehaviour, 0),
                    ]
                    $0.optionalRequired = 2
                    $0.entitlements = [
                        benefit("on_site_diagnostic", "免费上门诊断", quota: 2),
                        benefit("priority_response", "优先响应", value: "2h"),
                        benefit("training_seat", "培训名额", quota: 5),
                        benefit("discount", "采购折扣", value: "3%", financeOnly: true),
                        benefit("early_access", "新品抢先体验"),
                    ]
                },
            ]
        }
    }

    static func validate(_ programme: Programme, now: Date) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func check(_ ok: Bool, _ field: String, _ description: String) {
            if !ok { violations.append(FieldViolation(field: "programme.\(field)", description: description)) }
        }
        check(programme.changeNote.trimmed.count >= 3, "change_note", "is required: say why the programme changes")
        check(!programme.tiers.isEmpty, "tiers", "is required: at least one tier")
        check(programme.tiers.count <= 10, "tiers", "lists more than 10 tiers")
        check((0...730).contains(programme.downgradeGraceDays), "downgrade_grace_days", "must be between 0 and 730")
        if programme.hasEffectiveAt {
            check(programme.effectiveAt.date <= now.addingTimeInterval(366 * 86_400), "effective_at", "is more than a year ahead")
        }
        for (currency, rate) in programme.exchangeRatesMicros.sorted(by: { $0.key < $1.key }) {
            check(currency.count == 3 && currency.allSatisfy { $0.isUppercase && $0.isASCII }, "exchange_rates_micros[\(currency)]", "is not an ISO 4217 code")
            check(rate > 0, "exchange_rates_micros[\(currency)]", "must be above zero")
        }
        var codes = Set<String>()
        var ranks = Set<Int32>()
        for (index, tier) in programme.tiers.enumerated() {
            let field = "tiers[\(index)]"
            check(!tier.code.isEmpty && tier.code.count <= 32 && tier.code.allSatisfy { ($0.isLetter && $0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "_" },
                  "\(field).code", "is required: lower-case letters, digits and _ (at most 32)")
            check(tier.code != "none", "\(field).code", "none is reserved for accounts without a tier")
            check(codes.insert(tier.code).inserted || tier.code.isEmpty, "\(field).code", "\(tier.code) is used by another tier")
            check(!tier.name.isBlank, "\(field).name", "is required")
            check(tier.rank >= 1, "\(field).rank", "must be 1 or more")
            check(ranks.insert(tier.rank).inserted || tier.rank < 1, "\(field).rank", "\(tier.rank) is used by another tier")
            check(tier.serviceLevel.isEmpty || serviceLevels.contains(tier.serviceLevel), "\(field).service_level", "must be one of \(serviceLevels.joined(separator: ", "))")
            check(!tier.criteria.isEmpty, "\(field).criteria", "is required: at least one criterion")
            var kinds = Set<Int>()
            for (number, criterion) in tier.criteria.enumerated() {
                let name = "\(field).criteria[\(number)]"
                check(criterion.kind != .unspecified && TierRules.knownKinds.contains(criterion.kind), "\(name).kind", "is required: one of the criterion kinds")
                check(kinds.insert(criterion.kind.rawValue).inserted, "\(name).kind", "appears twice in the tier")
                check(criterion.threshold >= 0, "\(name).threshold", "must not be negative")
                if criterion.kind == .nps { check(criterion.threshold <= 10, "\(name).threshold", "is an NPS score: 0 to 10") }
            }
            let optional = tier.criteria.filter { !$0.mandatory }.count
            check((0...optional).contains(Int(tier.optionalRequired)), "\(field).optional_required", "must be between 0 and the tier's \(optional) optional criteria")
            var benefits = Set<String>()
            for (number, entitlement) in tier.entitlements.enumerated() {
                let name = "\(field).entitlements[\(number)]"
                check(!entitlement.code.isEmpty && entitlement.code.count <= 64, "\(name).code", "is required (at most 64 characters)")
                check(benefits.insert(entitlement.code).inserted || entitlement.code.isEmpty, "\(name).code", "\(entitlement.code) appears twice in the tier")
                check(!entitlement.name.isBlank, "\(name).name", "is required")
                check((0...1000).contains(entitlement.yearlyQuota), "\(name).yearly_quota", "must be between 0 (a standing benefit) and 1000")
            }
        }
        return violations
    }

    /// The programme's tiers, entry tier first.
    static func ordered(_ programme: Programme) -> [Forge_Loyalty_V1_TierDefinition] {
        programme.tiers.sorted { $0.rank < $1.rank }
    }

    static func tier(_ programme: Programme, code: String) -> Forge_Loyalty_V1_TierDefinition? {
        code.isEmpty ? nil : programme.tiers.first { $0.code == code }
    }

    static func rank(_ programme: Programme, code: String) -> Int32 {
        tier(programme, code: code)?.rank ?? 0
    }

    /// A purchase's amount in CNY micros: nil when the programme has no rate for its currency.
    static func yuanMicros(_ amount: Forge_Common_V1_Money, programme: Programme) -> Int64? {
        let currency = amount.currencyCode.isEmpty ? "CNY" : amount.currencyCode
        if currency == "CNY" { return amount.amountMicros }
        guard let rate = programme.exchangeRatesMicros[currency] else { return nil }
        let (high, low) = amount.amountMicros.multipliedFullWidth(by: rate)
        let (quotient, _) = Int64(1_000_000).dividingFullWidth((high, low))
        return quotient
    }
}
