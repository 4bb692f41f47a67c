import Crypto
import ForgeContracts
@testable import ForgeFeedback
import ForgeWire
import Foundation
import Testing

@Suite("Feedback rules: classes, fatigue, tags, links, NPS maths")
struct FeedbackRulesTests {
    @Test("NPS 9–10 promotes, 7–8 is passive, 0–6 detracts; CSAT 4–5 satisfied, 3 neutral, 1–2 dissatisfied (followed up like a detractor)")
    func classes() {
        #expect((0...6).allSatisfy { SurveyRules.classify(.nps, score: Int32($0)) == .detractor })
        #expect(SurveyRules.classify(.nps, score: 7) == .passive && SurveyRules.classify(.nps, score: 8) == .passive)
        #expect(SurveyRules.classify(.nps, score: 9) == .promoter && SurveyRules.classify(.nps, score: 10) == .promoter)
        #expect(SurveyRules.classify(.csat, score: 5) == .satisfied && SurveyRules.classify(.csat, score: 4) == .satisfied)
        #expect(SurveyRules.classify(.csat, score: 3) == .neutral)
        #expect(SurveyRules.classify(.csat, score: 2) == .dissatisfied && SurveyRules.classify(.csat, score: 1) == .dissatisfied)
        #expect(SurveyRules.needsFollowUp(.detractor) && SurveyRules.needsFollowUp(.dissatisfied) && !SurveyRules.needsFollowUp(.passive))
        #expect(SurveyRules.validateScore(.nps, 11, field: "score").first?.field == "score")
        #expect(SurveyRules.validateScore(.csat, 0, field: "score").first?.description.contains("between 1 and 5") == true)
        #expect(SurveyRules.validateScore(.nps, 0, field: "score").isEmpty)
    }

    @Test("at most one survey per contact per 30 days and per account per 7 days, with the reason; the limits are configurable")
    func fatigue() {
        let settings = SurveyRules.defaultSettings
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        let day = 86_400.0
        #expect(SurveyRules.fatigue(lastToContact: nil, lastToAccount: nil, settings: settings, now: now) == nil)
        let contact = SurveyRules.fatigue(lastToContact: now.addingTimeInterval(-29 * day), lastToAccount: nil, settings: settings, now: now)
        #expect(contact?.contains("at most one survey per 30 days") == true)
        #expect(SurveyRules.fatigue(lastToContact: now.addingTimeInterval(-30 * day), lastToAccount: nil, settings: settings, now: now) == nil)
        let account = SurveyRules.fatigue(lastToContact: nil, lastToAccount: now.addingTimeInterval(-6 * day), settings: settings, now: now)
        #expect(account?.contains("the account was surveyed") == true)
        #expect(SurveyRules.fatigue(lastToContact: nil, lastToAccount: now.addingTimeInterval(-7 * day), settings: settings, now: now) == nil)
        var relaxed = settings
        relaxed.contactQuietDays = 10
        #expect(SurveyRules.fatigue(lastToContact: now.addingTimeInterval(-11 * day), lastToAccount: nil, settings: relaxed, now: now) == nil)
    }

    @Test("comments are tagged by keyword rules, Chinese and English, case-insensitively")
    func tags() {
        let rules = SurveyRules.defaultSettings.keywordRules
        #expect(SurveyRules.tags("交期太长，售后工程师响应慢", rules: rules) == ["delivery", "service"])
        #expect(SurveyRules.tags("The MANUAL is missing and the price is high", rules: rules) == ["price", "documentation"])
        #expect(SurveyRules.tags("", rules: rules).isEmpty)
    }

    @Test("a link token checks its signature and expiry: a changed character or another key is invalid, a passed expiry is expired")
    func token() {
        let key = SymmetricKey(size: .bits256)
        let now = Date(timeIntervalSince1970: 1_780_000_000)
        let token = SurveyToken.make(surveyID: "srv_1", expiresAt: now.addingTimeInterval(3600), secret: key)
        #expect(SurveyToken.check(token, secret: key, now: now) == .valid(surveyID: "srv_1"))
        #expect(SurveyToken.check(token, secret: key, now: now.addingTimeInterval(3600)) == .expired(surveyID: "srv_1"))
        #expect(SurveyToken.check(token, secret: SymmetricKey(size: .bits256), now: now) == .invalid)
        // Another survey's id, or a later expiry, under the same signature.
        #expect(SurveyToken.check(token.replacingOccurrences(of: "srv_1", with: "srv_2"), secret: key, now: now) == .invalid)
        let parts = token.split(separator: ".")
        #expect(SurveyToken.check("\(parts[0]).\(Int(parts[1])! + 86_400).\(parts[2])", secret: key, now: now) == .invalid)
        var tampered = Array(token)
        tampered[tampered.count - 3] = tampered[tampered.count - 3] == "A" ? "B" : "A"
        #expect(SurveyToken.check(String(tampered), secret: key, now: now) == .invalid)
        #expect(SurveyToken.check("", secret: key, now: now) == .invalid)
        #expect(SurveyToken.check("a.b.c.d", secret: key, now: now) == .invalid)
    }

    @Test("NPS = %promoters − %detractors: no answers is 0 with 0 responses, all passives is 0 with responses, seed 003's 137 answers give 32")
    func npsMaths() {
        let none = NpsRules.figures(.init())
        #expect(none.nps == 0 && none.responses == 0 && none.responseRate == 0)
        let passives = NpsRules.figures(.init(passives: 12))
        #expect(passives.nps == 0 && passives.responses == 12)
        #expect(NpsRules.figures(.init(promoters: 5)).nps == 100)
        #expect(NpsRules.figures(.init(detractors: 5)).nps == -100)
        // 66 promoters, 49 passives, 22 detractors: (66 − 22) / 137 = 32.1 %.
        let seed = NpsRules.figures(.init(promoters: 66, passives: 49, detractors: 22, sent: 400, sentAnswered: 137))
        #expect(seed.nps == 32.12 && seed.responses == 137 && seed.responseRate == 0.34)
        let csat = NpsRules.figures(.init(csatResponses: 4, csatScoreSum: 15, csatSatisfied: 3))
        #expect(csat.csatAverage == 3.75 && csat.csatSatisfiedShare == 0.75)
    }

    @Test("a date's China-time day and month by integer arithmetic agree with Foundation's calendar, across leap years and midnight")
    func chinaDays() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        var seconds = -2_208_988_800.0  // 1900-01-01
        while seconds < 4_102_444_800 {  // 2100-01-01
            let date = Date(timeIntervalSince1970: seconds)
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            #expect(SurveyRules.day(date) == String(format: "%04d-%02d-%02d", parts.year!, parts.month!, parts.day!), "\(seconds)")
            seconds += 86_400 * 13 + 3_599
        }
        #expect(SurveyRules.day(Date(timeIntervalSince1970: 1_796_054_399)) == "2026-11-30", "23:59:59 China time")
        #expect(SurveyRules.day(Date(timeIntervalSince1970: 1_796_054_400)) == "2026-12-01", "midnight China time")
        #expect(SurveyRules.month(Date(timeIntervalSince1970: 1_709_136_000)) == "2024-02", "29 February 2024, China time")
    }

    @Test("ideas move new → under review → planned → shipped; declining or shipping needs a note; a final status stays")
    func ideaStatus() {
        #expect(IdeaRules.transitionProblem(from: .new, to: .underReview, note: "") == nil)
        #expect(IdeaRules.transitionProblem(from: .planned, to: .shipped, note: "")?.field == "note")
        #expect(IdeaRules.transitionProblem(from: .planned, to: .shipped, note: "V3 2027") == nil)
        #expect(IdeaRules.transitionProblem(from: .new, to: .declined, note: "")?.field == "note")
        #expect(IdeaRules.transitionProblem(from: .new, to: .shipped, note: "x")?.description.contains("allowed") == true)
        #expect(IdeaRules.transitionProblem(from: .shipped, to: .planned, note: "x")?.description.contains("final") == true)
    }
}
