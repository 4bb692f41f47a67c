import ForgeContracts
import ForgeKit
import Foundation
import SwiftProtobuf

/// What the programme's criteria are measured on, for one account at one moment (read by
/// LoyaltyStore.facts from the purchases, answers and overdue instalments it keeps).
struct MemberFacts: Sendable, Equatable {
    /// Purchases of the trailing 12 months, net of returns, CNY micros.
    var purchases12m: Int64 = 0
    var firstPurchaseAt: Date?
    /// Distinct product lines bought in the trailing 12 months.
    var productLines = 0
    var industryShowcase = false
    var bringsPartners = false
    /// The latest NPS answer of the trailing 12 months.
    var latestNps: Int?
    /// Instalments gone overdue in the trailing 12 months.
    var overdue12m = 0
}

/// Tier evaluation with its explanation, and what an evaluation does to a membership: upgrades
/// at once, downgrades after a warning and a grace period.
enum TierRules {
    typealias Programme = Forge_Loyalty_V1_Programme
    typealias Evaluation = Forge_Loyalty_V1_Evaluation
    typealias Kind = Forge_Loyalty_V1_CriterionKind

    /// The trailing window of purchases, answers and payment behaviour.
    static let window: TimeInterval = 365 * 86_400

    static let knownKinds: Set<Kind> = [.purchases12M, .yearsOfCooperation, .productLines, .industryShowcase, .bringsPartners, .nps, .paymentBehaviour]

    static let china = TimeZone(secondsFromGMT: 8 * 3600)!
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = china
        return calendar
    }()

    static func label(_ kind: Kind) -> String {
        switch kind {
        case .purchases12M: L("近12个月采购额", "Purchases in the last 12 months")
        case .yearsOfCooperation: L("合作年限", "Years of cooperation")
        case .productLines: L("采购产品线", "Product lines bought")
        case .industryShowcase: L("行业标杆", "Industry showcase")
        case .bringsPartners: L("引荐合作伙伴", "Brings partners")
        case .nps: L("最近一次 NPS", "Latest NPS")
        case .paymentBehaviour: L("逾期回款次数", "Late payments")
        case .unspecified, .UNRECOGNIZED: L("未知", "Unknown")
        }
    }

    /// Whole years from the first purchase to `now` (China calendar); 0 without a purchase.
    static func years(since first: Date?, now: Date) -> Int {
        first.map { ChinaCalendar.wholeYears(from: $0, to: now) } ?? 0
    }

    static func yuan(_ micros: Int64) -> String { MoneyText.display(micros, "CNY") }

    /// One criterion measured against the facts, in words too.
    static func check(_ criterion: Forge_Loyalty_V1_Criterion, _ facts: MemberFacts, now: Date) -> Forge_Loyalty_V1_CriterionResult {
        var result = Forge_Loyalty_V1_CriterionResult()
        result.kind = criterion.kind
        result.mandatory = criterion.mandatory
        result.threshold = criterion.threshold
        switch criterion.kind {
        case .purchases12M:
            result.value = facts.purchases12m
            result.met = facts.purchases12m >= criterion.threshold
        case .yearsOfCooperation:
            result.value = Int64(years(since: facts.firstPurchaseAt, now: now))
            result.met = result.value >= criterion.threshold
        case .productLines:
            result.value = Int64(facts.productLines)
            result.met = result.value >= criterion.threshold
        case .industryShowcase:
            result.value = facts.industryShowcase ? 1 : 0
            result.met = facts.industryShowcase
        case .bringsPartners:
            result.value = facts.bringsPartners ? 1 : 0
            result.met = facts.bringsPartners
        case .nps:
            result.value = Int64(facts.latestNps ?? -1)
            result.met = facts.latestNps.map { Int64($0) >= criterion.threshold } ?? false
        case .paymentBehaviour:
            result.value = Int64(facts.overdue12m)
            result.met = result.value <= criterion.threshold
        case .unspecified, .UNRECOGNIZED:
            result.met = false
        }
        return result
    }

    /// The words of a measured criterion (label, value, threshold, what is missing), from its
    /// kind and figures: stored results keep the figures only and get their words when read.
    static func describe(_ result: inout Forge_Loyalty_V1_CriterionResult) {
        let (value, threshold) = (result.value, result.threshold)
        result.label = label(result.kind)
        switch result.kind {
        case .purchases12M:
            result.valueText = yuan(value)
            result.thresholdText = "≥ " + yuan(threshold)
            result.missing = result.met ? "" : L("还差 \(yuan(threshold - value)) 采购额", "\(yuan(threshold - value)) more purchases")
        case .yearsOfCooperation:
            result.valueText = L("\(value) 年", "\(value) years")
            result.thresholdText = L("≥ \(threshold) 年", "≥ \(threshold) years")
            result.missing = result.met ? "" : L("合作还差 \(threshold - value) 年", "\(threshold - value) more years of cooperation")
        case .productLines:
            result.valueText = L("\(value) 条", "\(value)")
            result.thresholdText = L("≥ \(threshold) 条", "≥ \(threshold)")
            result.missing = result.met ? "" : L("再采购 \(threshold - value) 条产品线", "\(threshold - value) more product lines")
        case .industryShowcase:
            result.valueText = value == 1 ? L("是", "yes") : L("否", "no")
            result.thresholdText = L("是", "yes")
            result.missing = result.met ? "" : L("成为行业标杆客户", "become an industry showcase")
        case .bringsPartners:
            result.valueText = value == 1 ? L("是", "yes") : L("否", "no")
            result.thresholdText = L("是", "yes")
            result.missing = result.met ? "" : L("引荐合作伙伴", "bring in partners")
        case .nps:
            result.valueText = value < 0 ? L("无回答", "no answer") : String(value)
            result.thresholdText = "≥ \(threshold)"
            result.missing = result.met ? "" : L("最近一次 NPS 达到 \(threshold) 分", "a latest NPS of \(threshold) or more")
        case .paymentBehaviour:
            result.valueText = L("\(value) 次", "\(value) times")
            result.thresholdText = L("≤ \(threshold) 次", "≤ \(threshold) times")
            result.missing = result.met ? "" : L("近 12 个月逾期回款不超过 \(threshold) 次", "at most \(threshold) late payments in 12 months")
        case .unspecified, .UNRECOGNIZED:
            result.missing = L("未知条件", "unknown criterion")
        }
    }

    /// An evaluation with its criteria's figures only (what is stored: the membership, the
    /// history, the events); `render` gives the words back.
    static func compact(_ evaluation: Evaluation) -> Evaluation {
        var compact = evaluation
        for tier in compact.checks.indices {
            for index in compact.checks[tier].criteria.indices {
                compact.checks[tier].criteria[index].label = ""
                compact.checks[tier].criteria[index].valueText = ""
                compact.checks[tier].criteria[index].thresholdText = ""
                compact.checks[tier].criteria[index].missing = ""
            }
        }
        return compact
    }

    static func render(_ evaluation: Evaluation) -> Evaluation {
        var rendered = evaluation
        for tier in rendered.checks.indices {
            for index in rendered.checks[tier].criteria.indices { describe(&rendered.checks[tier].criteria[index]) }
        }
        return rendered
    }

    /// Every tier checked against the facts; the best tier reached; what the next one needs.
    /// - Parameter explained: with every criterion's words (a reader's); without, the figures
    ///   and what the next tier needs (what is stored).
    static func evaluate(accountID: String, _ facts: MemberFacts, programme: Programme, now: Date, trigger: String, explained: Bool = true) -> Evaluation {
        var evaluation = Evaluation()
        evaluation.accountID = accountID
        evaluation.evaluatedAt = .init(date: now)
        evaluation.programmeVersion = programme.version
        evaluation.trigger = trigger
        evaluation.purchases12M = .with { $0.currencyCode = "CNY"; $0.amountMicros = facts.purchases12m }
        if let first = facts.firstPurchaseAt { evaluation.firstPurchaseAt = .init(date: first) }
        var best: Forge_Loyalty_V1_TierCheck?
        for tier in ProgrammeRules.ordered(programme) {
            var check = Forge_Loyalty_V1_TierCheck()
            check.tier = tier.code
            check.tierName = tier.name
            check.rank = tier.rank
            check.criteria = tier.criteria.map { self.check($0, facts, now: now) }
            check.optionalMet = Int32(check.criteria.filter { !$0.mandatory && $0.met }.count)
            check.optionalRequired = tier.optionalRequired
            check.reached = check.criteria.allSatisfy { !$0.mandatory || $0.met } && check.optionalMet >= check.optionalRequired
            if check.reached { best = check }
            evaluation.checks.append(check)
        }
        if explained { evaluation = render(evaluation) }
        evaluation.qualifiedTier = best?.tier ?? ""
        if let next = evaluation.checks.first(where: { $0.rank > (best?.rank ?? 0) }) {
            evaluation.nextTier = next.tier
            evaluation.missingForNext = missing(next)
        }
        return evaluation
    }

    /// What a tier's check still needs: each unmet mandatory criterion, then how many more
    /// optional ones and which could be.
    static func missing(_ check: Forge_Loyalty_V1_TierCheck) -> [String] {
        var check = check
        for index in check.criteria.indices where !check.criteria[index].met { describe(&check.criteria[index]) }
        var missing = check.criteria.filter { $0.mandatory && !$0.met }.map(\.missing)
        let short = check.optionalRequired - check.optionalMet
        if short > 0 {
            let candidates = check.criteria.filter { !$0.mandatory && !$0.met }.map(\.missing).joined(separator: L("；", "; "))
            missing.append(L("再满足 \(short) 项可选条件：\(candidates)", "\(short) more optional criteria: \(candidates)"))
        }
        return missing
    }

    // MARK: What an evaluation does to the membership

    enum Decision: Equatable {
        case unchanged
        case upgrade(to: String)
        /// Below the tier for the first time: warn the owner, downgrade at `effective`.
        case warn(to: String, effective: Date)
        /// Still below while the grace runs (possibly further below): keep waiting.
        case keepWaiting(to: String)
        case downgrade(to: String)
        /// Qualified again during the grace.
        case cancelPending
    }

    /// - Parameters:
    ///   - current: the evaluated tier in force (before any override) and its rank.
    ///   - pending: the downgrade waiting, with its effective moment.
    static func decide(current: (code: String, rank: Int32), pending: (to: String, effective: Date)?,
                       qualified: (code: String, rank: Int32), now: Date, graceDays: Int32, day: TimeInterval = 86_400) -> Decision {
        if qualified.rank > current.rank { return .upgrade(to: qualified.code) }
        if qualified.rank == current.rank { return pending == nil ? .unchanged : .cancelPending }
        if let pending {
            return now >= pending.effective ? .downgrade(to: qualified.code) : (pending.to == qualified.code ? .unchanged : .keepWaiting(to: qualified.code))
        }
        if graceDays <= 0 { return .downgrade(to: qualified.code) }
        return .warn(to: qualified.code, effective: now.addingTimeInterval(TimeInterval(graceDays) * day))
    }

    // MARK: The membership year

    /// The membership year `now` falls in: from the latest anniversary of `since` to the next,
    /// when the quotas renew.
    static func membershipYear(since: Date, now: Date) -> (start: Date, renews: Date) {
        let years = ChinaCalendar.wholeYears(from: since, to: now)
        return (ChinaCalendar.addingYears(years, to: since), ChinaCalendar.addingYears(years + 1, to: since))
    }

    /// "2026-12-03", China time.
    static func day(_ date: Date) -> String { ChinaCalendar.day(date) }

    /// Within 20 % of the next tier's purchases threshold (the overview's "near the next tier").
    static func isNearNext(_ evaluation: Evaluation) -> Bool {
        guard !evaluation.nextTier.isEmpty,
              let next = evaluation.checks.first(where: { $0.tier == evaluation.nextTier }),
              let purchases = next.criteria.first(where: { $0.kind == .purchases12M }) else { return false }
        return !purchases.met && purchases.value * 5 >= purchases.threshold * 4
    }

    static func level(_ code: String) -> Forge_Loyalty_V1_PartnerTier {
        switch code {
        case "bronze": .bronze
        case "silver": .silver
        case "gold": .gold
        default: .unspecified
        }
    }
}
