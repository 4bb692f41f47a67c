import ForgeContracts

/// The words people read for pipeline's enums (Chinese, as the sales floor speaks): the
/// pipeline service writes them into task titles, the gateway onto its pages.
public enum PipelineLabels {
    public static func source(_ source: Forge_Pipeline_V1_LeadSource) -> String {
        switch source {
        case .tradeShow: L("展会", "Trade show")
        case .webInquiry: L("网站询盘", "Web inquiry")
        case .channelPartner: L("渠道伙伴", "Channel partner")
        case .referral: L("客户转介绍", "Referral")
        case .revisitPool: L("回访池", "Revisit pool")
        case .manual: L("手工录入", "Manual")
        case .unspecified, .UNRECOGNIZED: L("其他", "Other")
        }
    }

    public static func size(_ size: Forge_Accounts_V1_CompanySize) -> String {
        switch size {
        case .micro: L("20 人以下", "Under 20 staff")
        case .small: L("20–99 人", "20–99 staff")
        case .medium: L("100–999 人", "100–999 staff")
        case .large: L("1000 人以上", "1,000+ staff")
        case .unspecified, .UNRECOGNIZED: L("未知规模", "Size unknown")
        }
    }

    public static func stage(_ stage: Forge_Pipeline_V1_Stage) -> String {
        switch stage {
        case .technicalConsultation: L("技术咨询", "Technical consultation")
        case .solutionDesign: L("方案设计", "Solution design")
        case .samplingTrial: L("打样/试用", "Sampling / trial")
        case .quotationNegotiation: L("报价与谈判", "Quotation and negotiation")
        case .bidding: L("投标", "Bidding")
        case .contract: L("合同", "Contract")
        case .won: L("赢单", "Won")
        case .lost: L("丢单", "Lost")
        case .unspecified, .UNRECOGNIZED: L("未知阶段", "Unknown stage")
        }
    }
}

extension PipelineLabels {
    public static func quoteStatus(_ status: Forge_Pipeline_V1_QuoteStatus) -> String {
        switch status {
        case .pendingApproval: L("待审批", "Pending approval")
        case .approved: L("已批准", "Approved")
        case .approvalRejected: L("审批未通过", "Approval rejected")
        case .sent: L("已发送", "Sent")
        case .accepted: L("客户已接受", "Accepted by the customer")
        case .declined: L("客户已拒绝", "Declined by the customer")
        case .expired: L("已过期", "Expired")
        case .superseded: L("已被新版本取代", "Superseded by a newer version")
        case .unspecified, .UNRECOGNIZED: L("未知", "Unknown")
        }
    }
}

/// The order of a machinery maker's project stages: the pipeline's gates check moves along it,
/// the board offers the moves it allows.
public enum PipelineStages {
    /// The way forward; LOST is reachable from any open stage.
    public static let order: [Forge_Pipeline_V1_Stage] = [.technicalConsultation, .solutionDesign, .samplingTrial, .quotationNegotiation, .bidding, .contract, .won]
    /// The open stages in order: the board's columns.
    public static let open = order.filter { $0 != .won }
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
