@testable import ForgeAccounts
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import SwiftProtobuf
import Testing

/// The accounts handler over a real database file, called as the server calls it.
struct AccountsFixture {
    let handler: AccountsHandler
    let database: DatabasePool
    let clock = ManualClock()

    init() throws {
        database = try ForgeDatabase.temporary(migrations: AccountStore.migrations)
        handler = AccountsHandler(store: AccountStore(database: database), clock: clock)
    }

    static func context(_ subject: String, _ roles: Set<String>, team: String = "", method: String = "CreateAccount") -> ServerContext {
        ServerContext(
            method: MethodDescriptor(service: "forge.accounts.v1.Accounts", method: method),
            metadata: [:],
            principal: Principal(subject: subject, roles: roles, team: team),
            deadline: .now + .seconds(30),
            requestID: "req",
            logger: Logger(label: "test"),
            peer: "test"
        )
    }

    func create(_ name: String, as subject: String = "rep-a", team: String = "east", taxID: String = "", allowDuplicate: Bool = false) async throws -> Forge_Accounts_V1_Account {
        try await handler.createAccount(.with {
            $0.account = .with {
                $0.name = name
                $0.taxID = taxID
                $0.region = "华东"
            }
            $0.allowDuplicate = allowDuplicate
        }, context: Self.context(subject, ["sales_rep"], team: team)).account
    }
}

@Suite("Accounts: create, duplicates, update, list, search, visibility")
struct AccountsHandlerTests {
    @Test("a duplicate by normalised name answers ALREADY_EXISTS naming the candidate, unless allow_duplicate")
    func duplicateByName() async throws {
        let fixture = try AccountsFixture()
        let first = try await fixture.create("上海精密机械有限公司")
        let error = await #expect(throws: RPCError.self) { _ = try await fixture.create("ＳＨＡＮＧＨＡＩ精密机械 有限公司".replacingOccurrences(of: "ＳＨＡＮＧＨＡＩ", with: "上海")) }
        #expect(error?.code == .alreadyExists)
        #expect(error?.message.contains(first.id) == true)
        #expect(error?.violations.map(\.field) == ["account.name"])
        let second = try await fixture.create("上海精密机械 有限公司", allowDuplicate: true)
        #expect(second.id != first.id)
    }

    @Test("the same tax id is refused even with allow_duplicate")
    func duplicateTaxID() async throws {
        let fixture = try AccountsFixture()
        _ = try await fixture.create("无锡重工", taxID: "91320200MA1W9ABC1P")
        let error = await #expect(throws: RPCError.self) {
            _ = try await fixture.create("无锡重型机械", taxID: "91320200MA1W9ABC1P", allowDuplicate: true)
        }
        #expect(error?.code == .alreadyExists)
        #expect(error?.violations.map(\.field) == ["account.tax_id"])
    }

    @Test("an update with the version read succeeds and bumps it; a stale version is ABORTED; the change is audited")
    func optimisticConcurrency() async throws {
        let fixture = try AccountsFixture()
        let created = try await fixture.create("杭州液压件厂")
        var edit = created
        edit.name = "杭州液压件有限公司"
        edit.grade = .a
        let context = AccountsFixture.context("rep-a", ["sales_rep"], team: "east", method: "UpdateAccount")
        let updated = try await fixture.handler.updateAccount(.with { $0.account = edit }, context: context).account
        #expect(updated.version == 2)
        #expect(updated.grade == .a)

        let stale = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.updateAccount(.with { $0.account = edit }, context: context)
        }
        #expect(stale?.code == .aborted)

        let audit = try await fixture.database.read { db in try AuditLog.entries(db, recordID: created.id) }
        #expect(audit.last?.changes == ["name": "杭州液压件有限公司", "grade": "a"])
        let events = try await fixture.database.read { db in try Outbox.events(db, after: 0, limit: 10) }
        #expect(events.map(\.type) == ["AccountCreated", "AccountUpdated"])
    }

    @Test("bad input names each field: empty name, bad tax id, page size 10,000, no version")
    func badInput() async throws {
        let fixture = try AccountsFixture()
        let create = await #expect(throws: RPCError.self) {
            _ = try await fixture.create(" ", taxID: "not a tax id!")
        }
        #expect(create?.code == .invalidArgument)
        #expect(create?.violations.map(\.field) == ["account.name", "account.tax_id"])

        let list = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.listAccounts(.with { $0.page.pageSize = 10_000 }, context: AccountsFixture.context("boss", ["admin"]))
        }
        #expect(list?.violations.map(\.field) == ["page.page_size"])

        let update = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.updateAccount(.with { $0.account = .with { $0.id = "acc_x"; $0.name = "x" } }, context: AccountsFixture.context("boss", ["admin"]))
        }
        #expect(update?.violations.map(\.field) == ["account.version"])
        let count = try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM account") }
        #expect(count == 0, "nothing half-written")
    }

    @Test("list pages through every account with an opaque token and filters by region")
    func paging() async throws {
        let fixture = try AccountsFixture()
        var ids: [String] = []
        for index in 0..<7 {
            fixture.clock.advance(by: 1)
            ids.append(try await fixture.create("客户\(index)号机床厂").id)
        }
        let admin = AccountsFixture.context("boss", ["admin"])
        var seen: [String] = []
        var token = ""
        repeat {
            let page = try await fixture.handler.listAccounts(.with {
                $0.page.pageSize = 3
                $0.page.pageToken = token
                $0.region = "华东"
            }, context: admin)
            seen += page.accounts.map(\.id)
            token = page.page.nextPageToken
        } while !token.isEmpty
        #expect(seen == ids.sorted())
        let other = try await fixture.handler.listAccounts(.with { $0.region = "西南" }, context: admin)
        #expect(other.accounts.isEmpty)
        let forged = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.listAccounts(.with { $0.page.pageToken = "garbage" }, context: admin)
        }
        #expect(forged?.violations.map(\.field) == ["page.page_token"])
    }

    @Test("rep B cannot reach rep A's account through any RPC: get, list, search, update, timeline, contacts, history, segments, import, merge")
    func objectLevelMatrix() async throws {
        let fixture = try AccountsFixture()
        let account = try await fixture.create("宁波模具城", as: "rep-a", team: "east")
        let repB = AccountsFixture.context("rep-b", ["sales_rep"], team: "west")

        let get = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.getAccount(.with { $0.id = account.id }, context: repB)
        }
        #expect(get?.code == .notFound)
        #expect(try await fixture.handler.listAccounts(.init(), context: repB).accounts.isEmpty)
        #expect(try await fixture.handler.searchAccounts(.with { $0.namePrefix = "宁波" }, context: repB).accounts.isEmpty)
        var edit = account
        edit.name = "被篡改"
        let update = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.updateAccount(.with { $0.account = edit }, context: repB)
        }
        #expect(update?.code == .notFound)

        // Timeline, contacts, history, segments and imports answer the same way.
        for call in [
            { _ = try await fixture.handler.listActivities(.with { $0.accountID = account.id }, context: repB) },
            { _ = try await fixture.handler.listContacts(.with { $0.accountID = account.id }, context: repB) },
            { _ = try await fixture.handler.getAccountOverview(.with { $0.accountID = account.id }, context: repB) },
            { _ = try await fixture.handler.listOwnerHistory(.with { $0.accountID = account.id }, context: repB) },
            { _ = try await fixture.handler.logActivity(.with { $0.activity = .with { $0.accountID = account.id; $0.kind = .note; $0.subject = "x" } }, context: repB) },
            { _ = try await fixture.handler.createContact(.with { $0.contact = .with { $0.accountID = account.id; $0.name = "x" } }, context: repB) },
        ] as [() async throws -> Void] {
            let error = await #expect(throws: RPCError.self) { try await call() }
            #expect(error?.code == .notFound)
        }
        let segment = try await fixture.handler.createSegment(.with { $0.segment = .with { $0.name = "宁波"; $0.filter.regions = ["华东"] } },
                                                              context: AccountsFixture.context("mkt", ["marketing"])).segment
        #expect(try await fixture.handler.listSegmentAccounts(.with { $0.segmentID = segment.id }, context: repB).accounts.isEmpty)
        let imported = try await fixture.handler.importContacts(.with {
            $0.importID = "b"
            $0.header = ["account_id", "姓名"]
            $0.rows = [.with { $0.line = 2; $0.values = [account.id, "混入者"] }, .with { $0.line = 3; $0.values = ["宁波模具城", "混入者"] }]
        }, context: repB)
        #expect(imported.results.map(\.status) == [.rejected, .rejected])
        let westManager = AccountsFixture.context("mgr-west", ["sales_manager"], team: "west")
        let merge = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.mergeAccounts(.with { $0.survivorID = account.id; $0.mergedIds = ["acc_x"]; $0.reason = "x" }, context: westManager)
        }
        #expect(merge?.code == .notFound)
        let westManagerGet = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.getAccount(.with { $0.id = account.id }, context: westManager)
        }
        #expect(westManagerGet?.code == .notFound, "a manager reaches their own team's accounts")

        // A teammate and a manager do see it.
        let teammate = AccountsFixture.context("rep-c", ["sales_rep"], team: "east")
        #expect(try await fixture.handler.getAccount(.with { $0.id = account.id }, context: teammate).account.id == account.id)
        #expect(try await fixture.handler.searchAccounts(.with { $0.namePrefix = "宁波" }, context: AccountsFixture.context("m", ["sales_manager"])).accounts.count == 1)
    }

    @Test("search by name prefix folds width, case, spaces and punctuation, keeps legal suffixes, and treats wildcards as text")
    func search() async throws {
        let fixture = try AccountsFixture()
        _ = try await fixture.create("Shanghai Precision Co., Ltd.")
        _ = try await fixture.create("上海电气")
        _ = try await fixture.create("上海精密机械有限公司")
        _ = try await fixture.create("100% 精工")
        let admin = AccountsFixture.context("boss", ["admin"])
        func names(_ prefix: String) async throws -> [String] {
            try await fixture.handler.searchAccounts(.with { $0.namePrefix = prefix }, context: admin).accounts.map(\.name)
        }
        #expect(try await names("上海") == ["上海电气", "上海精密机械有限公司"], "in name order")
        #expect(try await names("上海精密机械有") == ["上海精密机械有限公司"])
        #expect(try await names("ＳＨＡＮＧＨＡＩ pre") == ["Shanghai Precision Co., Ltd."])
        #expect(try await names("%") == [])
        #expect(try await names("_") == [])
        #expect(try await names("100%") == ["100% 精工"])
    }

    @Test("search pages through every match in name order with the token of the previous page")
    func searchPages() async throws {
        let fixture = try AccountsFixture()
        for index in 0..<7 { _ = try await fixture.create("苏州第\(index)机械厂") }
        _ = try await fixture.create("杭州机械厂")
        let admin = AccountsFixture.context("boss", ["admin"])
        var seen: [String] = []
        var token = ""
        repeat {
            let page = try await fixture.handler.searchAccounts(.with {
                $0.namePrefix = "苏州"
                $0.page = .with { $0.pageSize = 3; $0.pageToken = token }
            }, context: admin)
            seen += page.accounts.map(\.name)
            token = page.page.nextPageToken
        } while !token.isEmpty
        #expect(seen == (0..<7).map { "苏州第\($0)机械厂" })
        let forged = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.searchAccounts(.with { $0.namePrefix = "苏州"; $0.page.pageToken = "YWNjX3g" }, context: admin)
        }
        #expect(forged?.violations.map(\.field) == ["page.page_token"])
    }
}

@Suite("Accounts: FindDuplicates")
struct FindDuplicatesTests {
    @Test("pairs with the reason: same normalised name, shared contact phone, shared company email domain (not a public one)")
    func pairs() async throws {
        let fixture = try AccountsFixture()
        let a = try await fixture.create("上海精密机械有限公司")
        let b = try await fixture.create("上海精密机械 股份有限公司", allowDuplicate: true)
        let c = try await fixture.create("昆山精机")
        let d = try await fixture.create("昆山精密机床")
        let e = try await fixture.create("太仓铸造")
        let f = try await fixture.create("太仓锻造")
        let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
        func contact(_ account: String, phone: String = "", email: String = "") async throws {
            _ = try await fixture.handler.createContact(.with {
                $0.contact = .with {
                    $0.accountID = account
                    $0.name = "联系人"
                    $0.phone = phone
                    $0.email = email
                }
            }, context: rep)
        }
        try await contact(c.id, phone: "0512-5555-1234")
        try await contact(d.id, phone: "051255551234")
        try await contact(e.id, email: "zhang@taicang-casting.example.cn")
        try await contact(f.id, email: "li@taicang-casting.example.cn")
        try await contact(a.id, email: "x@qq.com")
        try await contact(c.id, email: "y@qq.com")

        let pairs = try await fixture.handler.findDuplicates(.init(), context: rep).pairs
        let found = Set(pairs.map { "\($0.reason): \([$0.accountID, $0.otherAccountID].sorted().joined(separator: ","))" })
        #expect(found == [
            "same normalised name: \([a.id, b.id].sorted().joined(separator: ","))",
            "shared contact phone: \([c.id, d.id].sorted().joined(separator: ","))",
            "shared email domain: \([e.id, f.id].sorted().joined(separator: ","))",
        ])
        // Another team's rep sees none of these pairs.
        #expect(try await fixture.handler.findDuplicates(.init(), context: AccountsFixture.context("rep-z", ["sales_rep"], team: "west")).pairs.isEmpty)
    }
}
