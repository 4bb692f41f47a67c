import ForgeContracts
@testable import ForgeGateway
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import SwiftProtobuf
import Testing

/// The feedback loop across the real processes, with a feedback "day" of two seconds
/// (FORGE_DAY_SECONDS): a delivery, the NPS invitation at a real SMTP server the configured
/// day later, the customer's answer through the public page, the detractor's follow-up case
/// for the owner and the service desk's follow-up ticket.
@Suite("The feedback loop as processes", .serialized)
struct FeedbackLoopTests {
    @Test("delivery → invitation e-mail at a real SMTP server → a 4 through the public page (once; a second answer is refused politely) → a follow-up case for the owner, escalated when late → the service desk's follow-up ticket")
    func deliveryToFollowUp() async throws {
        let smtp = try await SMTPSink(port: 18502)
        defer { smtp.stop() }
        var stack = try LocalStack(portBase: 32100)
        defer { stack.killAll() }
        stack.extraEnvironment = ["FORGE_SMTP_URL": "smtp://127.0.0.1:18502?from=crm@forge.example", "FORGE_DAY_SECONDS": "2"]
        try await stack.writeServiceToken()
        for service in ["accounts", "orders", "servicedesk", "feedback", "gateway"] {
            try stack.start(service)
            #expect(await stack.waitUntilServing(service))
        }
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        func client(_ service: String, _ subject: String, _ roles: [String]) async throws -> WireClient {
            let token = try await issuer.issue(subject: subject, roles: roles, team: "east", ttl: 3600)
            return try WireClient(host: "127.0.0.1", port: stack.wirePort(service), interceptors: [BearerTokenInterceptor(token: token)])
        }
        let accounts = Forge_Accounts_V1_AccountsClient(channel: try await client("accounts", "admin", ["admin"]))
        let manager = Forge_Orders_V1_OrdersClient(channel: try await client("orders", "boss-east", ["sales_manager"]))
        let connector = Forge_Orders_V1_OrdersClient(channel: try await client("orders", "erp-bridge", ["erp_connector"]))
        let marketing = Forge_Feedback_V1_FeedbackClient(channel: try await client("feedback", "mkt", ["marketing"]))
        let owner = Forge_Feedback_V1_FeedbackClient(channel: try await client("feedback", "boss-east", ["sales_manager"]))
        let desk = Forge_Servicedesk_V1_ServiceDeskClient(channel: try await client("servicedesk", "svc-boss", ["service_manager"]))

        var settings = try await marketing.getFeedbackSettings(.init()).settings
        settings.deliveryDelayDays = 1
        _ = try await marketing.updateFeedbackSettings(.with { $0.settings = settings })
        let account = try await accounts.createAccount(.with {
            $0.account = .with { $0.name = "常州精密齿轮有限公司"; $0.ownerID = "boss-east"; $0.team = "east"; $0.region = "华东" }
        }).account
        let contact = try await accounts.createContact(.with {
            $0.contact = .with { $0.accountID = account.id; $0.name = "钱主任"; $0.email = "qian@czgear.example.cn"; $0.marketingConsent = true }
        }).contact

        var order: Forge_Orders_V1_Order?
        for _ in 0..<200 where order == nil {
            order = try? await manager.createOrder(.with {
                $0.order = .with {
                    $0.accountID = account.id
                    $0.contactID = contact.id
                    $0.lines = [.with { $0.sku = "GH-200"; $0.name = "滚齿机 GH-200"; $0.unit = "台"; $0.quantity = 1; $0.unitPrice = .with { $0.amountMicros = 480_000_000_000 } }]
                }
            }).order
            if order == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let draft = try #require(order)
        _ = try await manager.approveOrder(.with { $0.id = draft.id })
        _ = try await manager.releaseOrder(.with { $0.id = draft.id })
        _ = try await connector.reportProductionStatus(.with {
            $0.report = .with { $0.eventID = "erp-d1"; $0.source = "erp"; $0.orderID = draft.id; $0.status = .delivered; $0.sourceTime = .init(date: Date()) }
        })

        // The invitation: one "day" (2 s) after the delivery.
        #expect(await SMTPSink.waitFor(seconds: 30) { smtp.mails.contains { $0.subject.contains("评价") } })
        let invitation = try #require(smtp.mails.first { $0.subject.contains("评价") })
        #expect(invitation.to.contains("qian@czgear.example.cn") && invitation.body.contains("钱主任 您好"))
        let url = try #require(invitation.body.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.contains("/s/") })
        #expect(url.hasPrefix("http://localhost:\(stack.httpPort)/s/"))
        let path = String(url.dropFirst("http://localhost:\(stack.httpPort)".count))

        let page = try await HTTPTestClient.request(port: stack.httpPort, "GET", path)
        #expect(page.status == 200 && page.body.contains("推荐") && page.body.contains("钱主任"))
        // The survey's own language wins over the browser's: its question is written in it.
        let asEnglish = try await HTTPTestClient.request(port: stack.httpPort, "GET", path, headers: ["Accept-Language": "en-US,en;q=0.9"])
        #expect(asEnglish.body.contains(#"<html lang="zh-CN">"#) && asEnglish.body.contains("提交") && !asEnglish.body.contains("Submit"))
        #expect(asEnglish.body.contains("?lang=zh\" id=\"survey-form\""), "the answer's page speaks it too")
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        let body = "score=4&comment=" + "交货晚了一周，也没人提前通知".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let thanks = try await HTTPTestClient.request(port: stack.httpPort, "POST", path, headers: form, body: body)
        #expect(thanks.status == 200 && thanks.body.contains("谢谢您的反馈"))
        let again = try await HTTPTestClient.request(port: stack.httpPort, "POST", path, headers: form, body: "score=10")
        #expect(again.status == 409 && again.body.contains("您已经提交过了"))
        let tampered = try await HTTPTestClient.request(port: stack.httpPort, "GET", path.replacingOccurrences(of: ".", with: "x"))
        #expect(tampered.status == 404 && tampered.body.contains("链接无效"))

        // The owner's follow-up case, escalated after its 48 "hours" (4 s).
        let followUps = try await owner.listFollowUps(.init()).followUps
        #expect(followUps.count == 1 && followUps.first?.score == 4 && followUps.first?.comment == "交货晚了一周，也没人提前通知")
        var escalated = false
        for _ in 0..<200 where !escalated {
            escalated = try await owner.listFollowUps(.init()).followUps.first?.state == .escalated
            if !escalated { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(escalated)
        // The service desk opens its follow-up complaint from the answer.
        var tickets: [Forge_Servicedesk_V1_Ticket] = []
        for _ in 0..<200 where tickets.isEmpty {
            tickets = try await desk.listTickets(.with { $0.accountID = account.id }).tickets
            if tickets.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(tickets.count == 1 && tickets.first?.category == .complaint && tickets.first?.subject.hasPrefix("NPS 4") == true)

        // Closing the case tells the customer what changed.
        let closed = try await owner.closeFollowUp(.with {
            $0.id = followUps[0].id
            $0.actionsTaken = "上门致歉，说明延误原因"
            $0.whatChanged = "订单发货前 3 天起每天同步生产进度"
        }).followUp
        #expect(closed.customerTold)
        #expect(await SMTPSink.waitFor(seconds: 30) { smtp.mails.contains { $0.body.contains("订单发货前 3 天起每天同步生产进度") } })

        // Marketing surveys a segment (read from forge-accounts as marketing) and reports on it.
        let segment = try await accounts.createSegment(.with { $0.segment = .with { $0.name = "华东客户"; $0.filter = .with { $0.regions = ["华东"] } } }).segment
        let campaign = try await marketing.createCampaign(.with {
            $0.campaign = .with { $0.name = "华东年度 NPS"; $0.kind = .nps; $0.segmentID = segment.id }
        }).campaign
        #expect(campaign.accountIds == [account.id] && campaign.surveys == 1, "\(campaign)")
        let bySegment = try await marketing.getNps(.with { $0.segmentID = segment.id })
        #expect(bySegment.overall.responses == 1 && bySegment.detractors == 1)
        await #expect { _ = try await marketing.getNps(.with { $0.segmentID = "seg_nope" }) } throws: { ($0 as? RPCError)?.code == .notFound }
    }
}
