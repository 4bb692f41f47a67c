@testable import ForgePipeline
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Leads: capture, de-duplication, assignment, scoring, first touch, reassignment")
struct LeadTests {
    @Test("a lead gets an owner by region × product line in the same transaction; a named key-account owner wins; no rule → the default team")
    func assignmentRules() async throws {
        let fixture = try PipelineFixture()
        try await fixture.configureTeams()
        let east = try await fixture.capture("苏州精工机械", region: "华东").lead
        #expect(east.team == "east")
        #expect(["rep-a", "rep-b", "rep-c", "rep-d"].contains(east.ownerID))
        #expect(east.status == .new)
        let hydraulic = try await fixture.capture("宁波液压系统", region: "华东", productLine: "液压件").lead
        #expect(hydraulic.ownerID == "ka-1")
        let elsewhere = try await fixture.capture("哈尔滨锅炉配件", region: "东北").lead
        #expect(elsewhere.team == "west")
        #expect(elsewhere.ownerID == "rep-w")
        let history = try await fixture.handler.listLeadAssignments(.with { $0.leadID = hydraulic.id }, context: PipelineFixture.admin).assignments
        #expect(history.map(\.how) == ["key_account"])
        #expect(try await fixture.eventTypes().filter { $0 == "LeadCaptured" }.count == 3)
    }

    @Test("1,000 leads over 4 equal reps end within one of each other; weights 2:1:1:1 give the first twice the load")
    func fairness() async throws {
        let fixture = try PipelineFixture()
        try await fixture.configureTeams()
        for index in 0..<1_000 {
            try await fixture.capture("华东客户\(index)号工厂", region: "华东")
        }
        let loads = try await fixture.database.read { db in
            try Row.fetchAll(db, sql: "SELECT owner_id, count(*) AS n FROM lead GROUP BY owner_id").map { ($0["owner_id"] as String, $0["n"] as Int) }
        }
        let counts = loads.map(\.1)
        #expect(loads.count == 4)
        #expect(counts.max()! - counts.min()! <= 1, "\(loads)")

        let weighted = try PipelineFixture()
        try await weighted.configureTeams(weights: [2, 1, 1, 1])
        for index in 0..<500 {
            try await weighted.capture("华东客户\(index)号工厂", region: "华东")
        }
        let byOwner = Dictionary(uniqueKeysWithValues: try await weighted.database.read { db in
            try Row.fetchAll(db, sql: "SELECT owner_id, count(*) AS n FROM lead GROUP BY owner_id").map { ($0["owner_id"] as String, $0["n"] as Int) }
        })
        #expect(byOwner["rep-a"] == 200, "\(byOwner)")
        #expect(byOwner["rep-b"] == 100)
    }

    @Test("captures at once share transactions and still see each other: 40 at once, 20 companies sent twice, are 20 leads of two inquiries each, spread evenly")
    func concurrentCaptures() async throws {
        let fixture = try PipelineFixture()
        try await fixture.configureTeams()
        let outcomes = try await withThrowingTaskGroup(of: Forge_Pipeline_V1_CaptureLeadResponse.self) { group in
            for index in 0..<40 {
                group.addTask { try await fixture.capture("华东并发客户\(index % 20)号工厂", region: "华东") }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0.outcome == .created }.count == 20)
        #expect(outcomes.filter { $0.outcome == .repeatInquiry }.count == 20)
        let (leads, inquiries, perOwner) = try await fixture.database.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM lead")!,
             try Data.fetchAll(db, sql: "SELECT payload FROM lead").map { try Forge_Pipeline_V1_Lead(serializedBytes: $0).inquiryCount },
             try Int.fetchAll(db, sql: "SELECT open_leads FROM owner_load WHERE owner_id LIKE 'rep-%' ORDER BY owner_id"))
        }
        #expect(leads == 20 && inquiries.allSatisfy { $0 == 2 })
        #expect(perOwner == [5, 5, 5, 5], "the load moved one capture at a time")
        let (transactions, writes) = (await fixture.handler.captures.transactions, await fixture.handler.captures.writes)
        #expect(writes == 40 && transactions < 40, "\(transactions) transactions for 40 captures at once")
    }

    @Test("the same company, phone or email as an open lead is a repeat inquiry on it (width, spaces, suffixes and phone formats folded), which raises its score")
    func duplicateOfLead() async throws {
        let fixture = try PipelineFixture()
        let first = try await fixture.capture("上海精密机械有限公司", phone: "+86 138-0000-1234", email: "li@jingmi.com.cn").lead
        #expect(first.inquiryCount == 1)
        let byName = try await fixture.capture("上海精密机械 有限公司")
        #expect(byName.outcome == .repeatInquiry)
        #expect(byName.lead.id == first.id)
        #expect(byName.lead.inquiryCount == 2)
        #expect(byName.matchReason == "same normalised name")
        #expect(byName.lead.score > first.score)
        #expect(byName.lead.scoreReasons.contains { $0.factor == "repeat" })
        let byPhone = try await fixture.capture("某某贸易", phone: "0086 13800001234")
        #expect(byPhone.outcome == .repeatInquiry)
        #expect(byPhone.matchReason == "same phone")
        let byDomain = try await fixture.capture("另一个名字", email: "wang@JINGMI.com.cn")
        #expect(byDomain.matchReason == "same email domain")
        // A public mail domain says nothing.
        let other = try await fixture.capture("无关公司", email: "someone@qq.com")
        let yetAnother = try await fixture.capture("又一家无关公司", email: "other@qq.com")
        #expect(other.outcome == .created)
        #expect(yetAnother.outcome == .created)
        // A rep of another team learns whose lead it is, not what it holds.
        let rep = PipelineFixture.context("rep-x", team: "north")
        let foreign = try await fixture.capture("上海精密机械", as: rep)
        #expect(foreign.outcome == .repeatInquiry)
        #expect(foreign.lead.id == first.id)
        #expect(foreign.lead.companyName.isEmpty)
        #expect(foreign.lead.ownerID == first.ownerID)
    }

    @Test("a lead matching an existing account needs accounts for its timeline: with accounts down it is UNAVAILABLE and nothing is recorded")
    func duplicateOfAccountWithAccountsDown() async throws {
        let fixture = try PipelineFixture()
        try await fixture.account("acc_1", "杭州汽轮动力集团有限公司")
        let error = await #expect(throws: RPCError.self) { try await fixture.capture("杭州汽轮动力") }
        #expect(error?.code == .unavailable)
        #expect(try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM lead") } == 0)
        #expect(try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM task") } == 0)
    }

    @Test("the score explains itself (fit and intent) and ListLeads sorts by it, paging by score")
    func scoring() async throws {
        let fixture = try PipelineFixture()
        let hot = try await fixture.handler.captureLead(.with {
            $0.lead = .with {
                $0.companyName = "比亚迪配套厂"
                $0.industry = "新能源"
                $0.companySize = .large
                $0.region = "华南"
                $0.source = .referral
                $0.need = "今年有采购预算，请尽快报价"
            }
        }, context: PipelineFixture.marketing).lead
        let factors = Set(hot.scoreReasons.map(\.factor))
        #expect(factors == ["industry", "size", "region", "source", "need"])
        #expect(hot.score == Int32(min(100, hot.scoreReasons.reduce(0) { $0 + Int($1.points) })))
        let cold = try await fixture.capture("小作坊", region: "", need: "", source: .manual).lead
        #expect(cold.score < hot.score)
        let mid = try await fixture.capture("中型企业", region: "华北", need: "想了解").lead
        let first = try await fixture.handler.listLeads(.with { $0.page.pageSize = 2 }, context: PipelineFixture.admin)
        #expect(first.leads.map(\.id) == [hot.id, mid.id])
        let second = try await fixture.handler.listLeads(.with { $0.page.pageSize = 2; $0.page.pageToken = first.page.nextPageToken }, context: PipelineFixture.admin)
        #expect(second.leads.map(\.id) == [cold.id])
        let forged = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.listLeads(.with { $0.page.pageToken = "bm90LWEtdG9rZW4" }, context: PipelineFixture.admin)
        }
        #expect(forged?.violations.map(\.field) == ["page.page_token"])
    }

    @Test("bad input names each bad field and stores nothing")
    func validation() async throws {
        let fixture = try PipelineFixture()
        let error = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.captureLead(.with {
                $0.lead = .with {
                    $0.phone = "12"
                    $0.email = "not-an-email"
                    $0.source = .revisitPool
                    $0.need = String(repeating: "x", count: 4001)
                }
            }, context: PipelineFixture.marketing)
        }
        #expect(error?.code == .invalidArgument)
        #expect(Set(error?.violations.map(\.field) ?? []) == ["lead.company_name", "lead.phone", "lead.email", "lead.source", "lead.need"])
        #expect(try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM lead") } == 0)
    }

    @Test("untouched for 24 h → escalated once to the team's manager; a touched lead is not; the first touch closes the owner's reminder")
    func firstTouchEscalation() async throws {
        let fixture = try PipelineFixture()
        try await fixture.configureTeams()
        let scheduler = fixture.scheduler
        let untouched = try await fixture.capture("常州电机厂").lead
        let touched = try await fixture.capture("无锡轴承厂").lead
        let owner = PipelineFixture.context(touched.ownerID, team: "east")
        let worked = try await fixture.handler.touchLead(.with { $0.id = touched.id; $0.note = "电话沟通，发送样本" }, context: owner).lead
        #expect(worked.status == .working)
        #expect(worked.hasFirstTouchedAt)
        #expect(try await fixture.tasks(of: touched.ownerID).first { $0.leadID == touched.id }?.done == true)

        fixture.clock.advance(by: 23 * 3600)
        #expect(try await scheduler.runDue() == 0)
        fixture.clock.advance(by: 3600 + 1)
        #expect(try await scheduler.runDue() == 1)
        let escalated = try await fixture.handler.getLead(.with { $0.id = untouched.id }, context: PipelineFixture.admin).lead
        #expect(escalated.hasEscalatedAt)
        let managerTasks = try await fixture.tasks(of: "boss-east")
        #expect(managerTasks.map(\.leadID) == [untouched.id])
        #expect(managerTasks.first?.kind == "lead_escalation")
        #expect(try await fixture.eventTypes().filter { $0 == "LeadEscalated" }.count == 1)
        fixture.clock.advance(by: 48 * 3600)
        #expect(try await scheduler.runDue() == 0)
    }

    @Test("a NEW lead is its owner's first-touch reminder: listed among the task rows by due date and paged with them, no row of its own; done, it is the lead's first touch")
    func firstTouchReminderIsTheLead() async throws {
        let fixture = try PipelineFixture()
        try await fixture.configureTeams()
        let first = try await fixture.capture("常州电机厂", region: "西南").lead
        fixture.clock.advance(by: 3600)
        let second = try await fixture.capture("无锡轴承厂", region: "西南").lead
        #expect(first.ownerID == "rep-w" && second.ownerID == "rep-w")
        #expect(try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM task") } == 0)
        // A task row due between the two reminders sorts between them, on one page or two.
        let owner = PipelineFixture.context("rep-w", team: "west")
        _ = try await fixture.database.write { db in
            try PipelineStore.createTask(db, PipelineStore.task(id: "tsk_between", owner: "rep-w", title: "回访", kind: "follow_up",
                                                                due: first.firstTouchDueAt.date.addingTimeInterval(60), now: fixture.clock.now()), at: fixture.clock.now())
        }
        let listed = try await fixture.handler.listMyTasks(.init(), context: owner).tasks
        #expect(listed.map(\.id) == ["tsk_touch_\(first.id)", "tsk_between", "tsk_touch_\(second.id)"])
        #expect(listed.first?.kind == "lead_first_touch")
        #expect(listed.first?.dueAt == first.firstTouchDueAt)
        #expect(listed.first?.title == "24 小时内首次联系线索：常州电机厂")
        var paged: [String] = []
        var cursor = ""
        repeat {
            let page = try await fixture.handler.listMyTasks(.with { $0.page = .with { $0.pageSize = 1; $0.pageToken = cursor } }, context: owner)
            paged += page.tasks.map(\.id)
            cursor = page.page.nextPageToken
        } while !cursor.isEmpty
        #expect(paged == listed.map(\.id))

        // Ticking the reminder off is the first contact: WORKING, kept as a done task, no escalation.
        let done = try await fixture.handler.completeTask(.with { $0.id = "tsk_touch_\(first.id)" }, context: owner).task
        #expect(done.done && done.leadID == first.id)
        let touched = try await fixture.handler.getLead(.with { $0.id = first.id }, context: owner).lead
        #expect(touched.status == .working && touched.hasFirstTouchedAt)
        #expect(try await fixture.handler.listMyTasks(.init(), context: owner).tasks.map(\.id) == ["tsk_between", "tsk_touch_\(second.id)"])
        #expect(try await fixture.tasks(of: "rep-w").filter(\.done).map(\.id) == ["tsk_touch_\(first.id)"])
        fixture.clock.advance(by: 24 * 3600)
        #expect(try await fixture.scheduler.runDue() == 1)
        #expect(try await fixture.handler.getLead(.with { $0.id = second.id }, context: owner).lead.hasEscalatedAt)
        #expect(try await fixture.handler.getLead(.with { $0.id = first.id }, context: owner).lead.hasEscalatedAt == false)
        // Someone else's reminder is not theirs to tick off.
        let other = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.completeTask(.with { $0.id = "tsk_touch_\(second.id)" }, context: PipelineFixture.context("rep-a", team: "east"))
        }
        #expect(other?.code == .notFound)
    }

    @Test("the migration turns the open first-touch rows of NEW leads into the leads' reminders and keeps done ones")
    func firstTouchMigration() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("first-touch-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var migrator = DatabaseMigrator()
        PipelineStore.migrations(&migrator)
        let before = try #require(migrator.migrations.firstIndex(of: "pipeline-v7-first-touch-derived")).advanced(by: -1)
        let queue = try DatabaseQueue(path: path)
        try migrator.migrate(queue, upTo: migrator.migrations[before])
        let due = Date(timeIntervalSince1970: 1_800_000_000)
        try await queue.write { db in
            for (id, status, taskDone) in [("lead_new", 1, 0), ("lead_worked", 2, 1)] {
                let lead = Forge_Pipeline_V1_Lead.with {
                    $0.id = id
                    $0.companyName = "客户\(id)"
                    $0.ownerID = "rep-a"
                    $0.status = Forge_Pipeline_V1_LeadStatus(rawValue: status)!
                    $0.firstTouchDueAt = .init(date: due)
                }
                try db.execute(sql: """
                    INSERT INTO lead (id, owner_id, team, status, score, normalized_name, phone_key, email_key, email_domain,
                                      received_at, updated_at, version, payload)
                    VALUES (?, 'rep-a', 'east', ?, 50, '', '', '', '', 0, 0, 1, ?)
                    """, arguments: [id, status, try lead.serializedData()])
                var task = LeadStore.firstTouchTask(lead)
                task.done = taskDone == 1
                try PipelineStore.insertTask(db, task)
            }
        }
        try migrator.migrate(queue)
        try await queue.read { db in
            #expect(try Double.fetchOne(db, sql: "SELECT first_touch_due FROM lead WHERE id = 'lead_new'") == due.timeIntervalSince1970)
            #expect(try String.fetchAll(db, sql: "SELECT id FROM task ORDER BY id") == ["tsk_touch_lead_worked"])
            let page = try Page(Forge_Common_V1_PageRequest()) { _ in true }
            let listed = try TaskQueries.mine(db, owner: "rep-a", includeDone: true, page: page)
            #expect(listed.map(\.id) == ["tsk_touch_lead_new", "tsk_touch_lead_worked"])
            #expect(listed.map(\.done) == [false, true])
        }
    }

    @Test("reassignment keeps the history, moves the open reminders and the load; a stale version is ABORTED")
    func reassignment() async throws {
        let fixture = try PipelineFixture()
        try await fixture.configureTeams()
        let lead = try await fixture.capture("南通船舶配件").lead
        let manager = PipelineFixture.context("boss-east", ["sales_manager"], team: "east", method: "ReassignLead")
        let target = lead.ownerID == "rep-a" ? "rep-b" : "rep-a"
        let moved = try await fixture.handler.reassignLead(.with {
            $0.id = lead.id
            $0.ownerID = target
            $0.reason = "客户指定"
            $0.version = lead.version
        }, context: manager).lead
        #expect(moved.ownerID == target)
        let history = try await fixture.handler.listLeadAssignments(.with { $0.leadID = lead.id }, context: manager).assignments
        #expect(history.map(\.ownerID) == [lead.ownerID, target])
        #expect(history.last?.by == "boss-east")
        #expect(history.last?.reason == "客户指定")
        #expect(try await fixture.tasks(of: target).contains { $0.leadID == lead.id && !$0.done })
        let stale = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.reassignLead(.with { $0.id = lead.id; $0.ownerID = "rep-c"; $0.version = lead.version }, context: manager)
        }
        #expect(stale?.code == .aborted)
    }

    @Test("object level: a rep sees own and team leads; another team's rep gets NOT_FOUND; analysts see all")
    func visibility() async throws {
        let fixture = try PipelineFixture()
        try await fixture.configureTeams()
        let lead = try await fixture.capture("扬州阀门厂").lead
        let teammate = PipelineFixture.context("rep-z", team: "east")
        let stranger = PipelineFixture.context("rep-w", team: "west")
        #expect(try await fixture.handler.getLead(.with { $0.id = lead.id }, context: teammate).lead.id == lead.id)
        let hidden = await #expect(throws: RPCError.self) { _ = try await fixture.handler.getLead(.with { $0.id = lead.id }, context: stranger) }
        #expect(hidden?.code == .notFound)
        #expect(try await fixture.handler.listLeads(.init(), context: stranger).leads.isEmpty)
        #expect(try await fixture.handler.listLeads(.init(), context: PipelineFixture.context("analyst", ["analyst"])).leads.count == 1)
        let touch = await #expect(throws: RPCError.self) { _ = try await fixture.handler.touchLead(.with { $0.id = lead.id }, context: stranger) }
        #expect(touch?.code == .notFound)
    }

    @Test("accounts' events: the revisit pool opens one lead for the owner; a merge re-points; an erased contact is anonymised")
    func accountsEvents() async throws {
        let fixture = try PipelineFixture()
        try await fixture.account("acc_1", "芜湖铸造厂", owner: "rep-a", team: "east")
        let pool = Forge_Accounts_V1_AccountEnteredRevisitPool.with {
            $0.accountID = "acc_1"
            $0.ownerID = "rep-a"
            $0.daysSilent = 60
        }
        try await fixture.apply(pool, accountID: "acc_1")
        try await fixture.apply(pool, accountID: "acc_1")
        let leads = try await fixture.handler.listLeads(.init(), context: PipelineFixture.admin).leads
        #expect(leads.count == 1)
        #expect(leads.first?.source == .revisitPool)
        #expect(leads.first?.ownerID == "rep-a")
        #expect(leads.first?.accountID == "acc_1")

        try await fixture.apply(Forge_Accounts_V1_AccountMerged.with { $0.survivorID = "acc_9"; $0.mergedIds = ["acc_1"] })
        let repointed = try await fixture.handler.getLead(.with { $0.id = leads[0].id }, context: PipelineFixture.admin).lead
        #expect(repointed.accountID == "acc_9")
        #expect(try await fixture.tasks(of: "rep-a").allSatisfy { $0.accountID != "acc_1" })

        // A converted lead names its contact: erasing the person clears them from the lead.
        try await fixture.database.write { db in
            var lead = try LeadStore.lead(db, id: leads[0].id)!
            lead.contactID = "con_1"
            lead.contactName = "李经理"
            lead.phone = "13900001111"
            try LeadStore.write(db, lead)
        }
        try await fixture.apply(Forge_Accounts_V1_ContactErased.with { $0.contactID = "con_1"; $0.accountID = "acc_9" })
        let erased = try await fixture.handler.getLead(.with { $0.id = leads[0].id }, context: PipelineFixture.admin).lead
        #expect(erased.contactName == "（已删除）")
        #expect(erased.phone.isEmpty)

        // An inquiry never converted, naming an erased person's phone, loses it too.
        let inquiry = try await fixture.capture("另一家公司", phone: "137-0000-2222").lead
        try await fixture.apply(Forge_Accounts_V1_ContactCreated.with {
            $0.contact = .with { $0.id = "con_2"; $0.accountID = "acc_9"; $0.name = "孙总"; $0.phone = "13700002222" }
        })
        try await fixture.apply(Forge_Accounts_V1_ContactErased.with { $0.contactID = "con_2"; $0.accountID = "acc_9" })
        let cleared = try await fixture.handler.getLead(.with { $0.id = inquiry.id }, context: PipelineFixture.admin).lead
        #expect(cleared.phone.isEmpty)
        #expect(cleared.contactName == "（已删除）")
    }
}
