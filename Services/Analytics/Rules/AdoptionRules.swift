import ForgeContracts
import Foundation
import SwiftProtobuf

/// CRM adoption per rep (seed 003's fifth KPI): the accounts each owns, how many went stale
/// (no activity in the 7 days before `to`), the activities logged on them in the period and
/// per week, and whether the rep logged anything at all.
enum AdoptionRules {
    static func reps(_ facts: Facts, scope: Scope, from: Double, to: Double) -> [Forge_Analytics_V1_RepAdoption] {
        let accounts = facts.accounts.filter { scope.admits($0) && !$0.ownerID.isEmpty }
        let owners = Dictionary(accounts.map { ($0.id, $0.ownerID) }, uniquingKeysWith: { $1 })
        var recent = Set<String>()
        var logged: [String: Int] = [:]
        var authored = Set<String>()
        var last: [String: Double] = [:]
        for activity in facts.activities where activity.at < to {
            if activity.at >= to - KpiRules.staleAfter { recent.insert(activity.accountID) }
            if activity.at >= from {
                if let owner = owners[activity.accountID] { logged[owner, default: 0] += 1 }
                authored.insert(activity.authorID)
            }
            last[activity.authorID] = max(last[activity.authorID] ?? 0, activity.at)
        }
        let weeks = (to - from) / (7 * Facts.day)
        return Dictionary(grouping: accounts, by: \.ownerID).sorted { $0.key < $1.key }.map { owner, owned in
            let stale = owned.filter { !recent.contains($0.id) }.count
            return .with {
                $0.ownerID = owner
                $0.team = owned.first?.team ?? ""
                $0.accounts = Int32(owned.count)
                $0.staleAccounts = Int32(stale)
                $0.staleShare = Double(stale) / Double(owned.count) * 100
                $0.activities = Int32(logged[owner] ?? 0)
                $0.activitiesPerWeek = weeks > 0 ? Double(logged[owner] ?? 0) / weeks : 0
                $0.active = authored.contains(owner)
                if let at = last[owner] { $0.lastActivityAt = Facts.stamp(at) }
            }
        }
    }
}
