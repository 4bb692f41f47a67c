import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Leads: capture with de-duplication and assignment in one transaction, the first-touch rule,
/// reassignment with history, and the steps of a conversion.
struct LeadStore: Sendable {
    let database: DatabasePool
    let clock: any WallClock
    var settingsCache = PipelineStore.SettingsCache()
    /// The handler's group commit for single captures.
    let captures: GroupCommit

    /// The first touch is due 24 h after capture (not after `received_at`: a trade-show list
    /// imported a week late is not late on arrival).
    static let firstTouchWindow: TimeInterval = 24 * 3600
    static let firstTouchJob = "lead-first-touch"

    // MARK: Rows

    /// - Parameter keys: the lead's keys when the caller has them (normalising is not free).
    static func write(_ db: Database, _ lead: Forge_Pipeline_V1_Lead, keys known: LeadRules.Keys? = nil) throws {
        let keys = known ?? LeadRules.Keys(lead)
        let open = LeadRules.openStatuses.contains(lead.status)
        try db.execute(cached: """
            INSERT INTO lead (id, owner_id, team, status, score, normalized_name, phone_key, email_key, email_domain,
                              account_id, contact_id, received_at, updated_at, version, payload, first_touch_due)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET owner_id = excluded.owner_id, team = excluded.team, status = excluded.status,
                score = excluded.score, normalized_name = excluded.normalized_name, phone_key = excluded.phone_key,
                email_key = excluded.email_key, email_domain = excluded.email_domain, account_id = excluded.account_id,
                contact_id = excluded.contact_id, updated_at = excluded.updated_at, version = excluded.version,
                payload = excluded.payload, first_touch_due = excluded.first_touch_due
            """, arguments: [
                lead.id, lead.ownerID, lead.team, lead.status.rawValue, lead.score,
                // A closed lead keeps its keys out of the de-duplication indexes' way.
                open ? keys.name : "", open ? keys.phone : "", open ? keys.email : "", open ? keys.domain : "",
                lead.accountID, lead.contactID, lead.receivedAt.date.timeIntervalSince1970,
                lead.updatedAt.date.timeIntervalSince1970, lead.version, try lead.serializedData(),
                lead.hasFirstTouchDueAt ? lead.firstTouchDueAt.date.timeIntervalSince1970 : 0,
            ])
    }

    static func lead(_ db: Database, id: String) throws -> Forge_Pipeline_V1_Lead? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT payload FROM lead WHERE id = ?"), arguments: [id])
            .map { try Forge_Pipeline_V1_Lead(serializedBytes: $0) }
    }

    /// The lead when `principal` may see it; NOT_FOUND otherwise (no existence leak).
    static func visibleLead(_ db: Database, id: String, principal: Principal) throws -> Forge_Pipeline_V1_Lead {
        guard let lead = try lead(db, id: id), OwnerScope.canSee(owner: lead.ownerID, team: lead.team, principal: principal) else {
            throw RPCError(.notFound, "lead \(id) not found")
        }
        return lead
    }

    func visibleLead(id: String, principal: Principal) async throws -> Forge_Pipeline_V1_Lead {
        try await database.read { db in try Self.visibleLead(db, id: id, principal: principal) }
    }

    /// An open lead with one of `keys`, and which key matched.
    static func openDuplicate(_ db: Database, keys: LeadRules.Keys) throws -> (id: String, reason: String)? {
        for (column, value, reason) in [("email_key", keys.email, "same email"), ("phone_key", keys.phone, "same phone"),
                                        ("normalized_name", keys.name, "same normalised name"),
                                        ("email_domain", keys.domain, "same email domain")] where !value.isEmpty {
            // The conditions of the partial index, spelled out so the planner may use it (it
            // cannot prove `column != ''` from `column = ?`): without them every capture read
            // every lead.
            // Four fixed texts, so each is prepared once per connection (cached).
            if let id = try String.fetchOne(db.cachedStatement(sql: "SELECT id FROM lead WHERE \(column) = ? AND \(column) != '' AND status IN (1, 2) LIMIT 1"), arguments: [value]) {
                return (id, reason)
            }
        }
        return nil
    }

    // MARK: Capture

    /// De-duplicates against open leads and, when none matches, creates, assigns and scores
    /// the lead — all in one savepoint of a group commit (with the call's idempotency key):
    /// concurrent captures share a transaction, each seeing the ones before it (a duplicate
    /// sent twice at once is one lead and a repeat inquiry, the loads move one by one).
    /// - Parameter importRow: the spreadsheet row this capture is (its result is kept with it,
    ///   so a retried import batch answers the same).
    func capture(_ captured: Forge_Pipeline_V1_Lead, keys: LeadRules.Keys, context: ServerContext, principal: Principal,
                 importRow: LeadImports.Row? = nil) async throws -> Forge_Pipeline_V1_CaptureLeadResponse {
        let now = clock.now()
        let settingsCache = settingsCache
        return try await captures.write(recordingIdempotencyOf: context, at: now) { db in
            let response = try Self.capture(db, captured, keys: keys, settings: try settingsCache.prepared(db), context: context, principal: principal, now: now)
            if let importRow { try LeadImports.record(db, importRow, response) }
            return response
        }
    }

    /// Many rows of an import in one transaction, each captured as alone and recorded with its
    /// import row (one commit instead of one per row).
    func captureImported(_ rows: [(lead: Forge_Pipeline_V1_Lead, row: LeadImports.Row)], context: ServerContext, principal: Principal) async throws -> [Forge_Pipeline_V1_CaptureLeadResponse] {
        let now = clock.now()
        let cache = settingsCache
        return try await database.write { db in
            let settings = try cache.prepared(db)
            return try rows.map { lead, row in
                let response = try Self.capture(db, lead, keys: LeadRules.Keys(lead), settings: settings, context: context, principal: principal, now: now)
                try LeadImports.record(db, row, response)
                return response
            }
        }
    }

    private static func capture(_ db: Database, _ captured: Forge_Pipeline_V1_Lead, keys: LeadRules.Keys, settings prepared: PipelineStore.Prepared, context: ServerContext,
                                principal: Principal, now: Date) throws -> Forge_Pipeline_V1_CaptureLeadResponse {
        let settings = prepared.settings
        if let (id, reason) = try Self.openDuplicate(db, keys: keys), var existing = try Self.lead(db, id: id) {
            existing.inquiryCount += 1
            if !captured.need.isEmpty, !existing.need.contains(captured.need) {
                existing.need = String((existing.need.isEmpty ? captured.need : existing.need + "\n" + captured.need).prefix(4000))
            }
            (existing.score, existing.scoreReasons) = LeadScoring.score(existing, prepared: prepared.scoring)
            existing.updatedAt = .init(date: now)
            existing.version += 1
            try Self.write(db, existing)
            try Outbox.append(db, Forge_Pipeline_V1_LeadRepeatInquiry.with { $0.lead = existing }, accountID: existing.accountID, at: now)
            try AuditLog.record(db, context: context, recordID: existing.id, changes: ["inquiry_count": "\(existing.inquiryCount)"], at: now)
            return .with {
                $0.outcome = .repeatInquiry
                $0.lead = OwnerScope.canSee(owner: existing.ownerID, team: existing.team, principal: principal)
                    ? existing : Self.redacted(existing)
                $0.matchReason = reason
            }
        }
        var lead = captured
        lead.id = EventID.make(prefix: "lead", at: now)
        let team = LeadAssignment.team(for: lead.region, productLine: lead.productLine, settings: settings, rules: prepared.rules)
        let decision = LeadAssignment.decide(region: lead.region, productLine: lead.productLine, settings: settings, rules: prepared.rules,
                                             loads: try Self.loads(db, team: prepared.loadQueries[team]),
                                             capturer: principal.subject, capturerTeam: principal.team)
        try Self.create(db, &lead, decision: decision, settings: prepared, by: principal.subject, now: now, keys: keys)
        try AuditLog.record(db, context: context, recordID: lead.id, changes: ["owner_id": lead.ownerID, "status": "NEW"], at: now)
        return .with {
            $0.outcome = .created
            $0.lead = lead
        }
    }

    /// Stores a new lead with its owner: the assignment row, the owner's load, the first-touch
    /// escalation job, and the events. (The owner's first-touch reminder is the lead itself
    /// while it is NEW: see `firstTouchTask`.)
    static func create(_ db: Database, _ lead: inout Forge_Pipeline_V1_Lead, decision: LeadAssignment.Decision,
                       settings: PipelineStore.Prepared, by: String, now: Date, keys: LeadRules.Keys? = nil) throws {
        lead.ownerID = decision.ownerID
        lead.team = decision.team
        lead.status = .new
        if lead.inquiryCount == 0 { lead.inquiryCount = 1 }
        (lead.score, lead.scoreReasons) = LeadScoring.score(lead, prepared: settings.scoring)
        let due = now.addingTimeInterval(firstTouchWindow)
        lead.firstTouchDueAt = .init(date: due)
        lead.createdAt = .init(date: now)
        lead.updatedAt = .init(date: now)
        lead.version = 1
        try write(db, lead, keys: keys)
        let assignment = try assign(db, lead: lead, how: decision.how, by: by, reason: "", now: now)
        try adjustLoad(db, owner: lead.ownerID, by: 1, assignedSeq: assignment.seq)
        try JobScheduler.schedule(db, kind: firstTouchJob, payload: Data(lead.id.utf8), dueAt: due, id: "lead-touch-\(lead.id)", now: now)
        try Outbox.append(db, Forge_Pipeline_V1_LeadCaptured.with { $0.lead = lead }, accountID: lead.accountID, at: now)
        try Outbox.append(db, Forge_Pipeline_V1_LeadAssigned.with { $0.assignment = assignment.record }, accountID: lead.accountID, at: now)
    }

    /// What someone who may not see a lead learns when their inquiry lands on it: that it
    /// exists and whose it is (to talk to them), not its contents.
    static func redacted(_ lead: Forge_Pipeline_V1_Lead) -> Forge_Pipeline_V1_Lead {
        .with {
            $0.id = lead.id
            $0.ownerID = lead.ownerID
            $0.team = lead.team
            $0.status = lead.status
        }
    }

    // MARK: Assignment and load

    /// The open leads and last assignment of each member of one team.
    static func loads(_ db: Database, team: PipelineStore.Prepared.LoadQuery?) throws -> [String: LeadAssignment.Load] {
        guard let team else { return [:] }
        var loads: [String: LeadAssignment.Load] = [:]
        // Columns by position: a capture reads a whole team's loads, and a lookup by name
        // (case-insensitive, per row and column) cost more than the query.
        let rows = try Row.fetchCursor(db.cachedStatement(sql: team.sql), arguments: team.members)
        while let row = try rows.next() {
            loads[row[0]] = .init(open: row[1], lastAssigned: row[2])
        }
        return loads
    }

    static func adjustLoad(_ db: Database, owner: String, by delta: Int, assignedSeq: Int64? = nil) throws {
        try db.execute(cached: """
            INSERT INTO owner_load (owner_id, open_leads, last_assigned) VALUES (?, max(?, 0), ?)
            ON CONFLICT(owner_id) DO UPDATE SET open_leads = max(open_leads + ?, 0),
                last_assigned = coalesce(?, last_assigned)
            """, arguments: [owner, delta, assignedSeq ?? 0, delta, assignedSeq])
    }

    static func assign(_ db: Database, lead: Forge_Pipeline_V1_Lead, how: String, by: String, reason: String, now: Date)
        throws -> (seq: Int64, record: Forge_Pipeline_V1_LeadAssignment)
    {
        try db.execute(cached: "INSERT INTO lead_assignment (lead_id, owner_id, team, how, by, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       arguments: [lead.id, lead.ownerID, lead.team, how, by, reason, now.timeIntervalSince1970])
        return (db.lastInsertedRowID, .with {
            $0.leadID = lead.id
            $0.ownerID = lead.ownerID
            $0.team = lead.team
            $0.how = how
            $0.by = by
            $0.reason = reason
            $0.at = .init(date: now)
        })
    }

    func assignments(leadID: String, principal: Principal) async throws -> [Forge_Pipeline_V1_LeadAssignment] {
        try await database.read { db in
            _ = try Self.visibleLead(db, id: leadID, principal: principal)
            return try Row.fetchAll(db, sql: "SELECT * FROM lead_assignment WHERE lead_id = ? ORDER BY seq", arguments: [leadID]).map { row in
                .with {
                    $0.leadID = row["lead_id"]
                    $0.ownerID = row["owner_id"]
                    $0.team = row["team"]
                    $0.how = row["how"]
                    $0.by = row["by"]
                    $0.reason = row["reason"]
                    $0.at = .init(date: Date(timeIntervalSince1970: row["at"]))
                }
            }
        }
    }

    // MARK: Reading

    /// Leads by score, highest first; the page position is "score|id".
    func list(_ request: Forge_Pipeline_V1_ListLeadsRequest, page: Page, principal: Principal) async throws -> [Forge_Pipeline_V1_Lead] {
        try await database.read { db in
            let statuses = request.statuses.isEmpty ? LeadRules.openStatuses : request.statuses
            var clauses = ["status IN (\(databaseQuestionMarks(count: statuses.count)))"]
            var arguments = StatementArguments(statuses.map(\.rawValue))
            if !request.ownerID.isEmpty {
                clauses.append("owner_id = ?")
                arguments += [request.ownerID]
            }
            OwnerScope.restrict(principal, clauses: &clauses, arguments: &arguments)
            if let (score, id) = Self.position(page.cursor) {
                clauses.append("(score < ? OR score = ? AND id > ?)")
                arguments += [score, score, id]
            }
            arguments += [page.size]
            return try Data.fetchAll(db, sql: """
                SELECT payload FROM lead WHERE \(clauses.joined(separator: " AND ")) ORDER BY score DESC, id LIMIT ?
                """, arguments: arguments).map { try Forge_Pipeline_V1_Lead(serializedBytes: $0) }
        }
    }

    static func position(_ cursor: String?) -> (Int, String)? {
        guard let cursor, let bar = cursor.firstIndex(of: "|"), let score = Int(cursor[..<bar]) else { return nil }
        return (score, String(cursor[cursor.index(after: bar)...]))
    }

    static func isPosition(_ cursor: String) -> Bool {
        guard let (score, id) = position(cursor) else { return false }
        return (0...100).contains(score) && id.hasPrefix("lead_")
    }

    // MARK: Changes

    /// Applies `change` to a lead the principal may see, with a version check when one is
    /// given, and stores it with its event and audit row.
    func update(
        id: String,
        version: Int64 = 0,
        context: ServerContext,
        principal: Principal,
        _ change: @escaping @Sendable (Database, inout Forge_Pipeline_V1_Lead, Date) throws -> [String: String]
    ) async throws -> Forge_Pipeline_V1_Lead {
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var lead = try Self.visibleLead(db, id: id, principal: principal)
            if version != 0, version != lead.version {
                throw RPCError(.aborted, "lead \(id) changed since version \(version) (now \(lead.version)): read it again")
            }
            try Self.saveChanged(db, &lead, changes: try change(db, &lead, now), context: context, at: now)
            return lead
        }
    }

    /// Stores a changed lead: its time and version moved on, its audit row.
    static func saveChanged(_ db: Database, _ lead: inout Forge_Pipeline_V1_Lead, changes: [String: String], context: ServerContext, at now: Date) throws {
        lead.updatedAt = .init(date: now)
        lead.version += 1
        try write(db, lead)
        try AuditLog.record(db, context: context, recordID: lead.id, changes: changes, at: now)
    }

    /// Closes a lead (converted or disqualified): its owner's load drops, its reminders and its
    /// escalation end.
    static func close(_ db: Database, _ lead: inout Forge_Pipeline_V1_Lead, as status: Forge_Pipeline_V1_LeadStatus, now: Date) throws {
        guard LeadRules.openStatuses.contains(lead.status) else {
            throw RPCError(.failedPrecondition, "lead \(lead.id) is already \(lead.status == .converted ? "converted" : "disqualified")")
        }
        try endFirstTouchReminder(db, lead, at: now)
        lead.status = status
        try adjustLoad(db, owner: lead.ownerID, by: -1)
        try JobScheduler.cancelPending(db, kind: firstTouchJob, idPrefix: "lead-touch-\(lead.id)")
    }

    // MARK: The first touch

    /// A new lead's reminder to its owner — first contact within 24 h — is no row of its own:
    /// it is open exactly while the lead is NEW (the first touch makes it WORKING; converting or
    /// disqualifying closes it), so the task lists derive it from the lead, due at the lead's
    /// `first_touch_due_at`, under the id it always had. A capture writes one row with four
    /// indexes and one event fewer (the single writer is what limits captures, PipelineBench).
    /// When the reminder ends it is kept as a done task, so the owner's done list still shows it.
    static let firstTouchKind = "lead_first_touch"

    static func firstTouchTaskID(leadID: String) -> String { "tsk_touch_\(leadID)" }

    /// The lead a first-touch task id names.
    static func leadID(ofFirstTouchTask id: String) -> String? {
        id.hasPrefix("tsk_touch_lead_") ? String(id.dropFirst("tsk_touch_".count)) : nil
    }

    static func firstTouchTask(_ lead: Forge_Pipeline_V1_Lead) -> Forge_Pipeline_V1_Task {
        let company = lead.companyName.isEmpty ? lead.contactName : lead.companyName
        return PipelineStore.task(id: firstTouchTaskID(leadID: lead.id), owner: lead.ownerID, title: "24 小时内首次联系线索：\(company)",
                                  kind: firstTouchKind, due: lead.firstTouchDueAt.date, now: lead.createdAt.date,
                                  leadID: lead.id, accountID: lead.accountID)
    }

    /// Keeps the reminder of a lead that is still NEW (as it was before this change) as a done task.
    static func endFirstTouchReminder(_ db: Database, _ lead: Forge_Pipeline_V1_Lead, at now: Date) throws {
        guard lead.status == .new else { return }
        var task = firstTouchTask(lead)
        task.markDone(at: now)
        try PipelineStore.insertTask(db, task)
    }

    /// The lead's first touch, when it has had none: WORKING, the reminder done, no escalation.
    /// Returns the audit's changes.
    static func recordFirstTouch(_ db: Database, _ lead: inout Forge_Pipeline_V1_Lead, at now: Date) throws -> [String: String] {
        guard !lead.hasFirstTouchedAt else { return [:] }
        try endFirstTouchReminder(db, lead, at: now)
        lead.firstTouchedAt = .init(date: now)
        lead.status = .working
        try JobScheduler.cancelPending(db, kind: firstTouchJob, idPrefix: "lead-touch-\(lead.id)")
        return ["status": "WORKING"]
    }

    /// The first-touch rule's job: a lead still untouched 24 h after capture goes to the
    /// team's manager (once), as a task and a `LeadEscalated` event.
    func escalateIfUntouched(leadID: String) async throws {
        let now = clock.now()
        try await database.write { db in
            guard var lead = try Self.lead(db, id: leadID), lead.status == .new, !lead.hasFirstTouchedAt, !lead.hasEscalatedAt else { return }
            let settings = try PipelineStore.settings(db)
            let manager = settings.teams.first { $0.name == lead.team }?.managerID ?? ""
            lead.escalatedAt = .init(date: now)
            lead.updatedAt = .init(date: now)
            lead.version += 1
            try Self.write(db, lead)
            if !manager.isEmpty {
                let company = lead.companyName.isEmpty ? lead.contactName : lead.companyName
                try PipelineStore.createTask(db, PipelineStore.task(
                    id: "tsk_escalate_\(lead.id)", owner: manager, title: "线索超过 24 小时未跟进：\(company)（负责人 \(lead.ownerID)）",
                    kind: "lead_escalation", due: now.addingTimeInterval(8 * 3600), now: now, leadID: lead.id), at: now)
            }
            try Outbox.append(db, Forge_Pipeline_V1_LeadEscalated.with {
                $0.lead = lead
                $0.managerID = manager
            }, accountID: lead.accountID, at: now)
        }
    }
}
