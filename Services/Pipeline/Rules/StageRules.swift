import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// A machinery maker's project stages (no I/O): their order, which may be skipped, their
/// default probabilities and time limits, and the gates an opportunity passes to enter one.
enum StageRules {
    typealias Stage = Forge_Pipeline_V1_Stage

    static let order = PipelineStages.order
    static let optional = PipelineStages.optional

    static func isOpen(_ stage: Stage) -> Bool { stage != .won && stage != .lost }

    static func defaultProbability(_ stage: Stage) -> Int32 {
        switch stage {
        case .technicalConsultation: 10
        case .solutionDesign: 20
        case .samplingTrial: 40
        case .quotationNegotiation, .bidding: 60
        case .contract: 80
        case .won: 100
        case .lost, .unspecified, .UNRECOGNIZED: 0
        }
    }

    /// Days in a stage before the owner is reminded (twice that: the manager is told).
    static func defaultLimitDays(_ stage: Stage) -> Int32 {
        switch stage {
        case .technicalConsultation: 14
        case .solutionDesign: 30
        case .samplingTrial: 45
        case .quotationNegotiation, .bidding: 30
        case .contract: 21
        case .won, .lost, .unspecified, .UNRECOGNIZED: 0
        }
    }

    static func limitDays(_ stage: Stage, settings: Forge_Pipeline_V1_PipelineSettings) -> Int32 {
        settings.stageLimits.first { $0.stage == stage }?.days ?? defaultLimitDays(stage)
    }

    /// What the gate of `target` needs to know beyond the opportunity itself.
    struct Facts {
        /// Whether the account has a contact with the buying role DECISION_MAKER.
        var hasDecisionMaker = false
        /// The statuses of the opportunity's quotes.
        var quoteStatuses: Set<Forge_Pipeline_V1_QuoteStatus> = []
    }

    /// Whether entering `target` from `from` needs `Facts.hasDecisionMaker` (a call to accounts).
    static func needsDecisionMaker(from: Stage, to target: Stage) -> Bool {
        isForward(from: from, to: target) && target == .solutionDesign
    }

    static func isForward(from: Stage, to target: Stage) -> Bool {
        guard let a = order.firstIndex(of: from), let b = order.firstIndex(of: target) else { return false }
        return b > a
    }

    /// Checks a move. Throws INVALID_ARGUMENT for a bad request, FAILED_PRECONDITION naming
    /// each unmet condition for a move the opportunity is not ready for.
    static func checkMove(
        _ opportunity: Forge_Pipeline_V1_Opportunity,
        to target: Stage,
        lostReason: Forge_Pipeline_V1_LostReason,
        lostTo: String,
        facts: Facts
    ) throws {
        var violations: [FieldViolation] = []
        if target == .unspecified || order.firstIndex(of: target) == nil && target != .lost {
            violations.append(FieldViolation(field: "stage", description: "must be a stage"))
        }
        if target == .lost {
            if Forge_Pipeline_V1_LostReason.allCases.filter({ $0 != .unspecified }).contains(lostReason) == false {
                violations.append(FieldViolation(field: "lost_reason", description: "is required to close an opportunity as lost"))
            }
            if lostReason == .competitor, lostTo.isBlank {
                violations.append(FieldViolation(field: "lost_to", description: "names the competitor that won"))
            }
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let from = opportunity.stage
        guard isOpen(from) else {
            throw RPCError(.failedPrecondition, "the opportunity is closed (\(PipelineLabels.stage(from))); open a new one")
        }
        guard target != from else {
            throw RPCError(.failedPrecondition, "the opportunity is already in \(PipelineLabels.stage(target))")
        }
        // Back to an earlier stage (a trial failed, the customer reopened the design), or lost:
        // no gate.
        guard target != .lost, isForward(from: from, to: target) else { return }

        var missing: [FieldViolation] = []
        let start = order.firstIndex(of: from)! + 1
        let end = order.firstIndex(of: target)!
        for skipped in order[start..<end] where !optional.contains(skipped) {
            missing.append(FieldViolation(field: "stage", description: "cannot skip \(PipelineLabels.stage(skipped))"))
        }
        switch target {
        case .solutionDesign:
            if !facts.hasDecisionMaker {
                missing.append(FieldViolation(field: "account.contacts", description: "needs a decision maker (buying role DECISION_MAKER) among the account's contacts"))
            }
        case .quotationNegotiation, .bidding, .contract:
            if !opportunity.hasAmount || opportunity.amount.amountMicros <= 0 {
                missing.append(FieldViolation(field: "opportunity.amount", description: "needs an amount"))
            }
            if !opportunity.hasExpectedClose {
                missing.append(FieldViolation(field: "opportunity.expected_close", description: "needs an expected close date"))
            }
            if target == .contract {
                if facts.quoteStatuses.isDisjoint(with: [.sent, .accepted]) {
                    missing.append(FieldViolation(field: "quotes", description: "needs a quote sent to the customer"))
                }
            } else if facts.quoteStatuses.isDisjoint(with: [.approved, .sent, .accepted]) {
                missing.append(FieldViolation(field: "quotes", description: "needs an approved quote"))
            }
        case .won:
            missing.append(FieldViolation(field: "quotes", description: "is won when the customer accepts a quote (RecordQuoteAnswer)"))
        default:
            break
        }
        guard missing.isEmpty else {
            throw RPCError(.failedPrecondition,
                           "cannot enter \(PipelineLabels.stage(target)): " + missing.map(\.description).joined(separator: "; "),
                           violations: missing)
        }
    }
}
