import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Surveys from scheduling to answer: each is a row whose state moves scheduled → sent →
/// answered (or skipped, expired, cancelled), driven by durable jobs (send at `send_at`, one
/// reminder, expiry) so a restart loses no step and a redelivered event or retried job does
/// nothing twice.
enum SurveyStore {
    typealias Survey = Forge_Feedback_V1_Survey

    static let sendJob = "feedback.send"
    static let remindJob = "feedback.remind"
    static let expireJob = "feedback.expire"

    // MARK: Scheduling

    /// Creates a survey and its send job; nil when `sourceKey` already made one (a redelivered
    /// event). The account's region, industry, tier, owner and team are copied onto it: the
    /// reports count an answer where the account stood when it was asked.
    @discardableResult
    static func schedule(_ db: Database, _ requested: Survey, trigger: Forge_Feedback_V1_SurveyTrigger, sourceKey: String? = nil,
                         createdBy: String, now: Date) throws -> Survey? {
        if let sourceKey, try Bool.fetchOne(db, sql: "SELECT 1 FROM survey WHERE source_key = ?", arguments: [sourceKey]) == true { return nil }
        guard let account = try FeedbackStore.account(db, requested.accountID) else {
            throw RPCError(.notFound, "account \(requested.accountID) not found", violations: [FieldViolation(field: "survey.account_id", description: "is not a known account")])
        }
        var survey = requested
        survey.id = EventID.make(prefix: "srv", at: now)
        survey.accountName = account.entry.name
        survey.ownerID = account.entry.ownerID
        survey.team = account.entry.team
        survey.region = account.region
        survey.industry = account.industry
        survey.tier = account.tier
        survey.contactName = try FeedbackStore.contact(db, survey.contactID)?.name ?? ""
        survey.trigger = trigger
        survey.state = .scheduled
        if survey.locale.isEmpty { survey.locale = "zh" }
        if !survey.hasSendAt || survey.sendAt.date < now { survey.sendAt = .init(date: now) }
        survey.createdAt = .init(date: now)
        survey.createdBy = createdBy
        survey.clearScore()
        survey.comment = ""
        survey.clearAnsweredAt()
        survey.scoreClass = .unspecified
        try insert(db, survey, sourceKey: sourceKey, importKey: nil)
        try JobScheduler.schedule(db, kind: sendJob, payload: Data(survey.id.utf8), dueAt: survey.sendAt.date, id: "send-\(survey.id)", now: now)
        try Outbox.append(db, Forge_Feedback_V1_SurveyScheduled.with { $0.survey = survey }, accountID: survey.accountID, at: now)
        return survey
    }

    /// The send job: the fatigue rules decide at send time (a survey scheduled 7 days ahead is
    /// checked against what was sent in those 7 days); a sent survey gets its link by e-mail,
    /// a reminder job and an expiry job.
    /// - Parameter day: a day's length (FORGE_DAY_SECONDS).
    static func send(_ db: Database, id: String, now: Date, day: TimeInterval = 86_400) throws {
        guard var survey = try byID(db, id), survey.state == .scheduled else { return }
        let settings = try FeedbackStore.settings(db)
        let skip: String?
        let contact = survey.contactID.isEmpty ? nil : try FeedbackStore.contact(db, survey.contactID)
        if contact == nil {
            skip = survey.contactID.isEmpty ? "the account has no contact to ask" : "the contact is no longer in forge-accounts (erased or deleted)"
        } else {
            let lastToContact = try Double.fetchOne(db, sql: "SELECT max(sent_at) FROM survey WHERE contact_id = ? AND id != ?", arguments: [survey.contactID, id])
            let lastToAccount = try Double.fetchOne(db, sql: "SELECT max(sent_at) FROM survey WHERE account_id = ? AND id != ?", arguments: [survey.accountID, id])
            skip = SurveyRules.fatigue(lastToContact: lastToContact.map(Date.init(timeIntervalSince1970:)),
                                       lastToAccount: lastToAccount.map(Date.init(timeIntervalSince1970:)), settings: settings, now: now, dayLength: day)
        }
        if let skip {
            survey.state = .skipped
            survey.skipReason = skip
            try save(db, survey)
            try Outbox.append(db, Forge_Feedback_V1_SurveySkipped.with { $0.survey = survey }, accountID: survey.accountID, at: now)
            return
        }
        survey.state = .sent
        survey.sentAt = .init(date: now)
        survey.expiresAt = .init(date: now.addingTimeInterval(Double(settings.linkValidDays) * day))
        try save(db, survey)
        try notify(db, survey, template: "survey_invitation", dedupeKey: "survey:\(survey.id):invitation", now: now)
        if settings.reminderAfterDays > 0 {
            try JobScheduler.schedule(db, kind: remindJob, payload: Data(id.utf8), dueAt: now.addingTimeInterval(Double(settings.reminderAfterDays) * day),
                                      id: "remind-\(id)", now: now)
        }
        try JobScheduler.schedule(db, kind: expireJob, payload: Data(id.utf8), dueAt: survey.expiresAt.date, id: "expire-\(id)", now: now)
        try Outbox.append(db, Forge_Feedback_V1_SurveySent.with { $0.survey = survey }, accountID: survey.accountID, at: now)
    }

    /// The one reminder, when the survey is still unanswered.
    static func remind(_ db: Database, id: String, now: Date) throws {
        guard var survey = try byID(db, id), survey.state == .sent, !survey.hasRemindedAt, survey.expiresAt.date > now else { return }
        survey.remindedAt = .init(date: now)
        try save(db, survey)
        try notify(db, survey, template: "survey_reminder", dedupeKey: "survey:\(survey.id):reminder", now: now)
    }

    static func expire(_ db: Database, id: String, now: Date) throws {
        guard var survey = try byID(db, id), survey.state == .sent, survey.expiresAt.date <= now else { return }
        survey.state = .expired
        try save(db, survey)
    }

    static func cancel(_ db: Database, id: String, reason: String, now: Date) throws -> Survey {
        guard var survey = try byID(db, id) else { throw RPCError(.notFound, "survey \(id) not found") }
        guard survey.state == .scheduled || survey.state == .sent else {
            throw RPCError(.failedPrecondition, "survey \(id) is \(stateName(survey.state)); only a scheduled or sent one can be cancelled")
        }
        survey.state = .cancelled
        survey.skipReason = reason
        try save(db, survey)
        for job in ["send-", "remind-", "expire-"] { try JobScheduler.cancelPending(db, kind: jobKind(job), idPrefix: job + id) }
        return survey
    }

    private static func jobKind(_ prefix: String) -> String {
        switch prefix {
        case "send-": sendJob
        case "remind-": remindJob
        default: expireJob
        }
    }

    /// The link (and the invitation) of a sent survey.
    static func link(_ db: Database, _ survey: Survey) throws -> String {
        "/s/" + SurveyToken.make(surveyID: survey.id, expiresAt: survey.expiresAt.date, secret: try FeedbackStore.linkSecret(db))
    }

    /// A customer e-mail about `survey` (the gateway renders and sends it).
    static func notify(_ db: Database, _ survey: Survey, template: String, dedupeKey: String, transactional: Bool = false,
                       parameters: [String: String] = [:], now: Date) throws {
        guard !survey.contactID.isEmpty else { return }
        var values = parameters
        values["account_name"] = survey.accountName
        values["survey_kind"] = survey.kind == .csat ? "CSAT" : "NPS"
        if survey.state == .sent { values["survey_path"] = try link(db, survey) }
        values["expires_on"] = survey.hasExpiresAt ? SurveyRules.day(survey.expiresAt.date) : ""
        try Outbox.append(db, Forge_Common_V1_NotificationRequested.with {
            $0.recipientContactID = survey.contactID
            $0.accountID = survey.accountID
            $0.channel = .email
            $0.template = template
            $0.parameters = values
            $0.dedupeKey = dedupeKey
            // A survey and what follows it go only to contacts who consented (DESIGN §8).
            $0.transactional = transactional
            $0.locale = survey.locale
        }, accountID: survey.accountID, at: now)
    }

    // MARK: Answers

    /// What the public page shows for a token.
    static func open(_ db: Database, token: String, now: Date) throws -> Forge_Feedback_V1_OpenSurveyResponse {
        let survey = try surveyFor(db, token: token, now: now, answering: false)
        let text = SurveyRules.question(survey.kind, locale: survey.locale, company: "")
        return .with {
            $0.kind = survey.kind
            $0.state = survey.state
            $0.accountName = survey.accountName
            $0.contactName = survey.contactName
            $0.question = text.question
            $0.commentPrompt = text.commentPrompt
            $0.locale = survey.locale
            $0.expiresAt = survey.expiresAt
        }
    }

    /// The survey a token names. A bad or tampered token is NOT_FOUND (no hint which part was
    /// wrong); an expired link reads as EXPIRED (open) or FAILED_PRECONDITION (answering).
    static func surveyFor(_ db: Database, token: String, now: Date, answering: Bool) throws -> Survey {
        switch SurveyToken.check(token, secret: try FeedbackStore.linkSecret(db), now: now) {
        case .invalid:
            throw RPCError(.notFound, "this survey link is not valid")
        case .expired(let id):
            guard var survey = try byID(db, id) else { throw RPCError(.notFound, "this survey link is not valid") }
            if answering, survey.state != .answered { throw RPCError(.failedPrecondition, "this survey link expired on \(SurveyRules.day(survey.expiresAt.date))") }
            if survey.state == .sent { survey.state = .expired }
            return survey
        case .valid(let id):
            guard let survey = try byID(db, id) else { throw RPCError(.notFound, "this survey link is not valid") }
            return survey
        }
    }

    /// Records the answer given through the link; a second answer is FAILED_PRECONDITION
    /// ("already answered"), the first one stands.
    static func answer(_ db: Database, token: String, score: Int32, comment: String, channel: Forge_Feedback_V1_AnswerChannel, now: Date,
                       day: TimeInterval = 86_400) throws -> Survey {
        var survey = try surveyFor(db, token: token, now: now, answering: true)
        switch survey.state {
        case .answered: throw RPCError(.failedPrecondition, "this survey was already answered on \(SurveyRules.day(survey.answeredAt.date)); thank you")
        case .cancelled: throw RPCError(.failedPrecondition, "this survey was withdrawn")
        case .expired: throw RPCError(.failedPrecondition, "this survey link expired on \(SurveyRules.day(survey.expiresAt.date))")
        case .sent: break
        default: throw RPCError(.failedPrecondition, "this survey is not open")
        }
        let violations = SurveyRules.validateScore(survey.kind, score, field: "score")
            + (comment.count > SurveyRules.maxComment ? [FieldViolation(field: "comment", description: "is longer than \(SurveyRules.maxComment) characters")] : [])
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        survey.channel = channel == .unspecified ? .link : channel
        // The reminder and expiry jobs stay: each finds the survey answered and does nothing,
        // which costs less than deleting them in every answer's transaction.
        try record(db, &survey, score: score, comment: comment, at: now, now: now, day: day, old: survey)
        return survey
    }

    /// An answer given elsewhere (a phone survey, the previous tool): a survey born answered;
    /// nil when its key was recorded before.
    static func importAnswer(_ db: Database, _ answer: Forge_Feedback_V1_ImportedAnswer, importedBy: String, now: Date) throws -> Survey? {
        if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM survey WHERE import_key = ?"), arguments: [answer.key]) == true { return nil }
        guard let account = try FeedbackStore.account(db, answer.accountID) else { throw RPCError(.invalidArgument, "account_id is not a known account") }
        let answeredAt = answer.answeredAt.date
        var survey = Survey.with {
            $0.id = EventID.make(prefix: "srv", at: answeredAt)
            $0.accountID = answer.accountID
            $0.contactID = answer.contactID
            $0.kind = answer.kind
            $0.trigger = .imported
            $0.reference = answer.key
            $0.accountName = account.entry.name
            $0.ownerID = account.entry.ownerID
            $0.team = account.entry.team
            $0.region = account.region
            $0.industry = account.industry
            $0.tier = account.tier
            $0.productLine = answer.productLine
            $0.locale = "zh"
            $0.channel = answer.channel == .unspecified ? .imported : answer.channel
            $0.sendAt = answer.answeredAt
            $0.createdAt = .init(date: now)
            $0.createdBy = importedBy
        }
        survey.contactName = try FeedbackStore.contact(db, answer.contactID)?.name ?? ""
        try insert(db, survey, sourceKey: nil, importKey: answer.key)
        try record(db, &survey, score: answer.score, comment: answer.comment, at: answeredAt, now: now, old: survey)
        return survey
    }

    /// The answer, its class and tags, the comment's search entry, `SurveyAnswered`, and the
    /// loop: a detractor's follow-up case, a promoter's thanks and invitation.
    /// - Parameter old: the survey as stored (its part of the NPS totals comes out).
    private static func record(_ db: Database, _ survey: inout Survey, score: Int32, comment: String, at answeredAt: Date, now: Date,
                               day: TimeInterval = 86_400, old: Survey) throws {
        let settings = try FeedbackStore.settings(db)
        survey.score = score
        survey.comment = comment.trimmed
        survey.answeredAt = .init(date: answeredAt)
        survey.state = .answered
        survey.scoreClass = SurveyRules.classify(survey.kind, score: score)
        survey.tags = SurveyRules.tags(survey.comment, rules: settings.keywordRules)
        try save(db, survey, old: old)
        if !survey.comment.isEmpty {
            try db.execute(cached: "INSERT INTO survey_fts (rowid, comment) SELECT rowid, ? FROM survey WHERE id = ?", arguments: [survey.comment, survey.id])
        }
        try Outbox.append(db, Forge_Feedback_V1_SurveyAnswered.with { $0.survey = survey }, accountID: survey.accountID, at: now)
        // An answer imported from the past is history: its loop happened elsewhere.
        guard survey.trigger != .imported else { return }
        if SurveyRules.needsFollowUp(survey.scoreClass) {
            try LoopStore.openFollowUp(db, survey, hours: Int(settings.followUpHours), hour: day / 24, now: now)
        } else if survey.scoreClass == .promoter {
            try LoopStore.thankPromoter(db, survey, now: now)
        }
    }

    // MARK: Rows

    static func insert(_ db: Database, _ survey: Survey, sourceKey: String?, importKey: String?) throws {
        try db.execute(cached: """
            INSERT INTO survey (id, account_id, contact_id, kind, state, trigger, source_key, import_key, campaign_id, region, industry, tier,
                product_line, owner_id, team, score, score_class, answered_at, send_at, sent_at, created_at, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, NULL, ?, NULL, ?, ?)
            """, arguments: [survey.id, survey.accountID, survey.contactID, survey.kind.rawValue, survey.state.rawValue, survey.trigger.rawValue,
                             sourceKey, importKey, survey.campaignID, survey.region, survey.industry, survey.tier, survey.productLine,
                             survey.ownerID, survey.team, survey.sendAt.date.timeIntervalSince1970, survey.createdAt.date.timeIntervalSince1970,
                             try survey.serializedData()])
        try NpsRollup.apply(db, survey, sign: 1)
    }

    /// Writes a survey's changing columns and payload, and moves its part of the NPS totals.
    /// - Parameter old: the survey as stored, when the caller has it (else it is read).
    static func save(_ db: Database, _ survey: Survey, old: Survey? = nil) throws {
        if let old = try old ?? byID(db, survey.id) { try NpsRollup.apply(db, old, sign: -1) }
        try NpsRollup.apply(db, survey, sign: 1)
        try db.execute(cached: """
            UPDATE survey SET account_id = ?, contact_id = ?, state = ?, score = ?, score_class = ?, answered_at = ?, sent_at = ?,
                owner_id = ?, team = ?, payload = ? WHERE id = ?
            """, arguments: [survey.accountID, survey.contactID, survey.state.rawValue, survey.hasScore ? survey.score : nil, survey.scoreClass.rawValue,
                             survey.hasAnsweredAt ? survey.answeredAt.date.timeIntervalSince1970 : nil,
                             survey.hasSentAt ? survey.sentAt.date.timeIntervalSince1970 : nil,
                             survey.ownerID, survey.team, try survey.serializedData(), survey.id])
    }

    static func byID(_ db: Database, _ id: String) throws -> Survey? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT payload FROM survey WHERE id = ?"), arguments: [id]).map { try Survey(serializedBytes: $0) }
    }

    /// A survey as a caller sees it: a link that passed its expiry reads as expired even
    /// before the expiry job ran.
    static func view(_ survey: Survey, now: Date) -> Survey {
        var survey = survey
        if survey.state == .sent, survey.hasExpiresAt, survey.expiresAt.date <= now { survey.state = .expired }
        return survey
    }

    static func stateName(_ state: Forge_Feedback_V1_SurveyState) -> String {
        switch state {
        case .scheduled: "scheduled"
        case .sent: "sent"
        case .answered: "answered"
        case .skipped: "skipped"
        case .expired: "expired"
        case .cancelled: "cancelled"
        default: "unknown"
        }
    }

    // MARK: Lists

    struct Filter {
        var accountID = ""
        var states: [Forge_Feedback_V1_SurveyState] = []
        var kind: Forge_Feedback_V1_SurveyKind = .unspecified
        var classes: [Forge_Feedback_V1_ScoreClass] = []
        var query = ""
        var tag = ""
        var campaignID = ""
        var region = ""
        var from: Date?
        var to: Date?
    }

    /// Newest first by row, after `before` (the page cursor: a rowid), among the surveys of
    /// accounts `principal` may see. A query of three characters or more uses the trigram
    /// index; shorter ones (二字词 like 交期) scan the filtered comments.
    static func list(_ db: Database, _ filter: Filter, principal: Principal, before: Int64?, limit: Int) throws -> [(rowid: Int64, survey: Survey)] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        OwnerScope.restrict(principal, table: "s", clauses: &clauses, arguments: &arguments)
        if let before {
            clauses.append("s.rowid < ?")
            arguments += [before]
        }
        if !filter.accountID.isEmpty {
            clauses.append("s.account_id = ?")
            arguments += [filter.accountID]
        }
        if !filter.states.isEmpty {
            clauses.append("s.state IN (\(filter.states.map { String($0.rawValue) }.joined(separator: ",")))")
        }
        if filter.kind != .unspecified {
            clauses.append("s.kind = ?")
            arguments += [filter.kind.rawValue]
        }
        if !filter.classes.isEmpty {
            clauses.append("s.score_class IN (\(filter.classes.map { String($0.rawValue) }.joined(separator: ",")))")
        }
        if !filter.campaignID.isEmpty {
            clauses.append("s.campaign_id = ?")
            arguments += [filter.campaignID]
        }
        if !filter.region.isEmpty {
            clauses.append("s.region = ?")
            arguments += [filter.region]
        }
        if let from = filter.from {
            clauses.append("s.answered_at >= ?")
            arguments += [from.timeIntervalSince1970]
        }
        if let to = filter.to {
            clauses.append("s.answered_at < ?")
            arguments += [to.timeIntervalSince1970]
        }
        let query = filter.query.trimmingCharacters(in: .whitespaces)
        var join = ""
        if query.count >= 3 {
            join = "JOIN survey_fts ON survey_fts.rowid = s.rowid"
            clauses.append("survey_fts MATCH ?")
            // A phrase, never FTS5 syntax; a NUL would end FTS5's string early (no text holds one).
            arguments += ["\"" + query.replacingOccurrences(of: "\u{0}", with: "").replacingOccurrences(of: "\"", with: "\"\"") + "\""]
        }
        let sql = "SELECT s.rowid AS rowid, s.payload AS payload FROM survey s \(join) \(clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")) ORDER BY s.rowid DESC"
        var found: [(Int64, Survey)] = []
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        while let row = try cursor.next(), found.count < limit {
            let survey = try Survey(serializedBytes: row["payload"] as Data)
            if !query.isEmpty, query.count < 3, !survey.comment.localizedCaseInsensitiveContains(query) { continue }
            if !filter.tag.isEmpty, !survey.tags.contains(filter.tag) { continue }
            found.append((row["rowid"], survey))
        }
        return found
    }
}
