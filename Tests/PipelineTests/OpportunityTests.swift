@testable import ForgePipeline
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Opportunities: stage gates, timers, forecast, amounts by role")
struct OpportunityTests {
    func opportunity(_ fixture: PipelineFixture, name: String = "数控车床 20 台", owner: String = "rep-a", team: String = "east",
                     amount: Int64? = 2_000_000, close: Date? = nil, lines: [String] = ["数控机床"]) async throws -> Forge_Pipeline_V1_Opportunity {
        try await fixture.opportunity(name: name, owner: owner, team: team, amount: amount, close: close, lines: lines)
    }

    func advance(_ fixture: PipelineFixture, _ opportunity: Forge_Pipeline_V1_Opportunity, to stage: Forge_Pipeline_V1_Stage,
                 decisionMaker: Bool = true, reason: Forge_Pipeline_V1_LostReason = .unspecified, lostTo: String = "") async throws -> Forge_Pipeline_V1_Opportunity {
        try await fixture.handler.opportunities.advance(.with {
            $0.id = opportunity.id
            $0.stage = stage
            $0.lostReason = reason
            $0.lostTo = lostTo
        }, facts: .init(hasDecisionMaker: decisionMaker), context: PipelineFixture.context("rep-a", team: "east", method: "AdvanceStage"),
            principal: Principal(subject: "rep-a", roles: ["sales_rep"], team: "east"))
    }

    @Test("gates: solution design needs a decision maker, quotation an amount and a close date; required stages cannot be skipped, optional ones can; LOST needs a reason (and the competitor); a closed opportunity stays closed")
    func gates() async throws {
        let fixture = try PipelineFixture()
        var opportunity = try await opportunity(fixture, amount: nil)
        #expect(opportunity.stage == .technicalConsultation)
        #expect(opportunity.probabilityPercent == 10)

        let noDecisionMaker = await #expect(throws: RPCError.self) { try await advance(fixture, opportunity, to: .solutionDesign, decisionMaker: false) }
        #expect(noDecisionMaker?.code == .failedPrecondition)
        #expect(noDecisionMaker?.message.contains("decision maker") == true)
        let skip = await #expect(throws: RPCError.self) { try await advance(fixture, opportunity, to: .quotationNegotiation) }
        #expect(skip?.message.contains("cannot skip 方案设计") == true)

        opportunity = try await advance(fixture, opportunity, to: .solutionDesign)
        #expect(opportunity.probabilityPercent == 20)
        // Sampling is optional: straight to quotation, which needs an amount, a close date and
        // an approved quote.
        let unready = await #expect(throws: RPCError.self) { try await advance(fixture, opportunity, to: .quotationNegotiation) }
        #expect(Set(unready?.violations.map(\.field) ?? []) == ["opportunity.amount", "opportunity.expected_close", "quotes"])
        let id = opportunity.id
        try await fixture.database.write { db in
            var stored = try OpportunityStore.opportunity(db, id: id)!
            stored.amount = .with { $0.amountMicros = 1_500_000_000_000 }
            stored.expectedClose = .init(date: Date(timeIntervalSince1970: 1_780_000_000))
            try OpportunityStore.write(db, stored)
        }
        let rep = PipelineFixture.context("rep-a", team: "east")
        let quote = try await fixture.handler.createQuote(.with { $0.quote = QuoteTests.quote(opportunity: id, validDays: 30, now: fixture.clock.now()) }, context: rep).quote
        #expect(quote.status == .approved)
        opportunity = try await advance(fixture, opportunity, to: .quotationNegotiation)
        // Bidding is optional too; the contract needs the quote sent.
        let unsent = await #expect(throws: RPCError.self) { try await advance(fixture, opportunity, to: .contract) }
        #expect(unsent?.violations.map(\.field) == ["quotes"])
        _ = try await fixture.handler.sendQuote(.with { $0.id = quote.id }, context: rep)
        opportunity = try await advance(fixture, opportunity, to: .contract)
        #expect(opportunity.probabilityPercent == 80)
        #expect(opportunity.history.map(\.to) == [.solutionDesign, .quotationNegotiation, .contract])
        let byHand = await #expect(throws: RPCError.self) { try await advance(fixture, opportunity, to: .won) }
        #expect(byHand?.message.contains("RecordQuoteAnswer") == true)

        let noReason = await #expect(throws: RPCError.self) { try await advance(fixture, opportunity, to: .lost) }
        #expect(noReason?.violations.map(\.field) == ["lost_reason"])
        let noCompetitor = await #expect(throws: RPCError.self) { try await advance(fixture, opportunity, to: .lost, reason: .competitor) }
        #expect(noCompetitor?.violations.map(\.field) == ["lost_to"])
        opportunity = try await advance(fixture, opportunity, to: .lost, reason: .competitor, lostTo: "德玛吉")
        #expect(opportunity.lostTo == "德玛吉")
        #expect(opportunity.hasClosedAt)
        let closed = await #expect(throws: RPCError.self) { try await advance(fixture, opportunity, to: .contract) }
        #expect(closed?.code == .failedPrecondition)
        #expect(try await fixture.eventTypes().contains("OpportunityLost"))
    }

    @Test("stage timer: past the stage's limit the owner gets a task, past twice the limit the manager; moving on stops it")
    func stageTimers() async throws {
        let fixture = try PipelineFixture()
        try await fixture.configureTeams()
        let scheduler = fixture.scheduler
        let stuck = try await opportunity(fixture, name: "停滞的商机")
        let moving = try await opportunity(fixture, name: "推进中的商机")
        fixture.clock.advance(by: 13 * 86400)
        _ = try await advance(fixture, moving, to: .solutionDesign)
        fixture.clock.advance(by: 1 * 86400 + 1)
        #expect(try await scheduler.runDue() == 1)
        let ownerTasks = try await fixture.tasks(of: "rep-a").filter { $0.kind == "stage_timer" }
        #expect(ownerTasks.map(\.opportunityID) == [stuck.id])
        fixture.clock.advance(by: 14 * 86400)
        #expect(try await scheduler.runDue() == 1)
        #expect(try await fixture.tasks(of: "boss-east").map(\.opportunityID) == [stuck.id])
        #expect(try await fixture.tasks(of: "boss-east").first?.kind == "stage_escalation")
    }

    @Test("forecast: amount × probability by month and owner, commit and best case, win rate over the closed, days per stage")
    func forecast() async throws {
        let fixture = try PipelineFixture()
        // 2026-01-01 00:00 UTC is 08:00 in China; closes fall in 2026-02 and 2026-03 (UTC+8).
        let february = Date(timeIntervalSince1970: 1_770_000_000)  // 2026-02-02
        let march = Date(timeIntervalSince1970: 1_772_900_000)  // 2026-03-07
        _ = try await opportunity(fixture, owner: "rep-a", amount: 1_000_000, close: february)
        _ = try await opportunity(fixture, owner: "rep-b", amount: 500_000, close: february)
        var committed = try await opportunity(fixture, owner: "rep-a", amount: 2_000_000, close: march)
        committed.forecastCategory = .commit
        try await fixture.database.write { [committed] db in try OpportunityStore.write(db, committed) }
        let won = try await opportunity(fixture, owner: "rep-a", amount: 100, close: february)
        try await fixture.database.write { db in
            var stored = try OpportunityStore.opportunity(db, id: won.id)!
            stored.stage = .won
            stored.closedAt = .init(date: february)
            try OpportunityStore.write(db, stored)
        }
        let lost = try await opportunity(fixture, owner: "rep-a", amount: 100, close: february)
        _ = try await advance(fixture, lost, to: .lost, reason: .price)

        let report = try await fixture.handler.getForecast(.with {
            $0.fromMonth = "2026-01"
            $0.toMonth = "2026-03"
            $0.by = .owner
        }, context: PipelineFixture.admin)
        let rows = report.rows.map { "\($0.month) \($0.key) \($0.opportunities) \($0.amount.amountMicros / 1_000_000) \($0.weighted.amountMicros / 1_000_000) \($0.commit.amountMicros / 1_000_000)" }
        #expect(rows == ["2026-02 rep-a 1 1000000 100000 0", "2026-02 rep-b 1 500000 50000 0", "2026-03 rep-a 1 2000000 200000 2000000"])
        #expect(report.won == 1)
        #expect(report.lost == 1)
        #expect(report.winRate == 0.5)
        // Created at the clock's start, won on 2026-02-02.
        #expect(abs(report.averageCycleDays - february.timeIntervalSince(fixture.clock.now()) / 86400) < 0.001)
        #expect(report.stages.map(\.stage) == [.technicalConsultation])

        // A rep sees their own part only.
        let mine = try await fixture.handler.getForecast(.with { $0.fromMonth = "2026-01"; $0.toMonth = "2026-03" },
                                                         context: PipelineFixture.context("rep-b"))
        #expect(mine.rows.map(\.amount.amountMicros) == [500_000_000_000])
        let bad = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.getForecast(.with { $0.fromMonth = "2026-13"; $0.toMonth = "2025-01" }, context: PipelineFixture.admin)
        }
        #expect(Set(bad?.violations.map(\.field) ?? []) == ["from_month"])
    }

    @Test("the board counts and totals every open deal the caller may see per stage and shows those closing soonest (undated last); others' and closed deals stay out; amounts hidden where they are")
    func board() async throws {
        let fixture = try PipelineFixture()
        let now = fixture.clock.now()
        var east: [Forge_Pipeline_V1_Opportunity] = []
        for index in 0..<30 {
            // Closing in 30, 29, … 1 days; every tenth without a date.
            east.append(try await opportunity(fixture, name: "东区商机\(index)", amount: Int64(index + 1),
                                              close: index % 10 == 0 ? nil : now.addingTimeInterval(Double(30 - index) * 86_400)))
        }
        for index in 0..<3 { _ = try await opportunity(fixture, name: "西区商机\(index)", owner: "rep-w", team: "west", amount: 100) }
        _ = try await advance(fixture, east[1], to: .solutionDesign)
        _ = try await advance(fixture, east[2], to: .solutionDesign)
        _ = try await advance(fixture, east[3], to: .lost, reason: .price)

        let rep = PipelineFixture.context("rep-a", team: "east", method: "GetBoard")
        let columns = try await fixture.handler.getBoard(.with { $0.perStage = 5 }, context: rep).columns
        #expect(columns.map(\.stage) == [.technicalConsultation, .solutionDesign, .samplingTrial, .quotationNegotiation, .bidding, .contract])
        let consulting = columns[0]
        let inConsulting = east.enumerated().filter { ![1, 2, 3].contains($0.offset) }.map(\.element)
        #expect(consulting.count == 27)
        #expect(consulting.totals.map(\.amountMicros) == [inConsulting.reduce(0) { $0 + $1.amount.amountMicros }])
        let weighted = inConsulting.reduce(0.0) { $0 + Double($1.amount.amountMicros) * Double($1.probabilityPercent) / 100 }
        #expect(consulting.weighted.map(\.amountMicros) == [Int64(weighted.rounded())])
        #expect(consulting.opportunities.map(\.name) == ["东区商机29", "东区商机28", "东区商机27", "东区商机26", "东区商机25"], "closing soonest first")
        #expect(columns[1].count == 2 && columns[1].opportunities.map(\.name) == ["东区商机2", "东区商机1"])
        #expect(columns[2...].allSatisfy { $0.count == 0 && $0.opportunities.isEmpty && $0.totals.isEmpty })
        // Shown in full, the undated come last.
        let all = try await fixture.handler.getBoard(.with { $0.perStage = 100 }, context: rep).columns[0].opportunities
        #expect(all.count == 27 && all.suffix(3).allSatisfy { !$0.hasExpectedClose })

        // Marketing sees every team's deals but no amounts.
        let marketing = try await fixture.handler.getBoard(.init(), context: PipelineFixture.context("mkt", ["marketing"], method: "GetBoard")).columns[0]
        #expect(marketing.count == 30 && marketing.totals.isEmpty && marketing.weighted.isEmpty && marketing.opportunities.allSatisfy { !$0.hasAmount })
        // One owner's only.
        #expect(try await fixture.handler.getBoard(.with { $0.ownerID = "rep-w" }, context: PipelineFixture.admin).columns[0].count == 3)

        // One stage alone.
        let design = try await fixture.handler.getBoard(.with { $0.stage = .solutionDesign }, context: rep).columns
        #expect(design.map(\.stage) == [.solutionDesign] && design[0].count == 2)

        let refused = await #expect(throws: RPCError.self) { _ = try await fixture.handler.getBoard(.with { $0.perStage = 101; $0.stage = .won }, context: rep) }
        #expect(refused?.violations.map(\.field) == ["per_stage", "stage"])
    }

    @Test("amounts are hidden from marketing and service roles, shown to sales, finance and analysts")
    func amountsByRole() async throws {
        let fixture = try PipelineFixture()
        let opportunity = try await opportunity(fixture)
        func read(_ roles: Set<String>) async throws -> Forge_Pipeline_V1_Opportunity {
            try await fixture.handler.getOpportunity(.with { $0.id = opportunity.id }, context: PipelineFixture.context("someone", roles))
                .opportunity
        }
        #expect(try await read(["service_engineer"]).hasAmount == false)
        #expect(try await read(["marketing"]).hasAmount == false)
        #expect(try await read(["finance"]).hasAmount)
        #expect(try await read(["analyst"]).hasAmount)
        let other = await #expect(throws: RPCError.self) { _ = try await read(["sales_rep"]) }
        #expect(other?.code == .notFound)
    }

    @Test("a machine predicted to fail (the service desk's EquipmentFailurePredicted) opens a spare-parts opportunity and a task for the account's owner, once however often the event arrives")
    func sparePartsFromPrediction() async throws {
        let fixture = try PipelineFixture()
        try await fixture.account("acc_9", "常州恒力传动设备有限公司", owner: "rep-b", team: "east")
        let predicted = Forge_Servicedesk_V1_EquipmentFailurePredicted.with {
            $0.equipmentID = "eqp_1"
            $0.accountID = "acc_9"
            $0.equipment = .with { $0.serialNumber = "VMC850-26-0117" }
            $0.prediction = .with {
                $0.id = "prd_1"; $0.ruleName = "主轴轴承磨损"; $0.parts = ["SP-BRG-7014"]
                $0.projectedFailureAt = .init(date: fixture.clock.now().addingTimeInterval(8 * 86_400))
            }
        }
        let event = Forge_Common_V1_Event.with { $0.type = "EquipmentFailurePredicted"; $0.payload = try! predicted.serializedData() }
        let clock = fixture.clock
        for _ in 0..<2 { try await fixture.database.write { db in try ServiceFeed.apply(db, event, clock: clock) } }
        let found = try await fixture.handler.listOpportunities(.with { $0.accountID = "acc_9" }, context: PipelineFixture.context("rep-b", team: "east")).opportunities
        #expect(found.count == 1)
        #expect(found.first?.name == "备件：VMC850-26-0117 主轴轴承磨损（SP-BRG-7014）" && found.first?.ownerID == "rep-b" && found.first?.productLines == ["备件"])
        #expect(found.first?.expectedClose == predicted.prediction.projectedFailureAt && found.first?.stage == .technicalConsultation)
        // And a task for the owner, once, due in two days (the failure is eight days off).
        let tasks = try await fixture.handler.listMyTasks(.init(), context: PipelineFixture.context("rep-b", team: "east")).tasks.filter { $0.kind == "spare_parts" }
        #expect(tasks.count == 1 && tasks.first?.opportunityID == found.first?.id && tasks.first?.title.contains("SP-BRG-7014") == true)
        #expect(tasks.first?.dueAt == .init(date: fixture.clock.now().addingTimeInterval(2 * 86_400)))
    }

    @Test("analytics' alerts are tasks for the account's owner: a churn risk due in three days, a repurchase window on the day it opens; once each however often the event arrives")
    func tasksFromAnalytics() async throws {
        let fixture = try PipelineFixture()
        try await fixture.account("acc_9", "常州恒力传动设备有限公司", owner: "rep-b", team: "east")
        let now = fixture.clock.now()
        let raised = Forge_Common_V1_Event.with {
            $0.eventID = "evt_risk_1"
            $0.type = "ChurnRiskRaised"
            $0.payload = try! Forge_Analytics_V1_ChurnRiskRaised.with {
                $0.accountID = "acc_9"; $0.accountName = "常州恒力传动设备有限公司"; $0.ownerID = "rep-old"
                $0.risk = .with { $0.score = 55; $0.signals = [.with { $0.label = "订单金额下滑" }, .with { $0.label = "贬损者" }] }
            }.serializedData()
        }
        let opens = now.addingTimeInterval(30 * 86_400)
        let approaching = Forge_Common_V1_Event.with {
            $0.eventID = "evt_cycle_1"
            $0.type = "RepurchaseWindowApproaching"
            $0.payload = try! Forge_Analytics_V1_RepurchaseWindowApproaching.with {
                $0.accountID = "acc_9"; $0.accountName = "常州恒力传动设备有限公司"
                $0.cycle = .with { $0.productLine = "备件"; $0.meanIntervalDays = 335; $0.windowOpens = .init(date: opens) }
            }.serializedData()
        }
        let clock = fixture.clock
        for _ in 0..<2 {
            try await fixture.database.write { db in
                try AnalyticsFeed.apply(db, raised, clock: clock)
                try AnalyticsFeed.apply(db, approaching, clock: clock)
            }
        }
        let tasks = try await fixture.handler.listMyTasks(.init(), context: PipelineFixture.context("rep-b", team: "east")).tasks
        #expect(tasks.count == 2, "\(tasks)")
        let risk = try #require(tasks.first { $0.kind == "churn_risk" })
        // The directory's owner (rep-b), not the one the event named.
        #expect(risk.title.contains("订单金额下滑、贬损者") && risk.dueAt.date == now.addingTimeInterval(3 * 86_400) && risk.accountID == "acc_9")
        let cycle = try #require(tasks.first { $0.kind == "repurchase" })
        #expect(cycle.title.contains("备件") && cycle.title.contains("335") && cycle.dueAt.date == opens)
    }
}