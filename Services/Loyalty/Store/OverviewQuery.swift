import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// The programme overview: members per tier, this quarter's movements, downgrades waiting out
/// their grace and members near the next tier — each within what the caller may see.
enum OverviewQuery {
    static let listLimit = 50

    static func quarterStart(_ now: Date) -> Date {
        TierRules.calendar.date(byAdding: .month, value: -3, to: LoyaltyJobs.nextQuarter(after: now)) ?? now
    }

    static func overview(_ db: Database, programme: Forge_Loyalty_V1_Programme, principal: Principal, now: Date) throws -> Forge_Loyalty_V1_GetProgrammeOverviewResponse {
        var scope: [String] = []
        var scopeArguments = StatementArguments()
        OwnerScope.restrict(principal, table: "d", clauses: &scope, arguments: &scopeArguments)
        let scoped = scope.isEmpty ? "1" : scope.joined(separator: " AND ")
        var counts: [String: Int32] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT m.tier, COUNT(*) AS members FROM membership m JOIN account_directory d ON d.account_id = m.account_id WHERE \(scoped) GROUP BY m.tier
            """, arguments: scopeArguments) {
            counts[row["tier"]] = Int32(row["members"] as Int64)
        }
        let start = quarterStart(now)
        let movements = try Row.fetchAll(db, sql: """
            SELECT h.account_id, d.name, h.payload FROM tier_history h JOIN account_directory d ON d.account_id = h.account_id
            WHERE h.kind = 'tier_changed' AND h.at >= ? AND \(scoped) ORDER BY h.at DESC, h.id DESC LIMIT 200
            """, arguments: [start.timeIntervalSince1970] + scopeArguments).map { row -> Forge_Loyalty_V1_TierMovement in
            let entry = try Forge_Loyalty_V1_TierHistoryEntry(serializedBytes: row["payload"] as Data)
            return .with {
                $0.accountID = row["account_id"]
                $0.accountName = row["name"]
                $0.fromTier = entry.fromTier
                $0.toTier = entry.toTier
                $0.at = entry.at
                $0.reason = entry.reason
            }
        }
        func members(_ condition: String, order: String) throws -> [Forge_Loyalty_V1_Membership] {
            try Data.fetchAll(db, sql: """
                SELECT m.payload FROM membership m JOIN account_directory d ON d.account_id = m.account_id
                WHERE \(condition) AND \(scoped) ORDER BY \(order) LIMIT \(listLimit)
                """, arguments: scopeArguments).map { try Forge_Loyalty_V1_Membership(serializedBytes: $0) }
        }
        return .with {
            $0.programme = programme
            $0.tiers = [.with { $0.tier = ""; $0.tierName = L("未入级", "No tier"); $0.members = counts[""] ?? 0 }] + ProgrammeRules.ordered(programme).map { tier in
                .with { $0.tier = tier.code; $0.tierName = tier.name; $0.members = counts[tier.code] ?? 0 }
            }
            $0.movements = movements
            $0.quarterStart = .init(date: start)
            $0.pendingDowngrades = (try? members("m.pending_until IS NOT NULL", order: "m.pending_until")) ?? []
            $0.nearNextTier = (try? members("m.near_next", order: "m.rank DESC, m.account_id")) ?? []
        }
    }
}
