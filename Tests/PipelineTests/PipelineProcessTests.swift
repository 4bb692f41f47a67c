import ForgeContracts
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

/// forge-accounts and forge-pipeline as real processes on their own data directory: the
/// accounts feed reaching pipeline, an existing customer's inquiry landing on the account's
/// timeline, conversion over the wire (retried, and with accounts down half-way), a gate that
/// reads the account's contacts.
@Suite("Pipeline across real processes", .serialized)
struct PipelineProcessTests {
    struct Clients {
        let accounts: Forge_Accounts_V1_AccountsClient
        let pipeline: Forge_Pipeline_V1_PipelineClient
        let channels: [WireClient]
        func close() async { for channel in channels { await channel.close() } }
    }

    static func clients(_ stack: LocalStack, subject: String, roles: [String], team: String? = nil) async throws -> Clients {
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        let token = try await issuer.issue(subject: subject, roles: roles, team: team, ttl: 3600)
        let accounts = try WireClient(host: "127.0.0.1", port: stack.wirePort("accounts"), interceptors: [BearerTokenInterceptor(token: token)])
        let pipeline = try WireClient(host: "127.0.0.1", port: stack.wirePort("pipeline"), interceptors: [BearerTokenInterceptor(token: token)])
        return Clients(accounts: .init(channel: accounts), pipeline: .init(channel: pipeline), channels: [accounts, pipeline])
    }

    /// forge-accounts and forge-pipeline on their own ports, with the service token the
    /// pipeline's consumer of the accounts feed presents.
    static func start(portBase: Int) async throws -> LocalStack {
        var stack = try LocalStack(portBase: portBase)
        try await stack.writeServiceToken()
        try stack.start("accounts")
        try stack.start("pipeline")
        #expect(await stack.waitUntilServing("accounts"))
        #expect(await stack.waitUntilServing("pipeline"))
        return stack
    }

    /// Waits (bounded) until pipeline's copy of the accounts holds `count` accounts.
    static func waitForDirectory(_ stack: LocalStack, count: Int) async throws -> Bool {
        let database = try DatabaseQueue(path: "\(stack.dataDirectory)/pipeline.sqlite", configuration: {
            var configuration = Configuration()
            configuration.readonly = true
            return configuration
        }())
        for _ in 0..<400 {
            if try await database.read({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM account_directory") }) ?? 0 >= count { return true }
            try await Task.sleep(for: .milliseconds(25))
        }
        return false
    }

    @Test("an existing customer's inquiry lands on its timeline once; a new lead converts once into an account, a contact and an opportunity, also when accounts was down half-way; the decision-maker gate reads accounts")
    func leadToOpportunity() async throws {
        var stack = try await Self.start(portBase: 24100)
        defer { stack.killAll() }
        let rep = try await Self.clients(stack, subject: "rep-a", roles: ["sales_rep"], team: "east")
        let marketing = try await Self.clients(stack, subject: "mkt", roles: ["marketing"])

        // An existing customer, known to pipeline through the feed.
        let customer = try await rep.accounts.createAccount(.with { $0.account = .with { $0.name = "杭州汽轮动力集团有限公司"; $0.region = "华东" } }).account
        #expect(try await Self.waitForDirectory(stack, count: 1))
        let inquiry = Forge_Pipeline_V1_CaptureLeadRequest.with {
            $0.lead = .with {
                $0.companyName = "杭州汽轮动力 集团"
                $0.contactName = "周工"
                $0.need = "询问 5 轴加工中心报价"
                $0.source = .tradeShow
            }
        }
        // Captured from an English page: the answer may be English, the timeline entry stays in
        // the organisation's language (storedText).
        let existing = try await TextLanguage.$current.withValue(.en) { try await marketing.pipeline.captureLead(inquiry) }
        #expect(existing.outcome == .existingAccount)
        #expect(existing.accountID == customer.id)
        #expect(existing.accountOwnerID == "rep-a")
        let again = try await marketing.pipeline.captureLead(inquiry)
        #expect(again.activityID == existing.activityID)
        let timeline = try await rep.accounts.listActivities(.with { $0.accountID = customer.id }).activities
        #expect(timeline.filter { $0.subject.hasPrefix("新询盘") }.map(\.id) == [existing.activityID])
        #expect(timeline.first { $0.id == existing.activityID }?.subject == "新询盘（展会）", "not 新询盘（Trade show）")
        #expect(try await rep.pipeline.listMyTasks(.init()).tasks.contains { $0.kind == "existing_account_inquiry" && $0.accountID == customer.id })

        // A new lead, converted twice: one account, one contact, one opportunity.
        let lead = try await rep.pipeline.captureLead(.with {
            $0.lead = .with {
                $0.companyName = "苏州新锐精密机械有限公司"
                $0.contactName = "王工"
                $0.phone = "13800002222"
                $0.region = "华东"
                $0.productLine = "加工中心"
            }
        }).lead
        #expect(lead.ownerID == "rep-a")
        let converted = try await rep.pipeline.convertLead(.with { $0.leadID = lead.id; $0.amount = .with { $0.amountMicros = 3_000_000_000_000 } })
        #expect(converted.accountCreated)
        #expect(converted.lead.status == .converted)
        #expect(converted.opportunity.accountID == converted.accountID)
        #expect(converted.opportunity.stage == .technicalConsultation)
        let retried = try await rep.pipeline.convertLead(.with { $0.leadID = lead.id })
        #expect(retried.opportunity.id == converted.opportunity.id)
        let found = try await rep.accounts.searchAccounts(.with { $0.namePrefix = "苏州新锐精密" }).accounts
        #expect(found.map(\.id) == [converted.accountID])
        #expect(try await rep.accounts.listContacts(.with { $0.accountID = converted.accountID }).contacts.map(\.name) == ["王工"])
        #expect(converted.opportunity.name == "苏州新锐精密机械有限公司 - 加工中心", "unnamed: the company and the product line")

        // A lead that names only a person, linked to the existing customer: the opportunity is
        // named after the person (it was once left without a name).
        let person = try await rep.pipeline.captureLead(.with { $0.lead = .with { $0.contactName = "孙经理"; $0.phone = "13900003333"; $0.region = "华东" } }).lead
        let linked = try await rep.pipeline.convertLead(.with { $0.leadID = person.id; $0.accountID = customer.id })
        #expect(linked.opportunity.name == "孙经理")

        // The gate reads the contacts as the rep: no decision maker yet.
        let gate = await #expect(throws: RPCError.self) {
            _ = try await rep.pipeline.advanceStage(.with { $0.id = converted.opportunity.id; $0.stage = .solutionDesign })
        }
        #expect(gate?.code == .failedPrecondition)
        var contact = try await rep.accounts.getContact(.with { $0.id = converted.contactID }).contact
        contact.buyingRole = .decisionMaker
        _ = try await rep.accounts.updateContact(.with { $0.contact = contact })
        let advanced = try await rep.pipeline.advanceStage(.with { $0.id = converted.opportunity.id; $0.stage = .solutionDesign }).opportunity
        #expect(advanced.stage == .solutionDesign)

        // Accounts down: the conversion is UNAVAILABLE and the lead stays convertible.
        let second = try await rep.pipeline.captureLead(.with {
            $0.lead = .with {
                $0.companyName = "常州恒力液压设备厂"
                $0.contactName = "赵经理"
                $0.region = "华东"
            }
        }).lead
        kill(stack.processes["accounts"]!.processIdentifier, SIGKILL)
        #expect(await LocalStack.waitForExit(stack.processes["accounts"]!, within: 5))
        let down = await #expect(throws: RPCError.self) { _ = try await rep.pipeline.convertLead(.with { $0.leadID = second.id }) }
        #expect(down?.code == .unavailable)
        #expect(try await rep.pipeline.getLead(.with { $0.id = second.id }).lead.status == .new)
        try stack.start("accounts")
        #expect(await stack.waitUntilServing("accounts"))
        // Pipeline's client reconnects with backoff: retry (bounded) as a user would.
        var later = Forge_Pipeline_V1_ConvertLeadResponse()
        for _ in 0..<100 {
            do {
                later = try await rep.pipeline.convertLead(.with { $0.leadID = second.id })
                break
            } catch let error as RPCError where error.code == .unavailable {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        #expect(later.lead.status == .converted)
        #expect(try await rep.accounts.searchAccounts(.with { $0.namePrefix = "常州恒力液压" }).accounts.count == 1)

        await rep.close()
        await marketing.close()
    }

    @Test("forge import leads reads a trade-show .xlsx into forge-pipeline: new leads, an existing customer's row on its timeline, a per-row report")
    func importWorkbook() async throws {
        let stack = try await Self.start(portBase: 24300)
        defer { stack.killAll() }
        let rep = try await Self.clients(stack, subject: "rep-a", roles: ["sales_rep"], team: "east")
        let customer = try await rep.accounts.createAccount(.with { $0.account = .with { $0.name = "宁波港机集团有限公司" } }).account
        #expect(try await Self.waitForDirectory(stack, count: 1))

        let file = NSTemporaryDirectory() + "trade-show-\(UUID().uuidString).xlsx"
        try XLSXFixture.workbook([
            ["公司名称", "联系人", "手机", "区域", "意向产品", "需求"],
            ["嘉兴精工阀门有限公司", "陈工", "=number:1.3600001111E10", "华东", "阀门", "要报价"],
            ["宁波港机集团", "孙工", "", "华东", "起重机配件", "老客户新需求"],
            ["绍兴纺机", "", "12", "华东", "", ""],
        ]).write(to: URL(fileURLWithPath: file))
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        let token = try await issuer.issue(subject: "rep-a", roles: ["sales_rep"], team: "east", ttl: 600)
        let (status, output) = try await runProcess("\(LocalStack.binaries)/forge", ["import", "leads", file, "--address", "127.0.0.1:\(stack.wirePort("pipeline"))", "--token", token])
        #expect(status == 0, "\(output)")
        #expect(output.contains("xlsx"))
        #expect(output.contains("1 created, 0 updated, 0 unchanged, 1 duplicate, 1 rejected"), "\(output)")
        #expect(output.contains("existing customer (same normalised name)"))
        let timeline = try await rep.accounts.listActivities(.with { $0.accountID = customer.id }).activities
        #expect(timeline.contains { $0.body.contains("老客户新需求") })
        let leads = try await rep.pipeline.listLeads(.init()).leads
        #expect(leads.map(\.companyName) == ["嘉兴精工阀门有限公司"])
        #expect(leads.first?.phone == "13600001111")
        await rep.close()
    }
}
