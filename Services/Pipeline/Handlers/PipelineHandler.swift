import Crypto
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// `forge.pipeline.v1.Pipeline`: translates RPCs into store calls and rules. Calls to
/// forge-accounts go over the wire: as the service for what pipeline does on its own (an
/// existing customer's inquiry on its timeline), as the caller for what the caller asked
/// (a conversion creates the account in their name, a gate reads the contacts they may see).
struct PipelineHandler: Forge_Pipeline_V1_PipelineHandler {
    let database: DatabasePool
    let clock: any WallClock
    /// forge-accounts; nil when not configured (conversion and gates then answer UNAVAILABLE).
    let accounts: (any RPCChannel)?
    /// forge-orders, for the product master's prices; nil when not configured (a quote line
    /// then needs its own list price).
    var orders: (any RPCChannel)? = nil
    let settingsCache = PipelineStore.SettingsCache()
    /// Captures arrive together (a web form's burst, several reps at a trade show): they share
    /// transactions and their fsync, each in its own savepoint.
    let captures: GroupCommit

    init(database: DatabasePool, clock: any WallClock, accounts: (any RPCChannel)?, orders: (any RPCChannel)? = nil) {
        self.database = database
        self.clock = clock
        self.accounts = accounts
        self.orders = orders
        captures = GroupCommit(database: database)
    }

    var store: PipelineStore { PipelineStore(database: database, clock: clock) }
    var leads: LeadStore { LeadStore(database: database, clock: clock, settingsCache: settingsCache, captures: captures) }
    var opportunities: OpportunityStore { OpportunityStore(database: database, clock: clock) }

    static let accountsTimeout: Duration = .seconds(10)

    // MARK: Leads

    func captureLead(_ request: Forge_Pipeline_V1_CaptureLeadRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_CaptureLeadResponse {
        let principal = try context.caller()
        let now = clock.now()
        let violations = LeadRules.validate(capture: request.lead, now: now)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        return try await capture(LeadRules.normalizedCapture(request.lead, now: now), receivedAtGiven: request.lead.hasReceivedAt,
                                 context: context, principal: principal)
    }

    /// A validated, normalised lead: an existing customer's inquiry, else a repeat inquiry or
    /// a new lead.
    func capture(_ lead: Forge_Pipeline_V1_Lead, receivedAtGiven: Bool, context: ServerContext, principal: Principal,
                 importRow: LeadImports.Row? = nil) async throws -> Forge_Pipeline_V1_CaptureLeadResponse {
        let keys = LeadRules.Keys(lead)
        if let match = try database.pointRead({ db in try AccountsFeed.match(db, keys: keys) }) {
            return try await existingCustomerInquiry(lead, receivedAtGiven: receivedAtGiven, match: match, context: context,
                                                     principal: principal, importRow: importRow)
        }
        return try await leads.capture(lead, keys: keys, context: context, principal: principal, importRow: importRow)
    }

    /// An inquiry from a customer Forge already has: an activity on the account's timeline and
    /// a task for its owner, no lead. The activity carries an idempotency key (the caller's,
    /// else one made from the inquiry), so a retried capture logs it once.
    func existingCustomerInquiry(_ lead: Forge_Pipeline_V1_Lead, receivedAtGiven: Bool, match: AccountsFeed.Match, context: ServerContext,
                                         principal: Principal, importRow: LeadImports.Row?) async throws -> Forge_Pipeline_V1_CaptureLeadResponse {
        // The activity's time is the inquiry's when the caller gave it, else accounts' now: a
        // retry must send the same request for its key.
        let key = context.idempotencyKey.map { "lead-inquiry-\($0)" } ?? "lead-inquiry-" + Self.fingerprint(lead, receivedAtGiven: receivedAtGiven)
        let contactLine = [lead.contactName, lead.phone, lead.email, lead.wechatID.isEmpty ? "" : "微信 \(lead.wechatID)"]
            .filter { !$0.isEmpty }.joined(separator: "，")
        let activity = try await accountsCall("log the inquiry on the account") { client in
            try await client.logActivity(.with {
                $0.activity = .with {
                    $0.accountID = match.accountID
                    $0.kind = .note
                    $0.subject = "新询盘（\(storedText { PipelineLabels.source(lead.source) })）" + (lead.productLine.isEmpty ? "" : "：\(lead.productLine)")
                    $0.body = [lead.need, contactLine, lead.campaign.isEmpty ? "" : "活动：\(lead.campaign)", "由 \(principal.subject) 录入线索，匹配依据：\(match.reason)"]
                        .filter { !$0.isEmpty }.joined(separator: "\n")
                    if receivedAtGiven { $0.occurredAt = lead.receivedAt }
                }
            }, options: CallOptions(timeout: Self.accountsTimeout, metadata: [MetadataKey.idempotencyKey: key])).activity
        }
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            try PipelineStore.createTask(db, PipelineStore.task(
                id: "tsk_inquiry_\(activity.id)", owner: match.ownerID, title: "老客户新询盘：\(match.name)", kind: "existing_account_inquiry",
                due: now.addingTimeInterval(LeadStore.firstTouchWindow), now: now, accountID: match.accountID), at: now)
            let response = Forge_Pipeline_V1_CaptureLeadResponse.with {
                $0.outcome = .existingAccount
                $0.accountID = match.accountID
                $0.accountOwnerID = match.ownerID
                $0.activityID = activity.id
                $0.matchReason = match.reason
            }
            if let importRow { try LeadImports.record(db, importRow, response) }
            return response
        }
    }

    /// The inquiry's content, hashed: the same inquiry sent twice makes the same key.
    static func fingerprint(_ lead: Forge_Pipeline_V1_Lead, receivedAtGiven: Bool) -> String {
        let text = [lead.companyName, lead.contactName, lead.phone, lead.email, lead.wechatID, lead.region, lead.productLine,
                    lead.need, "\(lead.source.rawValue)", lead.campaign, receivedAtGiven ? "\(lead.receivedAt.seconds)" : ""].joined(separator: "\u{1F}")
        return SHA256.hash(data: Data(text.utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    func getLead(_ request: Forge_Pipeline_V1_GetLeadRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_GetLeadResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let lead = try await leads.visibleLead(id: request.id, principal: try context.caller())
        return .with { $0.lead = lead }
    }

    func listLeads(_ request: Forge_Pipeline_V1_ListLeadsRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_ListLeadsResponse {
        var violations: [FieldViolation] = []
        for (index, status) in request.statuses.enumerated() where ![.new, .working, .converted, .disqualified].contains(status) {
            violations.append(FieldViolation(field: "statuses[\(index)]", description: "is not a lead status"))
        }
        let page: Page
        do {
            page = try Page(request.page, isCursor: LeadStore.isPosition)
        } catch let error as RPCError {
            throw RPCError.invalidArgument(violations + error.violations)
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let found = try await leads.list(request, page: page, principal: try context.caller())
        return .with {
            $0.leads = found
            $0.page = page.response(next: found.last.map { "\($0.score)|\($0.id)" }, count: found.count)
        }
    }

    func touchLead(_ request: Forge_Pipeline_V1_TouchLeadRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_TouchLeadResponse {
        var violations: [FieldViolation] = []
        if request.id.isBlank { violations.append(FieldViolation(field: "id", description: "is required")) }
        if request.note.count > 2000 { violations.append(FieldViolation(field: "note", description: "must be at most 2,000 characters")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let note = request.note
        let lead = try await leads.update(id: request.id, context: context, principal: principal) { db, lead, now in
            guard LeadRules.openStatuses.contains(lead.status) else {
                throw RPCError(.failedPrecondition, "lead \(lead.id) is closed")
            }
            var changes = ["touch": note]
            changes.merge(try LeadStore.recordFirstTouch(db, &lead, at: now)) { $1 }
            var touched = lead
            touched.updatedAt = .init(date: now)
            try Outbox.append(db, Forge_Pipeline_V1_LeadTouched.with { $0.lead = touched }, accountID: lead.accountID, at: now)
            return changes
        }
        return .with { $0.lead = lead }
    }

    func reassignLead(_ request: Forge_Pipeline_V1_ReassignLeadRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_ReassignLeadResponse {
        var violations: [FieldViolation] = []
        if request.id.isBlank { violations.append(FieldViolation(field: "id", description: "is required")) }
        if request.ownerID.isBlank { violations.append(FieldViolation(field: "owner_id", description: "is required")) }
        if request.reason.count > 500 { violations.append(FieldViolation(field: "reason", description: "must be at most 500 characters")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let lead = try await leads.update(id: request.id, version: request.version, context: context, principal: principal) { db, lead, now in
            guard LeadRules.openStatuses.contains(lead.status) else { throw RPCError(.failedPrecondition, "lead \(lead.id) is closed") }
            guard lead.ownerID != request.ownerID else { throw RPCError(.failedPrecondition, "lead \(lead.id) is already \(request.ownerID)'s") }
            let previous = lead.ownerID
            lead.ownerID = request.ownerID
            if !request.team.isEmpty { lead.team = request.team }
            try LeadStore.adjustLoad(db, owner: previous, by: -1)
            let assignment = try LeadStore.assign(db, lead: lead, how: "manual", by: principal.subject, reason: request.reason, now: now)
            try LeadStore.adjustLoad(db, owner: lead.ownerID, by: 1, assignedSeq: assignment.seq)
            // The open reminders follow the lead.
            try PipelineStore.updateTasks(db, where: "lead_id = ? AND done = 0 AND owner_id = ?", [lead.id, previous]) { $0.ownerID = request.ownerID }
            try Outbox.append(db, Forge_Pipeline_V1_LeadAssigned.with { $0.assignment = assignment.record }, accountID: lead.accountID, at: now)
            return ["owner_id": lead.ownerID, "team": lead.team, "reason": request.reason]
        }
        return .with { $0.lead = lead }
    }

    func listLeadAssignments(_ request: Forge_Pipeline_V1_ListLeadAssignmentsRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_ListLeadAssignmentsResponse {
        guard !request.leadID.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "lead_id", description: "is required")]) }
        let assignments = try await leads.assignments(leadID: request.leadID, principal: try context.caller())
        return .with { $0.assignments = assignments }
    }

    func disqualifyLead(_ request: Forge_Pipeline_V1_DisqualifyLeadRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_DisqualifyLeadResponse {
        var violations: [FieldViolation] = []
        if request.id.isBlank { violations.append(FieldViolation(field: "id", description: "is required")) }
        let reason = request.reason.trimmed
        if reason.isEmpty { violations.append(FieldViolation(field: "reason", description: "is required")) }
        if reason.count > 500 { violations.append(FieldViolation(field: "reason", description: "must be at most 500 characters")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let lead = try await leads.update(id: request.id, version: request.version, context: context, principal: try context.caller()) { db, lead, now in
            try LeadStore.close(db, &lead, as: .disqualified, now: now)
            lead.disqualifiedReason = reason
            try Outbox.append(db, Forge_Pipeline_V1_LeadDisqualified.with { $0.lead = lead }, accountID: lead.accountID, at: now)
            return ["status": "DISQUALIFIED", "reason": reason]
        }
        return .with { $0.lead = lead }
    }

    // MARK: Settings

    func getPipelineSettings(_ request: Forge_Pipeline_V1_GetPipelineSettingsRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_GetPipelineSettingsResponse {
        let settings = try await store.settings()
        return .with { $0.settings = settings }
    }

    func updatePipelineSettings(_ request: Forge_Pipeline_V1_UpdatePipelineSettingsRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_UpdatePipelineSettingsResponse {
        let violations = SettingsRules.validate(request.settings)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let settings = try await store.updateSettings(request.settings, context: context)
        return .with { $0.settings = settings }
    }

    // MARK: Shared

    /// A call to forge-accounts; its being down is UNAVAILABLE naming what could not be done.
    func accountsCall<T: Sendable>(_ what: String, _ call: (Forge_Accounts_V1_AccountsClient) async throws -> T) async throws -> T {
        try await UpstreamCall.run("accounts", accounts, cannot: what) { try await call(Forge_Accounts_V1_AccountsClient(channel: $0)) }
    }

    /// Call options that act as the caller (their token), with an idempotency key.
    func asCaller(_ context: ServerContext, key: String? = nil) -> CallOptions {
        UpstreamCall.asCaller(context, timeout: Self.accountsTimeout, key: key)
    }
}

/// The roles of each pipeline method (DESIGN §9).
enum PipelineAccess {
    static func declare(in access: inout AccessTable) {
        let method = Forge_Pipeline_V1_PipelineService.Method.self
        let sales: Set<String> = [Role.salesManager, Role.salesRep]
        let readers: Set<String> = sales.union([Role.analyst, Role.finance, Role.marketing, Role.serviceManager, Role.serviceEngineer, Role.service])
        access.allow(method.captureLead, .roles(sales.union([Role.marketing])))
        access.allow(method.importLeads, .roles(sales.union([Role.marketing])))
        access.allow(method.getLead, .roles(sales.union([Role.marketing, Role.analyst])))
        access.allow(method.listLeads, .roles(sales.union([Role.marketing, Role.analyst])))
        access.allow(method.touchLead, .roles(sales))
        access.allow(method.reassignLead, .roles([Role.salesManager]))
        access.allow(method.listLeadAssignments, .roles(sales))
        access.allow(method.disqualifyLead, .roles(sales))
        access.allow(method.convertLead, .roles(sales))
        access.allow(method.getPipelineSettings, .roles(sales.union([Role.marketing])))
        access.allow(method.updatePipelineSettings, .roles([Role.salesManager]))
        access.allow(method.createOpportunity, .roles(sales))
        access.allow(method.getOpportunity, .roles(readers))
        access.allow(method.updateOpportunity, .roles(sales))
        access.allow(method.advanceStage, .roles(sales))
        access.allow(method.listOpportunities, .roles(readers))
        access.allow(method.getBoard, .roles(readers))
        access.allow(method.getForecast, .roles(sales.union([Role.finance, Role.analyst])))
        access.allow(method.createQuote, .roles(sales))
        access.allow(method.getQuote, .roles(readers))
        access.allow(method.listQuotes, .roles(readers))
        // Managers decide MANAGER-level discounts of their team; admins any (checked per quote).
        access.allow(method.decideQuote, .roles([Role.salesManager]))
        access.allow(method.sendQuote, .roles(sales))
        access.allow(method.recordQuoteAnswer, .roles(sales))
        access.allow(method.getAccountPipeline, .roles(readers))
        access.allow(method.listMyTasks, .roles(sales))
        access.allow(method.completeTask, .roles(sales))
    }
}
