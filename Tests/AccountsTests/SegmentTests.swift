@testable import ForgeAccounts
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Accounts: segments")
struct SegmentTests {
    let marketing = AccountsFixture.context("mkt-1", ["marketing"], method: "CreateSegment")

    private func seed(_ fixture: AccountsFixture) async throws -> (auto: Forge_Accounts_V1_Account, westAuto: Forge_Accounts_V1_Account) {
        let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
        let auto = try await fixture.handler.createAccount(.with {
            $0.account = .with {
                $0.name = "宁波拓普汽车零部件"
                $0.industry = "汽车零部件"
                $0.region = "华东"
                $0.grade = .a
                $0.tags = ["展会": "2026汉诺威"]
                $0.consent.marketing = true
            }
        }, context: rep).account
        _ = try await fixture.handler.createAccount(.with {
            $0.account = .with {
                $0.name = "宁波华翔汽车零部件"
                $0.industry = "汽车零部件"
                $0.region = "华东"
                $0.grade = .a
                $0.tags = ["展会": "2026汉诺威"]
            }
        }, context: rep)
        _ = try await fixture.handler.createAccount(.with {
            $0.account = .with {
                $0.name = "杭州模具城"
                $0.industry = "模具"
                $0.grade = .a
                $0.consent.marketing = true
            }
        }, context: rep)
        let westAuto = try await fixture.handler.createAccount(.with {
            $0.account = .with {
                $0.name = "重庆长安汽车零部件"
                $0.industry = "汽车零部件"
                $0.grade = .a
                $0.tags = ["展会": "2026汉诺威"]
                $0.consent.marketing = true
            }
        }, context: AccountsFixture.context("rep-w", ["sales_rep"], team: "west")).account
        return (auto, westAuto)
    }

    @Test("a segment is evaluated on demand: industry, grade, tag and consent; a rep gets only their part")
    func evaluate() async throws {
        let fixture = try AccountsFixture()
        let (auto, westAuto) = try await seed(fixture)
        let segment = try await fixture.handler.createSegment(.with {
            $0.segment = .with {
                $0.name = "汉诺威展会 A 类汽配（可营销）"
                $0.filter = .with {
                    $0.industries = ["汽车零部件"]
                    $0.grades = [.a]
                    $0.tags = ["展会:2026汉诺威"]
                    $0.marketingConsentOnly = true
                }
            }
        }, context: marketing).segment
        let all = try await fixture.handler.listSegmentAccounts(.with { $0.segmentID = segment.id }, context: marketing).accounts
        #expect(Set(all.map(\.id)) == [auto.id, westAuto.id])
        let repView = try await fixture.handler.listSegmentAccounts(.with { $0.segmentID = segment.id },
                                                                     context: AccountsFixture.context("rep-a", ["sales_rep"], team: "east")).accounts
        #expect(repView.map(\.id) == [auto.id])

        // A new matching account shows up without touching the segment.
        let later = try await fixture.handler.createAccount(.with {
            $0.account = .with {
                $0.name = "上海汽车零部件三厂"
                $0.industry = "汽车零部件"
                $0.grade = .a
                $0.tags = ["展会": "2026汉诺威"]
                $0.consent.marketing = true
            }
        }, context: AccountsFixture.context("rep-a", ["sales_rep"], team: "east")).account
        let again = try await fixture.handler.listSegmentAccounts(.with { $0.segmentID = segment.id }, context: marketing).accounts
        #expect(again.map(\.id).contains(later.id))
    }

    @Test("update with the version read (stale → ABORTED), list, delete; names are unique; bad filters are named")
    func lifecycle() async throws {
        let fixture = try AccountsFixture()
        let created = try await fixture.handler.createSegment(.with { $0.segment = .with { $0.name = "华东核心客户"; $0.filter.regions = ["华东"] } }, context: marketing).segment
        var edit = created
        edit.filter.tiers = [.core]
        let updated = try await fixture.handler.updateSegment(.with { $0.segment = edit }, context: marketing).segment
        #expect(updated.version == 2 && updated.filter.tiers == [.core])
        let stale = await #expect(throws: RPCError.self) { _ = try await fixture.handler.updateSegment(.with { $0.segment = edit }, context: marketing) }
        #expect(stale?.code == .aborted)
        let taken = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.createSegment(.with { $0.segment = .with { $0.name = "华东核心客户" } }, context: marketing)
        }
        #expect(taken?.code == .alreadyExists)
        let bad = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.createSegment(.with { $0.segment = .with { $0.name = ""; $0.filter.tags = [":x"]; $0.filter.grades = [.unspecified] } }, context: marketing)
        }
        #expect(bad?.violations.map(\.field) == ["segment.name", "segment.filter.tags[0]", "segment.filter"])
        #expect(try await fixture.handler.listSegments(.init(), context: marketing).segments.map(\.id) == [created.id])
        _ = try await fixture.handler.deleteSegment(.with { $0.id = created.id }, context: marketing)
        let gone = await #expect(throws: RPCError.self) { _ = try await fixture.handler.getSegment(.with { $0.id = created.id }, context: marketing) }
        #expect(gone?.code == .notFound)
    }
}
