@testable import ForgeAccounts
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Accounts: ownership and portfolio hand-over")
struct OwnershipTests {
    @Test("ReassignPortfolio moves every account of a departing rep in one call: history, one event and one audit row each")
    func reassignPortfolio() async throws {
        let fixture = try AccountsFixture()
        var departing: [String] = []
        for name in ["南通船舶配件", "扬州数控机床", "泰州液压"] {
            departing.append(try await fixture.create(name, as: "rep-a", team: "east").id)
        }
        let stays = try await fixture.create("镇江电机", as: "rep-b", team: "east")
        let manager = AccountsFixture.context("mgr-east", ["sales_manager"], team: "east", method: "ReassignPortfolio")

        let moved = try await fixture.handler.reassignPortfolio(.with {
            $0.fromOwnerID = "rep-a"
            $0.toOwnerID = "rep-c"
            $0.reason = "rep-a 离职，客户交接给 rep-c"
        }, context: manager)
        #expect(moved.accountIds.sorted() == departing.sorted())

        let admin = AccountsFixture.context("boss", ["admin"])
        let portfolio = try await fixture.handler.listAccounts(.with { $0.ownerID = "rep-c" }, context: admin)
        #expect(portfolio.accounts.map(\.id).sorted() == departing.sorted())
        #expect(try await fixture.handler.getAccount(.with { $0.id = stays.id }, context: admin).account.ownerID == "rep-b")

        let history = try await fixture.handler.listOwnerHistory(.with { $0.accountID = departing[0] }, context: admin)
        #expect(history.changes.map(\.fromOwnerID) == ["rep-a"])
        #expect(history.changes.first?.changedBy == "mgr-east")
        #expect(history.changes.first?.reason == "rep-a 离职，客户交接给 rep-c")

        let events = try await fixture.database.read { db in try Outbox.events(db, after: 0, limit: 100, types: ["AccountOwnerChanged"]) }
        #expect(events.count == 3)
        let second = departing[1]
        let audit = try await fixture.database.read { db in try AuditLog.entries(db, recordID: second) }
        #expect(audit.last?.changes["owner_id"] == "rep-c")
        #expect(audit.last?.actor == "mgr-east")
    }

    @Test("a sales manager moves only their team's accounts")
    func managerScope() async throws {
        let fixture = try AccountsFixture()
        let east = try await fixture.create("嘉兴纺机", as: "rep-a", team: "east")
        let west = try await fixture.create("绵阳电子", as: "rep-a", team: "west")
        let moved = try await fixture.handler.reassignPortfolio(.with {
            $0.fromOwnerID = "rep-a"
            $0.toOwnerID = "rep-c"
            $0.reason = "调岗"
        }, context: AccountsFixture.context("mgr-east", ["sales_manager"], team: "east"))
        #expect(moved.accountIds == [east.id])
        let admin = AccountsFixture.context("boss", ["admin"])
        #expect(try await fixture.handler.getAccount(.with { $0.id = west.id }, context: admin).account.ownerID == "rep-a")
    }

    @Test("AssignOwner needs the version read, an owner and a reason")
    func assignOwner() async throws {
        let fixture = try AccountsFixture()
        let account = try await fixture.create("金华五金", as: "rep-a", team: "east")
        let manager = AccountsFixture.context("mgr", ["sales_manager"], team: "east")
        let bad = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.assignOwner(.with { $0.accountID = account.id }, context: manager)
        }
        #expect(bad?.violations.map(\.field) == ["owner_id", "reason", "version"])
        let assigned = try await fixture.handler.assignOwner(.with {
            $0.accountID = account.id
            $0.ownerID = "rep-d"
            $0.reason = "区域调整"
            $0.version = account.version
        }, context: manager).account
        #expect(assigned.ownerID == "rep-d")
        let stale = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.assignOwner(.with {
                $0.accountID = account.id
                $0.ownerID = "rep-e"
                $0.reason = "again"
                $0.version = account.version
            }, context: manager)
        }
        #expect(stale?.code == .aborted)
    }
}
