@testable import ForgeAccounts
import ForgeContracts
import ForgeKit
import ForgeSpreadsheet
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Accounts: spreadsheet import")
struct ImportTests {
    let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east", method: "ImportAccounts")

    /// A GB18030 export, as Excel on a Chinese Windows writes it: duplicates and bad rows.
    static let accountsFile = """
        客户名称,统一社会信用代码,行业,区域,价值等级,客户层级,标签,备注
        上海精密机械有限公司,91310000MA1K3ABC2N,汽车零部件,华东,A,核心,展会:2026汉诺威,老客户
        "苏州模具, 二厂",,模具,华东,B,一般,,
        上海精密机械 有限公司,,汽车零部件,华东,A,核心,,同名重复
        ,91320500MA1XY1123E,电子元器件,华东,B,,,没有名称
        杭州泵阀,123,化工,华东,Z,,,坏税号和坏等级
        无锡透平叶片,91320200MA1W9ABC1P,航空航天,华东,A,潜力,,
        无锡透平叶片厂,91320200MA1W9ABC1P,航空航天,华东,A,潜力,,同税号重复

        """

    static func request(_ text: String, id: String, dryRun: Bool = false) throws -> Forge_Common_V1_ImportRequest {
        let gb18030 = try #require(text.data(using: String.Encoding(rawValue: 0x8000_0632)))
        let decoded = try CSVReader.decode(gb18030)
        #expect(decoded.encoding == .gb18030)
        let records = CSVReader.records(decoded.text)
        return .with {
            $0.importID = id
            $0.header = records[0].values
            $0.rows = records.dropFirst().map { record in .with { $0.line = Int32(record.line); $0.values = record.values } }
            $0.dryRun = dryRun
        }
    }

    private func accountCount(_ fixture: AccountsFixture) async throws -> Int {
        try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM account") ?? 0 }
    }

    @Test("a GB18030 file with Chinese headers: created, duplicates within the file, rejected rows naming the column")
    func importFile() async throws {
        let fixture = try AccountsFixture()
        let existing = try await fixture.create("苏州模具二厂")
        let response = try await fixture.handler.importAccounts(try Self.request(Self.accountsFile, id: "run-1"), context: rep)
        #expect(response.ignoredColumns == ["备注"])
        let byLine = Dictionary(uniqueKeysWithValues: response.results.map { ($0.line, $0) })
        #expect(byLine[2]?.status == .created)
        #expect(byLine[3]?.status == .duplicate && byLine[3]?.duplicateOf == existing.id, "against the database, by normalised name")
        #expect(byLine[4]?.status == .duplicate && byLine[4]?.duplicateOf == byLine[2]?.id && byLine[4]?.reason == "same normalised name as line 2")
        #expect(byLine[5]?.status == .rejected && byLine[5]?.violations.map(\.field) == ["name"])
        #expect(byLine[6]?.status == .rejected && Set(byLine[6]?.violations.map(\.field) ?? []) == ["grade", "tax_id"])
        #expect(byLine[7]?.status == .created)
        #expect(byLine[8]?.status == .duplicate && byLine[8]?.reason == "same tax id as line 7")

        let created = try await fixture.handler.getAccount(.with { $0.id = byLine[2]!.id }, context: rep).account
        #expect(created.taxID == "91310000MA1K3ABC2N")
        #expect(created.grade == .a && created.tier == .core && created.region == "华东")
        #expect(created.tags == ["展会": "2026汉诺威"])
        #expect(created.ownerID == "rep-a" && created.team == "east")
        #expect(try await accountCount(fixture) == 3)
    }

    @Test("a dry run reports the same and writes nothing; running the file again creates nothing new; a retried batch answers the same")
    func dryRunAndRerun() async throws {
        let fixture = try AccountsFixture()
        let dry = try await fixture.handler.importAccounts(try Self.request(Self.accountsFile, id: "dry", dryRun: true), context: rep)
        #expect(try await accountCount(fixture) == 0)
        #expect(try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") } == 0)

        let first = try await fixture.handler.importAccounts(try Self.request(Self.accountsFile, id: "run-1"), context: rep)
        #expect(dry.results.map(\.status) == first.results.map(\.status))
        #expect(try await accountCount(fixture) == 3)

        let retried = try await fixture.handler.importAccounts(try Self.request(Self.accountsFile, id: "run-1"), context: rep)
        #expect(retried.results == first.results)

        let again = try await fixture.handler.importAccounts(try Self.request(Self.accountsFile, id: "run-2"), context: rep)
        #expect(!again.results.contains { $0.status == .created })
        #expect(again.results.first { $0.line == 2 }?.status == .unchanged, "matched by tax id, nothing to change")
        #expect(again.results.first { $0.line == 3 }?.status == .duplicate)
        #expect(try await accountCount(fixture) == 3)
    }

    @Test("a row matching an account by tax id (spaced, lower-case) updates the columns it fills, and says which")
    func updateByTaxID() async throws {
        let fixture = try AccountsFixture()
        let account = try await fixture.create("常州精工", taxID: "91320400MA1W9XY12Y")
        let response = try await fixture.handler.importAccounts(.with {
            $0.importID = "upd"
            $0.header = ["Name", "Tax ID", "Industry", "Tier"]
            $0.rows = [.with { $0.line = 2; $0.values = ["常州精工", "9132 0400 ma1w9xy12y", "模具", "potential"] }]
        }, context: rep)
        #expect(response.results.first?.status == .updated)
        #expect(response.results.first?.reason == "changed industry, tier")
        let read = try await fixture.handler.getAccount(.with { $0.id = account.id }, context: rep).account
        #expect(read.industry == "模具" && read.tier == .potential && read.version == 2)
    }

    @Test("contacts import by account name or tax id; the same phone is the same person; unknown accounts are rejected")
    func contacts() async throws {
        let fixture = try AccountsFixture()
        let account = try await fixture.create("宁波拓普", taxID: "91330200MA2AAAAA1K")
        let file = """
            客户名称,姓名,职务,部门,角色,手机,邮箱,关系强度
            宁波拓普,王建国,采购经理,采购,决策者,+86 138-0000-1234,wang@tuopu.com,4
            宁波拓普,王建国,采购总监,采购,决策者,13800001234,,5
            不存在的公司,李四,工程师,研发,使用者,13900000000,,3
            宁波拓普,赵六,,财务,外星人,,,9

            """
        let records = CSVReader.records(file)
        let request = Forge_Common_V1_ImportRequest.with {
            $0.importID = "contacts-1"
            $0.header = records[0].values
            $0.rows = records.dropFirst().map { record in .with { $0.line = Int32(record.line); $0.values = record.values } }
        }
        let response = try await fixture.handler.importContacts(request, context: rep)
        #expect(response.results.map(\.status) == [.created, .duplicate, .rejected, .rejected])
        #expect(response.results[2].violations.map(\.field) == ["account_name"])
        #expect(Set(response.results[3].violations.map(\.field)) == ["buying_role", "relationship_strength"])
        let contacts = try await fixture.handler.listContacts(.with { $0.accountID = account.id }, context: rep).contacts
        #expect(contacts.map(\.name) == ["王建国"])
        #expect(contacts.first?.department == .procurement && contacts.first?.buyingRole == .decisionMaker)

        // The next run finds the person by phone and takes the new title.
        let update = try await fixture.handler.importContacts(.with {
            $0.importID = "contacts-2"
            $0.header = ["统一社会信用代码", "姓名", "职务", "手机"]
            $0.rows = [.with { $0.line = 2; $0.values = ["91330200MA2AAAAA1K", "王建国", "采购总监", "138 0000 1234"] }]
        }, context: rep)
        #expect(update.results.map(\.status) == [.updated])
        #expect(try await fixture.handler.getContact(.with { $0.id = contacts[0].id }, context: rep).contact.title == "采购总监")
    }

    @Test("a header without a name column, too many rows, or repeated line numbers is INVALID_ARGUMENT; nothing is written")
    func badRequests() async throws {
        let fixture = try AccountsFixture()
        let noName = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.importAccounts(.with { $0.importID = "x"; $0.header = ["行业"]; $0.rows = [.with { $0.line = 2; $0.values = ["模具"] }] }, context: rep)
        }
        #expect(noName?.violations.map(\.field) == ["header"])
        let tooMany = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.importAccounts(.with {
                $0.header = ["name"]
                $0.rows = (1...2_001).map { line in .with { $0.line = Int32(line); $0.values = ["厂\(line)"] } }
            }, context: rep)
        }
        #expect(tooMany?.violations.map(\.field) == ["import_id", "rows"])
        let repeated = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.importAccounts(.with {
                $0.importID = "x"
                $0.header = ["name"]
                $0.rows = [.with { $0.line = 2; $0.values = ["甲"] }, .with { $0.line = 2; $0.values = ["乙"] }]
            }, context: rep)
        }
        #expect(repeated?.violations.map(\.field) == ["rows[1].line"])
        #expect(try await accountCount(fixture) == 0)
    }
}
