@testable import ForgeGateway
import ForgeContracts
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import GRDB
import NIOSSL
import SwiftProtobuf
import Testing

/// Customer notifications: orders asks (NotificationRequested), the gateway renders and sends
/// through a real SMTP server (aiosmtpd, started by the test).
@Suite("Customer notifications", .serialized)
struct NotificationTests {
    @Test("templates render in Chinese and English with the tracking number; empty values drop their sentence; the mail is UTF-8 in base64 with an encoded subject")
    func rendering() throws {
        let text = try #require(NotificationTemplates.render("order_shipped", locale: "zh", parameters: [
            "order_number": "SO-2026-000001", "account_name": "宁波精工", "carrier": "顺丰", "tracking_number": "SF1234567890", "lines": "数控车床 × 2台", "contact_name": "张经理",
        ]))
        #expect(text.subject == "您的订单 SO-2026-000001 已发货，运单号 SF1234567890")
        #expect(text.body.contains("张经理 您好") && text.body.contains("承运商：顺丰") && text.body.contains("运单号：SF1234567890"))
        let untracked = try #require(NotificationTemplates.render("order_shipped", locale: "en", parameters: ["order_number": "SO-1", "tracking_number": ""]))
        #expect(untracked.subject == "Your order SO-1 has shipped" && !untracked.body.contains("Tracking"))
        #expect(NotificationTemplates.render("no_such_template", locale: "zh", parameters: [:]) == nil)
        let mail = SMTPClient.content(.init(to: "zhang@example.cn", toName: "张经理", subject: text.subject, body: text.body, messageID: "abc@forge"), from: "orders@forge.example")
        let decoded = SMTPSink.decode(mail)
        #expect(decoded.subject == text.subject && decoded.body == text.body)
        #expect(mail.contains("Content-Type: text/plain; charset=UTF-8") && mail.contains("Message-ID: <abc@forge>"))
        #expect(try SMTPClient.Relay(url: "smtps://u%40x:p@mail.example.cn?from=crm@example.cn") == {
            var relay = try SMTPClient.Relay(url: "smtp://mail.example.cn")
            relay.port = 465
            relay.security = .implicitTLS
            relay.username = "u@x"
            relay.password = "p"
            relay.from = "crm@example.cn"
            return relay
        }())
        #expect(throws: (any Error).self) { try SMTPClient.Relay(url: "http://mail.example.cn") }
    }

    @Test("each dedupe key is queued once as its own delivery job, also when keys share a long prefix; a repeat queues nothing")
    func queuedOncePerKey() async throws {
        let database = try ForgeDatabase.temporary(migrations: NotificationStore.migrations)
        @Sendable func event(_ key: String) -> Forge_Common_V1_Event {
            .with {
                $0.eventID = EventID.make()
                $0.type = "NotificationRequested"
                $0.payload = try! Forge_Common_V1_NotificationRequested.with {
                    $0.recipientContactID = "con_1"
                    $0.template = "order_shipped"
                    $0.dedupeKey = key
                    $0.transactional = true
                }.serializedData()
            }
        }
        // Alike for their first 55 bytes, as one order's line keys are.
        let order = "order:ord_01a2384774960b4c43ca5b4689ca:line12"
        try await database.write { db in
            for key in ["\(order):packed", "\(order):shipped:SF1234567890", "\(order):packed"] {
                try NotificationStore.enqueue(db, event(key), upstream: "orders", at: Date())
            }
        }
        let (notifications, jobs) = try await database.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM notification")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM jobs WHERE kind = ?", arguments: [NotificationStore.jobKind])!)
        }
        #expect(notifications == 2 && jobs == 2)
    }

    @Test("a relay that requires STARTTLS gets it: the mail goes over TLS verified against the relay's CA and arrives intact")
    func startTLS() async throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("ForgeWireTests/Fixtures").path
        let smtp = try await SMTPSink(port: 18501, arguments: ["--tls", "\(fixtures)/server.pem", "\(fixtures)/server.key"])
        defer { smtp.stop() }
        var client = SMTPClient(relay: try SMTPClient.Relay(url: "smtp://localhost:18501?starttls=required&from=crm@forge.example"))
        client.trustRoots = .file("\(fixtures)/ca.pem")
        try await client.send(.init(to: "li@example.cn", toName: "李工", subject: "测试 STARTTLS", body: "正文：中文与 .点开头的行\r\n.第二行", messageID: "tls@forge"))
        #expect(await SMTPSink.waitFor { smtp.messages.count == 1 })
        let mail = try #require(smtp.mails.first)
        #expect(mail.subject == "测试 STARTTLS" && mail.body == "正文：中文与 .点开头的行\r\n.第二行")
        // Without the CA the relay's certificate is refused and nothing is sent.
        let untrusted = SMTPClient(relay: try SMTPClient.Relay(url: "smtp://localhost:18501?starttls=required"))
        await #expect(throws: (any Error).self) { try await untrusted.send(.init(to: "li@example.cn", toName: "", subject: "x", body: "x", messageID: "x@forge")) }
        #expect(smtp.messages.count == 1)
    }

    @Test("packed and shipped, each reported twice by two connectors, reach the customer once each at a real SMTP server with the tracking number in UTF-8, also when the gateway is killed mid-delivery and restarted")
    func orderMailsArriveOnce() async throws {
        let smtp = try await SMTPSink(port: 18500, arguments: ["--stall", "1"])
        defer { smtp.stop() }
        var stack = try LocalStack(portBase: 18100)
        defer { stack.killAll() }
        stack.extraEnvironment = ["FORGE_SMTP_URL": "smtp://127.0.0.1:18500?from=orders@forge.example"]
        try await stack.writeServiceToken()
        for service in ["accounts", "orders", "gateway"] {
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
        let account = try await accounts.createAccount(.with { $0.account = .with { $0.name = "宁波精工机械有限公司"; $0.ownerID = "boss-east"; $0.team = "east" } }).account
        let contact = try await accounts.createContact(.with {
            $0.contact = .with { $0.accountID = account.id; $0.name = "张经理"; $0.email = "zhang@nbjg.example.cn" }
        }).contact

        // The account reaches orders through accounts' feed.
        var order: Forge_Orders_V1_Order?
        for _ in 0..<200 where order == nil {
            order = try? await manager.createOrder(.with {
                $0.order = .with {
                    $0.accountID = account.id
                    $0.contactID = contact.id
                    $0.lines = [.with { $0.sku = "CK500"; $0.name = "数控车床 CK500"; $0.unit = "台"; $0.quantity = 2; $0.unitPrice = .with { $0.amountMicros = 150_000_000_000 } }]
                }
            }).order
            if order == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let draft = try #require(order)
        _ = try await manager.approveOrder(.with { $0.id = draft.id })
        _ = try await manager.releaseOrder(.with { $0.id = draft.id })
        for (id, source, status) in [("erp-1", "erp", Forge_Orders_V1_ProductionStatus.packed), ("wms-1", "wms", .packed),
                                     ("erp-2", "erp", .shipped), ("wms-2", "wms", .shipped)] {
            _ = try await connector.reportProductionStatus(.with {
                $0.report = .with {
                    $0.eventID = id
                    $0.source = source
                    $0.orderID = draft.id
                    $0.status = status
                    $0.sourceTime = .init(date: Date())
                    if status == .shipped {
                        $0.carrier = "顺丰速运"
                        $0.trackingNumber = "SF1234567890"
                    }
                }
            })
        }

        // The first delivery hangs at the relay; the gateway dies in the middle of it.
        #expect(await SMTPSink.waitFor { FileManager.default.fileExists(atPath: "\(smtp.directory)/stalled") })
        let gateway = try #require(stack.processes["gateway"])
        kill(gateway.processIdentifier, SIGKILL)
        #expect(await LocalStack.waitForExit(gateway, within: 5))
        #expect(smtp.messages.isEmpty)
        try stack.start("gateway")
        #expect(await stack.waitUntilServing("gateway"))

        #expect(await SMTPSink.waitFor { smtp.messages.count >= 2 })
        try await Task.sleep(for: .milliseconds(1500))
        let mails = smtp.mails
        #expect(mails.count == 2)
        let subjects = mails.map(\.subject).sorted()
        #expect(subjects.contains("您的订单 \(draft.orderNumber) 已包装完毕，等待发货"))
        #expect(subjects.contains("您的订单 \(draft.orderNumber) 已发货，运单号 SF1234567890"))
        #expect(mails.allSatisfy { $0.to.contains("zhang@nbjg.example.cn") && $0.body.contains("张经理 您好") })
        #expect(mails.contains { $0.body.contains("承运商：顺丰速运") && $0.body.contains("运单号：SF1234567890") })
        // The delivery log says so, for the admin.
        let gatewayAdmin = Forge_Gateway_V1_GatewayClient(channel: try await client("gateway", "admin", ["admin"]))
        let log = try await gatewayAdmin.listNotifications(.with { $0.accountID = account.id }).notifications
        #expect(log.map(\.state) == ["sent", "sent"] && log.allSatisfy { $0.recipient == "zhang@nbjg.example.cn" && $0.attempts >= 1 })
        await #expect { _ = try await gatewayAdmin.retryNotification(.with { $0.dedupeKey = log[0].dedupeKey }) } throws: { ($0 as? RPCError)?.code == .failedPrecondition }
        await #expect { _ = try await gatewayAdmin.listNotifications(.with { $0.state = "lost" }) } throws: { ($0 as? RPCError)?.violations.map(\.field) == ["state"] }
    }
}
