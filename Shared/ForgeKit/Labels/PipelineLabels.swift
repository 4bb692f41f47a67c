import ForgeContracts

/// The words people read for pipeline's enums (Chinese, as the sales floor speaks): the
/// pipeline service writes them into task titles, the gateway onto its pages.
public enum PipelineLabels {
    public static func source(_ source: Forge_Pipeline_V1_LeadSource) -> String {
        switch source {
        case .tradeShow: "展会"
        case .webInquiry: "网站询盘"
        case .channelPartner: "渠道伙伴"
        case .referral: "客户转介绍"
        case .revisitPool: "回访池"
        case .manual: "手工录入"
        case .unspecified, .UNRECOGNIZED: "其他"
        }
    }

    public static func size(_ size: Forge_Accounts_V1_CompanySize) -> String {
        switch size {
        case .micro: "20 人以下"
        case .small: "20–99 人"
        case .medium: "100–999 人"
        case .large: "1000 人以上"
        case .unspecified, .UNRECOGNIZED: "未知规模"
        }
    }

    public static func stage(_ stage: Forge_Pipeline_V1_Stage) -> String {
        switch stage {
        case .technicalConsultation: "技术咨询"
        case .solutionDesign: "方案设计"
        case .samplingTrial: "打样/试用"
        case .quotationNegotiation: "报价与谈判"
        case .bidding: "投标"
        case .contract: "合同"
        case .won: "赢单"
        case .lost: "丢单"
        case .unspecified, .UNRECOGNIZED: "未知阶段"
        }
    }
}

extension PipelineLabels {
    public static func quoteStatus(_ status: Forge_Pipeline_V1_QuoteStatus) -> String {
        switch status {
        case .pendingApproval: "待审批"
        case .approved: "已批准"
        case .approvalRejected: "审批未通过"
        case .sent: "已发送"
        case .accepted: "客户已接受"
        case .declined: "客户已拒绝"
        case .expired: "已过期"
        case .superseded: "已被新版本取代"
        case .unspecified, .UNRECOGNIZED: "未知"
        }
    }
}

/// The order of a machinery maker's project stages: the pipeline's gates check moves along it,
/// the board offers the moves it allows.
public enum PipelineStages {
    /// The way forward; LOST is reachable from any open stage.
    public static let order: [Forge_Pipeline_V1_Stage] = [.technicalConsultation, .solutionDesign, .samplingTrial, .quotationNegotiation, .bidding, .contract, .won]
    /// Stages a project may pass by: not every machine needs a trial, few go to tender.
    public static let optional: Set<Forge_Pipeline_V1_Stage> = [.samplingTrial, .bidding]

    /// The open stages a forward move from `stage` may reach: each optional one up to and
    /// including the next required one.
    public static func forwardMoves(from stage: Forge_Pipeline_V1_Stage) -> [Forge_Pipeline_V1_Stage] {
        guard let index = order.firstIndex(of: stage), stage != .won else { return [] }
        var moves: [Forge_Pipeline_V1_Stage] = []
        for next in order.dropFirst(index + 1) where next != .won {
            moves.append(next)
            if !optional.contains(next) { break }
        }
        return moves
    }
}
