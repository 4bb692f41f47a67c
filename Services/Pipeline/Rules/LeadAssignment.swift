import ForgeContracts
import ForgeKit
import Foundation
import SwiftProtobuf

/// Who gets a new lead (no I/O): the most specific assignment rule for its region and product
/// line names the team (or a key-account owner, who wins outright); within the team the member
/// with the fewest open leads per unit of weight, the longest without a new lead on a tie —
/// a round robin that evens out load, so 1,000 leads over 4 equal reps end within one of each
/// other.
enum LeadAssignment {
    struct Decision: Equatable {
        var ownerID: String
        var team: String
        /// key_account, round_robin, manager (a team without members), capturer (no team at all).
        var how: String
    }

    /// A member's open leads and when they last got one (a sequence number; 0 never).
    struct Load: Equatable {
        var open: Int
        var lastAssigned: Int64
    }

    /// A rule with its region and product line folded once.
    struct PreparedRule: Sendable {
        let region: String
        let productLine: String
        let rule: Forge_Pipeline_V1_AssignmentRule

        init(_ rule: Forge_Pipeline_V1_AssignmentRule) {
            region = NameNormalizer.fold(rule.region)
            productLine = NameNormalizer.fold(rule.productLine)
            self.rule = rule
        }

        /// Exact on both 3, region only 2, product line only 1, catch-all 0.
        var specificity: Int { (region.isEmpty ? 0 : 2) + (productLine.isEmpty ? 0 : 1) }
    }

    /// The rule for `region` and `productLine`: exact on both first, then region only, then
    /// product line only, then a catch-all; in table order within each.
    static func rule(for region: String, productLine: String, in rules: [Forge_Pipeline_V1_AssignmentRule]) -> Forge_Pipeline_V1_AssignmentRule? {
        rule(for: region, productLine: productLine, in: rules.map(PreparedRule.init))
    }

    static func rule(for region: String, productLine: String, in rules: [PreparedRule]) -> Forge_Pipeline_V1_AssignmentRule? {
        let region = NameNormalizer.fold(region)
        let productLine = NameNormalizer.fold(productLine)
        var best: PreparedRule?
        for candidate in rules where (candidate.region.isEmpty || candidate.region == region) && (candidate.productLine.isEmpty || candidate.productLine == productLine) {
            if best == nil || candidate.specificity > best!.specificity { best = candidate }
        }
        return best?.rule
    }

    /// The team a lead goes to (before the round robin picks its member).
    static func team(for region: String, productLine: String, settings: Forge_Pipeline_V1_PipelineSettings, rules: [PreparedRule]) -> String {
        rule(for: region, productLine: productLine, in: rules).map(\.team).flatMap { $0.isEmpty ? nil : $0 } ?? settings.defaultTeam
    }

    static func decide(
        region: String,
        productLine: String,
        settings: Forge_Pipeline_V1_PipelineSettings,
        loads: [String: Load],
        capturer: String,
        capturerTeam: String = ""
    ) -> Decision {
        decide(region: region, productLine: productLine, settings: settings, rules: settings.rules.map(PreparedRule.init),
               loads: loads, capturer: capturer, capturerTeam: capturerTeam)
    }

    static func decide(
        region: String,
        productLine: String,
        settings: Forge_Pipeline_V1_PipelineSettings,
        rules: [PreparedRule],
        loads: [String: Load],
        capturer: String,
        capturerTeam: String = ""
    ) -> Decision {
        let rule = rule(for: region, productLine: productLine, in: rules)
        let teamName = rule.map(\.team).flatMap { $0.isEmpty ? nil : $0 } ?? settings.defaultTeam
        if let owner = rule?.keyAccountOwnerID, !owner.isEmpty {
            return Decision(ownerID: owner, team: teamName, how: "key_account")
        }
        guard let team = settings.teams.first(where: { $0.name == teamName }) else {
            return Decision(ownerID: capturer, team: teamName.isEmpty ? capturerTeam : teamName, how: "capturer")
        }
        guard let pick = pickMember(team.members, loads: loads) else {
            return Decision(ownerID: team.managerID.isEmpty ? capturer : team.managerID, team: team.name, how: "manager")
        }
        return Decision(ownerID: pick, team: team.name, how: "round_robin")
    }

    /// The member with the least open load per weight; ties go to whoever waited longest.
    static func pickMember(_ members: [Forge_Pipeline_V1_TeamMember], loads: [String: Load]) -> String? {
        members.filter { !$0.userID.isEmpty }.min { a, b in
            let la = loads[a.userID] ?? Load(open: 0, lastAssigned: 0)
            let lb = loads[b.userID] ?? Load(open: 0, lastAssigned: 0)
            // open / weight compared without division: open_a × weight_b vs open_b × weight_a.
            let left = la.open * Int(max(b.weight, 1))
            let right = lb.open * Int(max(a.weight, 1))
            if left != right { return left < right }
            if la.lastAssigned != lb.lastAssigned { return la.lastAssigned < lb.lastAssigned }
            return a.userID < b.userID
        }?.userID
    }
}
