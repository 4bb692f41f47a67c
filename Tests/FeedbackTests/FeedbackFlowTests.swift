import ForgeContracts
@testable import ForgeFeedback
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import GRDB
import Logging
import SwiftProtobuf
import Testing

/// The feedback handler over a real database file, called as the server calls it, with a
/// manual clock and the real job scheduler; other services' events applied as the consumers
/// apply them.
struct FeedbackFixture {
    let handler: FeedbackHandler
    let database: DatabasePool
    let clock: ManualClock

    static let start = Date(timeIntervalSince1970: 1_796_083_200)  // 2026-12-01 00:00 UTC

    init() throws {
        database = try ForgeDatabase.temporary(migrations: FeedbackStore.migrations)
        clock = ManualClock(Self.start)
        handler = FeedbackHandler(database: database, clock: clock, accounts: nil)
    }

    static func context(_ subject: String, _ roles: Set<String>, team: String = "") -> ServerContext {
        ServerContext(method: MethodDescriptor(service: "forge.feedback.v1.Feedback", method: "Test"), metadata: [:],
                      principal: Principal(subject: subject, roles: roles, team: team), deadline: .now + .seconds(30),
                      requestID: "req", logger: Logger(label: "test"), peer: "test")
    }

    static let marketing = context("mkt-1", [Role.marketing])
    static let rep = context("rep-a", [Role.salesRep], team: "east")
    static let otherRep = context("rep-w", [Role.salesRep], team: "west")
    static let manager = context("boss-east", [Role.salesManager], team: "east")
    static let page = context("gateway-survey-page", [Role.service])
    static let analyst = context("ana", [Role.analyst])

    var scheduler: JobScheduler { JobScheduler(database: database, clock: clock, handlers: handler.jobHandlers) }

    func apply(_ message: some SwiftProtobuf.Message, from upstream: String, seq: UInt64 = 1) async throws {
        let event = Forge_Common_V1_Event.with {
            $0.seq = seq
            $0.type = String(type(of: message).protoMessageName.split(separator: ".").last!)
            $0.payload = try! message.serializedData()
            $0.occurredAt = .init(date: clock.now())
        }
        let now = clock.now()
        try await database.write { db in
            switch upstream {
            case "accounts": try UpstreamEvents.applyAccounts(db, event, now: now)
            case "servicedesk": try UpstreamEvents.applyServiceDesk(db, event, now: now)
            default: try UpstreamEvents.applyOrders(db, event, now: now)
            }
        }
    }

    /// Two accounts: 华东 (rep-a, team east) with two contacts, 西南 (rep-w, team west) with one.
    func setUp() async throws {
        try await apply(Forge_Accounts_V1_AccountCreated.with {
            $0.account = .with { $0.id = "acc_1"; $0.name = "杭州汽轮动力集团有限公司"; $0.ownerID = "rep-a"; $0.team = "east"; $0.region = "华东"; $0.industry = "能源装备"; $0.tier = .core }
        }, from: "accounts")
        try await apply(Forge_Accounts_V1_AccountCreated.with {
            $0.account = .with { $0.id = "acc_2"; $0.name = "成都航空零部件有限公司"; $0.ownerID = "rep-w"; $0.team = "west"; $0.region = "西南"; $0.industry = "航空"; $0.tier = .regular }
        }, from: "accounts")
        for (seq, contact) in [
            Forge_Accounts_V1_Contact.with { $0.id = "con_1"; $0.accountID = "acc_1"; $0.name = "王工"; $0.buyingRole = .decisionMaker; $0.marketingConsent = true },
            .with { $0.id = "con_2"; $0.accountID = "acc_1"; $0.name = "李经理"; $0.buyingRole = .user; $0.marketingConsent = false },
            .with { $0.id = "con_3"; $0.accountID = "acc_2"; $0.name = "赵总"; $0.buyingRole = .decisionMaker; $0.marketingConsent = true },
        ].enumerated() {
            try await apply(Forge_Accounts_V1_ContactCreated.with { $0.contact = contact }, from: "accounts", seq: UInt64(seq + 10))
        }
    }

    func events(_ type: String) async throws -> [Forge_Common_V1_Event] {
        try await database.read { db in try Outbox.events(db, after: 0, limit: 10_000, types: [type]) }
    }

    func notifications() async throws -> [Forge_Common_V1_NotificationRequested] {
        try await events("NotificationRequested").map { try Forge_Common_V1_NotificationRequested(serializedBytes: $0.payload) }
    }

    /// The one-time token of the survey's invitation e-mail.
    func token(of surveyID: String) async throws -> String {
        let invitation = try #require(try await notifications().first { $0.dedupeKey == "survey:\(surveyID):invitation" })
        return String(try #require(invitation.parameters["survey_path"]).dropFirst(3))
    }

    func survey(_ id: String) async throws -> Forge_Feedback_V1_Survey {
        try await handler.getSurvey(.with { $0.id = id }, context: Self.marketing).survey
    }

    /// The running totals give what counting every answer gives, for each grouping and caller.
    func expectTotalsMatchAnswers(_ comment: Comment) async throws {
        let principals = [Self.marketing, Self.rep, Self.otherRep].compactMap(\.principal)
        try await database.read { db in
            for principal in principals {
                for grouping in [[], [.region, .month], [.team], [.tier, .industry]] as [[Forge_Feedback_V1_NpsGrouping]] {
                    let totals = try NpsQuery.report(db, .init(), groupBy: grouping, principal: principal)
                    let counted = try NpsQuery.report(db, .init(), groupBy: grouping, principal: principal, exact: true)
                    #expect(totals == counted, "\(comment) \(principal.subject) \(grouping)")
                }
            }
        }
    }

    func advance(days: Double) async throws {
        clock.advance(by: days * 86_400)
        _ = try await scheduler.runDue()
    }

    /// A survey sent now to `contact` and answered with `score`.
    @discardableResult
    func answered(_ kind: Forge_Feedback_V1_SurveyKind, _ score: Int32, account: String = "acc_1", contact: String = "con_1", comment: String = "") async throws -> Forge_Feedback_V1_Survey {
        let survey = try await handler.scheduleSurvey(.with { $0.survey = .with { $0.accountID = account; $0.contactID = contact; $0.kind = kind } }, context: Self.marketing).survey
        _ = try await scheduler.runDue()
        let token = try await token(of: survey.id)
        return try await handler.answerSurvey(.with { $0.surveyToken = token; $0.score = score; $0.comment = comment }, context: Self.page).survey
    }
}

@Suite("Surveys: triggers, fatigue, one-time links, the closed loop")
struct FeedbackFlowTests {
    @Test("a delivered order's NPS survey goes out 7 days later, not before, once however often the event comes; one reminder at 3 days; the link then expires")
    func deliveryTrigger() async throws {
        let fixture = try FeedbackFixture()
        try await fixture.setUp()
        let delivered = Forge_Orders_V1_OrderDelivered.with {
            $0.order = .with { $0.id = "ord_1"; $0.orderNumber = "SO-2026-0042"; $0.accountID = "acc_1"; $0.contactID = "con_1" }
            $0.deliveredAt = .init(date: fixture.clock.now())
        }
        for _ in 0..<2 { try await fixture.apply(delivered, from: "orders") }
        // A delivery whose survey time passed more than a link's validity (14 days) ago is history.
        try await fixture.apply(Forge_Orders_V1_OrderDelivered.with {
            $0.order = .with { $0.id = "ord_old"; $0.orderNumber = "SO-2026-0001"; $0.accountID = "acc_1"; $0.contactID = "con_1" }
            $0.deliveredAt = .init(date: fixture.clock.now().addingTimeInterval(-22 * 86_400))
        }, from: "orders")
        let scheduled = try await fixture.handler.listSurveys(.init(), context: FeedbackFixture.marketing).surveys
        #expect(scheduled.count == 1)
        let survey = try #require(scheduled.first)
        #expect(survey.state == .scheduled && survey.trigger == .orderDelivered && survey.reference == "SO-2026-0042" && survey.region == "华东")

        try await fixture.advance(days: 6.9)
        #expect(try await fixture.survey(survey.id).state == .scheduled)
        #expect(try await fixture.notifications().isEmpty)
        try await fixture.advance(days: 0.2)
        let sent = try await fixture.survey(survey.id)
        #expect(sent.state == .sent)
        let invitation = try #require(try await fixture.notifications().first)
        #expect(invitation.template == "survey_invitation" && invitation.recipientContactID == "con_1" && !invitation.transactional)
        #expect(invitation.parameters["survey_path"]?.hasPrefix("/s/srv") == true)

        try await fixture.advance(days: 2.9)
        #expect(try await fixture.notifications().count == 1)
        try await fixture.advance(days: 0.2)
        try await fixture.advance(days: 1)
        let reminders = try await fixture.notifications().filter { $0.template == "survey_reminder" }
        #expect(reminders.count == 1)
        #expect(reminders.first?.parameters["survey_path"] == invitation.parameters["survey_path"])

        try await fixture.advance(days: 11)
        #expect(try await fixture.survey(survey.id).state == .expired)
        let token = try await fixture.token(of: survey.id)
        await #expect { _ = try await fixture.handler.answerSurvey(.with { $0.surveyToken = token; $0.score = 9 }, context: FeedbackFixture.page) } throws: {
            ($0 as? RPCError)?.code == .failedPrecondition && ($0 as? RPCError)?.message.contains("expired") == true
        }
    }

    @Test("at most one survey per contact per 30 days and per account per 7: a closed ticket's CSAT is skipped with the reason, and goes out once the limit is lowered")
    func fatigue() async throws {
        let fixture = try FeedbackFixture()
        try await fixture.setUp()
        try await fixture.answered(.nps, 8)
        let closed = { (id: String, contact: String) in
            Forge_Servicedesk_V1_TicketClosed.with { $0.ticket = .with { $0.id = id; $0.number = "T-\(id)"; $0.accountID = "acc_1"; $0.contactID = contact; $0.productLine = "机床" } }
        }
        // Another contact of the account, 3 days after a survey went to the account.
        try await fixture.advance(days: 3)
        try await fixture.apply(closed("t1", "con_2"), from: "servicedesk")
        _ = try await fixture.scheduler.runDue()
        var skipped = try await fixture.handler.listSurveys(.with { $0.states = [.skipped] }, context: FeedbackFixture.marketing).surveys
        #expect(skipped.count == 1)
        #expect(skipped.first?.kind == .csat && skipped.first?.skipReason.contains("the account was surveyed") == true)
        #expect(try await fixture.events("SurveySkipped").count == 1)

        var settings = try await fixture.handler.getFeedbackSettings(.init(), context: FeedbackFixture.marketing).settings
        settings.accountQuietDays = 1
        _ = try await fixture.handler.updateFeedbackSettings(.with { $0.settings = settings }, context: FeedbackFixture.marketing)
        try await fixture.apply(closed("t2", "con_2"), from: "servicedesk")
        _ = try await fixture.scheduler.runDue()
        // As the owner: marketing does not see con_2, who has not consented.
        let sent = try await fixture.handler.listSurveys(.with { $0.states = [.sent] }, context: FeedbackFixture.rep).surveys
        #expect(sent.contains { $0.contactID == "con_2" && $0.kind == .csat && $0.productLine == "机床" })

        // The first contact again, 10 days after their survey.
        try await fixture.advance(days: 7)
        try await fixture.apply(closed("t3", "con_1"), from: "servicedesk")
        _ = try await fixture.scheduler.runDue()
        skipped = try await fixture.handler.listSurveys(.with { $0.states = [.skipped] }, context: FeedbackFixture.marketing).surveys
        #expect(skipped.count == 2)
        #expect(skipped.first?.skipReason.contains("at most one survey per 30 days") == true)
        // A redelivered event makes nothing twice.
        try await fixture.apply(closed("t3", "con_1"), from: "servicedesk")
        #expect(try await fixture.handler.listSurveys(.init(), context: FeedbackFixture.marketing).surveys.count == 4)
    }

    @Test("a link takes one answer: the second is refused politely, a tampered or unknown token is NOT_FOUND, a bad score names the field; the page shows the question in Chinese")
    func singleUse() async throws {
        let fixture = try FeedbackFixture()
        try await fixture.setUp()
        let survey = try await fixture.handler.scheduleSurvey(.with { $0.survey = .with { $0.accountID = "acc_1"; $0.contactID = "con_1"; $0.kind = .nps } },
                                                              context: FeedbackFixture.rep).survey
        _ = try await fixture.scheduler.runDue()
        let token = try await fixture.token(of: survey.id)
        let page = try await fixture.handler.openSurvey(.with { $0.token = token }, context: FeedbackFixture.page)
        #expect(page.state == .sent && page.question.contains("推荐") && page.contactName == "王工")
        await #expect { _ = try await fixture.handler.answerSurvey(.with { $0.surveyToken = token; $0.score = 11 }, context: FeedbackFixture.page) } throws: {
            ($0 as? RPCError)?.violations.first?.field == "score"
        }
        var tampered = Array(token)
        tampered[tampered.count - 2] = tampered[tampered.count - 2] == "x" ? "y" : "x"
        await #expect { _ = try await fixture.handler.answerSurvey(.with { $0.surveyToken = String(tampered); $0.score = 9 }, context: FeedbackFixture.page) } throws: {
            ($0 as? RPCError)?.code == .notFound
        }
        let answered = try await fixture.handler.answerSurvey(.with { $0.surveyToken = token; $0.score = 9; $0.comment = "设备稳定，服务及时" }, context: FeedbackFixture.page).survey
        #expect(answered.state == .answered && answered.scoreClass == .promoter && answered.channel == .link && answered.tags == ["service"])
        await #expect { _ = try await fixture.handler.answerSurvey(.with { $0.surveyToken = token; $0.score = 2 }, context: FeedbackFixture.page) } throws: {
            ($0 as? RPCError)?.code == .failedPrecondition && ($0 as? RPCError)?.message.contains("already answered") == true
        }
        #expect(try await fixture.survey(survey.id).score == 9, "the first answer stands")
        #expect(try await fixture.handler.openSurvey(.with { $0.token = token }, context: FeedbackFixture.page).state == .answered)
        #expect(try await fixture.events("SurveyAnswered").count == 1)
    }

    @Test("a detractor gets a follow-up due in 48 h for the owner, escalated when late; it closes only with what was done and what changed, and the customer is told; a promoter is thanked and invited")
    func closedLoop() async throws {
        let fixture = try FeedbackFixture()
        try await fixture.setUp()
        try await fixture.answered(.nps, 4, comment: "交期一拖再拖，没人主动通知")
        var followUps = try await fixture.handler.listFollowUps(.init(), context: FeedbackFixture.rep).followUps
        #expect(followUps.count == 1)
        let followUp = try #require(followUps.first)
        #expect(followUp.ownerID == "rep-a" && followUp.state == .open && followUp.dueAt.date == fixture.clock.now().addingTimeInterval(48 * 3600))
        #expect(try await fixture.handler.listFollowUps(.init(), context: FeedbackFixture.otherRep).followUps.isEmpty, "another team's rep sees none")

        try await fixture.advance(days: 1.9)
        #expect(try await fixture.handler.getFollowUp(.with { $0.id = followUp.id }, context: FeedbackFixture.rep).followUp.state == .open)
        try await fixture.advance(days: 0.2)
        followUps = try await fixture.handler.listFollowUps(.init(), context: FeedbackFixture.manager).followUps
        #expect(followUps.first?.state == .escalated)
        #expect(try await fixture.events("FollowUpEscalated").count == 1)

        await #expect { _ = try await fixture.handler.closeFollowUp(.with { $0.id = followUp.id; $0.actionsTaken = "电话回访" }, context: FeedbackFixture.rep) } throws: {
            ($0 as? RPCError)?.violations.map(\.field) == ["what_changed"]
        }
        let closed = try await fixture.handler.closeFollowUp(.with {
            $0.id = followUp.id
            $0.actionsTaken = "电话回访王工，补发了延误说明"
            $0.whatChanged = "发货前 3 天起每天短信同步生产进度"
        }, context: FeedbackFixture.rep).followUp
        #expect(closed.state == .closed && closed.customerTold && closed.hoursToClose == 50.4)
        let told = try #require(try await fixture.notifications().first { $0.template == "feedback_loop_closed" })
        #expect(told.recipientContactID == "con_1" && told.parameters["what_changed"] == "发货前 3 天起每天短信同步生产进度" && told.transactional)
        await #expect { _ = try await fixture.handler.closeFollowUp(.with { $0.id = followUp.id; $0.actionsTaken = "x"; $0.whatChanged = "y" }, context: FeedbackFixture.rep) } throws: {
            ($0 as? RPCError)?.code == .failedPrecondition
        }

        try await fixture.advance(days: 31)
        try await fixture.answered(.nps, 10, comment: "非常满意")
        let advocacy = try await fixture.handler.listAdvocacy(.init(), context: FeedbackFixture.rep).advocacy
        #expect(advocacy.count == 1 && advocacy.first?.state == .invited)
        #expect(try await fixture.notifications().contains { $0.template == "promoter_thanks" && $0.recipientContactID == "con_1" })
        let accepted = try await fixture.handler.recordAdvocacy(.with { $0.id = advocacy[0].id; $0.accepted = true; $0.kinds = [.referenceVisit] }, context: FeedbackFixture.rep).advocacy
        #expect(accepted.state == .accepted && accepted.kinds == [.referenceVisit])
    }

    @Test("NPS by region and month by DESIGN §7's formula, with imported answers, response rate and CSAT; no answers is no NPS; a rep sees only their accounts' figures")
    func report() async throws {
        let fixture = try FeedbackFixture()
        try await fixture.setUp()
        let empty = try await fixture.handler.getNps(.init(), context: FeedbackFixture.marketing)
        #expect(empty.overall.responses == 0 && empty.nps == 0)
        let day = 86_400.0
        let start = FeedbackFixture.start
        let answers: [(String, Int32, Double)] = [("acc_1", 10, -40), ("acc_1", 9, -40), ("acc_1", 3, -40), ("acc_1", 8, -5), ("acc_2", 6, -5), ("acc_2", 6, -5)]
        let imported = try await fixture.handler.importAnswers(.with {
            $0.answers = answers.enumerated().map { index, answer in
                .with { $0.key = "phone-\(index)"; $0.accountID = answer.0; $0.kind = .nps; $0.score = answer.1; $0.answeredAt = .init(date: start.addingTimeInterval(answer.2 * day)) }
            } + [.with { $0.key = "bad"; $0.accountID = "acc_1"; $0.kind = .nps; $0.score = 12; $0.answeredAt = .init(date: start) }]
        }, context: FeedbackFixture.marketing)
        #expect(imported.recorded == 6 && imported.rejected == ["answers[6].score: must be between 0 and 10 for NPS"])
        try await fixture.expectTotalsMatchAnswers("after the import")
        let again = try await fixture.handler.importAnswers(.with { $0.answers = [.with { $0.key = "phone-0"; $0.accountID = "acc_1"; $0.kind = .nps; $0.score = 10; $0.answeredAt = .init(date: start) }] },
                                                            context: FeedbackFixture.marketing)
        #expect(again.alreadyRecorded == 1 && again.recorded == 0)
        #expect(try await fixture.handler.listFollowUps(.init(), context: FeedbackFixture.marketing).followUps.isEmpty, "imported history opens no follow-ups")
        try await fixture.answered(.csat, 4, account: "acc_2", contact: "con_3")
        try await fixture.answered(.csat, 2)

        let all = try await fixture.handler.getNps(.with { $0.groupBy = [.region, .month] }, context: FeedbackFixture.marketing)
        // 2 promoters, 1 passive, 3 detractors of 6: (2 − 3) / 6 = −16.67.
        #expect(all.overall.responses == 6 && all.nps == -16.67 && all.overall.csatResponses == 2 && all.overall.csatAverage == 3)
        let groups = Dictionary(uniqueKeysWithValues: all.groups.map { ($0.keys.joined(separator: "|"), $0.figures) })
        #expect(groups["华东|2026-10"]?.nps == 33.33 && groups["华东|2026-10"]?.responses == 3)
        #expect(groups["华东|2026-11"]?.nps == 0 && groups["西南|2026-11"]?.nps == -100)
        let east = try await fixture.handler.getNps(.with { $0.region = "华东"; $0.from = .init(date: start.addingTimeInterval(-10 * day)) }, context: FeedbackFixture.marketing)
        #expect(east.overall.responses == 1 && east.overall.passives == 1 && east.nps == 0, "all passives: NPS 0 with an answer")
        let mine = try await fixture.handler.getNps(.init(), context: FeedbackFixture.otherRep)
        #expect(mine.overall.responses == 2 && mine.nps == -100)
        let rate = try await fixture.handler.getNps(.init(), context: FeedbackFixture.marketing).overall
        #expect(rate.sent == 0, "CSAT surveys do not count in the NPS response rate")
        try await fixture.expectTotalsMatchAnswers("after live answers")
        // A bound inside a month counts the answers: the same figures as the whole-month totals here.
        let inside = try await fixture.handler.getNps(.with { $0.from = .init(date: start.addingTimeInterval(-60 * day)) }, context: FeedbackFixture.marketing)
        #expect(inside.overall == all.overall)
        await #expect { _ = try await fixture.handler.getNps(.with { $0.groupBy = [.region, .month, .tier] }, context: FeedbackFixture.marketing) } throws: {
            ($0 as? RPCError)?.violations.first?.field == "group_by"
        }
    }

    @Test("an account's feedback (its 360° section) reads that account's surveys through its index, never a year of everyone's")
    func accountSectionUsesTheAccountIndex() async throws {
        let fixture = try FeedbackFixture()
        try await fixture.setUp()
        let principal = try #require(FeedbackFixture.marketing.principal)
        // The survey queries `getAccountFeedback` runs, as SQLite plans them (no statistics, as
        // in production).
        let plans = try await fixture.database.read { db in
            try QueryPlans.of(db) {
                let year = NpsQuery.Filter(accountIDs: ["acc_1"], from: FeedbackFixture.start.addingTimeInterval(-365 * 86_400))
                _ = try NpsQuery.report(db, year, groupBy: [], principal: principal)
                _ = try SurveyStore.list(db, .init(accountID: "acc_1", states: [.answered]), principal: principal, before: nil, limit: 10)
            }.filter { $0.sql.contains("FROM survey") }
        }
        #expect(plans.count == 3, "the answers' and the invitations' figures, and the latest answers")
        for (sql, plan) in plans {
            #expect(plan.contains("survey_by_account") && !plan.contains("SCAN survey"), "\(sql) → \(plan)")
        }
    }

    @Test("comments are searchable in Chinese (two characters or more) and filterable by tag; analysts see no contact, marketing only consenting contacts")
    func search() async throws {
        let fixture = try FeedbackFixture()
        try await fixture.setUp()
        try await fixture.answered(.nps, 5, comment: "交期太长，希望说明书有中文版")
        try await fixture.advance(days: 40)
        try await fixture.answered(.nps, 9, contact: "con_2", comment: "售后工程师响应很快")
        let byWord = try await fixture.handler.listSurveys(.with { $0.query = "交期" }, context: FeedbackFixture.marketing).surveys
        #expect(byWord.count == 1 && byWord.first?.score == 5)
        let byPhrase = try await fixture.handler.listSurveys(.with { $0.query = "工程师响应" }, context: FeedbackFixture.marketing).surveys
        #expect(byPhrase.count == 1 && byPhrase.first?.score == 9)
        let documentation = try await fixture.handler.listSurveys(.with { $0.tag = "documentation" }, context: FeedbackFixture.marketing).surveys
        #expect(documentation.map(\.score) == [5])
        let asMarketing = try await fixture.handler.listSurveys(.with { $0.states = [.answered] }, context: FeedbackFixture.marketing).surveys
        #expect(asMarketing.first { $0.score == 9 }?.contactName == "", "con_2 did not consent")
        #expect(asMarketing.first { $0.score == 5 }?.contactName == "王工")
        let asAnalyst = try await fixture.handler.listSurveys(.with { $0.states = [.answered] }, context: FeedbackFixture.analyst).surveys
        #expect(asAnalyst.allSatisfy { $0.contactID.isEmpty && $0.contactName.isEmpty })
        #expect(try await fixture.handler.listSurveys(.init(), context: FeedbackFixture.otherRep).surveys.isEmpty)
    }

    @Test("a merge re-points surveys, follow-ups and votes to the survivor; an erased contact is anonymised while the answer stays in the NPS")
    func mergeAndErase() async throws {
        let fixture = try FeedbackFixture()
        try await fixture.setUp()
        try await fixture.answered(.nps, 3, account: "acc_2", contact: "con_3", comment: "价格偏高")
        let idea = try await fixture.handler.submitIdea(.with { $0.idea = .with { $0.accountID = "acc_1"; $0.title = "主轴温度远程报警"; $0.category = .improvement } },
                                                        context: FeedbackFixture.rep).idea
        _ = try await fixture.handler.voteIdea(.with { $0.id = idea.id; $0.accountID = "acc_2" }, context: FeedbackFixture.otherRep)
        try await fixture.apply(Forge_Accounts_V1_AccountMerged.with { $0.survivorID = "acc_1"; $0.mergedIds = ["acc_2"] }, from: "accounts")
        let surveys = try await fixture.handler.listSurveys(.with { $0.accountID = "acc_1" }, context: FeedbackFixture.rep).surveys
        #expect(surveys.count == 1 && surveys.first?.ownerID == "rep-a" && surveys.first?.accountName == "杭州汽轮动力集团有限公司")
        #expect(try await fixture.handler.listFollowUps(.init(), context: FeedbackFixture.rep).followUps.count == 1)
        try await fixture.expectTotalsMatchAnswers("after the merge")
        let votes = try await fixture.handler.listIdeas(.init(), context: FeedbackFixture.rep).ideas.first
        #expect(votes?.voterAccountIds == ["acc_1"] && votes?.votes == 1)

        try await fixture.apply(Forge_Accounts_V1_ContactErased.with { $0.contactID = "con_3"; $0.accountID = "acc_1" }, from: "accounts")
        let erased = try await fixture.handler.listSurveys(.init(), context: FeedbackFixture.rep).surveys.first
        #expect(erased?.contactID == "" && erased?.contactName == "" && erased?.score == 3)
        let followUp = try await fixture.handler.listFollowUps(.init(), context: FeedbackFixture.rep).followUps.first
        #expect(followUp?.contactName == "" && followUp?.contactID == "")
        #expect(try await fixture.handler.getNps(.init(), context: FeedbackFixture.marketing).detractors == 1)
        try await fixture.apply(Forge_Accounts_V1_AccountOwnerChanged.with { $0.change = .with { $0.accountID = "acc_1"; $0.toOwnerID = "rep-w" } }, from: "accounts")
        try await fixture.expectTotalsMatchAnswers("after a new owner")
        #expect(try await fixture.handler.getNps(.init(), context: FeedbackFixture.otherRep).detractors == 1, "the new owner sees the account's answers")
    }

    @Test("ideas: votes from other accounts count once each; status moves with a reason; when one ships, the customers who asked and voted are told")
    func ideas() async throws {
        let fixture = try FeedbackFixture()
        try await fixture.setUp()
        await #expect { _ = try await fixture.handler.submitIdea(.with { $0.idea = .with { $0.accountID = "acc_1" } }, context: FeedbackFixture.rep) } throws: {
            Set(($0 as? RPCError)?.violations.map(\.field) ?? []) == ["idea.title", "idea.category"]
        }
        let idea = try await fixture.handler.submitIdea(.with {
            $0.idea = .with { $0.accountID = "acc_1"; $0.contactID = "con_2"; $0.title = "刀库换刀时间缩短到 2 秒"; $0.category = .improvement; $0.productLine = "加工中心" }
        }, context: FeedbackFixture.rep).idea
        for _ in 0..<2 { _ = try await fixture.handler.voteIdea(.with { $0.id = idea.id; $0.accountID = "acc_2" }, context: FeedbackFixture.otherRep) }
        var current = try await fixture.handler.listIdeas(.init(), context: FeedbackFixture.marketing).ideas[0]
        #expect(current.votes == 2)
        current = try await fixture.handler.updateIdeaStatus(.with { $0.id = idea.id; $0.status = .planned }, context: FeedbackFixture.marketing).idea
        await #expect { _ = try await fixture.handler.updateIdeaStatus(.with { $0.id = idea.id; $0.status = .shipped }, context: FeedbackFixture.marketing) } throws: {
            ($0 as? RPCError)?.violations.first?.field == "note"
        }
        current = try await fixture.handler.updateIdeaStatus(.with { $0.id = idea.id; $0.status = .shipped; $0.note = "VMC-850 2027 款" }, context: FeedbackFixture.marketing).idea
        #expect(current.history.map(\.to) == [.new, .planned, .shipped])
        let told = try await fixture.notifications().filter { $0.template == "idea_shipped" }
        #expect(Set(told.map(\.recipientContactID)) == ["con_2", "con_3"])
        #expect(try await fixture.events("IdeaStatusChanged").count == 2)
    }
    @Test("a campaign surveys each listed account's main contact (its decision maker) and lists the accounts left out; the revisit pool asks for an NPS survey once per day it enters")
    func campaignAndRevisitPool() async throws {
        let fixture = try FeedbackFixture()
        try await fixture.setUp()
        try await fixture.apply(Forge_Accounts_V1_AccountCreated.with {
            $0.account = .with { $0.id = "acc_3"; $0.name = "无锡新材料有限公司"; $0.ownerID = "rep-a"; $0.team = "east"; $0.region = "华东" }
        }, from: "accounts")
        await #expect { _ = try await fixture.handler.createCampaign(.with { $0.campaign = .with { $0.kind = .nps } }, context: FeedbackFixture.marketing) } throws: {
            Set(($0 as? RPCError)?.violations.map(\.field) ?? []) == ["campaign.name", "campaign.segment_id"]
        }
        let campaign = try await fixture.handler.createCampaign(.with {
            $0.campaign = .with { $0.name = "2026 年度 NPS"; $0.kind = .nps; $0.accountIds = ["acc_1", "acc_2", "acc_3", "acc_x"] }
        }, context: FeedbackFixture.marketing).campaign
        #expect(campaign.surveys == 2)
        #expect(Dictionary(uniqueKeysWithValues: campaign.skipped.map { ($0.accountID, $0.reason) }) == ["acc_3": "the account has no contact", "acc_x": "not a known account"])
        _ = try await fixture.scheduler.runDue()
        let sent = try await fixture.handler.listSurveys(.with { $0.campaignID = campaign.id }, context: FeedbackFixture.marketing).surveys
        #expect(Set(sent.map(\.contactID)) == ["con_1", "con_3"] && sent.allSatisfy { $0.state == .sent && $0.trigger == .campaign })
        #expect(try await fixture.handler.listCampaigns(.init(), context: FeedbackFixture.marketing).campaigns.map(\.id) == [campaign.id])

        try await fixture.advance(days: 40)
        let pooled = Forge_Accounts_V1_AccountEnteredRevisitPool.with { $0.accountID = "acc_1"; $0.ownerID = "rep-a"; $0.daysSilent = 60 }
        for _ in 0..<2 { try await fixture.apply(pooled, from: "accounts") }
        _ = try await fixture.scheduler.runDue()
        let revisit = try await fixture.handler.listSurveys(.with { $0.accountID = "acc_1" }, context: FeedbackFixture.rep).surveys.filter { $0.trigger == .revisitPool }
        #expect(revisit.count == 1 && revisit.first?.contactID == "con_1" && revisit.first?.state == .sent)
    }
}
