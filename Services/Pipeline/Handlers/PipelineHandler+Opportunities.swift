import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf
import GRDB

extension PipelineHandler {
    func createOpportunity(_ request: Forge_Pipeline_V1_CreateOpportunityRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_CreateOpportunityResponse {
        let principal = try context.caller()
        let violations = OpportunityRules.validate(request.opportunity, isNew: true)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        // The account must be one the caller may see: accounts decides, as the caller.
        let account = try await accountsCall("check the account") { client in
            try await client.getAccount(.with { $0.id = request.opportunity.accountID }, options: asCaller(context)).account
        }
        var opportunity = request.opportunity
        opportunity.accountID = account.id
        opportunity.name = opportunity.name.trimmed
        opportunity.ownerID = principal.subject
        opportunity.team = principal.team
        opportunity.stage = .technicalConsultation
        opportunity.history = []
        opportunity.clearClosedAt()
        opportunity.lostReason = .unspecified
        opportunity.lostTo = ""
        let created = try await opportunities.create(opportunity, context: context)
        return .with { $0.opportunity = OpportunityRules.view(created, for: principal) }
    }

    func getOpportunity(_ request: Forge_Pipeline_V1_GetOpportunityRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_GetOpportunityResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let principal = try context.caller()
        let opportunity = try await opportunities.visible(id: request.id, principal: principal)
        return .with { $0.opportunity = OpportunityRules.view(opportunity, for: principal) }
    }

    func updateOpportunity(_ request: Forge_Pipeline_V1_UpdateOpportunityRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_UpdateOpportunityResponse {
        let principal = try context.caller()
        var violations = OpportunityRules.validate(request.opportunity, isNew: false)
        if request.opportunity.version <= 0 {
            violations.append(FieldViolation(field: "opportunity.version", description: "is required (the version read)"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        var edit = request.opportunity
        edit.name = edit.name.trimmed
        let updated = try await opportunities.update(edit, context: context, principal: principal)
        return .with { $0.opportunity = OpportunityRules.view(updated, for: principal) }
    }

    func advanceStage(_ request: Forge_Pipeline_V1_AdvanceStageRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_AdvanceStageResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let principal = try context.caller()
        let current = try await opportunities.visible(id: request.id, principal: principal)
        var facts = StageRules.Facts()
        if StageRules.needsDecisionMaker(from: current.stage, to: request.stage) {
            facts.hasDecisionMaker = try await hasDecisionMaker(accountID: current.accountID, context: context)
        }
        let moved = try await opportunities.advance(request, facts: facts, context: context, principal: principal)
        return .with { $0.opportunity = OpportunityRules.view(moved, for: principal) }
    }

    /// Whether the account has a decision maker among its contacts (the solution-design gate),
    /// read from forge-accounts as the caller.
    func hasDecisionMaker(accountID: String, context: ServerContext) async throws -> Bool {
        try await accountsCall("check the account's contacts for a decision maker") { client in
            var token = ""
            repeat {
                let page = try await client.listContacts(.with {
                    $0.accountID = accountID
                    $0.page.pageSize = Int32(Page.maxSize)
                    $0.page.pageToken = token
                }, options: asCaller(context))
                if page.contacts.contains(where: { $0.buyingRole == .decisionMaker }) { return true }
                token = page.page.nextPageToken
            } while !token.isEmpty
            return false
        }
    }

    func listOpportunities(_ request: Forge_Pipeline_V1_ListOpportunitiesRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_ListOpportunitiesResponse {
        let principal = try context.caller()
        let page = try Page(request.page) { $0.hasPrefix("opp_") }
        let found = try await opportunities.list(request, page: page, principal: principal)
        return .with {
            $0.opportunities = found.map { OpportunityRules.view($0, for: principal) }
            $0.page = page.response(next: found.last?.id, count: found.count)
        }
    }

    func getBoard(_ request: Forge_Pipeline_V1_GetBoardRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_GetBoardResponse {
        var violations: [FieldViolation] = []
        if !(0...100).contains(request.perStage) { violations.append(FieldViolation(field: "per_stage", description: "must be 0 (25) to 100 deals per stage")) }
        if request.stage != .unspecified && !PipelineStages.open.contains(request.stage) { violations.append(FieldViolation(field: "stage", description: "must be an open stage (the board has no won or lost column)")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let columns = try await opportunities.board(perStage: request.perStage == 0 ? 25 : Int(request.perStage), ownerID: request.ownerID,
                                                    only: request.stage == .unspecified ? nil : request.stage, principal: principal)
        return .with { $0.columns = columns }
    }

    func getForecast(_ request: Forge_Pipeline_V1_GetForecastRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_GetForecastResponse {
        let principal = try context.caller()
        let window = try ForecastRules.window(from: request.fromMonth, to: request.toMonth, now: clock.now())
        return try await Forecast(database: database).report(request, window: window, principal: principal)
    }

    // MARK: Tasks

    func listMyTasks(_ request: Forge_Pipeline_V1_ListMyTasksRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_ListMyTasksResponse {
        let principal = try context.caller()
        let page = try Page(request.page) { TaskQueries.position($0) != nil }
        let tasks = try await database.read { db in
            try TaskQueries.mine(db, owner: principal.subject, includeDone: request.includeDone, page: page)
        }
        return .with {
            $0.tasks = tasks
            $0.page = page.response(next: tasks.last.map { TaskQueries.cursor($0) }, count: tasks.count)
        }
    }

    func completeTask(_ request: Forge_Pipeline_V1_CompleteTaskRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_CompleteTaskResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let principal = try context.caller()
        let now = clock.now()
        let task = try await database.write(recordingIdempotencyOf: context, at: now) { db in
            // A NEW lead's first-touch reminder: done means the lead had its first contact.
            if let leadID = LeadStore.leadID(ofFirstTouchTask: request.id), var lead = try LeadStore.lead(db, id: leadID),
               lead.ownerID == principal.subject, lead.status == .new {
                let changes = try LeadStore.recordFirstTouch(db, &lead, at: now).merging(["touch": "first-touch task done"]) { $1 }
                try LeadStore.saveChanged(db, &lead, changes: changes, context: context, at: now)
                try Outbox.append(db, Forge_Pipeline_V1_LeadTouched.with { $0.lead = lead }, accountID: lead.accountID, at: now)
            }
            // Already done: answered as it is, nothing recorded again.
            let open = try PipelineStore.updateTasks(db, where: "id = ? AND owner_id = ? AND done = 0", [request.id, principal.subject]) { $0.markDone(at: now) }
            guard let task = open.first else {
                guard let payload = try Data.fetchOne(db, sql: "SELECT payload FROM task WHERE id = ? AND owner_id = ?", arguments: [request.id, principal.subject]) else {
                    throw RPCError(.notFound, "task \(request.id) not found")
                }
                return try Forge_Pipeline_V1_Task(serializedBytes: payload)
            }
            try AuditLog.record(db, context: context, recordID: task.id, changes: ["done": "true"], at: now)
            return task
        }
        return .with { $0.task = task }
    }
}

/// My tasks: open ones by due date (so the overdue come first), then, when asked, done ones —
/// the task rows and the first-touch reminders of my NEW leads (`LeadStore.firstTouchTask`),
/// in one order.
enum TaskQueries {
    static func mine(_ db: Database, owner: String, includeDone: Bool, page: Page) throws -> [Forge_Pipeline_V1_Task] {
        var taskClauses = ["owner_id = ?"]
        var taskArguments: StatementArguments = [owner]
        var leadClauses = ["owner_id = ?", "status = 1"]
        var leadArguments: StatementArguments = [owner]
        if !includeDone { taskClauses.append("done = 0") }
        if let (done, due, id) = page.cursor.flatMap(position) {
            taskClauses.append("(done > ? OR done = ? AND (due_at > ? OR due_at = ? AND id > ?))")
            taskArguments += [done, done, due, due, id]
            // A reminder is an open task: none comes after a done one.
            leadClauses.append("? = 0 AND (first_touch_due > ? OR first_touch_due = ? AND 'tsk_touch_' || id > ?)")
            leadArguments += [done, due, due, id]
        }
        // Each side in its index's order, limited, then merged: neither reads more than a page.
        let sql = """
            SELECT * FROM (SELECT done, due_at, id, payload, 0 FROM task WHERE \(taskClauses.joined(separator: " AND "))
                           ORDER BY done, due_at, id LIMIT ?)
            UNION ALL
            SELECT * FROM (SELECT 0, first_touch_due, 'tsk_touch_' || id, payload, 1 FROM lead WHERE \(leadClauses.joined(separator: " AND "))
                           ORDER BY first_touch_due, id LIMIT ?)
            ORDER BY 1, 2, 3 LIMIT ?
            """
        let rows = try Row.fetchAll(db, sql: sql, arguments: taskArguments + [page.size] + leadArguments + [page.size, page.size])
        return try rows.map { row in
            row[4] as Int == 1
                ? LeadStore.firstTouchTask(try Forge_Pipeline_V1_Lead(serializedBytes: row[3] as Data))
                : try Forge_Pipeline_V1_Task(serializedBytes: row[3] as Data)
        }
    }

    static func cursor(_ task: Forge_Pipeline_V1_Task) -> String {
        "\(task.done ? 1 : 0)|\(task.dueAt.date.timeIntervalSince1970)|\(task.id)"
    }

    static func position(_ cursor: String) -> (Int, Double, String)? {
        let parts = cursor.split(separator: "|", maxSplits: 2).map(String.init)
        guard parts.count == 3, let done = Int(parts[0]), (0...1).contains(done), let due = Double(parts[1]), parts[2].hasPrefix("tsk_") else { return nil }
        return (done, due, parts[2])
    }
}
