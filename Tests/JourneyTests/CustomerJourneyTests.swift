import ForgeContracts
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

/// One customer's whole journey across the eight processes on a fresh data directory, a
/// trade-show list to an erased contact, with a "day" of one second (FORGE_DAY_SECONDS) and
/// never a sleep for the days themselves: every wait below polls (bounded) for what a real
/// process does next. Each step names the flow of DESIGN §8 it proves; the README lists them.
@Suite("One customer's journey across the eight processes", .serialized)
struct CustomerJourneyTests {
    /// Polls `probe` (bounded) until it answers something; nil when it never did.
    static func eventually<T>(_ seconds: Double = 30, _ probe: () async throws -> T?) async throws -> T? {
        try await Poll.value(seconds: seconds, every: .milliseconds(100), probe)
    }

    static let connectorBuild = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Connectors/c/build").path

    /// Clients of every service for one person (a token with their roles and team).
    struct Person {
        let token: String
        let accounts: Forge_Accounts_V1_AccountsClient
        let pipeline: Forge_Pipeline_V1_PipelineClient
        let orders: Forge_Orders_V1_OrdersClient
        let desk: Forge_Servicedesk_V1_ServiceDeskClient
        let feedback: Forge_Feedback_V1_FeedbackClient
        let loyalty: Forge_Loyalty_V1_LoyaltyClient
        let analytics: Forge_Analytics_V1_AnalyticsClient
        let gateway: Forge_Gateway_V1_GatewayClient
    }

    static func person(_ stack: LocalStack, _ issuer: TokenIssuer, _ subject: String, _ roles: [String], team: String? = nil) async throws -> Person {
        let token = try await issuer.issue(subject: subject, roles: roles, team: team, ttl: 3600)
        func channel(_ service: String) throws -> WireClient {
            try WireClient(host: "127.0.0.1", port: stack.wirePort(service), interceptors: [BearerTokenInterceptor(token: token)])
        }
        return Person(token: token, accounts: .init(channel: try channel("accounts")), pipeline: .init(channel: try channel("pipeline")),
                      orders: .init(channel: try channel("orders")), desk: .init(channel: try channel("servicedesk")),
                      feedback: .init(channel: try channel("feedback")), loyalty: .init(channel: try channel("loyalty")),
                      analytics: .init(channel: try channel("analytics")), gateway: .init(channel: try channel("gateway")))
    }

    @Test("a trade-show list to an erased contact: leads, a won quote, the order through the C connector and real e-mail, the machine and its prediction, the NPS loop, the tier, the KPIs, the 360° view, a merge and an erasure — every service agreeing")
    func journey() async throws {
        let smtp = try await SMTPSink(port: 18503)
        defer { smtp.stop() }
        var stack = try LocalStack(portBase: 25600)
        defer { stack.killAll() }
        stack.extraEnvironment = ["FORGE_SMTP_URL": "smtp://127.0.0.1:18503?from=crm@forge.example", "FORGE_DAY_SECONDS": "1"]
        try await stack.writeServiceToken()
        for service in ServiceConfiguration.defaultPorts.map(\.name) {
            try stack.start(service)
        }
        for service in ServiceConfiguration.defaultPorts.map(\.name) {
            #expect(await stack.waitUntilServing(service), "\(service) serving")
        }
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        let admin = try await Self.person(stack, issuer, "admin", ["admin"])
        let rep = try await Self.person(stack, issuer, "rep-a", ["sales_rep"], team: "east")
        let manager = try await Self.person(stack, issuer, "boss-east", ["sales_manager"], team: "east")
        let erp = try await Self.person(stack, issuer, "erp-bridge", ["erp_connector"])
        let serviceManager = try await Self.person(stack, issuer, "svc-boss", ["service_manager"])
        let analyst = try await Self.person(stack, issuer, "analyst", ["analyst"])

        // The company as it stands: an existing customer of rep-a's, the product master from ERP,
        // and the assignment table (华东 × 加工中心 → east; 华南 × 注塑机 → south).
        let existing = try await admin.accounts.createAccount(.with {
            $0.account = .with { $0.name = "宁波港机集团有限公司"; $0.region = "华东"; $0.ownerID = "rep-a"; $0.team = "east"; $0.industry = "机械" }
        }).account
        _ = try await erp.orders.upsertProducts(.with {
            $0.products = [.with {
                $0.sku = "VMC-850"; $0.name = "立式加工中心 VMC850"; $0.model = "VMC850"; $0.productLine = "加工中心"; $0.unit = "台"
                $0.listPrice = .with { $0.amountMicros = 400_000_000_000 }; $0.active = true
            }]
        })
        var settings = try await admin.pipeline.getPipelineSettings(.init()).settings
        settings.rules = [.with { $0.region = "华东"; $0.productLine = "加工中心"; $0.team = "east" },
                          .with { $0.region = "华南"; $0.productLine = "注塑机"; $0.team = "south" }]
        settings.teams = [.with { $0.name = "east"; $0.managerID = "boss-east"; $0.members = [.with { $0.userID = "rep-a" }] },
                          .with { $0.name = "south"; $0.managerID = "boss-south"; $0.members = [.with { $0.userID = "rep-s" }] }]
        settings.defaultTeam = "east"
        _ = try await admin.pipeline.updatePipelineSettings(.with { $0.settings = settings })
        // IT's integration subscribes to every event (a host that does not answer: deliveries
        // wait and retry, and are what an erasure must reach too).
        _ = try await admin.gateway.createWebhook(.with { $0.webhook = .with { $0.url = "https://hooks.example.invalid/crm"; $0.eventTypes = ["*"] } })
        // A contact is surveyed at most once a year here (365 one-second days: the whole run).
        var feedbackSettings = try await admin.feedback.getFeedbackSettings(.init()).settings
        feedbackSettings.contactQuietDays = 365
        _ = try await admin.feedback.updateFeedbackSettings(.with { $0.settings = feedbackSettings })
        #expect(try await Self.eventually {
            try await admin.pipeline.captureLead(.with { $0.lead = .with { $0.companyName = "宁波港机集团"; $0.contactName = "探针" } }).outcome == .existingAccount ? true : nil
        } == true, "pipeline knows the existing customer through the accounts feed")

        // 1. The trade-show list (.xlsx) through `forge import leads`.
        let workbook = NSTemporaryDirectory() + "journey-\(UUID().uuidString).xlsx"
        try XLSXFixture.workbook([
            ["公司名称", "联系人", "手机", "邮箱", "区域", "意向产品", "需求", "来源"],
            ["嘉兴新锐精密机械有限公司", "王工", "=number:1.38000022220E10", "wang.gong@xinrui-jx.example.cn", "华东", "加工中心", "五轴加工中心 2 台，年内投产", "展会"],
            ["宁波港机集团", "孙工", "", "", "华东", "加工中心", "老客户扩产询价", "展会"],
            ["东莞鸿图模具有限公司", "黄经理", "13900003333", "", "华南", "注塑机", "注塑机 3 台", "展会"],
        ]).write(to: URL(fileURLWithPath: workbook))
        let imported = try await runProcess("\(LocalStack.binaries)/forge", ["import", "leads", workbook, "--address", "127.0.0.1:\(stack.wirePort("pipeline"))", "--token", rep.token])
        #expect(imported.status == 0 && imported.output.contains("2 created, 0 updated, 0 unchanged, 1 duplicate, 0 rejected"), "\(imported.output)")
        #expect(try await rep.accounts.listActivities(.with { $0.accountID = existing.id }).activities.contains { $0.body.contains("老客户扩产询价") },
                "the existing customer's row is an activity on its timeline")
        let leads = try await admin.pipeline.listLeads(.init()).leads
        #expect(Set(leads.map { "\($0.companyName)→\($0.ownerID)" }) == ["嘉兴新锐精密机械有限公司→rep-a", "东莞鸿图模具有限公司→rep-s"])
        let lead = try #require(leads.first { $0.companyName == "嘉兴新锐精密机械有限公司" })

        // 2. Converted over the wire; the opportunity through its gates; a 15 % discount
        //    approved by the manager; the customer accepts → OpportunityWon.
        let converted = try await rep.pipeline.convertLead(.with {
            $0.leadID = lead.id
            $0.amount = .with { $0.amountMicros = 680_000_000_000 }
            $0.expectedClose = .init(date: Date().addingTimeInterval(30 * 86_400))
        })
        let accountID = converted.accountID
        var account = try await admin.accounts.getAccount(.with { $0.id = accountID }).account
        account.creditLimit = .with { $0.amountMicros = 2_000_000_000_000; $0.currencyCode = "CNY" }
        account.industry = "机械"
        _ = try await admin.accounts.updateAccount(.with { $0.account = account })
        var contact = try await rep.accounts.getContact(.with { $0.id = converted.contactID }).contact
        #expect(contact.name == "王工" && contact.email == "wang.gong@xinrui-jx.example.cn")
        contact.buyingRole = .decisionMaker
        contact.marketingConsent = true
        _ = try await rep.accounts.updateContact(.with { $0.contact = contact })
        let opportunityID = converted.opportunity.id
        _ = try await rep.accounts.logActivity(.with {
            $0.activity = .with {
                $0.accountID = accountID; $0.kind = .visit; $0.subject = "上门技术交流：五轴加工方案"; $0.body = "王工确认年内投产两台，关注主轴寿命"
                $0.occurredAt = .init(date: Date()); $0.contactIds = [converted.contactID]
            }
        })
        _ = try await rep.pipeline.advanceStage(.with { $0.id = opportunityID; $0.stage = .solutionDesign })
        _ = try await rep.pipeline.advanceStage(.with { $0.id = opportunityID; $0.stage = .samplingTrial })
        let gate = await #expect(throws: RPCError.self) { _ = try await rep.pipeline.advanceStage(.with { $0.id = opportunityID; $0.stage = .quotationNegotiation }) }
        #expect(gate?.code == .failedPrecondition && gate?.message.contains("approved quote") == true)
        let quote = try await rep.pipeline.createQuote(.with {
            $0.quote = .with {
                $0.opportunityID = opportunityID
                $0.lines = [.with { $0.sku = "VMC-850"; $0.quantity = 2; $0.discountBps = 1_500 }]
                $0.paymentTerms = [.with { $0.label = "预付款"; $0.percent = 30; $0.dueRule = "on_order" },
                                   .with { $0.label = "发货前"; $0.percent = 60; $0.dueRule = "before_shipment" },
                                   .with { $0.label = "验收后"; $0.percent = 10; $0.dueRule = "after_acceptance" }]
                $0.validUntil = .init(date: Date().addingTimeInterval(30 * 86_400))
            }
        }).quote
        #expect(quote.status == .pendingApproval && quote.total.amountMicros == 680_000_000_000)
        _ = try await manager.pipeline.decideQuote(.with { $0.id = quote.id; $0.approve = true; $0.comment = "新客户首单" })
        _ = try await rep.pipeline.advanceStage(.with { $0.id = opportunityID; $0.stage = .quotationNegotiation })
        _ = try await rep.pipeline.sendQuote(.with { $0.id = quote.id })
        _ = try await rep.pipeline.advanceStage(.with { $0.id = opportunityID; $0.stage = .contract })
        _ = try await rep.pipeline.recordQuoteAnswer(.with { $0.id = quote.id; $0.accepted = true })
        #expect(try await rep.pipeline.getOpportunity(.with { $0.id = opportunityID }).opportunity.stage == .won)

        // 3. OpportunityWon → orders drafts the order once; credit-checked against the limit read
        //    from accounts; released; forge-mes-push (C) reports out of order and twice.
        let drafted = try await Self.eventually { try await rep.orders.listOrders(.with { $0.accountID = accountID }).orders.first }
        let order = try #require(drafted, "the order drafted from OpportunityWon")
        #expect(order.opportunityID == opportunityID && order.contactID == converted.contactID && order.total.amountMicros == 680_000_000_000)
        let approved = try await manager.orders.approveOrder(.with { $0.id = order.id }).order
        #expect(approved.status == .approved && approved.creditCheck.limitSet && !approved.creditCheck.overLimit && approved.creditCheck.creditLimit.amountMicros == 2_000_000_000_000)
        _ = try await manager.orders.releaseOrder(.with { $0.id = order.id })
        #expect(try await erp.orders.listReleasedOrders(.init()).orders.map(\.id) == [order.id])

        let iso = ISO8601DateFormatter()
        let now = Date()
        func at(_ minutesAgo: Double) -> String { iso.string(from: now.addingTimeInterval(-minutesAgo * 60)) }
        let mes = """
            event_id,order_id,line_no,status,source_time,carrier,tracking_number,serial_numbers
            j-2,\(order.id),1,material_ready,\(at(300)),,,
            j-1,\(order.id),1,scheduled,\(at(360)),,,
            j-3,\(order.id),1,生产中,\(at(240)),,,
            j-5,\(order.id),1,packed,\(at(120)),,,
            j-4,\(order.id),1,quality_inspection,\(at(180)),,,
            j-5,\(order.id),1,packed,\(at(120)),,,
            j-6,\(order.id),1,shipped,\(at(60)),顺丰,SF7788990011,
            j-6,\(order.id),1,shipped,\(at(60)),顺丰,SF7788990011,

            """
        let mesFile = NSTemporaryDirectory() + "journey-mes-\(UUID().uuidString).csv"
        try mes.write(toFile: mesFile, atomically: true, encoding: .utf8)
        let push = ["--port", "\(stack.wirePort("orders"))", "--source", "mes-plant-1", mesFile]
        let first = try await runProcess("\(Self.connectorBuild)/forge-mes-push", push, environment: ["FORGE_API_KEY": erp.token])
        #expect(first.status == 0, "\(first.output)")
        #expect(first.output.contains("HISTORY_ONLY"), "quality inspection after packing is kept as history: \(first.output)")
        let again = try await runProcess("\(Self.connectorBuild)/forge-mes-push", push, environment: ["FORGE_API_KEY": erp.token])
        #expect(again.status == 0, "the same file again: \(again.output)")
        #expect(await SMTPSink.waitFor(seconds: 30) { smtp.mails.contains { $0.subject.contains("SF7788990011") } })
        let shippedMails = smtp.mails.filter { $0.subject.contains("已发货") }
        #expect(shippedMails.count == 1 && shippedMails.first?.to.contains("wang.gong@xinrui-jx.example.cn") == true && shippedMails.first?.body.contains("运单号：SF7788990011") == true,
                "\(smtp.mails.map(\.subject))")
        #expect(smtp.mails.filter { $0.subject.contains("包装") || $0.subject.contains("待发货") || $0.subject.contains("备货完成") }.count == 1, "\(smtp.mails.map(\.subject))")

        let delivered = """
            event_id,order_id,line_no,status,source_time,signed_by,serial_numbers
            j-7,\(order.id),1,已签收,\(iso.string(from: Date())),王工,VMC850-J-0001;VMC850-J-0002

            """
        try delivered.write(toFile: mesFile, atomically: true, encoding: .utf8)
        let signed = try await runProcess("\(Self.connectorBuild)/forge-mes-push", push, environment: ["FORGE_API_KEY": erp.token])
        let deliveredAt = Date()
        #expect(signed.status == 0 && signed.output.contains("APPLIED"), "\(signed.output)")
        #expect(try await rep.orders.getOrder(.with { $0.id = order.id }).order.status == .delivered)
        #expect(smtp.mails.filter { $0.subject.contains("已发货") }.count == 1, "still one shipped mail after two runs of the same file")

        // 4. OrderDelivered → the installed base; the telemetry drifts; the prediction opens a
        //    preventive work order and (EquipmentFailurePredicted) a spare-parts opportunity and
        //    a task for the account manager.
        let machines = try await Self.eventually {
            let list = try await serviceManager.desk.listEquipment(.with { $0.accountID = accountID }).equipment
            return list.count == 2 ? list : nil
        }
        #expect(Set(machines?.map(\.serialNumber) ?? []) == ["VMC850-J-0001", "VMC850-J-0002"], "the machines from OrderDelivered")
        #expect(machines?.first?.orderID == order.id)
        _ = try await serviceManager.desk.upsertTelemetryRule(.with {
            $0.rule = .with {
                $0.id = "vmc-bearing"; $0.model = "VMC-850"; $0.metric = "vibration"; $0.name = "主轴轴承磨损"; $0.kind = .trend
                $0.limit = 7.1; $0.windowHours = 24; $0.horizonDays = 14; $0.active = true
                $0.advice = "检查主轴轴承，备件随车"; $0.parts = ["SP-BRG-7014"]
            }
        })
        var state: UInt64 = 7
        let drift: [Forge_Servicedesk_V1_TelemetryPoint] = (0..<(24 * 60)).map { minute in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let noise = Double(state >> 11) / Double(1 << 53) - 0.5
            return .with {
                $0.serialNumber = "VMC850-J-0001"; $0.metric = "vibration"
                $0.time = .init(date: Date().addingTimeInterval(Double(minute - 24 * 60) * 60))
                $0.value = 2.8 + 0.02 * Double(minute) / 60 + noise
            }
        }
        let ingested = try await erp.desk.ingestTelemetry(.with { $0.points = drift })
        #expect(ingested.rejected.isEmpty && ingested.predictions.count == 1)
        let prediction = try #require(ingested.predictions.first)
        let workOrders = try await serviceManager.desk.listWorkOrders(.with { $0.equipmentID = prediction.equipmentID }).workOrders
        #expect(workOrders.map(\.kind) == [.predictive] && workOrders.first?.predictionID == prediction.id)
        let spareParts = try await Self.eventually {
            try await rep.pipeline.listOpportunities(.with { $0.accountID = accountID }).opportunities.first { $0.name.hasPrefix("备件：VMC850-J-0001") }
        }
        #expect(spareParts?.ownerID == "rep-a" && spareParts?.name.contains("SP-BRG-7014") == true, "the spare-parts opportunity from EquipmentFailurePredicted")
        #expect(try await rep.pipeline.listMyTasks(.init()).tasks.contains { $0.opportunityID == spareParts?.id })

        // 5. OrderDelivered + 7 "days" → the NPS invitation; a 4 through the public link; the
        //    owner's 48 h follow-up (and the service desk's ticket); closing it tells the customer.
        #expect(!smtp.mails.contains { $0.subject.contains("评价") } || Date().timeIntervalSince(deliveredAt) >= 6, "no invitation before the 7 days")
        #expect(await SMTPSink.waitFor(seconds: 40) { smtp.mails.contains { $0.subject.contains("评价") } })
        #expect(Date().timeIntervalSince(deliveredAt) >= 6, "the invitation came after the shortened 7 days")
        let invitation = try #require(smtp.mails.first { $0.subject.contains("评价") })
        #expect(invitation.to.contains("wang.gong@xinrui-jx.example.cn") && invitation.body.contains("王工 您好"))
        let link = try #require(invitation.body.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.first { $0.contains("/s/") })
        let path = String(link.dropFirst("http://localhost:\(stack.httpPort)".count))
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        let answered = try await HTTPTestClient.request(port: stack.httpPort, "POST", path, headers: form,
                                                        body: "score=4&comment=" + "安装调试比约定晚了三天".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        #expect(answered.status == 200 && answered.body.contains("谢谢您的反馈"))
        let followUp = try #require(try await rep.feedback.listFollowUps(.init()).followUps.first { $0.accountID == accountID })
        #expect(followUp.score == 4 && followUp.ownerID == "rep-a")
        let ticket = try await Self.eventually { try await serviceManager.desk.listTickets(.with { $0.accountID = accountID }).tickets.first { $0.category == .complaint } }
        #expect(ticket?.subject.hasPrefix("NPS 4") == true, "the service desk's follow-up from the detractor's SurveyAnswered")
        let closed = try await rep.feedback.closeFollowUp(.with {
            $0.id = followUp.id
            $0.actionsTaken = "上门说明延误原因，补做一次操作培训"
            $0.whatChanged = "安装排期提前两周与客户确认，每周同步进度"
        }).followUp
        #expect(closed.customerTold)
        #expect(await SMTPSink.waitFor(seconds: 30) { smtp.mails.contains { $0.body.contains("安装排期提前两周与客户确认") } })
        // The service desk closes its ticket (the customer confirmed by phone; the manager closes
        // with that reason) → TicketClosed → feedback's CSAT survey, skipped by the fatigue rule.
        let ticketID = try #require(ticket).id
        _ = try await serviceManager.desk.resolveTicket(.with { $0.id = ticketID; $0.resolution = "上门致歉并补做操作培训" })
        _ = try await serviceManager.desk.closeTicket(.with { $0.id = ticketID; $0.overrideReason = "客户电话确认满意，同意关闭" })
        let csat = try await Self.eventually {
            try await admin.feedback.listSurveys(.with { $0.accountID = accountID; $0.kind = .csat }).surveys.first { $0.state != .scheduled }
        }
        #expect(csat?.state == .skipped && csat?.skipReason.contains("at most one survey per 365 days") == true, "\(String(describing: csat))")

        // 6. Loyalty re-evaluated the tier from the delivery, with its explanation; TierChanged
        //    set the machines' service level; analytics counts the repeat purchase and the answer.
        let membership = try await Self.eventually {
            let found = try await admin.loyalty.getMembership(.with { $0.accountID = accountID }).membership
            return found.tier.isEmpty ? nil : found
        }
        let tier = try #require(membership, "a tier from the delivered order").tier
        let purchases = membership?.evaluation.checks.flatMap(\.criteria).first { $0.kind == .purchases12M }
        #expect(purchases?.value == 680_000_000_000 / 1_000_000 * 1_000_000 || purchases?.valueText.contains("680,000") == true, "\(String(describing: purchases))")
        #expect(membership?.evaluation.checks.isEmpty == false)
        let levelled = try await Self.eventually {
            let list = try await serviceManager.desk.listEquipment(.with { $0.accountID = accountID }).equipment
            return list.allSatisfy { !$0.serviceLevel.isEmpty } ? list : nil
        }
        #expect(levelled != nil, "TierChanged (\(tier)) set the machines' service level")
        // ERP's history: an earlier order of the same customer; the new one makes it a repeat buyer.
        _ = try await erp.orders.importOrders(.with {
            $0.orders = [.with {
                $0.accountID = accountID; $0.erpOrderNumber = "ERP-J-1"; $0.status = .completed
                $0.createdAt = .init(date: Date().addingTimeInterval(-60 * 86_400)); $0.deliveredAt = .init(date: Date().addingTimeInterval(-45 * 86_400))
                $0.lines = [.with { $0.sku = "VMC-850"; $0.name = "立式加工中心 VMC850"; $0.quantity = 1; $0.unitPrice = .with { $0.amountMicros = 380_000_000_000 } }]
            }]
        })
        let repeatRate = try await Self.eventually {
            let kpi = try await analyst.analytics.getKpis(.with { $0.keys = ["repeat_purchase_rate"] }).kpis.first
            return kpi?.numerator == 1 ? kpi : nil
        }
        #expect(repeatRate?.denominator == 1 && repeatRate?.value == 100, "\(String(describing: repeatRate))")
        let npsByRegion = try await Self.eventually {
            let groups = try await analyst.analytics.getKpis(.with { $0.keys = ["nps"]; $0.groupBy = .region }).groups
            return groups.first { $0.key == "华东" && $0.kpis.first?.denominator == 1 }
        }
        #expect(npsByRegion?.kpis.first?.value == -100, "one detractor in 华东: NPS −100")

        // 7. The 360° view, API and page: nine sections, each with this journey in it.
        let view = try await Self.eventually(20) {
            let reply = try await HTTPTestClient.request(port: stack.httpPort, "GET", "/api/v1/accounts/\(accountID)/360?deadline_ms=3000", headers: ["Authorization": "Bearer \(rep.token)"])
            return reply.status == 200 && reply.body.contains("VMC850-J-0001") && reply.body.contains("\(tier)") ? reply.body : nil
        }
        let sections = try JSONSerialization.jsonObject(with: Data(try #require(view).utf8)) as? [String: Any]
        let named = ((sections?["sections"] as? [[String: Any]]) ?? []).reduce(into: [String: String]()) { $0[$1["name"] as? String ?? ""] = ($1["status"] as? String ?? "") + " " + ($1["json"] as? String ?? "") }
        #expect(named.count == 9, "\(named.keys.sorted())")
        for (section, evidence) in [("account", "嘉兴新锐精密机械有限公司"), ("contacts", "王工"), ("activities", "上门技术交流"), ("pipeline", "备件："), ("orders", order.orderNumber),
                                    ("service", "VMC850-J-0001"), ("feedback", "安装调试比约定晚了三天"), ("loyalty", tier), ("analytics", "score")] {
            #expect(named[section]?.hasPrefix("SECTION_STATUS_OK") == true && named[section]?.contains(evidence) == true, "\(section): \(named[section]?.prefix(300) ?? "missing")")
        }
        let page = try await HTTPTestClient.request(port: stack.httpPort, "GET", "/accounts/\(accountID)", headers: ["Cookie": "forge_session=\(rep.token)"])
        #expect(page.status == 200)
        for evidence in ["嘉兴新锐精密机械有限公司", "王工", order.orderNumber, "VMC850-J-0001", "安装调试比约定晚了三天", "备件："] {
            #expect(page.body.contains(evidence), "the page shows \(evidence)")
        }

        // 8. AccountMerged → every service re-points; ContactErased → every service anonymises.
        let survivor = try await admin.accounts.createAccount(.with {
            $0.account = .with { $0.name = "新锐精密（集团）有限公司"; $0.region = "华东"; $0.ownerID = "rep-a"; $0.team = "east" }
        }).account
        _ = try await admin.accounts.mergeAccounts(.with { $0.survivorID = survivor.id; $0.mergedIds = [accountID]; $0.reason = "同一集团，统一管理" })
        var seen = ""
        let repointed = try await Self.eventually {
            let orders = try await rep.orders.listOrders(.with { $0.accountID = survivor.id }).orders.count
            let machines = try await serviceManager.desk.listEquipment(.with { $0.accountID = survivor.id }).equipment.count
            let opportunities = try await rep.pipeline.listOpportunities(.with { $0.accountID = survivor.id }).opportunities.count
            let tickets = try await serviceManager.desk.listTickets(.with { $0.accountID = survivor.id; $0.states = [.closed] }).tickets.count
            let answers = try await admin.feedback.listFollowUps(.with { $0.accountID = survivor.id; $0.states = [.open, .escalated, .closed] }).followUps.count
            let loyaltyTier = try await admin.loyalty.getMembership(.with { $0.accountID = survivor.id }).membership.tier
            let health = try await analyst.analytics.getAccountHealth(.with { $0.accountID = survivor.id }).health
            seen = "orders \(orders), machines \(machines), opportunities \(opportunities), tickets \(tickets), follow-ups \(answers), tier '\(loyaltyTier)', health \(health.components.map { "\($0.key)=\($0.score)" })"
            return orders == 2 && machines == 2 && opportunities == 2 && tickets >= 1 && answers == 1 && !loyaltyTier.isEmpty
                && (health.components.first { $0.key == "order_recency" }?.score ?? 0) > 0 ? true : nil
        }
        #expect(repointed == true, "orders, machines, opportunities, tickets, follow-ups, the tier and the health follow the survivor: \(seen)")
        let merged360 = try await admin.gateway.getCustomer360(.with { $0.accountID = accountID; $0.deadlineMs = 3000 })
        #expect(merged360.accountID == survivor.id, "the merged id's 360° view is the survivor's")

        let exported = try await admin.accounts.exportContactData(.with { $0.contactID = converted.contactID })
        #expect(exported.contact.name == "王工" && exported.contact.email == "wang.gong@xinrui-jx.example.cn" && exported.contact.phone.contains("13800002222"))
        _ = try await admin.accounts.eraseContact(.with { $0.contactID = converted.contactID; $0.reason = "本人依《个人信息保护法》要求删除" })
        let after = try await admin.accounts.exportContactData(.with { $0.contactID = converted.contactID })
        #expect(after.contact.name != "王工" && after.contact.email.isEmpty && after.contact.phone.isEmpty)
        // Nothing personal left in any service's records: each database's tables, the event
        // logs consumers replay included, are searched for the e-mail address and the phone.
        let personal = ["wang.gong@xinrui-jx.example.cn", "13800002222"]
        let clean = try await Self.eventually(30) { () -> Bool? in
            try Self.personalDataFound(stack, personal).isEmpty ? true : nil
        }
        let leftovers = try Self.personalDataFound(stack, personal)
        #expect(clean == true && leftovers.isEmpty, "still found: \(leftovers)")
    }

    /// Where `needles` still occur in the services' databases: "service.table" for each hit.
    static func personalDataFound(_ stack: LocalStack, _ needles: [String]) throws -> [String] {
        var found: [String] = []
        for service in ServiceConfiguration.defaultPorts.map(\.name) {
            let path = "\(stack.dataDirectory)/\(service).sqlite"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            let database = try DatabaseQueue(path: path, configuration: { var c = Configuration(); c.readonly = true; return c }())
            try database.read { db in
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                for table in tables {
                    let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(\"\(table)\")").map { $0["name"] as String }
                    for needle in needles {
                        let condition = columns.map { "instr(CAST(\"\($0)\" AS BLOB), CAST(? AS BLOB)) > 0" }.joined(separator: " OR ")
                        guard !condition.isEmpty else { continue }
                        let hits = try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(table)\" WHERE \(condition)", arguments: StatementArguments(Array(repeating: needle, count: columns.count))) ?? 0
                        if hits > 0 { found.append("\(service).\(table) (\(needle))") }
                    }
                }
            }
        }
        return found
    }
}
