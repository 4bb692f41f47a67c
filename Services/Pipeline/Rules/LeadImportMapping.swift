import ForgeContracts
import ForgeKit
import Foundation
import SwiftProtobuf

/// How a trade-show list or a web-inquiry export maps onto leads: Chinese or English headers,
/// sources by the words people type, dates as text or as Excel day numbers. No I/O.
enum LeadImportMapping {
    enum Column: String, CaseIterable {
        case company = "company_name", contact = "contact_name", phone, email, wechat = "wechat_id", region
        case productLine = "product_line", need, source, campaign, receivedAt = "received_at", industry, size
    }

    static let aliases: [String: Column] = ImportColumns.aliases([
        .company: ["company", "companyname", "customer", "customername", "account", "公司", "公司名称", "客户名称", "企业名称", "单位名称", "单位"],
        .contact: ["contact", "contactname", "name", "联系人", "姓名", "联系人姓名"],
        .phone: ["phone", "mobile", "tel", "telephone", "手机", "电话", "手机号", "联系电话"],
        .email: ["email", "mail", "e-mail", "邮箱", "电子邮件", "电子邮箱"],
        .wechat: ["wechat", "wechatid", "weixin", "微信", "微信号"],
        .region: ["region", "area", "区域", "地区", "大区", "省份"],
        .productLine: ["productline", "product", "产品线", "产品", "意向产品", "感兴趣产品"],
        .need: ["need", "needs", "requirement", "notes", "comment", "需求", "需求描述", "备注", "留言"],
        .source: ["source", "leadsource", "来源", "线索来源", "渠道"],
        .campaign: ["campaign", "event", "show", "活动", "展会", "展会名称", "活动名称"],
        .receivedAt: ["receivedat", "date", "received", "日期", "收到时间", "登记时间", "询盘时间"],
        .industry: ["industry", "行业", "所属行业"],
        .size: ["size", "companysize", "employees", "规模", "企业规模", "人数", "员工人数"],
    ])

    /// The lead a row describes, or the cells it cannot read (named by the header's column).
    static func lead(_ cells: [Column: String], defaultSource: Forge_Pipeline_V1_LeadSource = .tradeShow)
        -> (lead: Forge_Pipeline_V1_Lead, violations: [Forge_Common_V1_RowViolation])
    {
        var lead = Forge_Pipeline_V1_Lead()
        var problems = ImportColumns.RowProblems<Column>()
        lead.companyName = cells[.company] ?? ""
        lead.contactName = cells[.contact] ?? ""
        lead.phone = cells[.phone] ?? ""
        lead.email = cells[.email] ?? ""
        lead.wechatID = cells[.wechat] ?? ""
        lead.region = cells[.region] ?? ""
        lead.productLine = cells[.productLine] ?? ""
        lead.need = cells[.need] ?? ""
        lead.campaign = cells[.campaign] ?? ""
        lead.industry = cells[.industry] ?? ""
        lead.source = defaultSource
        if let text = cells[.source] {
            if let source = ImportColumns.choice(text, [
                .tradeShow: ["trade show", "tradeshow", "展会", "展览会"], .webInquiry: ["web", "website", "web inquiry", "网站", "官网", "网站询盘", "线上"],
                .channelPartner: ["partner", "channel", "channel partner", "渠道", "代理商", "经销商", "渠道伙伴"],
                .referral: ["referral", "转介绍", "客户介绍", "推荐"], .manual: ["manual", "other", "手工", "其他"],
            ] as [Forge_Pipeline_V1_LeadSource: [String]]) {
                lead.source = source
            } else {
                problems.add(.source, "is not a lead source (展会, 网站, 渠道, 转介绍, 其他)")
            }
        }
        if let text = cells[.size] {
            if let size = ImportColumns.companySize(text) { lead.companySize = size } else { problems.add(.size, "is not micro, small, medium, large or a head count") }
        }
        if let text = cells[.receivedAt] {
            if let date = ImportColumns.date(text) { lead.receivedAt = .init(date: date) } else { problems.add(.receivedAt, "is not a date (2026-03-15, 2026/3/15 or an Excel date)") }
        }
        return (lead, problems.violations)
    }
}
