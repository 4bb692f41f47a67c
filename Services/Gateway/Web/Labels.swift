import ForgeKit
import ForgeContracts

/// How enum values read on the pages, in the page's language (`L`).
enum Labels {
    static func stage(_ value: Forge_Accounts_V1_LifecycleStage) -> String {
        switch value {
        case .prospect: L("潜在客户", "Prospect")
        case .intent: L("意向客户", "Interested")
        case .customer: L("成交客户", "Customer")
        case .churned: L("流失客户", "Churned")
        default: "—"
        }
    }

    static func grade(_ value: Forge_Accounts_V1_ValueGrade) -> String {
        switch value {
        case .a: "A"
        case .b: "B"
        case .c: "C"
        default: "—"
        }
    }

    static func tier(_ value: Forge_Accounts_V1_Tier) -> String {
        switch value {
        case .core: L("核心", "Core")
        case .potential: L("潜力", "Potential")
        case .regular: L("一般", "Regular")
        case .marginal: L("边缘", "Marginal")
        default: "—"
        }
    }

    static func staleness(_ value: Forge_Accounts_V1_Staleness) -> String {
        switch value {
        case .warning: "7 \(L("天未跟进", "days without contact"))"
        case .handover: "14 \(L("天未跟进，待主管交接", "days without contact, awaiting handover by the manager"))"
        case .revisitPool: L("已进入回访池", "In the revisit pool")
        default: L("正常", "Normal")
        }
    }

    static func kind(_ value: Forge_Accounts_V1_ActivityKind) -> String {
        switch value {
        case .visit: L("拜访", "Visit")
        case .call: L("电话", "Call")
        case .email: L("邮件", "E-mail")
        case .wechat: L("微信", "WeChat")
        case .meeting: L("会议", "Meeting")
        case .qbr: L("季度回顾", "Quarterly review")
        case .siteVisit: L("现场", "Site")
        case .note: L("备注", "Note")
        default: L("动态", "Activity")
        }
    }

    static func department(_ value: Forge_Accounts_V1_Department) -> String {
        switch value {
        case .procurement: L("采购", "Procurement")
        case .rnd: L("研发", "R&D")
        case .quality: L("质量", "quality")
        case .operations: L("生产运营", "Operations")
        case .management: L("管理层", "Management")
        case .finance: L("财务", "Finance")
        case .other: L("其他", "Other")
        default: "—"
        }
    }

    static func role(_ value: Forge_Accounts_V1_BuyingRole) -> String {
        switch value {
        case .decisionMaker: L("决策者", "Decision maker")
        case .influencer: L("影响者", "Influencer")
        case .user: L("使用者", "User")
        case .gatekeeper: L("把关者", "Gatekeeper")
        case .champion: L("支持者", "Champion")
        default: "—"
        }
    }

    static func status(_ value: Forge_Gateway_V1_SectionStatus) -> (key: String, label: String) {
        switch value {
        case .ok: ("ok", L("正常", "Normal"))
        case .timedOut: ("timed_out", L("超时", "Timed out"))
        case .forbidden: ("forbidden", L("无权限", "Forbidden"))
        default: ("unavailable", L("暂不可用", "Unavailable"))
        }
    }
}
