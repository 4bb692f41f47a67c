import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Quotes: versions per opportunity, discount approval, sending with its follow-up cadence
/// and expiry, and the customer's answer — acceptance wins the opportunity.
struct QuoteStore: Sendable {
    let database: DatabasePool
    let clock: any WallClock

    static let followUpJob = "quote-follow-up"
    static let expiryJob = "quote-expiry"

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("pipeline-v2-quotes") { db in
            try db.create(table: "quote") { t in
                t.primaryKey("id", .text)
                t.column("opportunity_id", .text).notNull()
                t.column("account_id", .text).notNull().indexed()
                t.column("revision", .integer).notNull()
                t.column("status", .integer).notNull()
                t.column("owner_id", .text).notNull()
                t.column("team", .text).notNull()
                t.column("created_at", .double).notNull()
                t.column("version", .integer).notNull()
                t.column("payload", .blob).notNull()
                t.uniqueKey(["opportunity_id", "revision"])
            }
        }
    }

    static func write(_ db: Database, _ quote: Forge_Pipeline_V1_Quote) throws {
        try db.execute(cached: """
            INSERT INTO quote (id, opportunity_id, account_id, revision, status, owner_id, team, created_at, version, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET account_id = excluded.account_id, status = excluded.status, owner_id = excluded.owner_id,
                team = excluded.team, version = excluded.version, payload = excluded.payload
            """, arguments: [quote.id, quote.opportunityID, quote.accountID, quote.revision, quote.status.rawValue, quote.ownerID,
                             quote.team, quote.createdAt.date.timeIntervalSince1970, quote.version, try quote.serializedData()])
    }

    static func quote(_ db: Database, id: String) throws -> Forge_Pipeline_V1_Quote? {
        try Data.fetchOne(db, sql: "SELECT payload FROM quote WHERE id = ?", arguments: [id]).map { try Forge_Pipeline_V1_Quote(serializedBytes: $0) }
    }

    static func visible(_ db: Database, id: String, principal: Principal) throws -> Forge_Pipeline_V1_Quote {
        guard let quote = try quote(db, id: id), OwnerScope.canSee(owner: quote.ownerID, team: quote.team, principal: principal) else {
            throw RPCError(.notFound, "quote \(id) not found")
        }
        return quote
    }

    static func quotes(_ db: Database, opportunityID: String) throws -> [Forge_Pipeline_V1_Quote] {
        try Data.fetchAll(db, sql: "SELECT payload FROM quote WHERE opportunity_id = ? ORDER BY revision DESC", arguments: [opportunityID])
            .map { try Forge_Pipeline_V1_Quote(serializedBytes: $0) }
    }

    static let open: Set<Forge_Pipeline_V1_QuoteStatus> = [.pendingApproval, .approved, .sent]

    // MARK: Create

    /// A new version for the opportunity: priced, the older open versions superseded, and
    /// approved at once when its discounts need no one's approval — else a task for whoever
    /// must decide (the team's manager, or the admin).
    func create(_ requested: Forge_Pipeline_V1_Quote, context: ServerContext, principal: Principal) async throws -> Forge_Pipeline_V1_Quote {
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let opportunity = try OpportunityStore.visible(db, id: requested.opportunityID, principal: principal)
            guard StageRules.isOpen(opportunity.stage) else {
                throw RPCError(.failedPrecondition, "the opportunity is closed (\(PipelineLabels.stage(opportunity.stage))): no new quotes")
            }
            let settings = try PipelineStore.settings(db)
            var quote = QuotePricing.priced(requested, rules: settings.quotes)
            quote.id = EventID.make(prefix: "quo", at: now)
            quote.accountID = opportunity.accountID
            quote.ownerID = opportunity.ownerID
            quote.team = opportunity.team
            quote.revision = (try Int32.fetchOne(db, sql: "SELECT max(revision) FROM quote WHERE opportunity_id = ?", arguments: [opportunity.id]) ?? 0) + 1
            quote.decisions = []
            quote.clearSentAt()
            quote.clearAnsweredAt()
            quote.answerNote = ""
            quote.status = quote.approvalLevel == .none ? .approved : .pendingApproval
            quote.createdAt = .init(date: now)
            quote.version = 1
            for var older in try Self.quotes(db, opportunityID: opportunity.id) where Self.open.contains(older.status) {
                older.status = .superseded
                older.version += 1
                try Self.write(db, older)
                try Self.stopCadence(db, older, now: now)
            }
            try Self.write(db, quote)
            if quote.status == .pendingApproval {
                let decider = quote.approvalLevel == .admin
                    ? "admin" : (settings.teams.first { $0.name == quote.team }?.managerID).flatMap { $0.isEmpty ? nil : $0 } ?? "admin"
                try PipelineStore.createTask(db, PipelineStore.task(
                    id: "tsk_approve_\(quote.id)", owner: decider,
                    title: "审批报价：\(opportunity.name) 第 \(quote.revision) 版，最大折扣 \(Double(quote.maxDiscountBps) / 100)%",
                    kind: "quote_approval", due: now.addingTimeInterval(86400), now: now, opportunityID: opportunity.id, accountID: quote.accountID), at: now)
            }
            try Outbox.append(db, Forge_Pipeline_V1_QuoteCreated.with { $0.quote = quote }, accountID: quote.accountID, at: now)
            try AuditLog.record(db, context: context, recordID: quote.id, changes: [
                "status": "\(quote.status.rawValue)", "total_micros": "\(quote.total.amountMicros)", "max_discount_bps": "\(quote.maxDiscountBps)",
            ], at: now)
            return quote
        }
    }

    // MARK: Changes

    func change(id: String, context: ServerContext, principal: Principal,
                _ body: @escaping @Sendable (Database, inout Forge_Pipeline_V1_Quote, Date) throws -> [String: String]) async throws -> Forge_Pipeline_V1_Quote {
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var quote = try Self.visible(db, id: id, principal: principal)
            let changes = try body(db, &quote, now)
            quote.version += 1
            try Self.write(db, quote)
            try AuditLog.record(db, context: context, recordID: quote.id, changes: changes, at: now)
            return quote
        }
    }

    static func decide(_ db: Database, _ quote: inout Forge_Pipeline_V1_Quote, approve: Bool, comment: String, principal: Principal, now: Date) throws {
        guard quote.status == .pendingApproval else {
            throw RPCError(.failedPrecondition, "quote \(quote.id) is not waiting for approval")
        }
        guard QuotePricing.mayDecide(quote.approvalLevel, team: quote.team, principal: principal) else {
            throw RPCError(.permissionDenied, quote.approvalLevel == .admin
                ? "a discount of \(Double(quote.maxDiscountBps) / 100)% needs an admin's approval"
                : "only a sales manager of team \(quote.team.isEmpty ? "(none)" : quote.team) or an admin may decide this quote")
        }
        quote.decisions.append(.with {
            $0.approved = approve
            $0.by = principal.subject
            $0.comment = comment
            $0.at = .init(date: now)
            $0.level = quote.approvalLevel
        })
        quote.status = approve ? .approved : .approvalRejected
        try PipelineStore.completeTasks(db, kind: "quote_approval", opportunityID: quote.opportunityID, at: now)
        try Outbox.append(db, Forge_Pipeline_V1_QuoteDecided.with { $0.quote = quote }, accountID: quote.accountID, at: now)
    }

    /// Sends an approved quote: the follow-up tasks of the cadence and the expiry are
    /// scheduled; both stop when the customer answers.
    static func send(_ db: Database, _ quote: inout Forge_Pipeline_V1_Quote, now: Date) throws {
        guard quote.status == .approved else {
            throw RPCError(.failedPrecondition, quote.status == .pendingApproval
                ? "quote \(quote.id) waits for approval of its \(Double(quote.maxDiscountBps) / 100)% discount"
                : "only an approved quote can be sent (this one is \(PipelineLabels.quoteStatus(quote.status)))")
        }
        guard quote.validUntil.date > now else {
            throw RPCError(.failedPrecondition, "quote \(quote.id) expired on \(RFC3339.string(from: quote.validUntil.date)); make a new version")
        }
        quote.status = .sent
        quote.sentAt = .init(date: now)
        let settings = try PipelineStore.settings(db)
        for day in QuotePricing.followUpDays(settings.quotes) {
            try JobScheduler.schedule(db, kind: followUpJob, payload: Data("\(quote.id)|\(day)".utf8),
                                      dueAt: now.addingTimeInterval(Double(day) * 86400), id: "quote-\(quote.id)-follow-\(day)", now: now)
        }
        try JobScheduler.schedule(db, kind: expiryJob, payload: Data(quote.id.utf8), dueAt: quote.validUntil.date,
                                  id: "quote-\(quote.id)-expiry", now: now)
        try Outbox.append(db, Forge_Pipeline_V1_QuoteSent.with { $0.quote = quote }, accountID: quote.accountID, at: now)
    }

    static func stopCadence(_ db: Database, _ quote: Forge_Pipeline_V1_Quote, now: Date) throws {
        try JobScheduler.cancelPending(db, kind: followUpJob, idPrefix: "quote-\(quote.id)-")
        try JobScheduler.cancelPending(db, kind: expiryJob, idPrefix: "quote-\(quote.id)-")
        // Older versions' follow-ups ended when they were superseded: the open ones are this quote's.
        try PipelineStore.completeTasks(db, kind: "quote_follow_up", opportunityID: quote.opportunityID, at: now)
    }

    /// The customer's answer. Acceptance wins the opportunity (from whatever open stage it is
    /// in: the accepted quote is the last gate) with `OpportunityWon` carrying the quote.
    static func answer(_ db: Database, _ quote: inout Forge_Pipeline_V1_Quote, accepted: Bool, note: String, principal: Principal, now: Date)
        throws -> Forge_Pipeline_V1_Opportunity?
    {
        guard quote.status == .sent else {
            throw RPCError(.failedPrecondition, "only a sent quote can be answered (this one is \(PipelineLabels.quoteStatus(quote.status)))")
        }
        quote.status = accepted ? .accepted : .declined
        quote.answeredAt = .init(date: now)
        quote.answerNote = note
        try stopCadence(db, quote, now: now)
        try Outbox.append(db, Forge_Pipeline_V1_QuoteAnswered.with { $0.quote = quote }, accountID: quote.accountID, at: now)
        guard accepted, var opportunity = try OpportunityStore.opportunity(db, id: quote.opportunityID), StageRules.isOpen(opportunity.stage) else {
            return nil
        }
        opportunity.amount = quote.total
        try OpportunityStore.move(db, &opportunity, to: .won, by: principal.subject, now: now)
        try Outbox.append(db, Forge_Pipeline_V1_OpportunityWon.with {
            $0.opportunity = opportunity
            $0.acceptedQuote = quote
        }, accountID: opportunity.accountID, at: now)
        return opportunity
    }

    // MARK: Jobs

    /// Day 3, 7, 14 after sending: a task for the owner while the quote is unanswered.
    func followUp(payload: Data) async throws {
        let parts = String(decoding: payload, as: UTF8.self).split(separator: "|").map(String.init)
        guard parts.count == 2 else { return }
        let now = clock.now()
        try await database.write { db in
            guard let quote = try Self.quote(db, id: parts[0]), quote.status == .sent else { return }
            let name = try OpportunityStore.opportunity(db, id: quote.opportunityID)?.name ?? quote.opportunityID
            try PipelineStore.createTask(db, PipelineStore.task(
                id: "tsk_follow_\(quote.id)_\(parts[1])", owner: quote.ownerID,
                title: "跟进报价（发出第 \(parts[1]) 天）：\(name) 第 \(quote.revision) 版", kind: "quote_follow_up",
                due: now.addingTimeInterval(86400), now: now, opportunityID: quote.opportunityID, accountID: quote.accountID), at: now)
        }
    }

    /// Past its validity an unanswered quote expires.
    func expire(quoteID: String) async throws {
        let now = clock.now()
        try await database.write { db in
            guard var quote = try Self.quote(db, id: quoteID), quote.status == .sent, quote.validUntil.date <= now else { return }
            quote.status = .expired
            quote.version += 1
            try Self.write(db, quote)
            try Self.stopCadence(db, quote, now: now)
            try Outbox.append(db, Forge_Pipeline_V1_QuoteExpired.with { $0.quote = quote }, accountID: quote.accountID, at: now)
        }
    }
}
