@testable import ForgeAccounts
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Accounts: merging duplicates")
struct MergeTests {
    let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
    let manager = AccountsFixture.context("mgr-east", ["sales_manager"], team: "east", method: "MergeAccounts")

    @Test("merge moves contacts, activities and tags; the merged id resolves to the survivor; AccountMerged is emitted")
    func mergeRepoints() async throws {
        let fixture = try AccountsFixture()
        let survivor = try await fixture.create("上海精密机械有限公司")
        let duplicate = try await fixture.handler.createAccount(.with {
            $0.account = .with {
                $0.name = "上海精密机械 有限公司"
                $0.taxID = "91310000MA1K3ABC2N"
                $0.tags = ["展会": "2026汉诺威"]
            }
            $0.allowDuplicate = true
            $0.contacts = [.with { $0.name = "陈工" }]
        }, context: rep).account
        _ = try await fixture.handler.logActivity(.with {
            $0.activity = .with {
                $0.accountID = duplicate.id
                $0.kind = .visit
                $0.subject = "拜访：耐高温材料样品"
            }
        }, context: rep)

        let result = try await fixture.handler.mergeAccounts(.with {
            $0.survivorID = survivor.id
            $0.mergedIds = [duplicate.id]
            $0.reason = "同一客户重复录入"
        }, context: manager)
        #expect(result.contactsMoved == 1)
        #expect(result.activitiesMoved == 1)
        #expect(result.survivor.taxID == "91310000MA1K3ABC2N", "the survivor takes the tax id it lacked")
        #expect(result.survivor.tags == ["展会": "2026汉诺威"])

        let resolved = try await fixture.handler.getAccount(.with { $0.id = duplicate.id }, context: rep).account
        #expect(resolved.id == survivor.id)
        let contacts = try await fixture.handler.listContacts(.with { $0.accountID = survivor.id }, context: rep).contacts
        #expect(contacts.map(\.name) == ["陈工"])
        #expect(contacts.allSatisfy { $0.accountID == survivor.id })
        let timeline = try await fixture.handler.listActivities(.with { $0.accountID = duplicate.id }, context: rep).activities
        #expect(timeline.map(\.accountID) == [survivor.id])
        let found = try await fixture.handler.searchActivities(.with { $0.query = "耐高温材料" }, context: rep).activities
        #expect(found.map(\.accountID) == [survivor.id])
        // A NUL ends FTS5's quoted string early ("unterminated string", an internal error once).
        let withNul = try await fixture.handler.searchActivities(.with { $0.query = "耐高温\u{0}材料" }, context: rep).activities
        #expect(withNul.map(\.accountID) == [survivor.id])
        let listed = try await fixture.handler.listAccounts(.init(), context: rep).accounts.map(\.id)
        #expect(listed == [survivor.id])

        let merged = try await fixture.database.read { db in try Outbox.events(db, after: 0, limit: 100, types: ["AccountMerged"]) }
        #expect(merged.count == 1)
        let event = try Forge_Accounts_V1_AccountMerged(serializedBytes: merged[0].payload)
        #expect(event.survivorID == survivor.id && event.mergedIds == [duplicate.id])
    }

    @Test("merging a survivor later keeps earlier merged ids resolving to the final survivor")
    func chainedRedirects() async throws {
        let fixture = try AccountsFixture()
        let a = try await fixture.create("无锡透平叶片")
        let b = try await fixture.create("无锡透平叶片厂", allowDuplicate: true)
        let c = try await fixture.create("无锡透平", allowDuplicate: true)
        _ = try await fixture.handler.mergeAccounts(.with { $0.survivorID = b.id; $0.mergedIds = [a.id]; $0.reason = "重复" }, context: manager)
        _ = try await fixture.handler.mergeAccounts(.with { $0.survivorID = c.id; $0.mergedIds = [b.id]; $0.reason = "重复" }, context: manager)
        #expect(try await fixture.handler.getAccount(.with { $0.id = a.id }, context: rep).account.id == c.id)
    }

    @Test("merge input is checked: reason, survivor among the merged, unseen accounts answer NOT_FOUND; nothing changes")
    func mergeRefusals() async throws {
        let fixture = try AccountsFixture()
        let a = try await fixture.create("烟台冰轮")
        let west = try await fixture.create("西安冰轮", as: "rep-w", team: "west")
        let bad = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.mergeAccounts(.with { $0.survivorID = a.id; $0.mergedIds = [a.id] }, context: manager)
        }
        #expect(bad?.violations.map(\.field) == ["merged_ids[0]", "reason"])
        let other = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.mergeAccounts(.with { $0.survivorID = a.id; $0.mergedIds = [west.id]; $0.reason = "重复" }, context: manager)
        }
        #expect(other?.code == .notFound, "another team's account is not the east manager's to merge")
        #expect(try await fixture.handler.getAccount(.with { $0.id = west.id }, context: AccountsFixture.context("boss", ["admin"])).account.id == west.id)
    }
}
