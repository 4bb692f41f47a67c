import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// The NPS report's running totals: per calendar month (China time) and per report dimension
/// (region, industry, tier, product line, team, owner), the answers by class, CSAT sums, and
/// the NPS surveys sent and answered. Every write of a survey takes its old contribution out
/// and puts its new one in, in the same transaction, so the totals always equal a count over
/// the surveys (a test compares the two). A report over whole months reads these few thousand
/// rows instead of every answer.
enum NpsRollup {
    static func createTable(_ db: Database) throws {
        try db.create(table: "nps_rollup") { t in
            t.column("month", .text).notNull()
            t.column("region", .text).notNull()
            t.column("industry", .text).notNull()
            t.column("tier", .text).notNull()
            t.column("product_line", .text).notNull()
            t.column("team", .text).notNull()
            t.column("owner_id", .text).notNull()
            t.column("promoters", .integer).notNull()
            t.column("passives", .integer).notNull()
            t.column("detractors", .integer).notNull()
            t.column("csat_responses", .integer).notNull()
            t.column("csat_sum", .integer).notNull()
            t.column("csat_satisfied", .integer).notNull()
            t.column("sent", .integer).notNull()
            t.column("sent_answered", .integer).notNull()
            t.primaryKey(["month", "region", "industry", "tier", "product_line", "team", "owner_id"])
        }
    }

    /// Adds (`sign` 1) or takes out (−1) what `survey` contributes.
    static func apply(_ db: Database, _ survey: Forge_Feedback_V1_Survey, sign: Int) throws {
        if survey.state == .answered, survey.hasScore, survey.hasAnsweredAt {
            var counts = NpsRules.Counts()
            if survey.kind == .csat {
                counts.csatResponses = 1
                counts.csatScoreSum = Int(survey.score)
                counts.csatSatisfied = survey.score >= 4 ? 1 : 0
            } else {
                switch SurveyRules.classify(.nps, score: survey.score) {
                case .promoter: counts.promoters = 1
                case .passive: counts.passives = 1
                default: counts.detractors = 1
                }
            }
            try add(db, month: SurveyRules.month(survey.answeredAt.date), survey, counts, sign: sign)
        }
        if survey.kind == .nps, survey.hasSentAt {
            var counts = NpsRules.Counts()
            counts.sent = 1
            counts.sentAnswered = survey.state == .answered ? 1 : 0
            try add(db, month: SurveyRules.month(survey.sentAt.date), survey, counts, sign: sign)
        }
    }

    private static func add(_ db: Database, month: String, _ survey: Forge_Feedback_V1_Survey, _ counts: NpsRules.Counts, sign: Int) throws {
        let values = [counts.promoters, counts.passives, counts.detractors, counts.csatResponses, counts.csatScoreSum, counts.csatSatisfied,
                      counts.sent, counts.sentAnswered].map { $0 * sign }
        try db.execute(cached: """
            INSERT INTO nps_rollup (month, region, industry, tier, product_line, team, owner_id,
                promoters, passives, detractors, csat_responses, csat_sum, csat_satisfied, sent, sent_answered)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO UPDATE SET promoters = promoters + excluded.promoters, passives = passives + excluded.passives,
                detractors = detractors + excluded.detractors, csat_responses = csat_responses + excluded.csat_responses,
                csat_sum = csat_sum + excluded.csat_sum, csat_satisfied = csat_satisfied + excluded.csat_satisfied,
                sent = sent + excluded.sent, sent_answered = sent_answered + excluded.sent_answered
            """, arguments: StatementArguments([month, survey.region, survey.industry, survey.tier, survey.productLine, survey.team, survey.ownerID])
                + StatementArguments(values))
    }

    /// Whether `date` starts a calendar month in China time (the rollup's buckets).
    static func startsMonth(_ date: Date) -> Bool {
        let shifted = Int64(date.timeIntervalSince1970) + 8 * 3600
        guard shifted % 86_400 == 0 else { return false }
        return SurveyRules.day(date).hasSuffix("-01")
    }
}
