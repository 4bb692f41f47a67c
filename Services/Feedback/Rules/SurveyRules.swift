import ForgeContracts
import ForgeKit
import SwiftProtobuf
import ForgeWire
import Foundation

/// What a survey asks, how an answer is classified and tagged, and when a survey may go out
/// (no I/O: the store brings the dates, the rules decide).
enum SurveyRules {
    typealias Survey = Forge_Feedback_V1_Survey

    static let defaultSettings = Forge_Feedback_V1_FeedbackSettings.with {
        $0.deliveryDelayDays = 7
        $0.surveyClosedTickets = true
        $0.surveyRevisitPool = true
        $0.reminderAfterDays = 3
        $0.linkValidDays = 14
        $0.contactQuietDays = 30
        $0.accountQuietDays = 7
        $0.followUpHours = 48
        $0.keywordRules = [
            .with { $0.tag = "delivery"; $0.keywords = ["交期", "交货", "发货", "物流", "到货", "延期", "delivery", "late", "shipping"] },
            .with { $0.tag = "quality"; $0.keywords = ["质量", "故障", "精度", "漏油", "异响", "坏", "quality", "defect", "broken", "fault"] },
            .with { $0.tag = "price"; $0.keywords = ["价格", "报价", "贵", "便宜", "折扣", "price", "expensive", "cost", "discount"] },
            .with { $0.tag = "service"; $0.keywords = ["服务", "售后", "工程师", "响应", "维修", "培训", "service", "engineer", "support", "response"] },
            .with { $0.tag = "documentation"; $0.keywords = ["说明书", "手册", "文档", "资料", "图纸", "manual", "documentation", "drawing"] },
        ]
    }

    // MARK: Scores

    /// The score range of a survey kind: NPS 0–10, CSAT 1–5.
    static func range(_ kind: Forge_Feedback_V1_SurveyKind) -> ClosedRange<Int32> {
        kind == .csat ? 1...5 : 0...10
    }

    /// NPS: promoter 9–10, passive 7–8, detractor 0–6. CSAT: satisfied 4–5, neutral 3,
    /// dissatisfied 1–2.
    static func classify(_ kind: Forge_Feedback_V1_SurveyKind, score: Int32) -> Forge_Feedback_V1_ScoreClass {
        switch kind {
        case .csat: score >= 4 ? .satisfied : score == 3 ? .neutral : .dissatisfied
        default: score >= 9 ? .promoter : score >= 7 ? .passive : .detractor
        }
    }

    /// A detractor or a dissatisfied customer: followed up within the configured hours.
    static func needsFollowUp(_ scoreClass: Forge_Feedback_V1_ScoreClass) -> Bool {
        scoreClass == .detractor || scoreClass == .dissatisfied
    }

    static func validateScore(_ kind: Forge_Feedback_V1_SurveyKind, _ score: Int32, field: String) -> [FieldViolation] {
        let allowed = range(kind)
        guard allowed.contains(score) else {
            return [FieldViolation(field: field, description: "must be between \(allowed.lowerBound) and \(allowed.upperBound) for \(kind == .csat ? "CSAT" : "NPS")")]
        }
        return []
    }

    static let maxComment = 4000

    /// The tags whose keywords the comment contains (case-insensitive), in the rules' order.
    static func tags(_ comment: String, rules: [Forge_Feedback_V1_KeywordRule]) -> [String] {
        let text = comment.lowercased()
        guard !text.isEmpty else { return [] }
        return rules.filter { rule in rule.keywords.contains { !$0.isEmpty && text.contains($0.lowercased()) } }.map(\.tag)
    }

    // MARK: What the customer reads

    static func question(_ kind: Forge_Feedback_V1_SurveyKind, locale: String, company: String) -> (question: String, commentPrompt: String) {
        let vendor = company.isEmpty ? (locale == "en" ? "us" : "我们") : company
        switch (kind, locale) {
        case (.csat, "en"): return ("How satisfied are you with how we handled your request?", "What could we have done better?")
        case (.csat, _): return ("您对我们这次的服务满意吗？", "有什么地方我们可以做得更好？")
        case (_, "en"): return ("How likely are you to recommend \(vendor) to a colleague or partner?", "What is the main reason for your score?")
        default: return ("您向同行或合作伙伴推荐\(vendor)的可能性有多大？", "您给出这个分数的主要原因是什么？")
        }
    }

    // MARK: Scheduling

    /// What a scheduled survey needs: an account, a contact, a kind; a send time within a year.
    static func validateSchedule(_ survey: Survey, now: Date, field: String = "survey") -> [FieldViolation] {
        var violations: [FieldViolation] = []
        if survey.accountID.isBlank { violations.append(FieldViolation(field: "\(field).account_id", description: "is required")) }
        if survey.contactID.isBlank { violations.append(FieldViolation(field: "\(field).contact_id", description: "is required (the person who answers)")) }
        if survey.kind != .nps && survey.kind != .csat {
            violations.append(FieldViolation(field: "\(field).kind", description: "is required: NPS or CSAT"))
        }
        if !["", "zh", "en"].contains(survey.locale) {
            violations.append(FieldViolation(field: "\(field).locale", description: "must be zh or en"))
        }
        if survey.hasSendAt, survey.sendAt.date > now.addingTimeInterval(366 * 86_400) {
            violations.append(FieldViolation(field: "\(field).send_at", description: "is more than a year ahead"))
        }
        return violations
    }

    /// Why a survey may not go out now (nil: it may): at most one per contact per
    /// `contact_quiet_days` and per account per `account_quiet_days`, counting surveys sent.
    /// - Parameter dayLength: a day's length (FORGE_DAY_SECONDS).
    static func fatigue(lastToContact: Date?, lastToAccount: Date?, settings: Forge_Feedback_V1_FeedbackSettings, now: Date, dayLength: TimeInterval = 86_400) -> String? {
        if let last = lastToContact, settings.contactQuietDays > 0, now.timeIntervalSince(last) < Double(settings.contactQuietDays) * dayLength {
            return "the contact was surveyed on \(day(last)) (at most one survey per \(settings.contactQuietDays) days)"
        }
        if let last = lastToAccount, settings.accountQuietDays > 0, now.timeIntervalSince(last) < Double(settings.accountQuietDays) * dayLength {
            return "the account was surveyed on \(day(last)) (at most one survey per \(settings.accountQuietDays) days)"
        }
        return nil
    }

    static func validateSettings(_ settings: Forge_Feedback_V1_FeedbackSettings) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func within(_ value: Int32, _ range: ClosedRange<Int32>, _ field: String) {
            if !range.contains(value) { violations.append(FieldViolation(field: "settings.\(field)", description: "must be between \(range.lowerBound) and \(range.upperBound)")) }
        }
        within(settings.deliveryDelayDays, 0...90, "delivery_delay_days")
        within(settings.reminderAfterDays, 0...30, "reminder_after_days")
        within(settings.linkValidDays, 1...90, "link_valid_days")
        within(settings.contactQuietDays, 0...365, "contact_quiet_days")
        within(settings.accountQuietDays, 0...365, "account_quiet_days")
        within(settings.followUpHours, 1...720, "follow_up_hours")
        if settings.reminderAfterDays >= settings.linkValidDays, settings.reminderAfterDays > 0 {
            violations.append(FieldViolation(field: "settings.reminder_after_days", description: "must be before the link expires (link_valid_days \(settings.linkValidDays))"))
        }
        for (index, rule) in settings.keywordRules.enumerated() {
            if rule.tag.isBlank {
                violations.append(FieldViolation(field: "settings.keyword_rules[\(index)].tag", description: "is required"))
            }
            if rule.keywords.allSatisfy({ $0.isBlank }) {
                violations.append(FieldViolation(field: "settings.keyword_rules[\(index)].keywords", description: "needs at least one keyword"))
            }
        }
        return violations
    }

    /// A date as the customer's calendar day (China time), "2026-12-03" (integer arithmetic:
    /// a date formatter per call was a fifth of an answer's time).
    static func day(_ date: Date) -> String { ChinaCalendar.day(date) }

    /// The calendar month (China time) an answer counts in, "2026-11".
    static func month(_ date: Date) -> String { String(day(date).prefix(7)) }
}
