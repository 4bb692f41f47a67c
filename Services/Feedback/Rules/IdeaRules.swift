import ForgeContracts
import ForgeKit
import SwiftProtobuf
import ForgeWire
import Foundation

/// Customers' ideas: what one needs, and how its status may move (new → under review →
/// planned → shipped; declined from any open status, with a reason).
enum IdeaRules {
    typealias Idea = Forge_Feedback_V1_Idea

    static func validate(_ idea: Idea) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        if idea.accountID.isBlank { violations.append(FieldViolation(field: "idea.account_id", description: "is required (the customer it comes from)")) }
        let title = idea.title.trimmed
        if title.isEmpty { violations.append(FieldViolation(field: "idea.title", description: "is required")) }
        if title.count > 200 { violations.append(FieldViolation(field: "idea.title", description: "is longer than 200 characters")) }
        if idea.description_p.count > 4000 { violations.append(FieldViolation(field: "idea.description", description: "is longer than 4000 characters")) }
        if idea.category != .improvement && idea.category != .newNeed {
            violations.append(FieldViolation(field: "idea.category", description: "is required: improvement or new_need"))
        }
        return violations
    }

    static let next: [Forge_Feedback_V1_IdeaStatus: Set<Forge_Feedback_V1_IdeaStatus>] = [
        .new: [.underReview, .planned, .declined],
        .underReview: [.planned, .declined],
        .planned: [.shipped, .declined],
    ]

    /// Why `from` → `to` is not allowed (nil: it is).
    static func transitionProblem(from: Forge_Feedback_V1_IdeaStatus, to: Forge_Feedback_V1_IdeaStatus, note: String) -> FieldViolation? {
        guard next[from]?.contains(to) == true else {
            let allowed = (next[from] ?? []).map(name).sorted().joined(separator: ", ")
            return FieldViolation(field: "status", description: "cannot move from \(name(from)) to \(name(to))" + (allowed.isEmpty ? " (it is final)" : "; allowed: \(allowed)"))
        }
        if to == .declined, note.isBlank {
            return FieldViolation(field: "note", description: "is required when declining: the customers are told why")
        }
        if to == .shipped, note.isBlank {
            return FieldViolation(field: "note", description: "is required when shipping: in which release or model")
        }
        return nil
    }

    static func name(_ status: Forge_Feedback_V1_IdeaStatus) -> String {
        switch status {
        case .new: "new"
        case .underReview: "under_review"
        case .planned: "planned"
        case .shipped: "shipped"
        case .declined: "declined"
        default: "unspecified"
        }
    }
}
