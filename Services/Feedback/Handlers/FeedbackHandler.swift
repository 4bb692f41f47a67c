import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// `forge.feedback.v1.Feedback`: translates RPCs into store calls and rules. The closed loop's
/// and the ideas' RPCs are in FeedbackHandler+Loop.swift.
struct FeedbackHandler: Forge_Feedback_V1_FeedbackHandler {
    typealias Survey = Forge_Feedback_V1_Survey

    let database: DatabasePool
    let clock: any WallClock
    /// forge-accounts, called with the caller's identity (a campaign's or a report's segment).
    let accounts: (any RPCChannel)?
    /// A day of the rules' delays, in seconds (FORGE_DAY_SECONDS; 86,400 but in tests).
    let day: TimeInterval
    /// Customers' answers arrive together (a campaign's morning): they share transactions.
    let answers: GroupCommit

    init(database: DatabasePool, clock: any WallClock, accounts: (any RPCChannel)?, day: TimeInterval = 86_400) {
        self.database = database
        self.clock = clock
        self.accounts = accounts
        self.day = day
        answers = GroupCommit(database: database)
    }

    static let accountsTimeout: Duration = .seconds(10)

    // MARK: Settings

    func getFeedbackSettings(_ request: Forge_Feedback_V1_GetFeedbackSettingsRequest, context: ServerContext) async throws -> Forge_Feedback_V1_GetFeedbackSettingsResponse {
        try await database.read { db in try .with { $0.settings = try FeedbackStore.settings(db) } }
    }

    func updateFeedbackSettings(_ request: Forge_Feedback_V1_UpdateFeedbackSettingsRequest, context: ServerContext) async throws -> Forge_Feedback_V1_UpdateFeedbackSettingsResponse {
        let violations = SurveyRules.validateSettings(request.settings)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var settings = request.settings
            let current = try FeedbackStore.settings(db)
            guard settings.version == current.version else {
                throw RPCError(.aborted, "the settings changed since version \(settings.version) (now \(current.version)): read them again")
            }
            settings.version = current.version + 1
            try FeedbackStore.saveSettings(db, settings)
            try AuditLog.record(db, context: context, recordID: "settings", changes: ["version": "\(settings.version)"], at: now)
            return .with { $0.settings = settings }
        }
    }

    // MARK: Surveys

    func scheduleSurvey(_ request: Forge_Feedback_V1_ScheduleSurveyRequest, context: ServerContext) async throws -> Forge_Feedback_V1_ScheduleSurveyResponse {
        let now = clock.now()
        let violations = SurveyRules.validateSchedule(request.survey, now: now)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            guard let account = try AccountDirectory.entry(db, accountID: request.survey.accountID),
                  OwnerScope.canSee(owner: account.ownerID, team: account.team, principal: principal) else {
                throw RPCError.invalidArgument([FieldViolation(field: "survey.account_id", description: "is not a known account")])
            }
            guard try Self.contactAccount(db, request.survey.contactID) == request.survey.accountID else {
                throw RPCError(.notFound, "no contact \(request.survey.contactID) at account \(request.survey.accountID)", violations: [FieldViolation(field: "survey.contact_id", description: "is not a contact of account \(request.survey.accountID)")])
            }
            var requested = request.survey
            requested.campaignID = ""
            let survey = try SurveyStore.schedule(db, requested, trigger: .manual, createdBy: principal.subject, now: now)!
            try AuditLog.record(db, context: context, recordID: survey.id, changes: ["scheduled": SurveyRules.day(survey.sendAt.date)], at: now)
            return .with { $0.survey = survey }
        }
    }

    static func contactAccount(_ db: Database, _ contactID: String) throws -> String {
        try String.fetchOne(db, sql: "SELECT account_id FROM contact WHERE id = ?", arguments: [contactID]) ?? ""
    }

    /// A survey to the main contact of each account of the segment (read from forge-accounts
    /// as the caller, so a campaign reaches only accounts the caller may see) or of the listed
    /// accounts; accounts without a contact are listed as skipped.
    func createCampaign(_ request: Forge_Feedback_V1_CreateCampaignRequest, context: ServerContext) async throws -> Forge_Feedback_V1_CreateCampaignResponse {
        let now = clock.now()
        var requested = request.campaign
        var violations: [FieldViolation] = []
        if requested.name.isBlank { violations.append(FieldViolation(field: "campaign.name", description: "is required")) }
        if requested.kind != .nps && requested.kind != .csat { violations.append(FieldViolation(field: "campaign.kind", description: "is required: NPS or CSAT")) }
        if requested.segmentID.isBlank == requested.accountIds.isEmpty {
            violations.append(FieldViolation(field: "campaign.segment_id", description: "give a segment or a list of account_ids (one of the two)"))
        }
        if requested.accountIds.count > 5000 { violations.append(FieldViolation(field: "campaign.account_ids", description: "lists more than 5,000 accounts; use a segment")) }
        if !["", "zh", "en"].contains(requested.locale) { violations.append(FieldViolation(field: "campaign.locale", description: "must be zh or en")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        if !requested.segmentID.isBlank {
            requested.accountIds = try await segmentAccounts(requested.segmentID, context: context)
        }
        let campaign = requested
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var created = campaign
            created.id = EventID.make(prefix: "cmp", at: now)
            created.createdBy = principal.subject
            created.createdAt = .init(date: now)
            if !created.hasSendAt || created.sendAt.date < now { created.sendAt = .init(date: now) }
            for accountID in Set(campaign.accountIds).sorted() {
                guard let account = try AccountDirectory.entry(db, accountID: accountID),
                      OwnerScope.canSee(owner: account.ownerID, team: account.team, principal: principal) else {
                    created.skipped.append(.with { $0.accountID = accountID; $0.reason = "not a known account" })
                    continue
                }
                guard let contact = try FeedbackStore.mainContact(db, accountID: accountID) else {
                    created.skipped.append(.with { $0.accountID = accountID; $0.reason = "the account has no contact" })
                    continue
                }
                try SurveyStore.schedule(db, .with {
                    $0.accountID = accountID
                    $0.contactID = contact.id
                    $0.kind = campaign.kind
                    $0.sendAt = created.sendAt
                    $0.locale = campaign.locale
                    $0.campaignID = created.id
                    $0.reference = created.name
                }, trigger: .campaign, sourceKey: "campaign|\(created.id)|\(accountID)", createdBy: principal.subject, now: now)
                created.surveys += 1
            }
            try db.execute(sql: "INSERT INTO campaign (id, created_at, payload) VALUES (?, ?, ?)",
                           arguments: [created.id, now.timeIntervalSince1970, try created.serializedData()])
            try Outbox.append(db, Forge_Feedback_V1_CampaignCreated.with { $0.campaign = created }, at: now)
            return .with { $0.campaign = created }
        }
    }

    /// The ids of a segment's accounts, every page, as the caller sees them.
    func segmentAccounts(_ segmentID: String, context: ServerContext) async throws -> [String] {
        try await UpstreamCall.run("accounts", accounts, cannot: "read segment \(segmentID)") { channel in
            let client = Forge_Accounts_V1_AccountsClient(channel: channel)
            var ids: [String] = []
            var token = ""
            repeat {
                let page = try await client.listSegmentAccounts(.with {
                    $0.segmentID = segmentID
                    $0.page.pageSize = 500
                    $0.page.pageToken = token
                }, options: UpstreamCall.asCaller(context, timeout: Self.accountsTimeout))
                ids += page.accounts.map(\.id)
                token = page.page.nextPageToken
            } while !token.isEmpty && ids.count < 100_000
            return ids
        }
    }

    func listCampaigns(_ request: Forge_Feedback_V1_ListCampaignsRequest, context: ServerContext) async throws -> Forge_Feedback_V1_ListCampaignsResponse {
        let page = try Page(request.page) { $0.hasPrefix("cmp") }
        return try await database.read { db in
            let found = try Data.fetchAll(db, sql: "SELECT payload FROM campaign WHERE (? = '' OR id < ?) ORDER BY id DESC LIMIT ?",
                                          arguments: [page.after, page.after, page.size]).map { try Forge_Feedback_V1_Campaign(serializedBytes: $0) }
            return .with {
                $0.campaigns = found
                $0.page = page.response(next: found.last?.id, count: found.count)
            }
        }
    }

    /// A survey `principal` may see, or NOT_FOUND.
    static func visibleSurvey(_ db: Database, _ id: String, principal: Principal) throws -> Survey {
        guard let survey = try SurveyStore.byID(db, id), OwnerScope.canSee(owner: survey.ownerID, team: survey.team, principal: principal) else {
            throw RPCError(.notFound, "survey \(id) not found")
        }
        return survey
    }

    /// Field-level rules (DESIGN §9): analysts see no contact details; marketing sees only
    /// contacts who consented.
    static func masked(_ db: Database, _ survey: Survey, principal: Principal) throws -> Survey {
        var survey = survey
        let companyWide = !principal.roles.isDisjoint(with: [Role.admin, Role.salesManager, Role.salesRep, Role.serviceManager, Role.serviceEngineer, Role.service])
        guard !companyWide, !survey.contactID.isEmpty else { return survey }
        let consented = try FeedbackStore.contact(db, survey.contactID)?.consent ?? false
        if principal.roles.contains(Role.analyst) || !consented {
            survey.contactID = ""
            survey.contactName = ""
        }
        return survey
    }

    func getSurvey(_ request: Forge_Feedback_V1_GetSurveyRequest, context: ServerContext) async throws -> Forge_Feedback_V1_GetSurveyResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.read { db in
            try .with { $0.survey = SurveyStore.view(try Self.masked(db, try Self.visibleSurvey(db, request.id, principal: principal), principal: principal), now: now) }
        }
    }

    func listSurveys(_ request: Forge_Feedback_V1_ListSurveysRequest, context: ServerContext) async throws -> Forge_Feedback_V1_ListSurveysResponse {
        let page = try Page(request.page) { Int64($0) != nil }
        var violations: [FieldViolation] = []
        if request.query.count > 100 { violations.append(FieldViolation(field: "query", description: "is longer than 100 characters")) }
        if request.hasFrom, request.hasTo, request.to.date <= request.from.date { violations.append(FieldViolation(field: "to", description: "must be after from")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let now = clock.now()
        let filter = SurveyStore.Filter(accountID: request.accountID, states: request.states, kind: request.kind, classes: request.scoreClasses,
                                        query: request.query, tag: request.tag, campaignID: request.campaignID, region: request.region,
                                        from: request.hasFrom ? request.from.date : nil, to: request.hasTo ? request.to.date : nil)
        return try await database.read { db in
            let found = try SurveyStore.list(db, filter, principal: principal, before: page.cursor.flatMap { Int64($0) }, limit: page.size)
            return try .with {
                $0.surveys = try found.map { SurveyStore.view(try Self.masked(db, $0.survey, principal: principal), now: now) }
                $0.page = page.response(next: found.last.map { String($0.rowid) }, count: found.count)
            }
        }
    }

    func getSurveyLink(_ request: Forge_Feedback_V1_GetSurveyLinkRequest, context: ServerContext) async throws -> Forge_Feedback_V1_GetSurveyLinkResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.read { db in
            let survey = SurveyStore.view(try Self.visibleSurvey(db, request.id, principal: principal), now: now)
            guard survey.state == .sent else {
                throw RPCError(.failedPrecondition, "survey \(request.id) is \(SurveyStore.stateName(survey.state)); only a sent survey has an open link")
            }
            return try .with {
                $0.path = try SurveyStore.link(db, survey)
                $0.expiresAt = survey.expiresAt
            }
        }
    }

    func cancelSurvey(_ request: Forge_Feedback_V1_CancelSurveyRequest, context: ServerContext) async throws -> Forge_Feedback_V1_CancelSurveyResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            _ = try Self.visibleSurvey(db, request.id, principal: principal)
            let survey = try SurveyStore.cancel(db, id: request.id, reason: request.reason, now: now)
            try AuditLog.record(db, context: context, recordID: survey.id, changes: ["cancelled": request.reason], at: now)
            return .with { $0.survey = survey }
        }
    }

    // MARK: The public page

    func openSurvey(_ request: Forge_Feedback_V1_OpenSurveyRequest, context: ServerContext) async throws -> Forge_Feedback_V1_OpenSurveyResponse {
        guard !request.token.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "token", description: "is required")]) }
        let now = clock.now()
        return try await database.read { db in try SurveyStore.open(db, token: request.token, now: now) }
    }

    func answerSurvey(_ request: Forge_Feedback_V1_AnswerSurveyRequest, context: ServerContext) async throws -> Forge_Feedback_V1_AnswerSurveyResponse {
        guard !request.surveyToken.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "survey_token", description: "is required")]) }
        let now = clock.now()
        let day = self.day
        return try await answers.write { db in
            try .with { $0.survey = try SurveyStore.answer(db, token: request.surveyToken, score: request.score, comment: request.comment, channel: request.channel,
                                                       now: now, day: day) }
        }
    }

    func importAnswers(_ request: Forge_Feedback_V1_ImportAnswersRequest, context: ServerContext) async throws -> Forge_Feedback_V1_ImportAnswersResponse {
        guard request.answers.count <= 1000 else {
            throw RPCError.invalidArgument([FieldViolation(field: "answers", description: "at most 1,000 per call (\(request.answers.count) given)")])
        }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var response = Forge_Feedback_V1_ImportAnswersResponse()
            for (index, answer) in request.answers.enumerated() {
                let field = "answers[\(index)]"
                var violations: [FieldViolation] = []
                if answer.key.isBlank { violations.append(FieldViolation(field: "\(field).key", description: "is required")) }
                if answer.kind != .nps && answer.kind != .csat { violations.append(FieldViolation(field: "\(field).kind", description: "is required: NPS or CSAT")) }
                else { violations += SurveyRules.validateScore(answer.kind, answer.score, field: "\(field).score") }
                if !answer.hasAnsweredAt || answer.answeredAt.date > now { violations.append(FieldViolation(field: "\(field).answered_at", description: "is required and not in the future")) }
                if try AccountDirectory.entry(db, accountID: answer.accountID) == nil {
                    violations.append(FieldViolation(field: "\(field).account_id", description: "is not a known account"))
                }
                if answer.comment.count > SurveyRules.maxComment { violations.append(FieldViolation(field: "\(field).comment", description: "is too long")) }
                guard violations.isEmpty else {
                    response.rejected += violations.map { "\($0.field): \($0.description)" }
                    continue
                }
                if try SurveyStore.importAnswer(db, answer, importedBy: principal.subject, now: now) != nil {
                    response.recorded += 1
                } else {
                    response.alreadyRecorded += 1
                }
            }
            return response
        }
    }

    // MARK: Reports

    func getNps(_ request: Forge_Feedback_V1_GetNpsRequest, context: ServerContext) async throws -> Forge_Feedback_V1_GetNpsResponse {
        var violations: [FieldViolation] = []
        if request.groupBy.count > 2 { violations.append(FieldViolation(field: "group_by", description: "at most two groupings")) }
        for (index, grouping) in request.groupBy.enumerated() where NpsQuery.column(grouping, time: "answered_at") == nil {
            violations.append(FieldViolation(field: "group_by[\(index)]", description: "is not a grouping: region, industry, product_line, tier, team or month"))
        }
        if request.hasFrom, request.hasTo, request.to.date <= request.from.date { violations.append(FieldViolation(field: "to", description: "must be after from")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        var filter = NpsQuery.Filter(region: request.region, industry: request.industry, productLine: request.productLine, tier: request.tier, team: request.team,
                                     from: request.hasFrom ? request.from.date : nil, to: request.hasTo ? request.to.date : nil)
        if !request.segmentID.isEmpty { filter.accountIDs = try await segmentAccounts(request.segmentID, context: context) }
        if !request.accountID.isEmpty { filter.accountIDs = (filter.accountIDs ?? [request.accountID]).filter { $0 == request.accountID } }
        let query = filter
        return try await database.read { db in try NpsQuery.report(db, query, groupBy: request.groupBy, principal: principal) }
    }

    func getAccountFeedback(_ request: Forge_Feedback_V1_GetAccountFeedbackRequest, context: ServerContext) async throws -> Forge_Feedback_V1_GetAccountFeedbackResponse {
        guard !request.accountID.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "account_id", description: "is required")]) }
        let principal = try context.caller()
        let now = clock.now()
        return try database.pointRead { db in
            if let account = try AccountDirectory.entry(db, accountID: request.accountID),
               !OwnerScope.canSee(owner: account.ownerID, team: account.team, principal: principal) {
                throw RPCError(.notFound, "account \(request.accountID) not found")
            }
            let year = NpsQuery.Filter(accountIDs: [request.accountID], from: now.addingTimeInterval(-365 * 86_400))
            let latest = try SurveyStore.list(db, .init(accountID: request.accountID, states: [.answered]), principal: principal, before: nil, limit: 10)
            return try .with {
                $0.figures = try NpsQuery.report(db, year, groupBy: [], principal: principal).overall
                $0.latest = try latest.map { try Self.masked(db, $0.survey, principal: principal) }
                $0.openFollowUps = try LoopStore.listFollowUps(db, states: [.open, .escalated], ownerID: "", accountID: request.accountID,
                                                               principal: principal, after: "", limit: 20)
                $0.ideas = try IdeaStore.list(db, statuses: [], accountID: request.accountID, productLine: "", after: "", limit: 10)
            }
        }
    }
}

/// The roles of each feedback method (DESIGN §9).
enum FeedbackAccess {
    static func declare(in access: inout AccessTable) {
        let method = Forge_Feedback_V1_FeedbackService.Method.self
        let staff: Set<String> = [Role.salesManager, Role.salesRep, Role.marketing, Role.serviceManager, Role.serviceEngineer]
        let readers = staff.union([Role.analyst, Role.service])
        let managers: Set<String> = [Role.marketing, Role.salesManager, Role.serviceManager]
        access.allow(method.getFeedbackSettings, .roles(readers))
        access.allow(method.updateFeedbackSettings, .roles([Role.marketing]))
        access.allow(method.scheduleSurvey, .roles(staff))
        access.allow(method.createCampaign, .roles(managers))
        access.allow(method.listCampaigns, .roles(readers))
        access.allow(method.getSurvey, .roles(readers))
        access.allow(method.listSurveys, .roles(readers))
        access.allow(method.getSurveyLink, .roles(staff))
        access.allow(method.cancelSurvey, .roles(staff))
        // The public page: the gateway calls with its service identity for a customer holding
        // a link; the link's token is the customer's only credential.
        access.allow(method.openSurvey, .roles([Role.service]))
        access.allow(method.answerSurvey, .roles([Role.service]))
        access.allow(method.importAnswers, .roles(managers))
        access.allow(method.listFollowUps, .roles(readers))
        access.allow(method.getFollowUp, .roles(readers))
        access.allow(method.closeFollowUp, .roles(staff))
        access.allow(method.listAdvocacy, .roles(readers))
        access.allow(method.recordAdvocacy, .roles(staff))
        access.allow(method.submitIdea, .roles(staff))
        access.allow(method.voteIdea, .roles(staff))
        access.allow(method.updateIdeaStatus, .roles(managers))
        access.allow(method.listIdeas, .roles(readers))
        access.allow(method.getNps, .roles(readers.union([Role.finance])))
        access.allow(method.getAccountFeedback, .roles(readers.union([Role.finance])))
    }
}
