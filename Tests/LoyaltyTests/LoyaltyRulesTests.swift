import ForgeContracts
@testable import ForgeLoyalty
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf
import Testing

@Suite("Loyalty rules: tiers with their explanation, the grace, the membership year, rebates")
struct LoyaltyRulesTests {
    static let now = Date(timeIntervalSince1970: 1_796_083_200)  // 2026-12-01 00:00 UTC
    static let yuan = ProgrammeRules.yuan
    static let programme = ProgrammeRules.standard(now: now)

    static func years(_ count: Double) -> Date { now.addingTimeInterval(-count * 366 * 86_400) }

    @Test("¥3.8 M over two years and two product lines is silver; gold's explanation says ¥1.2 M and a year are missing")
    func silverWithExplanation() {
        let facts = MemberFacts(purchases12m: 3_800_000 * Self.yuan, firstPurchaseAt: Self.years(2.2), productLines: 2)
        let evaluation = TierRules.evaluate(accountID: "acc_1", facts, programme: Self.programme, now: Self.now, trigger: "manual")
        #expect(evaluation.qualifiedTier == "silver")
        #expect(evaluation.nextTier == "gold")
        let gold = evaluation.checks.first { $0.tier == "gold" }!
        #expect(!gold.reached)
        let purchases = gold.criteria.first { $0.kind == .purchases12M }!
        #expect(!purchases.met && purchases.mandatory && purchases.valueText == "CNY 3,800,000.00" && purchases.thresholdText == "≥ CNY 5,000,000.00")
        #expect(evaluation.missingForNext.contains("还差 CNY 1,200,000.00 采购额"))
        #expect(evaluation.missingForNext.contains("合作还差 1 年"))
        let silver = evaluation.checks.first { $0.tier == "silver" }!
        #expect(silver.reached && silver.optionalMet == 3 && silver.optionalRequired == 2, "years, product lines and payment behaviour met; NPS not answered")
    }

    @Test("a tier needs every mandatory criterion and N of its optional ones")
    func mandatoryAndOptional() {
        // ¥1.5 M but one product line, a year old, two overdue instalments: only NPS would help.
        var facts = MemberFacts(purchases12m: 1_500_000 * Self.yuan, firstPurchaseAt: Self.years(1.1), productLines: 1, overdue12m: 2)
        #expect(TierRules.evaluate(accountID: "a", facts, programme: Self.programme, now: Self.now, trigger: "t").qualifiedTier == "bronze")
        facts.latestNps = 10
        let evaluation = TierRules.evaluate(accountID: "a", facts, programme: Self.programme, now: Self.now, trigger: "t")
        #expect(evaluation.qualifiedTier == "bronze", "one optional criterion of two")
        #expect(evaluation.missingForNext.count == 1 && evaluation.missingForNext[0].hasPrefix("再满足 1 项可选条件"))
        facts.productLines = 2
        #expect(TierRules.evaluate(accountID: "a", facts, programme: Self.programme, now: Self.now, trigger: "t").qualifiedTier == "silver")
        // No purchases at all: no tier, and bronze's threshold is what is missing.
        let none = TierRules.evaluate(accountID: "a", MemberFacts(), programme: Self.programme, now: Self.now, trigger: "t")
        #expect(none.qualifiedTier == "" && none.nextTier == "bronze" && none.missingForNext == ["还差 CNY 200,000.00 采购额"])
    }

    @Test("upgrades at once; a downgrade is warned, waits out the grace, and is cancelled by qualifying again")
    func graceDecisions() {
        let day: TimeInterval = 86_400
        #expect(TierRules.decide(current: ("bronze", 1), pending: nil, qualified: ("gold", 3), now: Self.now, graceDays: 90) == .upgrade(to: "gold"))
        #expect(TierRules.decide(current: ("silver", 2), pending: nil, qualified: ("silver", 2), now: Self.now, graceDays: 90) == .unchanged)
        #expect(TierRules.decide(current: ("silver", 2), pending: nil, qualified: ("bronze", 1), now: Self.now, graceDays: 90)
                == .warn(to: "bronze", effective: Self.now.addingTimeInterval(90 * day)))
        let pending = (to: "bronze", effective: Self.now.addingTimeInterval(90 * day))
        #expect(TierRules.decide(current: ("silver", 2), pending: pending, qualified: ("bronze", 1), now: Self.now.addingTimeInterval(89 * day), graceDays: 90) == .unchanged)
        #expect(TierRules.decide(current: ("silver", 2), pending: pending, qualified: ("", 0), now: Self.now.addingTimeInterval(10 * day), graceDays: 90) == .keepWaiting(to: ""))
        #expect(TierRules.decide(current: ("silver", 2), pending: pending, qualified: ("bronze", 1), now: Self.now.addingTimeInterval(90 * day), graceDays: 90) == .downgrade(to: "bronze"))
        #expect(TierRules.decide(current: ("silver", 2), pending: pending, qualified: ("silver", 2), now: Self.now.addingTimeInterval(30 * day), graceDays: 90) == .cancelPending)
        #expect(TierRules.decide(current: ("silver", 2), pending: nil, qualified: ("bronze", 1), now: Self.now, graceDays: 0) == .downgrade(to: "bronze"))
    }

    @Test("the membership year runs from anniversary to anniversary (China calendar), a 29 February member too")
    func membershipYear() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TierRules.china
        func date(_ y: Int, _ m: Int, _ d: Int) -> Date { calendar.date(from: DateComponents(year: y, month: m, day: d))! }
        let since = date(2025, 3, 14)
        #expect(TierRules.membershipYear(since: since, now: date(2026, 3, 13)) == (date(2025, 3, 14), date(2026, 3, 14)))
        #expect(TierRules.membershipYear(since: since, now: date(2026, 3, 14)) == (date(2026, 3, 14), date(2027, 3, 14)))
        let leap = date(2024, 2, 29)
        #expect(TierRules.membershipYear(since: leap, now: date(2026, 3, 1)).start == date(2026, 2, 28))
    }

    @Test("rebates: the rate reached applies to the whole period, in whole cents rounded down, with the way to the next rate")
    func rebateMaths() {
        let brackets: [Forge_Loyalty_V1_RebateBracket] = [
            .with { $0.threshold = .with { $0.amountMicros = 10_000_000 * Self.yuan }; $0.rateBp = 300 },
            .with { $0.threshold = .with { $0.amountMicros = 5_000_000 * Self.yuan }; $0.rateBp = 200 },
        ]
        let below = RebateRules.outcome(purchases: 4_000_000 * Self.yuan, brackets: brackets)
        #expect(below.rateBp == 0 && below.amount == 0 && below.next?.rateBp == 200 && below.toNext == 1_000_000 * Self.yuan)
        let two = RebateRules.outcome(purchases: 8_800_000 * Self.yuan, brackets: brackets)
        #expect(two.rateBp == 200 && two.amount == 176_000 * Self.yuan && two.toNext == 1_200_000 * Self.yuan)
        #expect(RebateRules.statement(two) == "再采购 CNY 1,200,000.00 可达 3.00%（当前 2.00%，预计返利 CNY 176,000.00）")
        let three = RebateRules.outcome(purchases: 12_000_000 * Self.yuan, brackets: brackets)
        #expect(three.rateBp == 300 && three.amount == 360_000 * Self.yuan && three.next == nil)
        // ¥5,000,000.99 at 2 % is ¥100,000.0198: ¥100,000.01.
        let odd = RebateRules.outcome(purchases: 5_000_000 * Self.yuan + 990_000, brackets: brackets)
        #expect(odd.amount == 100_000 * Self.yuan + 10_000)
        #expect(RebateRules.outcome(purchases: 5_000_000 * Self.yuan - 10_000, brackets: brackets).rateBp == 0, "one cent short is below the threshold")
    }

    @Test("a purchase in another currency counts in CNY by the programme's rate; without a rate it does not count")
    func exchangeRates() {
        var programme = Self.programme
        programme.exchangeRatesMicros["USD"] = 7_100_000
        #expect(ProgrammeRules.yuanMicros(.with { $0.currencyCode = "USD"; $0.amountMicros = 100_000 * Self.yuan }, programme: programme) == 710_000 * Self.yuan)
        #expect(ProgrammeRules.yuanMicros(.with { $0.amountMicros = 5 * Self.yuan }, programme: programme) == 5 * Self.yuan)
        #expect(ProgrammeRules.yuanMicros(.with { $0.currencyCode = "EUR"; $0.amountMicros = Self.yuan }, programme: programme) == nil)
    }

    @Test("a bad programme and a bad agreement name each bad field")
    func validation() {
        var programme = Self.programme
        programme.changeNote = ""
        programme.downgradeGraceDays = -1
        programme.tiers[1].code = "bronze"
        programme.tiers[2].rank = 1
        programme.tiers[2].optionalRequired = 9
        programme.tiers[0].criteria.append(.with { $0.kind = .nps; $0.threshold = 11 })
        programme.exchangeRatesMicros["usd"] = 0
        let fields = Set(ProgrammeRules.validate(programme, now: Self.now).map(\.field))
        #expect(fields == ["programme.change_note", "programme.downgrade_grace_days", "programme.tiers[1].code", "programme.tiers[2].rank",
                           "programme.tiers[2].optional_required", "programme.tiers[0].criteria[1].threshold", "programme.exchange_rates_micros[usd]"])
        var agreement = Forge_Loyalty_V1_RebateAgreement.with {
            $0.accountID = "acc_1"
            $0.name = "2027 框架协议"
            $0.startAt = .init(date: Self.now)
            $0.endAt = .init(date: Self.now.addingTimeInterval(-1))
            $0.brackets = [.with { $0.threshold = .with { $0.amountMicros = 5_000_000 * Self.yuan }; $0.rateBp = 200 },
                           .with { $0.threshold = .with { $0.amountMicros = 4_000_000 * Self.yuan; $0.currencyCode = "USD" }; $0.rateBp = 0 }]
        }
        #expect(Set(RebateRules.validate(agreement).map(\.field)) == ["agreement.end_at", "agreement.brackets[1].threshold", "agreement.brackets[1].threshold.currency_code",
                                                                        "agreement.brackets[1].rate_bp"])
        agreement.endAt = .init(date: Self.now.addingTimeInterval(365 * 86_400))
        agreement.brackets.removeLast()
        #expect(RebateRules.validate(agreement).isEmpty)
    }
}
