import Foundation
import Mustache

/// The messages customers receive, in Chinese and English (Mustache; `{{{name}}}` inserts a
/// parameter as it is, since these are plain-text mails, not HTML). A service names a template
/// and gives its parameters; the contact's name is added as `contact_name`.
enum NotificationTemplates {
    struct Text {
        let subject: String
        let body: String
    }

    static let sources: [String: [String: Text]] = [
        "order_packed": [
            "zh": Text(subject: "您的订单 {{{order_number}}} 已包装完毕，等待发货",
                       body: """
                           {{{contact_name}}} 您好：

                           {{{account_name}}} 的订单 {{{order_number}}}{{#contract_number}}（合同号 {{{contract_number}}}）{{/contract_number}} 已完成包装，正在等待发货。
                           货物：{{{lines}}}

                           发货后我们会把物流单号发给您。如有任何问题，请直接回复本邮件或联系您的客户经理。
                           """),
            "en": Text(subject: "Your order {{{order_number}}} is packed and awaiting shipment",
                       body: """
                           Dear {{{contact_name}}},

                           Order {{{order_number}}} for {{{account_name}}}{{#contract_number}} (contract {{{contract_number}}}){{/contract_number}} is packed and awaiting shipment.
                           Items: {{{lines}}}

                           We will send you the tracking number once it ships.
                           """),
        ],
        "order_shipped": [
            "zh": Text(subject: "您的订单 {{{order_number}}} 已发货{{#tracking_number}}，运单号 {{{tracking_number}}}{{/tracking_number}}",
                       body: """
                           {{{contact_name}}} 您好：

                           {{{account_name}}} 的订单 {{{order_number}}} 已发货。
                           {{#carrier}}承运商：{{{carrier}}}
                           {{/carrier}}{{#tracking_number}}运单号：{{{tracking_number}}}
                           {{/tracking_number}}货物：{{{lines}}}

                           到货签收后，如需安装调试请联系我们的服务热线。
                           """),
            "en": Text(subject: "Your order {{{order_number}}} has shipped{{#tracking_number}} (tracking {{{tracking_number}}}){{/tracking_number}}",
                       body: """
                           Dear {{{contact_name}}},

                           Order {{{order_number}}} for {{{account_name}}} has shipped.
                           {{#carrier}}Carrier: {{{carrier}}}
                           {{/carrier}}{{#tracking_number}}Tracking number: {{{tracking_number}}}
                           {{/tracking_number}}Items: {{{lines}}}
                           """),
        ],
        // Feedback (forge-feedback): a survey's invitation and reminder carry its one-time link.
        "survey_invitation": [
            "zh": Text(subject: "{{{account_name}}}：请花一分钟评价我们的产品和服务",
                       body: """
                           {{{contact_name}}} 您好：

                           感谢您一直以来对我们的信任。为了把产品和服务做得更好，想请您花一分钟回答一个问题（{{{survey_kind}}}）：
                           {{{survey_url}}}

                           链接仅供您本人使用，有效期至 {{{expires_on}}}。您的每一条意见都会有专人跟进。
                           """),
            "en": Text(subject: "{{{account_name}}}: one minute to rate our products and service",
                       body: """
                           Dear {{{contact_name}}},

                           Thank you for working with us. Would you answer one question ({{{survey_kind}}}) to help us improve?
                           {{{survey_url}}}

                           The link is for you only and open until {{{expires_on}}}. Every answer is read and followed up.
                           """),
        ],
        "survey_reminder": [
            "zh": Text(subject: "提醒：您的意见对我们很重要",
                       body: """
                           {{{contact_name}}} 您好：

                           前几天我们邀请您评价我们的产品和服务，如果您还没来得及，这是您的专属链接：
                           {{{survey_url}}}

                           有效期至 {{{expires_on}}}。这是唯一一次提醒，谢谢！
                           """),
            "en": Text(subject: "Reminder: your opinion matters to us",
                       body: """
                           Dear {{{contact_name}}},

                           A few days ago we asked how we are doing. If you have a minute, here is your link:
                           {{{survey_url}}}

                           It is open until {{{expires_on}}}. This is our only reminder. Thank you!
                           """),
        ],
        "feedback_loop_closed": [
            "zh": Text(subject: "关于您的反馈，我们做了这些改进",
                       body: """
                           {{{contact_name}}} 您好：

                           感谢您上次坦诚的反馈。我们已经跟进处理：
                           {{{actions_taken}}}

                           因为您的意见，我们做出了以下改变：
                           {{{what_changed}}}

                           如还有任何不满意的地方，请直接回复本邮件或联系您的客户经理。
                           """),
            "en": Text(subject: "What we changed after your feedback",
                       body: """
                           Dear {{{contact_name}}},

                           Thank you for your candid feedback. What we did:
                           {{{actions_taken}}}

                           What changed because of it:
                           {{{what_changed}}}

                           If anything is still not right, reply to this mail or call your account manager.
                           """),
        ],
        "promoter_thanks": [
            "zh": Text(subject: "谢谢您的推荐！",
                       body: """
                           {{{contact_name}}} 您好：

                           非常感谢您对我们的高度评价。如果您愿意，我们很希望邀请 {{{account_name}}} 参与客户案例、接待同行参观，或把我们推荐给需要的朋友。
                           您的客户经理会联系您，听听您的想法。
                           """),
            "en": Text(subject: "Thank you for recommending us!",
                       body: """
                           Dear {{{contact_name}}},

                           Thank you for your great rating. If you are willing, we would love {{{account_name}}} to join a case study, host a reference visit or refer us to a peer.
                           Your account manager will be in touch.
                           """),
        ],
        "idea_shipped": [
            "zh": Text(subject: "您提出的建议已实现：{{{idea_title}}}",
                       body: """
                           {{{contact_name}}} 您好：

                           您（或贵司）提出的建议「{{{idea_title}}}」已经实现：{{{status_note}}}。
                           感谢您和我们一起把产品做得更好！
                           """),
            "en": Text(subject: "Your idea has shipped: {{{idea_title}}}",
                       body: """
                           Dear {{{contact_name}}},

                           The idea "{{{idea_title}}}" that you asked for or supported has shipped: {{{status_note}}}.
                           Thank you for helping us improve our products!
                           """),
        ],
        "idea_declined": [
            "zh": Text(subject: "关于您的建议：{{{idea_title}}}",
                       body: """
                           {{{contact_name}}} 您好：

                           感谢您提出的建议「{{{idea_title}}}」。经过评估，我们暂时不会实施，原因是：{{{status_note}}}。
                           我们会继续关注这个需求，也欢迎您随时告诉我们新的想法。
                           """),
            "en": Text(subject: "About your idea: {{{idea_title}}}",
                       body: """
                           Dear {{{contact_name}}},

                           Thank you for the idea "{{{idea_title}}}". After review we will not pursue it for now: {{{status_note}}}.
                           Please keep telling us what you need.
                           """),
        ],
    ]

    /// Parsed once: a template that does not parse is a programming error caught by the tests.
    static let compiled: [String: [String: (subject: MustacheTemplate, body: MustacheTemplate)]] = sources.mapValues { locales in
        locales.mapValues { text in
            (try! MustacheTemplate(string: text.subject), try! MustacheTemplate(string: text.body))
        }
    }

    /// Subject and body for `template` in `locale` (Chinese when the locale is unknown); nil for
    /// a template the gateway does not know.
    static func render(_ template: String, locale: String, parameters: [String: String]) -> (subject: String, body: String)? {
        guard let locales = compiled[template], let chosen = locales[locale] ?? locales["zh"] else { return nil }
        // Empty values read as absent, so {{#tracking_number}} sections drop out.
        let values = parameters.filter { !$0.value.isEmpty }
        return (chosen.subject.render(values), chosen.body.render(values))
    }
}
