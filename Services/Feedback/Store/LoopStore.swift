import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// The closed loop: a detractor's follow-up case (due in 48 h for the account owner, escalated
/// to the manager when late, closed only with what was done and what changed, the customer
/// told), and a promoter's thanks with an invitation to a case study, reference visit or
/// referral.
enum LoopStore {
    typealias FollowUp = Forge_Feedback_V1_FollowUp
    typealias Advocacy = Forge_Feedback_V1_Advocacy

    static let escalateJob = "feedback.escalate"

    // MARK: Follow-ups

    /// - Parameter hour: an hour's length (a 24th of FORGE_DAY_SECONDS).
    static func openFollowUp(_ db: Database, _ survey: Forge_Feedback_V1_Survey, hours: Int, hour: TimeInterval = 3600, now: Date) throws {
        let answeredAt = survey.answeredAt.date
        let followUp = FollowUp.with {
            $0.id = EventID.make(prefix: "fup", at: now)
            $0.surveyID = survey.id
            $0.accountID = survey.accountID
            $0.accountName = survey.accountName
            $0.contactID = survey.contactID
            $0.contactName = survey.contactName
            $0.kind = survey.kind
            $0.score = survey.score
            $0.comment = survey.comment
            $0.ownerID = survey.ownerID
            $0.team = survey.team
            $0.region = survey.region
            $0.state = .open
            $0.createdAt = .init(date: answeredAt)
            $0.dueAt = .init(date: answeredAt.addingTimeInterval(Double(hours) * hour))
            $0.version = 1
        }
        try db.execute(sql: """
            INSERT INTO follow_up (id, survey_id, account_id, owner_id, team, state, due_at, created_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(survey_id) DO NOTHING
            """, arguments: [followUp.id, followUp.surveyID, followUp.accountID, followUp.ownerID, followUp.team, followUp.state.rawValue,
                             followUp.dueAt.date.timeIntervalSince1970, answeredAt.timeIntervalSince1970, try followUp.serializedData()])
        guard db.changesCount == 1 else { return }
        try JobScheduler.schedule(db, kind: escalateJob, payload: Data(followUp.id.utf8), dueAt: followUp.dueAt.date, id: "escalate-\(followUp.id)", now: now)
        try Outbox.append(db, Forge_Feedback_V1_FollowUpOpened.with { $0.followUp = followUp }, accountID: followUp.accountID, at: now)
    }

    /// The escalation job: a case still open at its due time goes to the owner's manager
    /// (`FollowUpEscalated`; the managers' list shows it).
    static func escalate(_ db: Database, id: String, now: Date) throws {
        guard var followUp = try followUp(db, id), followUp.state == .open, followUp.dueAt.date <= now else { return }
        followUp.state = .escalated
        followUp.escalatedAt = .init(date: now)
        followUp.version += 1
        try save(db, followUp)
        try Outbox.append(db, Forge_Feedback_V1_FollowUpEscalated.with { $0.followUp = followUp }, accountID: followUp.accountID, at: now)
    }

    static func validateClose(_ request: Forge_Feedback_V1_CloseFollowUpRequest) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        if request.id.isBlank { violations.append(FieldViolation(field: "id", description: "is required")) }
        if request.actionsTaken.isBlank {
            violations.append(FieldViolation(field: "actions_taken", description: "is required: what was done for the customer"))
        }
        if request.whatChanged.isBlank {
            violations.append(FieldViolation(field: "what_changed", description: "is required: what changed because of this feedback (the customer is told)"))
        }
        for (field, text) in [("actions_taken", request.actionsTaken), ("what_changed", request.whatChanged)] where text.count > 4000 {
            violations.append(FieldViolation(field: field, description: "is longer than 4000 characters"))
        }
        return violations
    }

    static func close(_ db: Database, _ request: Forge_Feedback_V1_CloseFollowUpRequest, principal: Principal, now: Date) throws -> FollowUp {
        guard var followUp = try followUp(db, request.id), OwnerScope.canSee(owner: followUp.ownerID, team: followUp.team, principal: principal) else {
            throw RPCError(.notFound, "follow-up \(request.id) not found")
        }
        guard followUp.state != .closed else {
            throw RPCError(.failedPrecondition, "follow-up \(request.id) was closed on \(SurveyRules.day(followUp.closedAt.date)) by \(followUp.closedBy)")
        }
        if request.version != 0, request.version != followUp.version {
            throw RPCError(.aborted, "follow-up \(request.id) changed (version \(followUp.version), you read \(request.version)): read it again")
        }
        followUp.state = .closed
        followUp.actionsTaken = request.actionsTaken.trimmed
        followUp.whatChanged = request.whatChanged.trimmed
        followUp.closedBy = principal.subject
        followUp.closedAt = .init(date: now)
        followUp.hoursToClose = NpsRules.rounded(now.timeIntervalSince(followUp.createdAt.date) / 3600)
        let tell = request.hasNotifyCustomer ? request.notifyCustomer : true
        followUp.customerTold = tell && !followUp.contactID.isEmpty
        followUp.version += 1
        try save(db, followUp)
        try JobScheduler.cancelPending(db, kind: escalateJob, idPrefix: "escalate-\(followUp.id)")
        if followUp.customerTold, let survey = try SurveyStore.byID(db, followUp.surveyID) {
            // The customer asked for nothing less: a reply to their own feedback goes to them
            // whatever their marketing consent.
            try SurveyStore.notify(db, survey, template: "feedback_loop_closed", dedupeKey: "follow-up:\(followUp.id):closed", transactional: true,
                                   parameters: ["what_changed": followUp.whatChanged, "actions_taken": followUp.actionsTaken], now: now)
        }
        try Outbox.append(db, Forge_Feedback_V1_FollowUpClosed.with { $0.followUp = followUp }, accountID: followUp.accountID, at: now)
        return followUp
    }

    static func save(_ db: Database, _ followUp: FollowUp) throws {
        try db.execute(sql: "UPDATE follow_up SET account_id = ?, owner_id = ?, team = ?, state = ?, payload = ? WHERE id = ?",
                       arguments: [followUp.accountID, followUp.ownerID, followUp.team, followUp.state.rawValue, try followUp.serializedData(), followUp.id])
    }

    static func followUp(_ db: Database, _ id: String) throws -> FollowUp? {
        try Data.fetchOne(db, sql: "SELECT payload FROM follow_up WHERE id = ?", arguments: [id]).map { try FollowUp(serializedBytes: $0) }
    }

    /// Follow-ups `principal` may see (a rep their accounts', a manager their team's), the
    /// most urgent first.
    static func listFollowUps(_ db: Database, states: [Forge_Feedback_V1_FollowUpState], ownerID: String, accountID: String,
                              principal: Principal, after: String, limit: Int) throws -> [FollowUp] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        OwnerScope.restrict(principal, clauses: &clauses, arguments: &arguments)
        let wanted = states.isEmpty ? [.open, .escalated] : states
        clauses.append("state IN (\(wanted.map { String($0.rawValue) }.joined(separator: ",")))")
        if !ownerID.isEmpty {
            clauses.append("owner_id = ?")
            arguments += [ownerID]
        }
        if !accountID.isEmpty {
            clauses.append("account_id = ?")
            arguments += [accountID]
        }
        // The cursor: "<due_at>|<id>" of the last one listed.
        if let bar = after.firstIndex(of: "|"), let due = Double(after[..<bar]) {
            clauses.append("(due_at > ? OR (due_at = ? AND id > ?))")
            arguments += [due, due, String(after[after.index(after: bar)...])]
        }
        return try Data.fetchAll(db.cachedStatement(sql: "SELECT payload FROM follow_up WHERE \(clauses.joined(separator: " AND ")) ORDER BY due_at, id LIMIT ?"),
                                 arguments: arguments + [limit]).map { try FollowUp(serializedBytes: $0) }
    }

    // MARK: Promoters

    /// A promoter is thanked and invited (a case study, a reference visit, a referral); the
    /// owner records the answer.
    static func thankPromoter(_ db: Database, _ survey: Forge_Feedback_V1_Survey, now: Date) throws {
        let advocacy = Advocacy.with {
            $0.id = EventID.make(prefix: "adv", at: now)
            $0.surveyID = survey.id
            $0.accountID = survey.accountID
            $0.accountName = survey.accountName
            $0.contactID = survey.contactID
            $0.ownerID = survey.ownerID
            $0.team = survey.team
            $0.state = .invited
            $0.invitedAt = .init(date: now)
        }
        try db.execute(sql: """
            INSERT INTO advocacy (id, survey_id, account_id, owner_id, team, state, created_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(survey_id) DO NOTHING
            """, arguments: [advocacy.id, advocacy.surveyID, advocacy.accountID, advocacy.ownerID, advocacy.team, advocacy.state.rawValue,
                             now.timeIntervalSince1970, try advocacy.serializedData()])
        guard db.changesCount == 1 else { return }
        try SurveyStore.notify(db, survey, template: "promoter_thanks", dedupeKey: "survey:\(survey.id):thanks", now: now)
        try Outbox.append(db, Forge_Feedback_V1_AdvocacyRecorded.with { $0.advocacy = advocacy }, accountID: advocacy.accountID, at: now)
    }

    static func recordAdvocacy(_ db: Database, _ request: Forge_Feedback_V1_RecordAdvocacyRequest, principal: Principal, now: Date) throws -> Advocacy {
        guard let payload = try Data.fetchOne(db, sql: "SELECT payload FROM advocacy WHERE id = ?", arguments: [request.id]) else {
            throw RPCError(.notFound, "advocacy \(request.id) not found")
        }
        var advocacy = try Advocacy(serializedBytes: payload)
        guard OwnerScope.canSee(owner: advocacy.ownerID, team: advocacy.team, principal: principal) else {
            throw RPCError(.notFound, "advocacy \(request.id) not found")
        }
        advocacy.state = request.accepted ? .accepted : .declined
        advocacy.kinds = request.accepted ? request.kinds : []
        advocacy.note = request.note
        advocacy.decidedAt = .init(date: now)
        try db.execute(sql: "UPDATE advocacy SET state = ?, payload = ? WHERE id = ?", arguments: [advocacy.state.rawValue, try advocacy.serializedData(), advocacy.id])
        try Outbox.append(db, Forge_Feedback_V1_AdvocacyRecorded.with { $0.advocacy = advocacy }, accountID: advocacy.accountID, at: now)
        return advocacy
    }

    static func listAdvocacy(_ db: Database, state: Forge_Feedback_V1_AdvocacyState, accountID: String, principal: Principal,
                             after: String, limit: Int) throws -> [Advocacy] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        OwnerScope.restrict(principal, clauses: &clauses, arguments: &arguments)
        if state != .unspecified {
            clauses.append("state = ?")
            arguments += [state.rawValue]
        }
        if !accountID.isEmpty {
            clauses.append("account_id = ?")
            arguments += [accountID]
        }
        if !after.isEmpty {
            clauses.append("id < ?")
            arguments += [after]
        }
        return try Data.fetchAll(db, sql: "SELECT payload FROM advocacy \(clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?",
                                 arguments: arguments + [limit]).map { try Advocacy(serializedBytes: $0) }
    }
}
