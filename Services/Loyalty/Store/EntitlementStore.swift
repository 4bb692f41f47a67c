import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Entitlements: the tier's benefits with what is left of each quota this membership year
/// (from the latest anniversary of the day the account became a member), consumption once per
/// (entitlement, reference) and its reversal.
enum EntitlementStore {
    typealias Consumption = Forge_Loyalty_V1_Consumption
    typealias Balance = Forge_Loyalty_V1_EntitlementBalance

    /// Units used per entitlement since `start`, reversals excluded.
    static func used(_ db: Database, accountID: String, since start: Date) throws -> [String: Int32] {
        var used: [String: Int32] = [:]
        for row in try Row.fetchAll(db.cachedStatement(sql: """
            SELECT code, SUM(quantity) AS used FROM consumption WHERE account_id = ? AND consumed_at >= ? AND NOT reversed GROUP BY code
            """), arguments: [accountID, start.timeIntervalSince1970]) {
            used[row["code"]] = Int32(clamping: row["used"] as Int64)
        }
        return used
    }

    static func balances(_ db: Database, membership: Forge_Loyalty_V1_Membership, programme: Forge_Loyalty_V1_Programme, now: Date, seesMoney: Bool) throws -> [Balance] {
        guard let tier = ProgrammeRules.tier(programme, code: membership.tier), membership.hasMemberSince else { return [] }
        let year = TierRules.membershipYear(since: membership.memberSince.date, now: now)
        let used = try used(db, accountID: membership.accountID, since: year.start)
        return tier.entitlements.filter { seesMoney || !$0.financeOnly }.map { definition in
            balance(definition, used: used[definition.code] ?? 0, renews: year.renews)
        }
    }

    static func balance(_ definition: Forge_Loyalty_V1_EntitlementDefinition, used: Int32, renews: Date) -> Balance {
        .with {
            $0.code = definition.code
            $0.name = definition.name
            $0.yearlyQuota = definition.yearlyQuota
            $0.value = definition.value
            $0.used = used
            $0.remaining = max(0, definition.yearlyQuota - used)
            $0.renewsAt = .init(date: renews)
        }
    }

    static func consumption(_ db: Database, accountID: String, code: String, reference: String) throws -> Consumption? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT payload FROM consumption WHERE account_id = ? AND code = ? AND reference = ?"), arguments: [accountID, code, reference])
            .map { try Consumption(serializedBytes: $0) }
    }

    /// Consumes `quantity` of the account's entitlement for `reference`; the same reference
    /// again answers the first consumption (replayed) and uses nothing more.
    static func consume(_ db: Database, _ request: Forge_Loyalty_V1_ConsumeEntitlementRequest, by subject: String,
                        programme: Forge_Loyalty_V1_Programme, now: Date) throws -> Forge_Loyalty_V1_ConsumeEntitlementResponse {
        let quantity = max(request.quantity, 1)
        let membership = try MembershipStore.tierAndSince(db, accountID: request.accountID)
        let tier = membership.flatMap { ProgrammeRules.tier(programme, code: $0.tier) }
        let year = membership?.since.map { TierRules.membershipYear(since: $0, now: now) }
        let definition = tier?.entitlements.first { $0.code == request.code }
        let used = try year.map { try self.used(db, accountID: request.accountID, since: $0.start)[request.code] ?? 0 } ?? 0
        if let earlier = try consumption(db, accountID: request.accountID, code: request.code, reference: request.reference) {
            return .with {
                $0.consumption = earlier
                $0.replayed = true
                if let definition, let year { $0.entitlement = balance(definition, used: used, renews: year.renews) }
            }
        }
        guard let tier, let year else {
            throw RPCError(.failedPrecondition, "account \(request.accountID) has no partner tier, so no entitlements")
        }
        guard let definition else {
            let offered = tier.entitlements.filter { $0.yearlyQuota > 0 }.map(\.code).joined(separator: ", ")
            throw RPCError(.failedPrecondition, "\(tier.name) brings no \(request.code)" + (offered.isEmpty ? "" : "; its entitlements with quotas: \(offered)"))
        }
        guard definition.yearlyQuota > 0 else {
            throw RPCError(.failedPrecondition, "\(definition.name) is a standing benefit (\(definition.value)) of \(tier.name): nothing to consume")
        }
        guard used + quantity <= definition.yearlyQuota else {
            let left = max(0, definition.yearlyQuota - used)
            throw RPCError(.failedPrecondition, "\(definition.name) of \(tier.name) is used up for this membership year: \(used) of \(definition.yearlyQuota) used, \(left) left"
                + (quantity > 1 ? " (asked for \(quantity))" : "") + "; it renews on \(TierRules.day(year.renews))")
        }
        let consumption = Consumption.with {
            $0.id = EventID.make(prefix: "csm", at: now)
            $0.accountID = request.accountID
            $0.code = request.code
            $0.reference = request.reference
            $0.quantity = quantity
            $0.note = request.note
            $0.contactID = request.contactID
            $0.consumedBy = subject
            $0.consumedAt = .init(date: now)
            $0.yearStart = .init(date: year.start)
        }
        try save(db, consumption)
        try Outbox.append(db, Forge_Loyalty_V1_EntitlementConsumed.with { $0.consumption = consumption }, accountID: request.accountID, at: now)
        return .with {
            $0.consumption = consumption
            $0.entitlement = balance(definition, used: used + quantity, renews: year.renews)
        }
    }

    static func save(_ db: Database, _ consumption: Consumption) throws {
        try db.execute(cached: """
            INSERT OR REPLACE INTO consumption (id, account_id, code, reference, year_start, quantity, reversed, contact_id, consumed_at, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [consumption.id, consumption.accountID, consumption.code, consumption.reference, consumption.yearStart.date.timeIntervalSince1970,
                             consumption.quantity, consumption.reversed, consumption.contactID, consumption.consumedAt.date.timeIntervalSince1970,
                             try consumption.serializedData()])
    }

    /// Gives a consumption back (a cancelled visit); reversing it again changes nothing.
    static func reverse(_ db: Database, _ request: Forge_Loyalty_V1_ReverseConsumptionRequest, by subject: String, now: Date) throws -> Consumption {
        guard var consumption = try consumption(db, accountID: request.accountID, code: request.code, reference: request.reference) else {
            throw RPCError(.notFound, "no \(request.code) consumed for \(request.reference) on account \(request.accountID)")
        }
        guard !consumption.reversed else { return consumption }
        consumption.reversed = true
        consumption.reversalReason = request.reason
        consumption.reversedBy = subject
        consumption.reversedAt = .init(date: now)
        try save(db, consumption)
        try Outbox.append(db, Forge_Loyalty_V1_EntitlementReversed.with { $0.consumption = consumption }, accountID: consumption.accountID, at: now)
        return consumption
    }

    static func list(_ db: Database, accountID: String, code: String, after: String, limit: Int) throws -> [Consumption] {
        var clauses = ["account_id = ?"]
        var arguments: StatementArguments = [accountID]
        if !code.isEmpty {
            clauses.append("code = ?")
            arguments += [code]
        }
        if !after.isEmpty {
            clauses.append("id < ?")
            arguments += [after]
        }
        arguments += [limit]
        return try Data.fetchAll(db, sql: "SELECT payload FROM consumption WHERE \(clauses.joined(separator: " AND ")) ORDER BY id DESC LIMIT ?", arguments: arguments)
            .map { try Consumption(serializedBytes: $0) }
    }
}
