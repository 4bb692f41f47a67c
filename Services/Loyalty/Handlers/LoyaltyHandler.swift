import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// `forge.loyalty.v1.Loyalty`: translates RPCs into store calls and rules. Entitlements' and
/// rebates' RPCs are in LoyaltyHandler+Benefits.swift, the jobs in LoyaltyJobs.swift.
struct LoyaltyHandler: Forge_Loyalty_V1_LoyaltyHandler {
    typealias Membership = Forge_Loyalty_V1_Membership

    let database: DatabasePool
    let clock: any WallClock
    /// A day of the rules' delays, in seconds (FORGE_DAY_SECONDS; 86,400 but in tests).
    let day: TimeInterval
    /// Consumptions arrive together (a dispatcher's morning): they share transactions.
    let consumptions: GroupCommit

    init(database: DatabasePool, clock: any WallClock, day: TimeInterval = 86_400) {
        self.database = database
        self.clock = clock
        self.day = day
        consumptions = GroupCommit(database: database)
    }

    /// Rebates and discounts: finance, managers and admin (DESIGN §9).
    static func seesMoney(_ principal: Principal) -> Bool {
        !principal.roles.isDisjoint(with: [Role.finance, Role.salesManager, Role.serviceManager, Role.admin, Role.service])
    }

    /// The account as `principal` may see it; NOT_FOUND otherwise (no existence leak).
    static func visibleAccount(_ db: Database, _ accountID: String, principal: Principal, field: String = "account_id") throws -> AccountDirectory.Entry {
        guard !accountID.isEmpty else { throw RPCError.invalidArgument([FieldViolation(field: field, description: "is required")]) }
        guard let entry = try AccountDirectory.entry(db, accountID: accountID),
              OwnerScope.canSee(owner: entry.ownerID, team: entry.team, principal: principal) else {
            throw RPCError(.notFound, "account \(accountID) not found")
        }
        return entry
    }

    // MARK: The programme

    /// The programme without its finance-only benefits for those who may not see discounts.
    static func masked(_ programme: Forge_Loyalty_V1_Programme, seesMoney: Bool) -> Forge_Loyalty_V1_Programme {
        guard !seesMoney else { return programme }
        var masked = programme
        for index in masked.tiers.indices { masked.tiers[index].entitlements.removeAll { $0.financeOnly } }
        return masked
    }

    func getProgramme(_ request: Forge_Loyalty_V1_GetProgrammeRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_GetProgrammeResponse {
        let seesMoney = Self.seesMoney(try context.caller())
        let now = clock.now()
        return try await database.read { db in
            try .with {
                $0.programme = Self.masked(try LoyaltyStore.programme(db, at: now), seesMoney: seesMoney)
                if let scheduled = try LoyaltyStore.scheduledProgramme(db, at: now) { $0.scheduled = Self.masked(scheduled, seesMoney: seesMoney) }
            }
        }
    }

    func listProgrammeVersions(_ request: Forge_Loyalty_V1_ListProgrammeVersionsRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_ListProgrammeVersionsResponse {
        let seesMoney = Self.seesMoney(try context.caller())
        return try await database.read { db in try .with { $0.versions = try LoyaltyStore.versions(db).map { Self.masked($0, seesMoney: seesMoney) } } }
    }

    /// A new version: in force from its effective_at (now when empty or past), when every
    /// member is measured again by the evaluate-all job.
    func updateProgramme(_ request: Forge_Loyalty_V1_UpdateProgrammeRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_UpdateProgrammeResponse {
        let now = clock.now()
        let violations = ProgrammeRules.validate(request.programme, now: now)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let seesMoney = Self.seesMoney(principal)
        if !seesMoney {
            let hidden = request.programme.tiers.enumerated().flatMap { tier, definition in
                definition.entitlements.enumerated().filter(\.element.financeOnly).map { FieldViolation(field: "programme.tiers[\(tier)].entitlements[\($0.offset)].finance_only",
                                                                                                         description: "discounts are set by finance, managers or admin") }
            }
            guard hidden.isEmpty else { throw RPCError.invalidArgument(hidden) }
        }
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let latest = try LoyaltyStore.latestVersion(db)
            guard request.programme.version == latest else {
                throw RPCError(.aborted, "the programme changed since version \(request.programme.version) (now \(latest)): read it again")
            }
            var programme = request.programme
            if !seesMoney {
                // The caller never saw the discounts (masked on read): they stay as they were.
                let current = try LoyaltyStore.programme(db, at: now)
                for index in programme.tiers.indices {
                    let kept = current.tiers.first { $0.code == programme.tiers[index].code }?.entitlements.filter(\.financeOnly) ?? []
                    programme.tiers[index].entitlements += kept
                }
            }
            programme.version = latest + 1
            if !programme.hasEffectiveAt || programme.effectiveAt.date < now { programme.effectiveAt = .init(date: now) }
            programme.changedBy = principal.subject
            programme.changedAt = .init(date: now)
            try LoyaltyStore.saveProgramme(db, programme)
            try JobScheduler.schedule(db, kind: LoyaltyJobs.evaluateAll, payload: Data("programme_change|".utf8), dueAt: programme.effectiveAt.date,
                                      id: "\(LoyaltyJobs.evaluateAll)|v\(programme.version)", now: now)
            try AuditLog.record(db, context: context, recordID: "programme", changes: [
                "version": "\(programme.version)", "effective_at": TierRules.day(programme.effectiveAt.date), "note": programme.changeNote,
            ], at: now)
            try Outbox.append(db, Forge_Loyalty_V1_ProgrammeChanged.with { $0.programme = programme }, at: now)
            return .with { $0.programme = programme }
        }
    }

    func getProgrammeOverview(_ request: Forge_Loyalty_V1_GetProgrammeOverviewRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_GetProgrammeOverviewResponse {
        let principal = try context.caller()
        let now = clock.now()
        return try await database.read { db in
            let programme = try LoyaltyStore.programme(db, at: now)
            return try OverviewQuery.overview(db, programme: Self.masked(programme, seesMoney: Self.seesMoney(principal)), principal: principal, now: now)
        }
    }

    // MARK: Members

    func getMembership(_ request: Forge_Loyalty_V1_GetMembershipRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_GetMembershipResponse {
        let principal = try context.caller()
        let now = clock.now()
        return try database.pointRead { db in
            _ = try Self.visibleAccount(db, request.accountID, principal: principal)
            let programme = try LoyaltyStore.programme(db, at: now)
            return try .with { $0.membership = try MembershipStore.view(db, accountID: request.accountID, programme: programme, now: now, seesMoney: Self.seesMoney(principal)) }
        }
    }

    func listMembers(_ request: Forge_Loyalty_V1_ListMembersRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_ListMembersResponse {
        let principal = try context.caller()
        let page = try Page(request.page) { !$0.isEmpty }
        return try await database.read { db in
            let members = try MembershipStore.list(db, tier: request.tier.isEmpty ? nil : request.tier, pendingOnly: request.pendingDowngrade,
                                                   principal: principal, after: page.after, limit: page.size)
            return .with {
                $0.members = members
                $0.page = page.response(next: members.last?.accountID, count: members.count)
            }
        }
    }

    func evaluateTier(_ request: Forge_Loyalty_V1_EvaluateTierRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_EvaluateTierResponse {
        let principal = try context.caller()
        let now = clock.now()
        let day = self.day
        return try await database.write { db in
            _ = try Self.visibleAccount(db, request.accountID, principal: principal)
            let programme = try LoyaltyStore.programme(db, at: now)
            try MembershipStore.evaluate(db, accountID: request.accountID, programme: programme, now: now, trigger: "manual", day: day)
            return try .with { $0.membership = try MembershipStore.view(db, accountID: request.accountID, programme: programme, now: now, seesMoney: Self.seesMoney(principal)) }
        }
    }

    func getTierHistory(_ request: Forge_Loyalty_V1_GetTierHistoryRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_GetTierHistoryResponse {
        let principal = try context.caller()
        guard (0...500).contains(request.limit) else { throw RPCError.invalidArgument([FieldViolation(field: "limit", description: "must be between 0 and 500")]) }
        return try await database.read { db in
            _ = try Self.visibleAccount(db, request.accountID, principal: principal)
            return try .with { $0.entries = try MembershipStore.historyEntries(db, accountID: request.accountID, limit: request.limit == 0 ? 50 : Int(request.limit)) }
        }
    }

    func overrideTier(_ request: Forge_Loyalty_V1_OverrideTierRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_OverrideTierResponse {
        let now = clock.now()
        let principal = try context.caller()
        let day = self.day
        var violations: [FieldViolation] = []
        if request.accountID.isBlank { violations.append(FieldViolation(field: "account_id", description: "is required")) }
        if request.reason.trimmed.count < 3 { violations.append(FieldViolation(field: "reason", description: "is required: why the tier is set by hand")) }
        if !request.hasExpiresAt {
            violations.append(FieldViolation(field: "expires_at", description: "is required: an override ends (at most a year ahead)"))
        } else if request.expiresAt.date <= now || request.expiresAt.date > now.addingTimeInterval(366 * 86_400) {
            violations.append(FieldViolation(field: "expires_at", description: "must be in the future and at most a year ahead"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            _ = try Self.visibleAccount(db, request.accountID, principal: principal)
            let programme = try LoyaltyStore.programme(db, at: now)
            guard ProgrammeRules.tier(programme, code: request.tier) != nil else {
                let codes = ProgrammeRules.ordered(programme).map(\.code).joined(separator: ", ")
                throw RPCError.invalidArgument([FieldViolation(field: "tier", description: "is not a tier of the programme (\(codes))")])
            }
            try Self.checkVersion(db, request.accountID, request.version)
            try MembershipStore.setOverride(db, accountID: request.accountID, override: .with {
                $0.tier = request.tier
                $0.reason = request.reason
                $0.setBy = principal.subject
                $0.setAt = .init(date: now)
                $0.expiresAt = request.expiresAt
            }, programme: programme, now: now, day: day, by: principal.subject, reason: request.reason)
            try AuditLog.record(db, context: context, recordID: request.accountID, changes: [
                "override": request.tier, "expires_at": TierRules.day(request.expiresAt.date), "reason": request.reason,
            ], at: now)
            return try .with { $0.membership = try MembershipStore.view(db, accountID: request.accountID, programme: programme, now: now, seesMoney: Self.seesMoney(principal)) }
        }
    }

    func clearOverride(_ request: Forge_Loyalty_V1_ClearOverrideRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_ClearOverrideResponse {
        let now = clock.now()
        let principal = try context.caller()
        let day = self.day
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            _ = try Self.visibleAccount(db, request.accountID, principal: principal)
            try Self.checkVersion(db, request.accountID, request.version)
            guard try MembershipStore.stored(db, accountID: request.accountID)?.membership.hasOverride == true else {
                throw RPCError(.failedPrecondition, "account \(request.accountID) has no override")
            }
            let programme = try LoyaltyStore.programme(db, at: now)
            try MembershipStore.setOverride(db, accountID: request.accountID, override: nil, programme: programme, now: now, day: day,
                                            by: principal.subject, reason: request.reason)
            try AuditLog.record(db, context: context, recordID: request.accountID, changes: ["override": "cleared", "reason": request.reason], at: now)
            return try .with { $0.membership = try MembershipStore.view(db, accountID: request.accountID, programme: programme, now: now, seesMoney: Self.seesMoney(principal)) }
        }
    }

    /// Optimistic concurrency on the membership: what people change carries the version read.
    static func checkVersion(_ db: Database, _ accountID: String, _ version: Int64) throws {
        let current = try MembershipStore.stored(db, accountID: accountID)?.membership.version ?? 0
        guard version == current else {
            throw RPCError(.aborted, "the membership of \(accountID) changed since version \(version) (now \(current)): read it again")
        }
    }

    // MARK: Purchases

    /// ERP's history and returns, once per key; each row answers on its own, and the accounts
    /// they touch are measured again once.
    func recordPurchases(_ request: Forge_Loyalty_V1_RecordPurchasesRequest, context: ServerContext) async throws -> Forge_Loyalty_V1_RecordPurchasesResponse {
        guard (1...1000).contains(request.purchases.count) else {
            throw RPCError.invalidArgument([FieldViolation(field: "purchases", description: "give 1 to 1,000 purchases per call (\(request.purchases.count) given)")])
        }
        let now = clock.now()
        let day = self.day
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let programme = try LoyaltyStore.programme(db, at: now)
            var touched = Set<String>()
            var results: [Forge_Common_V1_ImportRowResult] = []
            for (index, purchase) in request.purchases.enumerated() {
                var result = Forge_Common_V1_ImportRowResult()
                result.line = Int32(index + 1)
                result.id = purchase.key
                var violations = LoyaltyStore.validate(purchase, now: now)
                if violations.isEmpty, try AccountDirectory.entry(db, accountID: purchase.accountID) == nil {
                    violations.append(FieldViolation(field: "account_id", description: "is not a known account"))
                }
                if !violations.isEmpty {
                    result.status = .rejected
                    result.violations = violations.map { violation in .with { $0.field = violation.field; $0.description_p = violation.description } }
                    result.reason = violations.map { "\($0.field) \($0.description)" }.joined(separator: "; ")
                } else if try LoyaltyStore.recordPurchase(db, purchase, programme: programme, at: now) {
                    result.status = .created
                    touched.insert(purchase.accountID)
                } else {
                    result.status = .unchanged
                    result.reason = "recorded before"
                }
                results.append(result)
            }
            for accountID in touched.sorted() {
                try MembershipStore.evaluate(db, accountID: accountID, programme: programme, now: now, trigger: "purchase", day: day)
            }
            return .with { $0.results = results }
        }
    }
}

/// Who may call what (DESIGN §9): sales see their own and their team's members; service staff,
/// marketing, finance and analysts all; the programme is changed by marketing and sales
/// managers, tiers overridden by managers; purchases come from ERP and finance; entitlements
/// are consumed by the people (and services) who deliver them; rebates are finance's and
/// managers'.
enum LoyaltyAccess {
    static func declare(in access: inout AccessTable) {
        let method = Forge_Loyalty_V1_LoyaltyService.Method.self
        let sales: Set<String> = [Role.salesManager, Role.salesRep]
        let serviceStaff: Set<String> = [Role.serviceManager, Role.serviceEngineer]
        let readers = sales.union(serviceStaff).union([Role.marketing, Role.finance, Role.analyst, Role.service])
        let managers: Set<String> = [Role.salesManager, Role.serviceManager]
        let money: Set<String> = [Role.finance, Role.salesManager, Role.serviceManager]
        access.allow(method.getProgramme, .roles(readers))
        access.allow(method.listProgrammeVersions, .roles(readers))
        access.allow(method.updateProgramme, .roles([Role.marketing, Role.salesManager]))
        access.allow(method.getProgrammeOverview, .roles(readers))
        access.allow(method.getMembership, .roles(readers))
        access.allow(method.listMembers, .roles(readers))
        access.allow(method.evaluateTier, .roles(readers.subtracting([Role.analyst])))
        access.allow(method.getTierHistory, .roles(readers))
        access.allow(method.overrideTier, .roles(managers))
        access.allow(method.clearOverride, .roles(managers))
        access.allow(method.recordPurchases, .roles([Role.erpConnector, Role.finance]))
        access.allow(method.consumeEntitlement, .roles(sales.union(serviceStaff).union([Role.marketing, Role.service])))
        access.allow(method.reverseConsumption, .roles(managers.union([Role.finance, Role.service, Role.marketing])))
        access.allow(method.listConsumptions, .roles(readers))
        access.allow(method.createRebateAgreement, .roles([Role.finance, Role.salesManager]))
        access.allow(method.getRebateStatement, .roles(money.union([Role.service])))
        access.allow(method.listRebateAgreements, .roles(money.union([Role.service])))
        access.allow(method.settleRebate, .roles([Role.finance]))
        access.allow(method.cancelRebateAgreement, .roles([Role.finance, Role.salesManager]))
    }
}
