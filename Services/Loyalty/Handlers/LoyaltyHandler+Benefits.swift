import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Entitlements and volume rebates.
extension LoyaltyHandler {
    // MARK: Entitlements

    func consumeEntitlement(_ request: Forge_Loyalty_V1_ConsumeEntitlementRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_ConsumeEntitlementResponse {
        var violations: [FieldViolation] = []
        if request.accountID.isBlank { violations.append(FieldViolation(field: "account_id", description: "is required")) }
        if request.code.isBlank { violations.append(FieldViolation(field: "code", description: "is required: the entitlement, e.g. on_site_diagnostic")) }
        if request.reference.isEmpty || request.reference.count > 200 {
            violations.append(FieldViolation(field: "reference", description: "is required (at most 200 characters): what uses it, e.g. the work order; one consumption per reference"))
        }
        if !(0...100).contains(request.quantity) { violations.append(FieldViolation(field: "quantity", description: "must be between 1 and 100 (0 means 1)")) }
        if request.note.count > 500 { violations.append(FieldViolation(field: "note", description: "is longer than 500 characters")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let now = clock.now()
        return try await consumptions.write { db in
            _ = try Self.visibleAccount(db, request.accountID, principal: principal)
            let programme = try LoyaltyStore.programme(db, at: now)
            let response = try EntitlementStore.consume(db, request, by: principal.subject, programme: programme, now: now)
            if !response.replayed {
                try AuditLog.record(db, context: context, recordID: response.consumption.id, changes: [
                    "code": request.code, "reference": request.reference, "quantity": "\(response.consumption.quantity)",
                ], at: now)
            }
            return response
        }
    }

    func reverseConsumption(_ request: Forge_Loyalty_V1_ReverseConsumptionRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_ReverseConsumptionResponse {
        var violations: [FieldViolation] = []
        if request.accountID.isBlank { violations.append(FieldViolation(field: "account_id", description: "is required")) }
        if request.code.isBlank { violations.append(FieldViolation(field: "code", description: "is required")) }
        if request.reference.isBlank { violations.append(FieldViolation(field: "reference", description: "is required")) }
        if request.reason.trimmed.count < 3 { violations.append(FieldViolation(field: "reason", description: "is required: why it is given back")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            _ = try Self.visibleAccount(db, request.accountID, principal: principal)
            let consumption = try EntitlementStore.reverse(db, request, by: principal.subject, now: now)
            try AuditLog.record(db, context: context, recordID: consumption.id, changes: ["reversed": request.reason], at: now)
            let programme = try LoyaltyStore.programme(db, at: now)
            let membership = try MembershipStore.view(db, accountID: request.accountID, programme: programme, now: now, seesMoney: true)
            return .with {
                $0.consumption = consumption
                if let balance = membership.entitlements.first(where: { $0.code == request.code }) { $0.entitlement = balance }
            }
        }
    }

    func listConsumptions(_ request: Forge_Loyalty_V1_ListConsumptionsRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_ListConsumptionsResponse {
        let principal = try context.caller()
        let page = try Page(request.page) { $0.hasPrefix("csm_") }
        return try await database.read { db in
            _ = try Self.visibleAccount(db, request.accountID, principal: principal)
            let consumptions = try EntitlementStore.list(db, accountID: request.accountID, code: request.code, after: page.after, limit: page.size)
            return .with {
                $0.consumptions = consumptions
                $0.page = page.response(next: consumptions.last?.id, count: consumptions.count)
            }
        }
    }

    // MARK: Rebates

    func createRebateAgreement(_ request: Forge_Loyalty_V1_CreateRebateAgreementRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_CreateRebateAgreementResponse {
        let violations = RebateRules.validate(request.agreement)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let account = try Self.visibleAccount(db, request.agreement.accountID, principal: principal, field: "agreement.account_id")
            let agreement = try RebateStore.create(db, request.agreement, accountName: account.name, by: principal.subject, now: now)
            try AuditLog.record(db, context: context, recordID: agreement.id, changes: [
                "account_id": agreement.accountID, "brackets": agreement.brackets.map { "\(MoneyText.display($0.threshold.amountMicros, "CNY")) \(RebateRules.percent($0.rateBp))" }.joined(separator: "; "),
            ], at: now)
            return .with { $0.agreement = agreement }
        }
    }

    /// The agreement, or NOT_FOUND when it or its account is out of the caller's reach.
    /// - Parameter version: the version the caller read, when it changes the agreement (a stale one is ABORTED).
    static func visibleAgreement(_ db: Database, id: String, principal: Principal, version: Int64? = nil) throws -> Forge_Loyalty_V1_RebateAgreement {
        guard !id.isEmpty else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        guard let agreement = try RebateStore.agreement(db, id: id),
              let account = try AccountDirectory.entry(db, accountID: agreement.accountID),
              OwnerScope.canSee(owner: account.ownerID, team: account.team, principal: principal) else {
            throw RPCError(.notFound, "rebate agreement \(id) not found")
        }
        if let version, version != agreement.version {
            throw RPCError(.aborted, "agreement \(agreement.id) changed since version \(version) (now \(agreement.version)): read it again")
        }
        return agreement
    }

    func getRebateStatement(_ request: Forge_Loyalty_V1_GetRebateStatementRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_GetRebateStatementResponse {
        let principal = try context.caller()
        return try await database.read { db in
            let agreement = try Self.visibleAgreement(db, id: request.id, principal: principal)
            return try .with {
                $0.agreement = agreement
                $0.progress = try RebateStore.progress(db, agreement)
            }
        }
    }

    func listRebateAgreements(_ request: Forge_Loyalty_V1_ListRebateAgreementsRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_ListRebateAgreementsResponse {
        let principal = try context.caller()
        let page = try Page(request.page) { $0.hasPrefix("rba_") }
        return try await database.read { db in
            if !request.accountID.isEmpty { _ = try Self.visibleAccount(db, request.accountID, principal: principal) }
            let agreements = try RebateStore.list(db, accountID: request.accountID, state: request.state, after: page.after, limit: page.size)
            let visible = try agreements.filter { agreement in
                guard let account = try AccountDirectory.entry(db, accountID: agreement.accountID) else { return false }
                return OwnerScope.canSee(owner: account.ownerID, team: account.team, principal: principal)
            }
            return .with {
                $0.agreements = visible
                $0.page = page.response(next: agreements.last?.id, count: agreements.count)
            }
        }
    }

    func settleRebate(_ request: Forge_Loyalty_V1_SettleRebateRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_SettleRebateResponse {
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let agreement = try Self.visibleAgreement(db, id: request.id, principal: principal, version: request.version)
            let settled = try RebateStore.settle(db, agreement, by: principal.subject, now: now)
            try AuditLog.record(db, context: context, recordID: settled.id, changes: ["settled": MoneyText.display(settled.settledAmount.amountMicros, "CNY")], at: now)
            return .with { $0.agreement = settled }
        }
    }

    func cancelRebateAgreement(_ request: Forge_Loyalty_V1_CancelRebateAgreementRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_CancelRebateAgreementResponse {
        guard request.reason.trimmed.count >= 3 else {
            throw RPCError.invalidArgument([FieldViolation(field: "reason", description: "is required: why the agreement ends")])
        }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let agreement = try Self.visibleAgreement(db, id: request.id, principal: principal, version: request.version)
            let cancelled = try RebateStore.cancel(db, agreement, reason: request.reason, now: now)
            try AuditLog.record(db, context: context, recordID: cancelled.id, changes: ["cancelled": request.reason], at: now)
            return .with { $0.agreement = cancelled }
        }
    }
}
