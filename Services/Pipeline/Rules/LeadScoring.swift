import ForgeContracts
import ForgeKit
import Foundation
import SwiftProtobuf

/// A lead's score, 0–100, with one reason per part (no I/O): fit (industry, company size,
/// region) and intent (source, words in the need, repeat inquiries), weighted by the
/// configurable scoring rules.
enum LeadScoring {
    static func score(_ lead: Forge_Pipeline_V1_Lead, rules: Forge_Pipeline_V1_ScoringRules) -> (Int32, [Forge_Pipeline_V1_ScoreReason]) {
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
        if let points = lookup(rules.industryPoints, lead.industry) { add("fit", "industry", points, lead.industry) }
        if let points = lookup(rules.regionPoints, lead.region) { add("fit", "region", points, lead.region) }
        if let points = rules.sizePoints.first(where: { $0.size == lead.companySize })?.points {
            add("fit", "size", points, PipelineLabels.size(lead.companySize))
        }
        if let points = rules.sourcePoints.first(where: { $0.source == lead.source })?.points {
            add("intent", "source", points, PipelineLabels.source(lead.source))
        }
        let need = NameNormalizer.fold(lead.need)
        for (keyword, points) in rules.needKeywordPoints.sorted(by: { $0.key < $1.key }) {
            let folded = NameNormalizer.fold(keyword)
            if !folded.isEmpty, need.contains(folded) { add("intent", "need", points, keyword) }
        }
        if lead.inquiryCount > 1 {
            let points = min(rules.maxRepeatPoints, rules.pointsPerRepeatInquiry * (lead.inquiryCount - 1))
            add("intent", "repeat", points, "\(lead.inquiryCount) inquiries")
        }
        let total = reasons.reduce(0) { $0 + Int($1.points) }
        return (Int32(min(100, max(0, total))), reasons)
    }

    /// A map keyed by names people type: matched with width and case folded.
    private static func lookup(_ points: [String: Int32], _ key: String) -> Int32? {
        guard !key.isEmpty else { return nil }
        if let exact = points[key] { return exact }
        let folded = NameNormalizer.fold(key)
        return points.first { NameNormalizer.fold($0.key) == folded }?.value
    }
}
