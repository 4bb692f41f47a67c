import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// The closed loop (follow-up cases, promoters' advocacy) and co-creation (ideas).
extension FeedbackHandler {
    // MARK: Follow-ups

    func listFollowUps(_ request: Forge_Feedback_V1_ListFollowUpsRequest, context: ServerContext) async throws -> Forge_Feedback_V1_ListFollowUpsResponse {
        let page = try Page(request.page) { $0.contains("|") }
        let principal = try context.caller()
        return try await database.read { db in
            let found = try LoopStore.listFollowUps(db, states: request.states, ownerID: request.ownerID, accountID: request.accountID,
                                                    principal: principal, after: page.after, limit: page.size)
            let closed = found.filter { $0.state == .closed }
            return .with {
                $0.followUps = found
                $0.page = page.response(next: found.last.map { "\($0.dueAt.date.timeIntervalSince1970)|\($0.id)" }, count: found.count)
                $0.meanHoursToClose = closed.isEmpty ? 0 : NpsRules.rounded(closed.map(\.hoursToClose).reduce(0, +) / Double(closed.count))
            }
        }
    }

    func getFollowUp(_ request: Forge_Feedback_V1_GetFollowUpRequest, context: ServerContext) async throws -> Forge_Feedback_V1_GetFollowUpResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let principal = try context.caller()
        return try await database.read { db in
            guard let followUp = try LoopStore.followUp(db, request.id), OwnerScope.canSee(owner: followUp.ownerID, team: followUp.team, principal: principal) else {
                throw RPCError(.notFound, "follow-up \(request.id) not found")
            }
            return try .with {
                $0.followUp = followUp
                if let survey = try SurveyStore.byID(db, followUp.surveyID) { $0.survey = try Self.masked(db, survey, principal: principal) }
            }
        }
    }

    func closeFollowUp(_ request: Forge_Feedback_V1_CloseFollowUpRequest, context: ServerContext) async throws -> Forge_Feedback_V1_CloseFollowUpResponse {
        let violations = LoopStore.validateClose(request)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let followUp = try LoopStore.close(db, request, principal: principal, now: now)
            try AuditLog.record(db, context: context, recordID: followUp.id, changes: ["closed": "true", "customer_told": "\(followUp.customerTold)"], at: now)
            return .with { $0.followUp = followUp }
        }
    }

    func listAdvocacy(_ request: Forge_Feedback_V1_ListAdvocacyRequest, context: ServerContext) async throws -> Forge_Feedback_V1_ListAdvocacyResponse {
        let page = try Page(request.page) { $0.hasPrefix("adv") }
        let principal = try context.caller()
        return try await database.read { db in
            let found = try LoopStore.listAdvocacy(db, state: request.state, accountID: request.accountID, principal: principal, after: page.after, limit: page.size)
            return .with {
                $0.advocacy = found
                $0.page = page.response(next: found.last?.id, count: found.count)
            }
        }
    }

    func recordAdvocacy(_ request: Forge_Feedback_V1_RecordAdvocacyRequest, context: ServerContext) async throws -> Forge_Feedback_V1_RecordAdvocacyResponse {
        var violations: [FieldViolation] = []
        if request.id.isBlank { violations.append(FieldViolation(field: "id", description: "is required")) }
        if request.accepted, request.kinds.isEmpty || request.kinds.contains(where: { $0 == .unspecified || $0.rawValue > 3 }) {
            violations.append(FieldViolation(field: "kinds", description: "name what the customer agreed to: case_study, reference_visit or referral"))
        }
        if request.note.count > 2000 { violations.append(FieldViolation(field: "note", description: "is longer than 2000 characters")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            try .with { $0.advocacy = try LoopStore.recordAdvocacy(db, request, principal: principal, now: now) }
        }
    }

    // MARK: Ideas

    func submitIdea(_ request: Forge_Feedback_V1_SubmitIdeaRequest, context: ServerContext) async throws -> Forge_Feedback_V1_SubmitIdeaResponse {
        let violations = IdeaRules.validate(request.idea)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            if !request.idea.contactID.isEmpty, try Self.contactAccount(db, request.idea.contactID) != request.idea.accountID {
                throw RPCError(.notFound, "no contact \(request.idea.contactID) at account \(request.idea.accountID)", violations: [FieldViolation(field: "idea.contact_id", description: "is not a contact of account \(request.idea.accountID)")])
            }
            return try .with { $0.idea = try IdeaStore.submit(db, request.idea, principal: principal, now: now) }
        }
    }

    func voteIdea(_ request: Forge_Feedback_V1_VoteIdeaRequest, context: ServerContext) async throws -> Forge_Feedback_V1_VoteIdeaResponse {
        var violations: [FieldViolation] = []
        if request.id.isBlank { violations.append(FieldViolation(field: "id", description: "is required")) }
        if request.accountID.isBlank { violations.append(FieldViolation(field: "account_id", description: "is required (the customer who votes)")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            try .with { $0.idea = try IdeaStore.vote(db, id: request.id, accountID: request.accountID, now: now) }
        }
    }

    func updateIdeaStatus(_ request: Forge_Feedback_V1_UpdateIdeaStatusRequest, context: ServerContext) async throws -> Forge_Feedback_V1_UpdateIdeaStatusResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let idea = try IdeaStore.updateStatus(db, request, principal: principal, now: now)
            try AuditLog.record(db, context: context, recordID: idea.id, changes: ["status": IdeaRules.name(idea.status)], at: now)
            return .with { $0.idea = idea }
        }
    }

    func listIdeas(_ request: Forge_Feedback_V1_ListIdeasRequest, context: ServerContext) async throws -> Forge_Feedback_V1_ListIdeasResponse {
        let page = try Page(request.page) { $0.contains("|") }
        return try await database.read { db in
            let found = try IdeaStore.list(db, statuses: request.statuses, accountID: request.accountID, productLine: request.productLine,
                                           after: page.after, limit: page.size)
            return .with {
                $0.ideas = found
                $0.page = page.response(next: found.last.map { "\($0.votes)|\($0.id)" }, count: found.count)
            }
        }
    }
}
