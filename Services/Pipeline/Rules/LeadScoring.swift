import ForgeContracts
import ForgeKit
import Foundation
import SwiftProtobuf

/// A lead's score, 0–100, with one reason per part (no I/O): fit (industry, company size,
/// region) and intent (source, words in the need, repeat inquiries), weighted by the
/// configurable scoring rules.
enum LeadScoring {
    /// The scoring rules with their keys folded once (width and case), not on every lead.
    struct Prepared: Sendable {
        let rules: Forge_Pipeline_V1_ScoringRules
        let industry: [String: Int32]
        let region: [String: Int32]
        let keywords: [(folded: String, points: Int32, keyword: String)]

        init(_ rules: Forge_Pipeline_V1_ScoringRules) {
            self.rules = rules
            industry = Dictionary(rules.industryPoints.map { (NameNormalizer.fold($0.key), $0.value) }) { first, _ in first }
            region = Dictionary(rules.regionPoints.map { (NameNormalizer.fold($0.key), $0.value) }) { first, _ in first }
            keywords = rules.needKeywordPoints.sorted { $0.key < $1.key }
                .map { (NameNormalizer.fold($0.key), $0.value, $0.key) }.filter { !$0.folded.isEmpty }
        }
    }

    static func score(_ lead: Forge_Pipeline_V1_Lead, rules: Forge_Pipeline_V1_ScoringRules) -> (Int32, [Forge_Pipeline_V1_ScoreReason]) {
        score(lead, prepared: Prepared(rules))
    }

    static func score(_ lead: Forge_Pipeline_V1_Lead, prepared: Prepared) -> (Int32, [Forge_Pipeline_V1_ScoreReason]) {
        let rules = prepared.rules
        var reasons: [Forge_Pipeline_V1_ScoreReason] = []
        func add(_ kind: String, _ factor: String, _ points: Int32, _ detail: String) {
            guard points != 0 else { return }
            reasons.append(.with {
                $0.kind = kind
                $0.factor = factor
                $0.points = points
                $0.detail = detail
            })
        }
        if !lead.industry.isEmpty, let points = prepared.industry[NameNormalizer.fold(lead.industry)] { add("fit", "industry", points, lead.industry) }
        if !lead.region.isEmpty, let points = prepared.region[NameNormalizer.fold(lead.region)] { add("fit", "region", points, lead.region) }
        if let points = rules.sizePoints.first(where: { $0.size == lead.companySize })?.points {
            add("fit", "size", points, storedText { PipelineLabels.size(lead.companySize) })
        }
        if let points = rules.sourcePoints.first(where: { $0.source == lead.source })?.points {
            add("intent", "source", points, storedText { PipelineLabels.source(lead.source) })
        }
        let need = NameNormalizer.fold(lead.need)
        for keyword in prepared.keywords where need.contains(keyword.folded) {
            add("intent", "need", keyword.points, keyword.keyword)
        }
        if lead.inquiryCount > 1 {
            let points = min(rules.maxRepeatPoints, rules.pointsPerRepeatInquiry * (lead.inquiryCount - 1))
            add("intent", "repeat", points, "\(lead.inquiryCount) inquiries")
        }
        let total = reasons.reduce(0) { $0 + Int($1.points) }
        return (Int32(min(100, max(0, total))), reasons)
    }
}
