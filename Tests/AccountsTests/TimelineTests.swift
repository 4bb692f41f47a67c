@testable import ForgeAccounts
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Accounts: contacts and the activity timeline")
struct TimelineTests {
    private func log(_ fixture: AccountsFixture, account: String, subject: String, body: String, as subject_: String = "rep-a", team: String = "east") async throws -> Forge_Accounts_V1_Activity {
        fixture.clock.advance(by: 60)
        return try await fixture.handler.logActivity(.with {
            $0.activity = .with {
                $0.accountID = account
                $0.kind = .visit
                $0.subject = subject
                $0.body = body
            }
        }, context: AccountsFixture.context(subject_, ["sales_rep"], team: team)).activity
    }

    @Test("the overview answers what GetAccount, ListContacts and ListActivities answer, in one call; bad pages are named together")
    func overview() async throws {
        let fixture = try AccountsFixture()
        let account = try await fixture.create("无锡精密轴承厂", as: "rep-a", team: "east")
        let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
        for name in ["王工", "李经理", "赵总"] {
            _ = try await fixture.handler.createContact(.with { $0.contact = .with { $0.accountID = account.id; $0.name = name } }, context: rep)
        }
        for subject in ["拜访", "报价", "试样"] { _ = try await log(fixture, account: account.id, subject: subject, body: "") }

        let overview = try await fixture.handler.getAccountOverview(.with {
            $0.accountID = account.id
            $0.contactsPage.pageSize = 2
            $0.activitiesPage.pageSize = 2
        }, context: rep)
        #expect(overview.account == (try await fixture.handler.getAccount(.with { $0.id = account.id }, context: rep)))
        #expect(overview.contacts == (try await fixture.handler.listContacts(.with { $0.accountID = account.id; $0.page.pageSize = 2 }, context: rep)))
        #expect(overview.activities == (try await fixture.handler.listActivities(.with { $0.accountID = account.id; $0.page.pageSize = 2 }, context: rep)))
        #expect(overview.contacts.contacts.count == 2 && !overview.contacts.page.nextPageToken.isEmpty)
        #expect(overview.activities.activities.map(\.subject) == ["试样", "报价"])

        let bad = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.getAccountOverview(.with {
                $0.contactsPage.pageSize = 501
                $0.activitiesPage.pageToken = "not-a-token"
            }, context: rep)
        }
        #expect(bad?.violations.map(\.field) == ["account_id", "contacts_page.page_size", "activities_page.page_token"])
    }

    @Test("full-text search finds Chinese text inside longer notes, only among accounts the caller may see")
    func chineseSearch() async throws {
        let fixture = try AccountsFixture()
        let east = try await fixture.create("常州耐热材料厂", as: "rep-a", team: "east")
        let west = try await fixture.create("成都机床厂", as: "rep-b", team: "west")
        let hit1 = try await log(fixture, account: east.id, subject: "拜访", body: "客户询问耐高温材料的样品和交期")
        let hit2 = try await log(fixture, account: east.id, subject: "耐高温材料报价", body: "已发送报价")
        _ = try await log(fixture, account: east.id, subject: "电话", body: "讨论付款计划")
        let hidden = try await log(fixture, account: west.id, subject: "拜访", body: "他们也需要耐高温材料", as: "rep-b", team: "west")

        let manager = AccountsFixture.context("m", ["sales_manager"])
        let all = try await fixture.handler.searchActivities(.with { $0.query = "耐高温材料" }, context: manager)
        #expect(Set(all.activities.map(\.id)) == [hit1.id, hit2.id, hidden.id])

        let repA = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
        let mine = try await fixture.handler.searchActivities(.with { $0.query = "耐高温材料" }, context: repA)
        #expect(Set(mine.activities.map(\.id)) == [hit1.id, hit2.id])

        let short = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.searchActivities(.with { $0.query = "材料" }, context: manager)
        }
        #expect(short?.violations.map(\.field) == ["query"])
        // FTS syntax in a query is text, not operators.
        #expect(try await fixture.handler.searchActivities(.with { $0.query = "\"OR NEAR(" }, context: manager).activities.isEmpty)
    }

    @Test("the timeline lists newest first in pages, and the account's last activity moves")
    func timeline() async throws {
        let fixture = try AccountsFixture()
        let account = try await fixture.create("苏州精密齿轮")
        var logged: [String] = []
        for index in 0..<5 {
            logged.append(try await log(fixture, account: account.id, subject: "第\(index)次拜访", body: "").id)
        }
        let repA = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
        var seen: [String] = []
        var token = ""
        repeat {
            let page = try await fixture.handler.listActivities(.with {
                $0.accountID = account.id
                $0.page.pageSize = 2
                $0.page.pageToken = token
            }, context: repA)
            seen += page.activities.map(\.id)
            token = page.page.nextPageToken
        } while !token.isEmpty
        #expect(seen == logged.reversed())
        let reloaded = try await fixture.handler.getAccount(.with { $0.id = account.id }, context: repA).account
        #expect(reloaded.lastActivityAt.date == fixture.clock.now())
    }

    @Test("a 5 MB note, an empty subject or a missing kind is INVALID_ARGUMENT naming each field, and nothing is written")
    func badActivity() async throws {
        let fixture = try AccountsFixture()
        let account = try await fixture.create("温州阀门")
        let error = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.logActivity(.with {
                $0.activity = .with {
                    $0.accountID = account.id
                    $0.body = String(repeating: "长", count: 5 * 1024 * 1024 / 3)
                }
            }, context: AccountsFixture.context("rep-a", ["sales_rep"], team: "east"))
        }
        #expect(error?.violations.map(\.field) == ["activity.kind", "activity.subject", "activity.body"])
        let count = try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM activity") }
        #expect(count == 0)
    }

    @Test("LogActivities logs a batch in one transaction, or nothing: each bad field is named by its index, an unseen account is NOT_FOUND")
    func logActivitiesBatch() async throws {
        let fixture = try AccountsFixture()
        let mine = try await fixture.create("温州阀门", as: "rep-a", team: "east")
        let theirs = try await fixture.create("成都机床厂", as: "rep-b", team: "west")
        let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east", method: "LogActivities")
        func activity(_ account: String, _ subject: String) -> Forge_Accounts_V1_Activity {
            .with {
                $0.accountID = account
                $0.kind = .call
                $0.subject = subject
            }
        }
        func activityCount() async throws -> Int? {
            try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM activity") }
        }

        let logged = try await fixture.handler.logActivities(.with { $0.activities = [activity(mine.id, "电话一"), activity(mine.id, "电话二")] }, context: rep)
        #expect(logged.activityIds.count == 2 && Set(logged.activityIds).count == 2)
        #expect(try await activityCount() == 2)

        let bad = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.logActivities(.with { $0.activities = [activity(mine.id, "好的"), activity(mine.id, ""), activity("", "x")] }, context: rep)
        }
        #expect(bad?.violations.map(\.field) == ["activities[1].subject", "activities[2].account_id"])
        let unseen = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.logActivities(.with { $0.activities = [activity(mine.id, "好的"), activity(theirs.id, "看不见")] }, context: rep)
        }
        #expect(unseen?.code == .notFound)
        let tooMany = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.logActivities(.with { $0.activities = Array(repeating: activity(mine.id, "多"), count: 1_001) }, context: rep)
        }
        #expect(tooMany?.violations.map(\.field) == ["activities"])
        #expect(try await activityCount() == 2, "nothing of the refused batches was written")
    }

    @Test("contacts: create, update with version (stale → ABORTED); analysts see details masked; marketing only consenting contacts")
    func contacts() async throws {
        let fixture = try AccountsFixture()
        let account = try await fixture.create("青岛海工装备")
        let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
        let created = try await fixture.handler.createContact(.with {
            $0.contact = .with {
                $0.accountID = account.id
                $0.name = "王采购"
                $0.department = .procurement
                $0.buyingRole = .decisionMaker
                $0.relationshipStrength = 4
                $0.phone = "+86 138-0013-5678"
                $0.email = "wang@haigong.example.cn"
                $0.wechatID = "wang_hg"
            }
        }, context: rep).contact
        #expect(created.version == 1)

        var edit = created
        edit.title = "采购总监"
        let updated = try await fixture.handler.updateContact(.with { $0.contact = edit }, context: rep).contact
        #expect(updated.version == 2)
        let stale = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.updateContact(.with { $0.contact = edit }, context: rep)
        }
        #expect(stale?.code == .aborted)

        let analyst = try await fixture.handler.getContact(.with { $0.id = created.id }, context: AccountsFixture.context("ana", ["analyst"])).contact
        #expect(analyst.phone.hasSuffix("5678") && analyst.phone.hasPrefix("***"))
        #expect(analyst.email == "***@haigong.example.cn")
        #expect(analyst.wechatID == "***")

        let marketing = AccountsFixture.context("mkt", ["marketing"])
        #expect(try await fixture.handler.listContacts(.with { $0.accountID = account.id }, context: marketing).contacts.isEmpty)
        var consenting = updated
        consenting.marketingConsent = true
        _ = try await fixture.handler.updateContact(.with { $0.contact = consenting }, context: rep)
        #expect(try await fixture.handler.listContacts(.with { $0.accountID = account.id }, context: marketing).contacts.count == 1)

        let outsider = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.getContact(.with { $0.id = created.id }, context: AccountsFixture.context("rep-b", ["sales_rep"], team: "west"))
        }
        #expect(outsider?.code == .notFound)
    }

    @Test("contacts page through with the token of the previous page")
    func contactPaging() async throws {
        let fixture = try AccountsFixture()
        let account = try await fixture.create("绍兴纺织机械")
        let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
        var created: [String] = []
        for index in 0..<5 {
            fixture.clock.advance(by: 1)
            created.append(try await fixture.handler.createContact(.with {
                $0.contact = .with {
                    $0.accountID = account.id
                    $0.name = "联系人\(index)"
                }
            }, context: rep).contact.id)
        }
        var seen: [String] = []
        var token = ""
        repeat {
            let page = try await fixture.handler.listContacts(.with {
                $0.accountID = account.id
                $0.page.pageSize = 2
                $0.page.pageToken = token
            }, context: rep)
            seen += page.contacts.map(\.id)
            token = page.page.nextPageToken
        } while !token.isEmpty
        #expect(seen == created.sorted())
    }
}

@Suite("Accounts: deleting a contact")
struct DeleteContactTests {
    @Test("delete needs the version read; it emits ContactDeleted; another team's rep gets NOT_FOUND and nothing changes")
    func delete() async throws {
        let fixture = try AccountsFixture()
        let account = try await fixture.create("绍兴纺机")
        let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
        let contact = try await fixture.handler.createContact(.with { $0.contact = .with { $0.accountID = account.id; $0.name = "离职的张工" } }, context: rep).contact
        let other = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.deleteContact(.with { $0.id = contact.id; $0.version = 1 }, context: AccountsFixture.context("rep-b", ["sales_rep"], team: "west"))
        }
        #expect(other?.code == .notFound)
        let stale = await #expect(throws: RPCError.self) { _ = try await fixture.handler.deleteContact(.with { $0.id = contact.id; $0.version = 9 }, context: rep) }
        #expect(stale?.code == .aborted)
        let missingVersion = await #expect(throws: RPCError.self) { _ = try await fixture.handler.deleteContact(.with { $0.id = contact.id }, context: rep) }
        #expect(missingVersion?.violations.map(\.field) == ["version"])
        _ = try await fixture.handler.deleteContact(.with { $0.id = contact.id; $0.version = 1 }, context: rep)
        #expect(try await fixture.handler.listContacts(.with { $0.accountID = account.id }, context: rep).contacts.isEmpty)
        let events = try await fixture.database.read { db in try Outbox.events(db, after: 0, limit: 10, types: ["ContactDeleted"]) }
        #expect(events.count == 1)
    }
}
