import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Rebate agreements: purchases accrue as they are recorded (the period's sum is read when
/// asked, so a late ERP line counts until settlement); the day after the period ends the job
/// settles it — the figures freeze and orders/ERP is asked for the credit note by an event.
enum RebateStore {
    typealias Agreement = Forge_Loyalty_V1_RebateAgreement

    static let settleJob = "loyalty.rebate-settle"
    /// Settlement waits a day after the period for the last deliveries and ERP lines.
    static let settleDelay: TimeInterval = 86_400

    static func agreement(_ db: Database, id: String) throws -> Agreement? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT payload FROM rebate_agreement WHERE id = ?"), arguments: [id]).map { try Agreement(serializedBytes: $0) }
    }

    static func save(_ db: Database, _ agreement: Agreement) throws {
        try db.execute(cached: """
            INSERT OR REPLACE INTO rebate_agreement (id, account_id, state, start_at, end_at, version, payload) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [agreement.id, agreement.accountID, agreement.state.rawValue, agreement.startAt.date.timeIntervalSince1970,
                             agreement.endAt.date.timeIntervalSince1970, agreement.version, try agreement.serializedData()])
    }

    static func create(_ db: Database, _ requested: Agreement, accountName: String, by subject: String, now: Date) throws -> Agreement {
        var agreement = requested
        agreement.id = EventID.make(prefix: "rba", at: now)
        agreement.accountName = accountName
        agreement.state = .active
        agreement.createdBy = subject
        agreement.createdAt = .init(date: now)
        agreement.version = 1
        for index in agreement.brackets.indices { agreement.brackets[index].threshold.currencyCode = "CNY" }
        agreement.clearSettledAmount()
        agreement.clearSettledPurchases()
        agreement.clearSettledAt()
        agreement.settledRateBp = 0
        agreement.settledBy = ""
        agreement.creditNoteRequestID = ""
        agreement.cancelReason = ""
        try save(db, agreement)
        try JobScheduler.schedule(db, kind: settleJob, payload: Data(agreement.id.utf8), dueAt: agreement.endAt.date.addingTimeInterval(settleDelay),
                                  id: "\(settleJob)|\(agreement.id)", now: now)
        try Outbox.append(db, Forge_Loyalty_V1_RebateAgreementCreated.with { $0.agreement = agreement }, accountID: agreement.accountID, at: now)
        return agreement
    }

    /// The period's purchases so far, CNY micros.
    static func purchases(_ db: Database, _ agreement: Agreement) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(SUM(amount_cny), 0) FROM purchase WHERE account_id = ? AND occurred_at >= ? AND occurred_at < ?"),
                           arguments: [agreement.accountID, agreement.startAt.date.timeIntervalSince1970, agreement.endAt.date.timeIntervalSince1970]) ?? 0
    }

    static func progress(_ db: Database, _ agreement: Agreement) throws -> Forge_Loyalty_V1_RebateProgress {
        let settled = agreement.state == .settled
        let purchases = settled ? agreement.settledPurchases.amountMicros : try purchases(db, agreement)
        let outcome = RebateRules.outcome(purchases: purchases, brackets: agreement.brackets)
        return .with {
            $0.agreementID = agreement.id
            $0.name = agreement.name
            $0.purchases = .with { $0.currencyCode = "CNY"; $0.amountMicros = purchases }
            $0.currentRateBp = outcome.rateBp
            $0.accruedRebate = .with { $0.currencyCode = "CNY"; $0.amountMicros = outcome.amount }
            $0.nextRateBp = outcome.next?.rateBp ?? 0
            $0.toNextRate = .with { $0.currencyCode = "CNY"; $0.amountMicros = outcome.toNext }
            $0.endAt = agreement.endAt
            $0.statement = settled ? L("已结算：返利 \(MoneyText.display(outcome.amount, "CNY"))（\(RebateRules.percent(outcome.rateBp))）", "Settled: rebate \(MoneyText.display(outcome.amount, "CNY")) (\(RebateRules.percent(outcome.rateBp)))") : RebateRules.statement(outcome)
        }
    }

    /// The account's active agreements' progress (the 360° section and the member page).
    static func progress(_ db: Database, accountID: String, now: Date) throws -> [Forge_Loyalty_V1_RebateProgress] {
        try Data.fetchAll(db.cachedStatement(sql: "SELECT payload FROM rebate_agreement WHERE account_id = ? AND state = ? ORDER BY end_at"),
                          arguments: [accountID, Forge_Loyalty_V1_RebateState.active.rawValue])
            .map { try progress(db, try Agreement(serializedBytes: $0)) }
    }

    static func list(_ db: Database, accountID: String, state: Forge_Loyalty_V1_RebateState, after: String, limit: Int) throws -> [Agreement] {
        var clauses = ["id > ?"]
        var arguments: StatementArguments = [after]
        if !accountID.isEmpty {
            clauses.append("account_id = ?")
            arguments += [accountID]
        }
        if state != .unspecified {
            clauses.append("state = ?")
            arguments += [state.rawValue]
        }
        arguments += [limit]
        return try Data.fetchAll(db, sql: "SELECT payload FROM rebate_agreement WHERE \(clauses.joined(separator: " AND ")) ORDER BY id LIMIT ?", arguments: arguments)
            .map { try Agreement(serializedBytes: $0) }
    }

    /// Freezes the period's figures and requests the credit note. Only after the period.
    static func settle(_ db: Database, _ agreement: Agreement, by subject: String, now: Date) throws -> Agreement {
        guard agreement.state == .active else {
            throw RPCError(.failedPrecondition, "agreement \(agreement.id) is \(agreement.state == .settled ? "settled" : "cancelled") already")
        }
        guard now >= agreement.endAt.date else {
            throw RPCError(.failedPrecondition, "agreement \(agreement.id) runs until \(TierRules.day(agreement.endAt.date)): settle it after its period")
        }
        var settled = agreement
        let purchases = try purchases(db, agreement)
        let outcome = RebateRules.outcome(purchases: purchases, brackets: agreement.brackets)
        settled.state = .settled
        settled.settledPurchases = .with { $0.currencyCode = "CNY"; $0.amountMicros = purchases }
        settled.settledRateBp = outcome.rateBp
        settled.settledAmount = .with { $0.currencyCode = "CNY"; $0.amountMicros = outcome.amount }
        settled.settledAt = .init(date: now)
        settled.settledBy = subject
        settled.creditNoteRequestID = outcome.amount > 0 ? "cnr_\(agreement.id)" : ""
        settled.version += 1
        try save(db, settled)
        try JobScheduler.cancelPending(db, kind: settleJob, idPrefix: "\(settleJob)|\(agreement.id)")
        if outcome.amount > 0 {
            try Outbox.append(db, Forge_Loyalty_V1_RebateCreditNoteRequested.with {
                $0.requestID = settled.creditNoteRequestID
                $0.agreement = settled
            }, accountID: agreement.accountID, at: now)
        }
        return settled
    }

    static func cancel(_ db: Database, _ agreement: Agreement, reason: String, now: Date) throws -> Agreement {
        guard agreement.state == .active else { throw RPCError(.failedPrecondition, "agreement \(agreement.id) is no longer active") }
        var cancelled = agreement
        cancelled.state = .cancelled
        cancelled.cancelReason = reason
        cancelled.version += 1
        try save(db, cancelled)
        try JobScheduler.cancelPending(db, kind: settleJob, idPrefix: "\(settleJob)|\(agreement.id)")
        try Outbox.append(db, Forge_Loyalty_V1_RebateAgreementCancelled.with { $0.agreement = cancelled }, accountID: agreement.accountID, at: now)
        return cancelled
    }
}
