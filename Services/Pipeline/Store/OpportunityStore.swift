import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Opportunities: their stages with history and timers, and the forecast over them.
struct OpportunityStore: Sendable {
    let database: DatabasePool
    let clock: any WallClock

    static let stageTimerJob = "opportunity-stage-timer"

    // MARK: Rows

    static func write(_ db: Database, _ opportunity: Forge_Pipeline_V1_Opportunity) throws {
        try db.execute(cached: """
            INSERT INTO opportunity (id, account_id, owner_id, team, stage, amount_micros, currency, probability, expected_close,
                                     forecast_category, lead_id, stage_entered_at, created_at, closed_at, version, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET account_id = excluded.account_id, owner_id = excluded.owner_id, team = excluded.team,
                stage = excluded.stage, amount_micros = excluded.amount_micros, currency = excluded.currency,
                probability = excluded.probability, expected_close = excluded.expected_close,
                forecast_category = excluded.forecast_category, stage_entered_at = excluded.stage_entered_at,
                closed_at = excluded.closed_at, version = excluded.version, payload = excluded.payload
            """, arguments: [
                opportunity.id, opportunity.accountID, opportunity.ownerID, opportunity.team, opportunity.stage.rawValue,
                opportunity.amount.amountMicros, opportunity.amount.currencyCode.isEmpty ? "CNY" : opportunity.amount.currencyCode,
                opportunity.probabilityPercent, opportunity.hasExpectedClose ? opportunity.expectedClose.date.timeIntervalSince1970 : nil,
                opportunity.forecastCategory.rawValue, opportunity.leadID, opportunity.stageEnteredAt.date.timeIntervalSince1970,
                opportunity.createdAt.date.timeIntervalSince1970, opportunity.hasClosedAt ? opportunity.closedAt.date.timeIntervalSince1970 : nil,
                opportunity.version, try opportunity.serializedData(),
            ])
        try db.execute(cached: "DELETE FROM opportunity_product_line WHERE opportunity_id = ?", arguments: [opportunity.id])
        for line in Set(opportunity.productLines) where !line.isEmpty {
            try db.execute(cached: "INSERT INTO opportunity_product_line (opportunity_id, product_line) VALUES (?, ?)", arguments: [opportunity.id, line])
        }
    }

    static func opportunity(_ db: Database, id: String) throws -> Forge_Pipeline_V1_Opportunity? {
        try Data.fetchOne(db, sql: "SELECT payload FROM opportunity WHERE id = ?", arguments: [id])
            .map { try Forge_Pipeline_V1_Opportunity(serializedBytes: $0) }
    }

    static func visible(_ db: Database, id: String, principal: Principal) throws -> Forge_Pipeline_V1_Opportunity {
        guard let opportunity = try opportunity(db, id: id),
              OwnerScope.canSee(owner: opportunity.ownerID, team: opportunity.team, principal: principal)
        else { throw RPCError(.notFound, "opportunity \(id) not found") }
        return opportunity
    }

    func visible(id: String, principal: Principal) async throws -> Forge_Pipeline_V1_Opportunity {
        try await database.read { db in try Self.visible(db, id: id, principal: principal) }
    }

    // MARK: Changes

    /// Stores a new opportunity in its first stage with its timer and event.
    static func insert(_ db: Database, _ opportunity: inout Forge_Pipeline_V1_Opportunity, now: Date) throws {
        if opportunity.stage == .unspecified { opportunity.stage = .technicalConsultation }
        if opportunity.probabilityPercent == 0 { opportunity.probabilityPercent = StageRules.defaultProbability(opportunity.stage) }
        if opportunity.forecastCategory == .unspecified { opportunity.forecastCategory = .pipeline }
        if opportunity.hasAmount, opportunity.amount.currencyCode.isEmpty { opportunity.amount.currencyCode = "CNY" }
        opportunity.stageEnteredAt = .init(date: now)
        opportunity.createdAt = .init(date: now)
        opportunity.version = 1
        try write(db, opportunity)
        try scheduleStageTimer(db, opportunity, now: now)
        try Outbox.append(db, Forge_Pipeline_V1_OpportunityCreated.with { $0.opportunity = opportunity }, accountID: opportunity.accountID, at: now)
    }

    func create(_ requested: Forge_Pipeline_V1_Opportunity, context: ServerContext) async throws -> Forge_Pipeline_V1_Opportunity {
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var opportunity = requested
            opportunity.id = EventID.make(prefix: "opp", at: now)
            try Self.insert(db, &opportunity, now: now)
            try AuditLog.record(db, context: context, recordID: opportunity.id, changes: ["stage": "\(opportunity.stage.rawValue)"], at: now)
            return opportunity
        }
    }

    /// Takes the editable fields (name, amount, probability, close date, product lines,
    /// competitors, forecast category, primary contact) with a version check.
    func update(_ edit: Forge_Pipeline_V1_Opportunity, context: ServerContext, principal: Principal) async throws -> Forge_Pipeline_V1_Opportunity {
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var opportunity = try Self.visible(db, id: edit.id, principal: principal)
            guard edit.version == opportunity.version else {
                throw RPCError(.aborted, "opportunity \(edit.id) changed since version \(edit.version) (now \(opportunity.version)): read it again")
            }
            guard StageRules.isOpen(opportunity.stage) else {
                throw RPCError(.failedPrecondition, "the opportunity is closed (\(PipelineLabels.stage(opportunity.stage)))")
            }
            let before = opportunity
            opportunity.name = edit.name
            if OpportunityRules.maySeeAmounts(principal) {
                if edit.hasAmount { opportunity.amount = edit.amount } else { opportunity.clearAmount() }
                if opportunity.hasAmount, opportunity.amount.currencyCode.isEmpty { opportunity.amount.currencyCode = "CNY" }
            }
            opportunity.probabilityPercent = edit.probabilityPercent == 0 ? StageRules.defaultProbability(opportunity.stage) : edit.probabilityPercent
            if edit.hasExpectedClose { opportunity.expectedClose = edit.expectedClose } else { opportunity.clearExpectedClose() }
            opportunity.productLines = edit.productLines
            opportunity.competitors = edit.competitors
            if edit.forecastCategory != .unspecified { opportunity.forecastCategory = edit.forecastCategory }
            opportunity.primaryContactID = edit.primaryContactID
            opportunity.version += 1
            try Self.write(db, opportunity)
            try Outbox.append(db, Forge_Pipeline_V1_OpportunityUpdated.with { $0.opportunity = opportunity }, accountID: opportunity.accountID, at: now)
            try AuditLog.record(db, context: context, recordID: opportunity.id, changes: OpportunityRules.changes(from: before, to: opportunity), at: now)
            return opportunity
        }
    }

    /// Moves to `target` after the gates (checked again inside the transaction, against the
    /// opportunity and its quotes as they are now), with the stage history, the new timer and
    /// the events.
    func advance(
        _ request: Forge_Pipeline_V1_AdvanceStageRequest,
        facts requestFacts: StageRules.Facts,
        context: ServerContext,
        principal: Principal
    ) async throws -> Forge_Pipeline_V1_Opportunity {
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var opportunity = try Self.visible(db, id: request.id, principal: principal)
            if request.version != 0, request.version != opportunity.version {
                throw RPCError(.aborted, "opportunity \(request.id) changed since version \(request.version) (now \(opportunity.version)): read it again")
            }
            var facts = requestFacts
            facts.quoteStatuses = Set(try QuoteStore.quotes(db, opportunityID: opportunity.id).map(\.status))
            try StageRules.checkMove(opportunity, to: request.stage, lostReason: request.lostReason, lostTo: request.lostTo, facts: facts)
            if request.stage == .lost {
                opportunity.lostReason = request.lostReason
                opportunity.lostTo = request.lostTo.trimmingCharacters(in: .whitespaces)
            }
            try Self.move(db, &opportunity, to: request.stage, by: principal.subject, now: now)
            if request.stage == .lost {
                try Outbox.append(db, Forge_Pipeline_V1_OpportunityLost.with { $0.opportunity = opportunity }, accountID: opportunity.accountID, at: now)
                for var quote in try QuoteStore.quotes(db, opportunityID: opportunity.id) where QuoteStore.open.contains(quote.status) {
                    quote.status = .superseded
                    quote.version += 1
                    try QuoteStore.write(db, quote)
                    try QuoteStore.stopCadence(db, quote, now: now)
                }
            }
            try AuditLog.record(db, context: context, recordID: opportunity.id, changes: ["stage": "\(request.stage.rawValue)"], at: now)
            return opportunity
        }
    }

    /// The bookkeeping of a stage change (the gates are the caller's): the history row, the
    /// stage's probability, closing, the timers, `OpportunityStageChanged`.
    static func move(_ db: Database, _ opportunity: inout Forge_Pipeline_V1_Opportunity, to target: Forge_Pipeline_V1_Stage, by: String, now: Date) throws {
        let change = Forge_Pipeline_V1_StageChange.with {
            $0.from = opportunity.stage
            $0.to = target
            $0.at = .init(date: now)
            $0.by = by
            $0.daysInFrom = now.timeIntervalSince(opportunity.stageEnteredAt.date) / 86400
        }
        try db.execute(sql: """
            INSERT INTO stage_change (opportunity_id, from_stage, to_stage, at, by, days_in_from, owner_id, team) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [opportunity.id, change.from.rawValue, change.to.rawValue, now.timeIntervalSince1970, change.by, change.daysInFrom,
                             opportunity.ownerID, opportunity.team])
        opportunity.history.append(change)
        opportunity.stage = target
        opportunity.stageEnteredAt = .init(date: now)
        opportunity.probabilityPercent = StageRules.defaultProbability(target)
        if !StageRules.isOpen(target) {
            opportunity.closedAt = .init(date: now)
            opportunity.forecastCategory = target == .won ? .commit : .omitted
        }
        opportunity.version += 1
        try write(db, opportunity)
        try JobScheduler.cancelPending(db, kind: stageTimerJob, idPrefix: "stage-\(opportunity.id)")
        try PipelineStore.completeTasks(db, kind: "stage_timer", opportunityID: opportunity.id, at: now)
        try scheduleStageTimer(db, opportunity, now: now)
        try Outbox.append(db, Forge_Pipeline_V1_OpportunityStageChanged.with {
            $0.opportunity = opportunity
            $0.change = change
        }, accountID: opportunity.accountID, at: now)
    }

    // MARK: Stage timers

    static func scheduleStageTimer(_ db: Database, _ opportunity: Forge_Pipeline_V1_Opportunity, now: Date) throws {
        guard StageRules.isOpen(opportunity.stage) else { return }
        let limit = StageRules.limitDays(opportunity.stage, settings: try PipelineStore.settings(db))
        let entered = opportunity.stageEnteredAt.date
        try JobScheduler.schedule(db, kind: stageTimerJob, payload: Data("\(opportunity.id)|\(entered.timeIntervalSince1970)|1".utf8),
                                  dueAt: entered.addingTimeInterval(Double(limit) * 86400), id: "stage-\(opportunity.id)-1", now: now)
    }

    /// The stage timer: past the stage's limit the owner gets a task; past twice the limit the
    /// team's manager does. Nothing when the opportunity has moved on since.
    func stageTimerFired(payload: Data) async throws {
        let parts = String(decoding: payload, as: UTF8.self).split(separator: "|").map(String.init)
        guard parts.count == 3, let entered = Double(parts[1]), let level = Int(parts[2]) else { return }
        let now = clock.now()
        try await database.write { db in
            guard let opportunity = try Self.opportunity(db, id: parts[0]), StageRules.isOpen(opportunity.stage),
                  opportunity.stageEnteredAt.date.timeIntervalSince1970 == entered
            else { return }
            let settings = try PipelineStore.settings(db)
            let limit = StageRules.limitDays(opportunity.stage, settings: settings)
            let stage = PipelineLabels.stage(opportunity.stage)
            if level == 1 {
                try PipelineStore.createTask(db, PipelineStore.task(
                    id: "tsk_stage_\(opportunity.id)_\(Int(entered))", owner: opportunity.ownerID,
                    title: "商机「\(opportunity.name)」在\(stage)阶段已超过 \(limit) 天：推进或更新预计成交日期", kind: "stage_timer",
                    due: now.addingTimeInterval(3 * 86400), now: now, opportunityID: opportunity.id, accountID: opportunity.accountID), at: now)
                try JobScheduler.schedule(db, kind: Self.stageTimerJob, payload: Data("\(opportunity.id)|\(entered)|2".utf8),
                                          dueAt: Date(timeIntervalSince1970: entered).addingTimeInterval(Double(limit) * 2 * 86400),
                                          id: "stage-\(opportunity.id)-2", now: now)
            } else if let manager = settings.teams.first(where: { $0.name == opportunity.team })?.managerID, !manager.isEmpty {
                try PipelineStore.createTask(db, PipelineStore.task(
                    id: "tsk_stage_escalation_\(opportunity.id)_\(Int(entered))", owner: manager,
                    title: "商机「\(opportunity.name)」在\(stage)阶段已超过 \(limit * 2) 天（负责人 \(opportunity.ownerID)）", kind: "stage_escalation",
                    due: now.addingTimeInterval(3 * 86400), now: now, opportunityID: opportunity.id, accountID: opportunity.accountID), at: now)
            }
        }
    }

    // MARK: Reading

    /// Newest first; the page position is the last id.
    func list(_ request: Forge_Pipeline_V1_ListOpportunitiesRequest, page: Page, principal: Principal) async throws -> [Forge_Pipeline_V1_Opportunity] {
        try await database.read { db in
            var clauses: [String] = []
            var arguments = StatementArguments()
            if !request.accountID.isEmpty {
                clauses.append("account_id = ?")
                arguments += [request.accountID]
            }
            if request.openOnly {
                clauses.append("stage NOT IN (?, ?)")
                arguments += [Forge_Pipeline_V1_Stage.won.rawValue, Forge_Pipeline_V1_Stage.lost.rawValue]
            }
            if request.stage != .unspecified {
                clauses.append("stage = ?")
                arguments += [request.stage.rawValue]
            }
            if !request.ownerID.isEmpty {
                clauses.append("owner_id = ?")
                arguments += [request.ownerID]
            }
            OwnerScope.restrict(principal, clauses: &clauses, arguments: &arguments)
            if let after = page.cursor {
                clauses.append("id < ?")
                arguments += [after]
            }
            arguments += [page.size]
            let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
            return try Data.fetchAll(db, sql: "SELECT payload FROM opportunity \(filter) ORDER BY id DESC LIMIT ?", arguments: arguments)
                .map { try Forge_Pipeline_V1_Opportunity(serializedBytes: $0) }
        }
    }

    // MARK: The board

    /// Each open stage's (or `only` that one's) count and totals over every deal `principal` may
    /// see (and `ownerID`'s only, when given), with the `perStage` closing soonest (those without
    /// a date last).
    func board(perStage: Int, ownerID: String, only: Forge_Pipeline_V1_Stage?, principal: Principal) async throws -> [Forge_Pipeline_V1_BoardColumn] {
        let showAmounts = OpportunityRules.maySeeAmounts(principal)
        return try await database.read { db in
            var clauses: [String] = []
            var arguments = StatementArguments()
            if !ownerID.isEmpty {
                clauses.append("owner_id = ?")
                arguments += [ownerID]
            }
            OwnerScope.restrict(principal, clauses: &clauses, arguments: &arguments)
            let scope = clauses.map { " AND " + $0 }.joined()
            var columns = PipelineStages.open.filter { only == nil || $0 == only }
                .map { stage in Forge_Pipeline_V1_BoardColumn.with { $0.stage = stage } }
            for row in try Row.fetchAll(db, sql: """
                SELECT stage, currency, count(*) AS n, sum(amount_micros) AS amount, sum(amount_micros * probability / 100.0) AS weighted
                FROM opportunity WHERE stage NOT IN (?, ?)\(scope) GROUP BY stage, currency ORDER BY stage, currency
                """, arguments: [Forge_Pipeline_V1_Stage.won.rawValue, Forge_Pipeline_V1_Stage.lost.rawValue] + arguments) {
                guard let index = columns.firstIndex(where: { $0.stage.rawValue == row["stage"] as Int }) else { continue }
                columns[index].count += row["n"] as Int64
                guard showAmounts else { continue }
                let currency: String = row["currency"]
                columns[index].totals.append(.with { $0.currencyCode = currency; $0.amountMicros = row["amount"] })
                columns[index].weighted.append(.with { $0.currencyCode = currency; $0.amountMicros = Int64(((row["weighted"] as Double?) ?? 0).rounded()) })
            }
            // The few shown are chosen in an index's close-date order, one walk per part of the
            // caller's view (their own deals, their team's) merged, the undated after the dated;
            // their records are read after. (As one query with `owner_id = ? OR team = ?` the
            // planner walked every open deal of the stage, company-wide.)
            var parts = OwnerScope.parts(principal) ?? [("1", [])]
            if !ownerID.isEmpty { parts = parts.map { ($0.clause + " AND owner_id = ?", $0.arguments + [ownerID]) } }
            func soonest(_ stage: Forge_Pipeline_V1_Stage, dated: Bool, limit: Int) throws -> [Int64] {
                guard limit > 0 else { return [] }
                var arguments = StatementArguments()
                let selects = parts.map { part in
                    arguments += [stage.rawValue]
                    arguments += part.arguments
                    // (`+`: the close-date index alone would walk every undated deal of the company.)
                    return "SELECT rowid, expected_close FROM opportunity WHERE stage = ? AND \(dated ? "expected_close IS NOT NULL" : "+expected_close IS NULL") AND \(part.clause)"
                }
                arguments += [limit]
                // A compound SELECT ordered by its columns: SQLite merges the index walks and stops
                // at the limit (wrapped in a subquery it read and sorted the whole team's stage).
                return try Row.fetchAll(db, sql: "\(selects.joined(separator: " UNION ")) ORDER BY \(dated ? "2, 1" : "1") LIMIT ?", arguments: arguments)
                    .map { $0[0] as Int64 }
            }
            for index in columns.indices where columns[index].count > 0 {
                let dated = try soonest(columns[index].stage, dated: true, limit: perStage)
                let rowids = dated + (try soonest(columns[index].stage, dated: false, limit: perStage - dated.count))
                let payloads = Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT rowid, payload FROM opportunity WHERE rowid IN (\(databaseQuestionMarks(count: rowids.count)))",
                                                                             arguments: StatementArguments(rowids)).map { ($0[0] as Int64, $0[1] as Data) })
                columns[index].opportunities = try rowids.compactMap { payloads[$0] }
                    .map { OpportunityRules.view(try Forge_Pipeline_V1_Opportunity(serializedBytes: $0), for: principal) }
            }
            return columns
        }
    }

    // MARK: Accounts' events

    static func clearContact(_ db: Database, contactID: String, now: Date) throws {
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM opportunity WHERE instr(payload, ?) > 0", arguments: [Data(contactID.utf8)]) {
            var opportunity = try Forge_Pipeline_V1_Opportunity(serializedBytes: payload)
            guard opportunity.primaryContactID == contactID else { continue }
            opportunity.primaryContactID = ""
            opportunity.version += 1
            try write(db, opportunity)
        }
    }

    static func repoint(_ db: Database, from merged: [String], to survivor: String, now: Date) throws {
        let marks = databaseQuestionMarks(count: merged.count)
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM opportunity WHERE account_id IN (\(marks))", arguments: StatementArguments(merged)) {
            var opportunity = try Forge_Pipeline_V1_Opportunity(serializedBytes: payload)
            opportunity.accountID = survivor
            opportunity.version += 1
            try write(db, opportunity)
            try Outbox.append(db, Forge_Pipeline_V1_OpportunityUpdated.with { $0.opportunity = opportunity }, accountID: survivor, at: now)
        }
    }
}
