import ForgeContracts
import SwiftProtobuf
import Foundation

/// DESIGN §7's formula: NPS = %promoters (9–10) − %detractors (0–6), of the NPS answers; CSAT
/// as the mean score and the share of 4–5. The store counts, these rules divide.
enum NpsRules {
    /// What the store counts for one group.
    struct Counts: Equatable {
        var promoters = 0
        var passives = 0
        var detractors = 0
        /// Surveys sent in the period, and how many of those were answered (imported answers
        /// were never sent: they count in the NPS, not in the response rate).
        var sent = 0
        var sentAnswered = 0
        var csatResponses = 0
        var csatScoreSum = 0
        var csatSatisfied = 0

        static func += (lhs: inout Counts, rhs: Counts) {
            lhs.promoters += rhs.promoters
            lhs.passives += rhs.passives
            lhs.detractors += rhs.detractors
            lhs.sent += rhs.sent
            lhs.sentAnswered += rhs.sentAnswered
            lhs.csatResponses += rhs.csatResponses
            lhs.csatScoreSum += rhs.csatScoreSum
            lhs.csatSatisfied += rhs.csatSatisfied
        }
    }

    /// The figures of `counts`. Without NPS answers the NPS is 0 with 0 responses (the page says
    /// "no answers"); all passives is an NPS of 0 with responses.
    static func figures(_ counts: Counts) -> Forge_Feedback_V1_NpsFigures {
        let responses = counts.promoters + counts.passives + counts.detractors
        return .with {
            $0.promoters = Int32(counts.promoters)
            $0.passives = Int32(counts.passives)
            $0.detractors = Int32(counts.detractors)
            $0.responses = Int32(responses)
            $0.nps = responses == 0 ? 0 : rounded(Double(counts.promoters - counts.detractors) * 100 / Double(responses))
            $0.sent = Int32(counts.sent)
            $0.responseRate = counts.sent == 0 ? 0 : rounded(Double(counts.sentAnswered) / Double(counts.sent))
            $0.csatResponses = Int32(counts.csatResponses)
            $0.csatAverage = counts.csatResponses == 0 ? 0 : rounded(Double(counts.csatScoreSum) / Double(counts.csatResponses))
            $0.csatSatisfiedShare = counts.csatResponses == 0 ? 0 : rounded(Double(counts.csatSatisfied) / Double(counts.csatResponses))
        }
    }

    /// Two decimals: a report figure, not a float artefact (32.00000001).
    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
