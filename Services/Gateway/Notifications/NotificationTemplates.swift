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
