@testable import ForgePipeline
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Pipeline access: who reaches which method and which record (DESIGN §9)")
struct AccessMatrixTests {
    @Test("object level: a lead, an opportunity and a quote of rep-a (team east) seen by each kind of caller")
    func objectLevel() async throws {
        let fixture = try PipelineFixture()
        let owner = PipelineFixture.context("rep-a", team: "east")
        let lead = try await fixture.capture("马鞍山重工", as: owner).lead
        let now = fixture.clock.now()
        let opportunity = try await fixture.opportunity(name: "压力机改造", amount: 500_000)
        let quote = try await fixture.handler.createQuote(.with { $0.quote = QuoteTests.quote(opportunity: opportunity.id, now: now) }, context: owner).quote

        // (who, sees the records, sees amounts)
        let callers: [(String, Set<String>, String, Bool, Bool)] = [
            ("rep-a", ["sales_rep"], "east", true, true),
            ("rep-b", ["sales_rep"], "east", true, true),
            ("rep-w", ["sales_rep"], "west", false, false),
            ("boss-east", ["sales_manager"], "east", true, true),
            ("boss-west", ["sales_manager"], "west", false, false),
            ("head-of-sales", ["sales_manager"], "", true, true),
            ("analyst", ["analyst"], "", true, true),
            ("finance", ["finance"], "", true, true),
            ("marketing", ["marketing"], "", true, false),
            ("engineer", ["service_engineer"], "", true, false),
        ]
        for (subject, roles, team, sees, amounts) in callers {
            let context = PipelineFixture.context(subject, roles, team: team)
            let gotLead = try? await fixture.handler.getLead(.with { $0.id = lead.id }, context: context)
            let gotOpportunity = try? await fixture.handler.getOpportunity(.with { $0.id = opportunity.id }, context: context)
            let gotQuote = try? await fixture.handler.getQuote(.with { $0.id = quote.id }, context: context)
            #expect((gotLead != nil) == sees, "\(subject): lead")
            #expect((gotOpportunity != nil) == sees, "\(subject): opportunity")
            #expect((gotQuote != nil) == sees, "\(subject): quote")
            #expect((gotOpportunity?.opportunity.hasAmount ?? false) == (sees && amounts), "\(subject): amount")
            #expect((gotQuote?.quote.hasTotal ?? false) == (sees && amounts), "\(subject): quote total")
            let listed = try await fixture.handler.listOpportunities(.init(), context: context).opportunities.count
            #expect(listed == (sees ? 1 : 0), "\(subject): list")
            if !sees {
                let error = await #expect(throws: RPCError.self) { _ = try await fixture.handler.getOpportunity(.with { $0.id = opportunity.id }, context: context) }
                #expect(error?.code == .notFound, "\(subject): NOT_FOUND, not PERMISSION_DENIED (no existence leak)")
            }
        }
    }

    @Test("function level: the roles each method allows")
    func functionLevel() {
        var access = AccessTable()
        PipelineAccess.declare(in: &access)
        let method = Forge_Pipeline_V1_PipelineService.Method.self
        func roles(_ descriptor: MethodDescriptor) -> Set<String> {
            if case .roles(let roles) = access.access(for: descriptor) { return roles }
            return []
        }
        #expect(roles(method.captureLead).isSuperset(of: ["sales_rep", "sales_manager", "marketing"]))
        #expect(!roles(method.captureLead).contains("service_engineer"))
        #expect(!roles(method.getLead).contains("service_engineer"), "leads are sales' and marketing's")
        #expect(roles(method.getOpportunity).contains("service_engineer"), "the 360° view shows opportunities to service")
        #expect(roles(method.decideQuote) == ["sales_manager", "admin"])
        #expect(roles(method.reassignLead) == ["sales_manager", "admin"])
        #expect(roles(method.updatePipelineSettings) == ["sales_manager", "admin"])
        #expect(!roles(method.getForecast).contains("marketing"))
        #expect(roles(method.importLeads).contains("marketing"))
        #expect(roles(method.getAccountPipeline).contains("service"), "the gateway's 360° view calls it for any reader")
        // Every method of the service is declared.
        for descriptor in ForgeMethodRegistry.methods.map(\.descriptor) where descriptor.service == Forge_Pipeline_V1_PipelineService.name {
            #expect(access.access(for: descriptor) != nil, "\(descriptor.path) has no roles")
        }
    }
}
