import ForgeContracts

/// How enum values read on the pages (Chinese first, as the sales floor speaks).
enum Labels {
    static func stage(_ value: Forge_Accounts_V1_LifecycleStage) -> String {
        switch value {
        case .prospect: "潜在客户"
        case .intent: "意向客户"
        case .customer: "成交客户"
        case .churned: "流失客户"
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
        case .core: "核心"
        case .potential: "潜力"
        case .regular: "一般"
        case .marginal: "边缘"
        default: "—"
        }
    }

    static func staleness(_ value: Forge_Accounts_V1_Staleness) -> String {
        switch value {
        case .warning: "7 天未跟进"
        case .handover: "14 天未跟进，待主管交接"
        case .revisitPool: "已进入回访池"
        default: "正常"
        }
    }

    static func kind(_ value: Forge_Accounts_V1_ActivityKind) -> String {
        switch value {
        case .visit: "拜访"
        case .call: "电话"
        case .email: "邮件"
        case .wechat: "微信"
        case .meeting: "会议"
        case .qbr: "季度回顾"
        case .siteVisit: "现场"
        case .note: "备注"
        default: "动态"
        }
    }

    static func department(_ value: Forge_Accounts_V1_Department) -> String {
        switch value {
        case .procurement: "采购"
        case .rnd: "研发"
        case .quality: "质量"
        case .operations: "生产运营"
        case .management: "管理层"
        case .finance: "财务"
        case .other: "其他"
        default: "—"
        }
    }

    static func role(_ value: Forge_Accounts_V1_BuyingRole) -> String {
        switch value {
        case .decisionMaker: "决策者"
        case .influencer: "影响者"
        case .user: "使用者"
        case .gatekeeper: "把关者"
        case .champion: "支持者"
        default: "—"
        }
    }

    static func status(_ value: Forge_Gateway_V1_SectionStatus) -> (key: String, label: String) {
        switch value {
        case .ok: ("ok", "正常")
        case .timedOut: ("timed_out", "超时")
        case .forbidden: ("forbidden", "无权限")
        default: ("unavailable", "暂不可用")
        }
    }
}
