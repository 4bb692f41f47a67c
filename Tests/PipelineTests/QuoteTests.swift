@testable import ForgePipeline
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Quotes: prices, approval, cadence, answer, expiry")
struct QuoteTests {
    static func quote(opportunity: String, discountBps: Int32 = 0, quantity: Int64 = 10, validDays: Double = 30, now: Date) -> Forge_Pipeline_V1_Quote {
        .with {
            $0.opportunityID = opportunity
            $0.lines = [.with {
                $0.sku = "VMC-850"
                $0.name = "立式加工中心 VMC850"
                $0.unit = "台"
                $0.quantity = quantity
                $0.listUnitPrice = .with { $0.amountMicros = 300_000_000_000 }  // 300,000 CNY
                $0.tiers = [.with { $0.minQuantity = 5; $0.unitPrice = .with { $0.amountMicros = 280_000_000_000 } },
                            .with { $0.minQuantity = 20; $0.unitPrice = .with { $0.amountMicros = 260_000_000_000 } }]
                $0.discountBps = discountBps
            }]
            $0.paymentTerms = [.with { $0.label = "预付款"; $0.percent = 30; $0.dueRule = "on_order" },
                               .with { $0.label = "发货前"; $0.percent = 60; $0.dueRule = "before_shipment" },
                               .with { $0.label = "验收后"; $0.percent = 10; $0.dueRule = "after_acceptance" }]
            $0.validUntil = .init(date: now.addingTimeInterval(validDays * 86400))
        }
    }

    func opportunity(_ fixture: PipelineFixture) async throws -> Forge_Pipeline_V1_Opportunity {
        try await fixture.opportunity(name: "加工中心 10 台", amount: nil, lines: [])
    }

    let rep = PipelineFixture.context("rep-a", team: "east")

    @Test("prices: the volume tier the quantity reaches, then the line discount, rounded to the cent; totals; the approval each discount needs")
    func pricing() {
        let now = Date()
        var quote = Self.quote(opportunity: "opp_1", discountBps: 1_250, quantity: 10, now: now)
        quote = QuotePricing.priced(quote, rules: .init())
        #expect(quote.lines[0].unitPrice.amountMicros == 245_000_000_000)  // 280,000 × 87.5 %
        #expect(quote.lines[0].lineTotal.amountMicros == 2_450_000_000_000)
        #expect(quote.subtotal.amountMicros == 2_800_000_000_000)
        #expect(quote.total.amountMicros == 2_450_000_000_000)
        #expect(quote.approvalLevel == .manager)
        #expect(QuotePricing.level(1_000, rules: .init()) == .none)
        #expect(QuotePricing.level(2_001, rules: .init()) == .admin)
        #expect(QuotePricing.level(600, rules: .with { $0.managerApprovalAboveBps = 500 }) == .manager)
        var odd = Self.quote(opportunity: "opp_1", discountBps: 333, quantity: 1, now: now)
        odd.lines[0].tiers = []
        odd.lines[0].listUnitPrice.amountMicros = 99_990_000
        #expect(QuotePricing.priced(odd, rules: .init()).lines[0].unitPrice.amountMicros == 96_660_000)  // 99.99 × 0.9667 = 96.66
        let bad = QuotePricing.validate(.with {
            $0.lines = [.with { $0.quantity = 0; $0.discountBps = 12_000; $0.tiers = [.with { $0.minQuantity = 5 }, .with { $0.minQuantity = 5 }] }]
            $0.paymentTerms = [.with { $0.label = "预付"; $0.percent = 50 }]
        }, now: now)
        #expect(Set(bad.map(\.field)) == ["quote.opportunity_id", "quote.lines[0].sku", "quote.lines[0].quantity", "quote.lines[0].discount_bps",
                                         "quote.lines[0].tiers[1].min_quantity", "quote.payment_terms", "quote.valid_until"])
    }

    @Test("a discount beyond 10 % waits for the team's manager (another team's manager may not decide), beyond 20 % for an admin; a new version supersedes the old")
    func approval() async throws {
        let fixture = try PipelineFixture()
        try await fixture.configureTeams()
        let opportunity = try await opportunity(fixture)
        let first = try await fixture.handler.createQuote(.with { $0.quote = Self.quote(opportunity: opportunity.id, discountBps: 1_500, now: fixture.clock.now()) }, context: rep).quote
        #expect(first.status == .pendingApproval)
        #expect(first.revision == 1)
        #expect(try await fixture.tasks(of: "boss-east").map(\.kind) == ["quote_approval"])
        let unsent = await #expect(throws: RPCError.self) { _ = try await fixture.handler.sendQuote(.with { $0.id = first.id }, context: rep) }
        #expect(unsent?.code == .failedPrecondition)
        let west = PipelineFixture.context("boss-west", ["sales_manager"], team: "west")
        let foreign = await #expect(throws: RPCError.self) { _ = try await fixture.handler.decideQuote(.with { $0.id = first.id; $0.approve = true }, context: west) }
        #expect(foreign?.code == .notFound)
        let eastManager = PipelineFixture.context("boss-east", ["sales_manager"], team: "east")
        let approved = try await fixture.handler.decideQuote(.with { $0.id = first.id; $0.approve = true; $0.comment = "战略客户" }, context: eastManager).quote
        #expect(approved.status == .approved)
        #expect(approved.decisions.map(\.by) == ["boss-east"])

        let second = try await fixture.handler.createQuote(.with { $0.quote = Self.quote(opportunity: opportunity.id, discountBps: 2_500, now: fixture.clock.now()) }, context: rep).quote
        #expect(second.revision == 2)
        #expect(second.approvalLevel == .admin)
        #expect(try await fixture.handler.getQuote(.with { $0.id = first.id }, context: rep).quote.status == .superseded)
        let managerOnly = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.decideQuote(.with { $0.id = second.id; $0.approve = true }, context: eastManager)
        }
        #expect(managerOnly?.code == .permissionDenied)
        let rejected = try await fixture.handler.decideQuote(.with { $0.id = second.id; $0.approve = false; $0.comment = "折扣过高" }, context: PipelineFixture.admin).quote
        #expect(rejected.status == .approvalRejected)
    }

    @Test("a sent quote is followed up on day 3, 7 and 14 until answered; acceptance wins the opportunity with OpportunityWon carrying the quote")
    func cadenceAndAcceptance() async throws {
        let fixture = try PipelineFixture()
        let scheduler = fixture.scheduler
        let opportunity = try await opportunity(fixture)
        let quote = try await fixture.handler.createQuote(.with { $0.quote = Self.quote(opportunity: opportunity.id, validDays: 60, now: fixture.clock.now()) }, context: rep).quote
        _ = try await fixture.handler.sendQuote(.with { $0.id = quote.id }, context: rep)
        fixture.clock.advance(by: 3 * 86400 + 1)
        #expect(try await scheduler.runDue() == 1)
        fixture.clock.advance(by: 4 * 86400)
        #expect(try await scheduler.runDue() == 1)
        #expect(try await fixture.tasks(of: "rep-a").filter { $0.kind == "quote_follow_up" }.count == 2)

        let declined = await #expect(throws: RPCError.self) { _ = try await fixture.handler.recordQuoteAnswer(.with { $0.id = quote.id }, context: rep) }
        #expect(declined?.violations.map(\.field) == ["note"])
        let answer = try await fixture.handler.recordQuoteAnswer(.with { $0.id = quote.id; $0.accepted = true; $0.note = "客户盖章回传" }, context: rep)
        #expect(answer.quote.status == .accepted)
        #expect(answer.opportunity.stage == .won)
        #expect(answer.opportunity.amount.amountMicros == quote.total.amountMicros)
        #expect(try await fixture.tasks(of: "rep-a").filter { $0.kind == "quote_follow_up" }.allSatisfy(\.done))
        fixture.clock.advance(by: 60 * 86400)
        #expect(try await scheduler.runDue() == 0, "the day-14 follow-up and the expiry were cancelled")
        let won = try await fixture.database.read { db in
            try Outbox.events(db, after: 0, limit: 1_000).first { $0.type == "OpportunityWon" }
        }
        let event = try Forge_Pipeline_V1_OpportunityWon(serializedBytes: try #require(won).payload)
        #expect(event.acceptedQuote.id == quote.id)
        #expect(event.acceptedQuote.paymentTerms.map(\.percent) == [30, 60, 10])
        #expect(event.opportunity.accountID == "acc_1")
    }

    @Test("an unanswered quote expires after its validity; an expired one cannot be sent or answered")
    func expiry() async throws {
        let fixture = try PipelineFixture()
        let scheduler = fixture.scheduler
        let opportunity = try await opportunity(fixture)
        let quote = try await fixture.handler.createQuote(.with { $0.quote = Self.quote(opportunity: opportunity.id, validDays: 10, now: fixture.clock.now()) }, context: rep).quote
        _ = try await fixture.handler.sendQuote(.with { $0.id = quote.id }, context: rep)
        fixture.clock.advance(by: 10 * 86400 + 1)
        _ = try await scheduler.runDue()
        #expect(try await fixture.handler.getQuote(.with { $0.id = quote.id }, context: rep).quote.status == .expired)
        let late = await #expect(throws: RPCError.self) { _ = try await fixture.handler.recordQuoteAnswer(.with { $0.id = quote.id; $0.accepted = true }, context: rep) }
        #expect(late?.code == .failedPrecondition)
        #expect(try await fixture.eventTypes().contains("QuoteExpired"))
    }

    @Test("prices are hidden from the service roles; another team's rep gets NOT_FOUND")
    func visibility() async throws {
        let fixture = try PipelineFixture()
        let opportunity = try await opportunity(fixture)
        let quote = try await fixture.handler.createQuote(.with { $0.quote = Self.quote(opportunity: opportunity.id, now: fixture.clock.now()) }, context: rep).quote
        let engineer = try await fixture.handler.getQuote(.with { $0.id = quote.id }, context: PipelineFixture.context("eng", ["service_engineer"])).quote
        #expect(!engineer.hasTotal)
        #expect(!engineer.lines[0].hasUnitPrice)
        #expect(engineer.lines[0].quantity == 10)
        let other = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.getQuote(.with { $0.id = quote.id }, context: PipelineFixture.context("rep-w", team: "west"))
        }
        #expect(other?.code == .notFound)
        let summary = try await fixture.handler.getAccountPipeline(.with { $0.accountID = "acc_1" }, context: rep)
        #expect(summary.openOpportunities.map(\.id) == [opportunity.id])
        #expect(summary.latestQuotes.map(\.id) == [quote.id])
    }
}
