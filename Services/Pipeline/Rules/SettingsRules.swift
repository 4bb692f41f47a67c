import SwiftProtobuf
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation

/// What makes pipeline settings valid: every rule's team exists, team names are unique, each
/// member named once with a weight of 0–100, points within ±100, stage limits 1–365 days.
enum SettingsRules {
    static func validate(_ settings: Forge_Pipeline_V1_PipelineSettings) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        let names = settings.teams.map(\.name)
        for (index, team) in settings.teams.enumerated() {
            let field = "settings.teams[\(index)]"
            if team.name.isBlank {
                violations.append(FieldViolation(field: "\(field).name", description: "is required"))
            } else if names.firstIndex(of: team.name) != index {
                violations.append(FieldViolation(field: "\(field).name", description: "names another team too"))
            }
            var seen = Set<String>()
            for (memberIndex, member) in team.members.enumerated() {
                let memberField = "\(field).members[\(memberIndex)]"
                if member.userID.isEmpty {
                    violations.append(FieldViolation(field: "\(memberField).user_id", description: "is required"))
                } else if !seen.insert(member.userID).inserted {
                    violations.append(FieldViolation(field: "\(memberField).user_id", description: "is already a member"))
                }
                if !(0...100).contains(member.weight) {
                    violations.append(FieldViolation(field: "\(memberField).weight", description: "must be between 0 and 100"))
                }
            }
        }
        for (index, rule) in settings.rules.enumerated() where !rule.team.isEmpty && !names.contains(rule.team) {
            violations.append(FieldViolation(field: "settings.rules[\(index)].team", description: "is not one of the teams"))
        }
        for (index, rule) in settings.rules.enumerated() where rule.team.isEmpty && rule.keyAccountOwnerID.isEmpty {
            violations.append(FieldViolation(field: "settings.rules[\(index)].team", description: "is required (or a key_account_owner_id)"))
        }
        if !settings.defaultTeam.isEmpty, !names.contains(settings.defaultTeam) {
            violations.append(FieldViolation(field: "settings.default_team", description: "is not one of the teams"))
        }
        let scoring = settings.scoring
        func points(_ field: String, _ values: [Int32]) {
            if values.contains(where: { !(-100...100).contains($0) }) {
                violations.append(FieldViolation(field: "settings.scoring.\(field)", description: "points must be between -100 and 100"))
            }
        }
        points("industry_points", Array(scoring.industryPoints.values))
        points("region_points", Array(scoring.regionPoints.values))
        points("size_points", scoring.sizePoints.map(\.points))
        points("source_points", scoring.sourcePoints.map(\.points))
        points("need_keyword_points", Array(scoring.needKeywordPoints.values))
        points("points_per_repeat_inquiry", [scoring.pointsPerRepeatInquiry, scoring.maxRepeatPoints])
        for (index, limit) in settings.stageLimits.enumerated() {
            if !StageRules.isOpen(limit.stage) || limit.stage == .unspecified {
                violations.append(FieldViolation(field: "settings.stage_limits[\(index)].stage", description: "must be an open stage"))
            }
            if !(1...365).contains(limit.days) {
                violations.append(FieldViolation(field: "settings.stage_limits[\(index)].days", description: "must be between 1 and 365"))
            }
        }
        return violations
    }
}
