import ForgeContracts
import ForgeKit
import Foundation
import SwiftProtobuf

/// How spreadsheet columns and cells map onto accounts and contacts: Chinese or English
/// headers, the words people type for stages, grades, tiers, departments and buying roles.
/// No I/O; `AccountImport` applies the rows.
enum ImportMapping {
    enum AccountColumn: String, CaseIterable {
        case name, legalName = "legal_name", taxID = "tax_id", industry, region, address, stage, grade, tier, size
        case ownerID = "owner_id", team, tags, creditRating = "credit_rating", creditLimit = "credit_limit"
        case industryShowcase = "industry_showcase", bringsPartners = "brings_partners", marketingConsent = "marketing_consent"
    }

    enum ContactColumn: String, CaseIterable {
        case accountID = "account_id", accountName = "account_name", accountTaxID = "account_tax_id"
        case name, title, department, buyingRole = "buying_role", relationshipStrength = "relationship_strength"
        case phone, email, wechatID = "wechat_id", marketingConsent = "marketing_consent"
    }

    static let accountAliases: [String: AccountColumn] = ImportColumns.aliases([
        .name: ["name", "accountname", "company", "companyname", "customer", "customername", "客户名称", "客户", "公司名称", "企业名称", "名称", "单位名称"],
        .legalName: ["legalname", "法定名称", "工商注册名称", "注册名称"],
        .taxID: ["taxid", "uscc", "unifiedsocialcreditcode", "统一社会信用代码", "信用代码", "税号", "纳税人识别号"],
        .industry: ["industry", "行业", "所属行业"],
        .region: ["region", "区域", "地区", "大区"],
        .address: ["address", "地址", "公司地址"],
        .stage: ["stage", "lifecyclestage", "阶段", "客户阶段", "生命周期"],
        .grade: ["grade", "valuegrade", "价值等级", "等级", "客户等级"],
        .tier: ["tier", "层级", "客户层级", "分层"],
        .size: ["size", "companysize", "employees", "规模", "企业规模", "人数", "员工人数"],
        .ownerID: ["owner", "ownerid", "负责人", "销售负责人", "客户经理"],
        .team: ["team", "团队", "销售团队"],
        .tags: ["tags", "标签"],
        .creditRating: ["creditrating", "信用评级", "信用等级"],
        .creditLimit: ["creditlimit", "信用额度", "授信额度"],
        .industryShowcase: ["industryshowcase", "showcase", "行业标杆", "标杆客户"],
        .bringsPartners: ["bringspartners", "带动上下游", "上下游带动"],
        .marketingConsent: ["marketingconsent", "consent", "营销同意", "同意营销"],
    ])

    static let contactAliases: [String: ContactColumn] = ImportColumns.aliases([
        .accountID: ["accountid", "客户编号", "客户id"],
        .accountName: ["account", "accountname", "company", "companyname", "customer", "客户名称", "客户", "公司名称", "企业名称", "单位名称"],
        .accountTaxID: ["accounttaxid", "taxid", "统一社会信用代码", "信用代码", "税号"],
        .name: ["name", "contactname", "contact", "姓名", "联系人", "联系人姓名"],
        .title: ["title", "jobtitle", "职务", "职位", "头衔"],
        .department: ["department", "dept", "部门"],
        .buyingRole: ["buyingrole", "role", "角色", "采购角色"],
        .relationshipStrength: ["relationshipstrength", "relationship", "strength", "关系强度", "关系"],
        .phone: ["phone", "mobile", "tel", "telephone", "手机", "电话", "手机号", "联系电话"],
        .email: ["email", "mail", "e-mail", "邮箱", "电子邮件", "电子邮箱"],
        .wechatID: ["wechat", "wechatid", "weixin", "微信", "微信号"],
        .marketingConsent: ["marketingconsent", "consent", "营销同意", "同意营销"],
    ])

    // MARK: Accounts

    /// The account a row describes (only the fields it fills), or the cells it cannot read.
    static func account(_ cells: [AccountColumn: String]) -> (account: Forge_Accounts_V1_Account, violations: [Forge_Common_V1_RowViolation]) {
        var account = Forge_Accounts_V1_Account()
        var problems = ImportColumns.RowProblems<AccountColumn>()
        account.name = cells[.name] ?? ""
        account.legalName = cells[.legalName] ?? ""
        account.taxID = TaxID.normalize(cells[.taxID] ?? "")
        account.industry = cells[.industry] ?? ""
        account.region = cells[.region] ?? ""
        account.address = cells[.address] ?? ""
        account.ownerID = cells[.ownerID] ?? ""
        account.team = cells[.team] ?? ""
        account.creditRating = cells[.creditRating] ?? ""
        if let value = cells[.stage] {
            if let stage = ImportColumns.choice(value, [
                .prospect: ["prospect", "潜在", "潜在客户", "线索"], .intent: ["intent", "意向", "意向客户"],
                .customer: ["customer", "客户", "成交", "成交客户", "合作中"], .churned: ["churned", "流失", "流失客户"],
            ] as [Forge_Accounts_V1_LifecycleStage: [String]]) { account.stage = stage } else { problems.add(.stage, "is not prospect, intent, customer or churned (潜在, 意向, 成交, 流失)") }
        }
        if let value = cells[.grade] {
            if let grade = ImportColumns.choice(value, [.a: ["a", "a类", "a级"], .b: ["b", "b类", "b级"], .c: ["c", "c类", "c级"]] as [Forge_Accounts_V1_ValueGrade: [String]]) {
                account.grade = grade
            } else { problems.add(.grade, "is not A, B or C") }
        }
        if let value = cells[.tier] {
            if let tier = ImportColumns.choice(value, [
                .core: ["core", "核心", "核心客户"], .potential: ["potential", "潜力", "潜力客户"],
                .regular: ["regular", "一般", "普通", "一般客户"], .marginal: ["marginal", "边缘", "边缘客户"],
            ] as [Forge_Accounts_V1_Tier: [String]]) { account.tier = tier } else { problems.add(.tier, "is not core, potential, regular or marginal (核心, 潜力, 一般, 边缘)") }
        }
        if let value = cells[.size] {
            if let size = ImportColumns.companySize(value) { account.size = size } else { problems.add(.size, "is not micro, small, medium, large or a head count") }
        }
        for (column, set) in [(AccountColumn.industryShowcase, { (a: inout Forge_Accounts_V1_Account, v: Bool) in a.industryShowcase = v }),
                              (.bringsPartners, { $0.bringsPartners = $1 }),
                              (.marketingConsent, { $0.consent.marketing = $1 })] {
            guard let value = cells[column] else { continue }
            if let flag = ImportColumns.yesNo(value) { set(&account, flag) } else { problems.add(column, "is not yes or no (是/否)") }
        }
        if let value = cells[.tags] {
            if let tags = tags(value) { account.tags = tags } else { problems.add(.tags, "must be key:value pairs separated by ; (e.g. 展会:2026汉诺威)") }
        }
        if let value = cells[.creditLimit] {
            if let micros = ImportColumns.money(value) {
                account.creditLimit = .with {
                    $0.amountMicros = micros
                    $0.currencyCode = "CNY"
                }
            } else { problems.add(.creditLimit, "is not an amount in yuan") }
        }
        return (account, problems.violations)
    }

    // MARK: Contacts

    static func contact(_ cells: [ContactColumn: String]) -> (contact: Forge_Accounts_V1_Contact, violations: [Forge_Common_V1_RowViolation]) {
        var contact = Forge_Accounts_V1_Contact()
        var problems = ImportColumns.RowProblems<ContactColumn>()
        contact.name = cells[.name] ?? ""
        contact.title = cells[.title] ?? ""
        contact.phone = cells[.phone] ?? ""
        contact.email = cells[.email] ?? ""
        contact.wechatID = cells[.wechatID] ?? ""
        if let value = cells[.department] {
            if let department = ImportColumns.choice(value, [
                .procurement: ["procurement", "purchasing", "采购", "采购部"], .rnd: ["r&d", "rnd", "研发", "技术", "研发部", "技术部"],
                .quality: ["quality", "质量", "品质", "质量部", "品质部"], .operations: ["operations", "production", "生产", "运营", "生产部"],
                .management: ["management", "管理", "管理层", "总经办"], .finance: ["finance", "财务", "财务部"], .other: ["other", "其他"],
            ] as [Forge_Accounts_V1_Department: [String]]) { contact.department = department } else { problems.add(.department, "is not a known department") }
        }
        if let value = cells[.buyingRole] {
            if let role = ImportColumns.choice(value, [
                .decisionMaker: ["decision maker", "decisionmaker", "决策者", "决策人"], .influencer: ["influencer", "影响者", "影响人"],
                .user: ["user", "使用者", "用户"], .gatekeeper: ["gatekeeper", "把关者", "守门人"], .champion: ["champion", "支持者", "内部教练"],
            ] as [Forge_Accounts_V1_BuyingRole: [String]]) { contact.buyingRole = role } else { problems.add(.buyingRole, "is not a known buying role") }
        }
        if let value = cells[.relationshipStrength] {
            if let strength = Int32(value), (1...5).contains(strength) { contact.relationshipStrength = strength } else { problems.add(.relationshipStrength, "must be 1 to 5") }
        }
        if let value = cells[.marketingConsent] {
            if let flag = ImportColumns.yesNo(value) { contact.marketingConsent = flag } else { problems.add(.marketingConsent, "is not yes or no (是/否)") }
        }
        return (contact, problems.violations)
    }

    // MARK: Cells

    /// "key:value; key2:value2" (half- or full-width colons and semicolons, or commas).
    static func tags(_ text: String) -> [String: String]? {
        var tags: [String: String] = [:]
        for pair in text.split(whereSeparator: { ";；,，".contains($0) }) {
            let parts = pair.split(maxSplits: 1, whereSeparator: { ":：".contains($0) })
            let key = parts.first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !key.isEmpty else { return nil }
            tags[key] = parts.count == 2 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        }
        return tags
    }
}
