import SwiftProtobuf
import ForgeContracts

/// The settings a new pipeline starts with, for a machinery and component maker: scoring
/// that favours the industries it sells to, larger plants, referrals and inquiries that talk
/// about quotes, budgets and tenders. No teams until a manager sets them: until then a lead
/// goes to whoever captured it.
enum PipelineDefaults {
    static let settings = Forge_Pipeline_V1_PipelineSettings.with {
        $0.scoring = scoring
    }

    static let scoring = Forge_Pipeline_V1_ScoringRules.with {
        $0.industryPoints = ["汽车零部件": 20, "新能源": 20, "工程机械": 15, "航空航天": 15, "电子制造": 10, "食品包装": 10, "医疗器械": 10]
        $0.regionPoints = ["华东": 10, "华南": 10, "华北": 5, "华中": 5]
        $0.sizePoints = [
            .with { $0.size = .large; $0.points = 20 },
            .with { $0.size = .medium; $0.points = 12 },
            .with { $0.size = .small; $0.points = 5 },
        ]
        $0.sourcePoints = [
            .with { $0.source = .referral; $0.points = 20 },
            .with { $0.source = .tradeShow; $0.points = 15 },
            .with { $0.source = .channelPartner; $0.points = 15 },
            .with { $0.source = .webInquiry; $0.points = 10 },
            .with { $0.source = .revisitPool; $0.points = 10 },
            .with { $0.source = .manual; $0.points = 5 },
        ]
        $0.needKeywordPoints = ["报价": 15, "采购": 10, "预算": 10, "招标": 10, "急": 5, "quote": 15, "budget": 10, "tender": 10, "urgent": 5]
        $0.pointsPerRepeatInquiry = 10
        $0.maxRepeatPoints = 20
    }
}
