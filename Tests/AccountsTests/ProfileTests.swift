@testable import ForgeAccounts
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Accounts: the customer profile, field-level access, tag filters, duplicates by contact")
struct ProfileTests {
    let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
    let finance = AccountsFixture.context("fin-1", ["finance"], method: "UpdateAccount")

    @Test("size, strategic flags, parent, tags and consent are kept and read back")
    func profileRoundTrip() async throws {
        let fixture = try AccountsFixture()
        let group = try await fixture.create("三一集团")
        let created = try await fixture.handler.createAccount(.with {
            $0.account = .with {
                $0.name = "三一重机（昆山）"
                $0.size = .large
                $0.industryShowcase = true
                $0.bringsPartners = true
                $0.parentAccountID = group.id
                $0.tags = ["展会": "2026汉诺威", "产品线": "液压"]
                $0.consent = .with {
                    $0.marketing = true
                    $0.processingBasis = .contract
                }
            }
        }, context: rep).account
        let read = try await fixture.handler.getAccount(.with { $0.id = created.id }, context: rep).account
        #expect(read.size == .large)
        #expect(read.industryShowcase && read.bringsPartners)
        #expect(read.parentAccountID == group.id)
        #expect(read.tags == ["展会": "2026汉诺威", "产品线": "液压"])
        #expect(read.consent.marketing && read.consent.processingBasis == .contract)
    }

    @Test("credit fields: only finance, managers and admins set or see them; a rep's update keeps them")
    func creditFields() async throws {
        let fixture = try AccountsFixture()
        let error = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.createAccount(.with {
                $0.account = .with {
                    $0.name = "徐工液压"
                    $0.creditRating = "AA"
                }
            }, context: rep)
        }
        #expect(error?.violations.map(\.field) == ["account.credit_rating"])

        let account = try await fixture.create("徐工液压")
        var edit = try await fixture.handler.getAccount(.with { $0.id = account.id }, context: finance).account
        edit.creditRating = "AA"
        edit.creditLimit = .with {
            $0.currencyCode = "CNY"
            $0.amountMicros = 5_000_000 * 1_000_000
        }
        let updated = try await fixture.handler.updateAccount(.with { $0.account = edit }, context: finance).account
        #expect(updated.creditRating == "AA")

        // The rep reads the account without credit fields and writes it back with a new address.
        var repView = try await fixture.handler.getAccount(.with { $0.id = account.id }, context: rep).account
        #expect(repView.creditRating.isEmpty && !repView.hasCreditLimit)
        repView.address = "徐州经济技术开发区"
        _ = try await fixture.handler.updateAccount(.with { $0.account = repView }, context: AccountsFixture.context("rep-a", ["sales_rep"], team: "east", method: "UpdateAccount"))
        let financeView = try await fixture.handler.getAccount(.with { $0.id = account.id }, context: finance).account
        #expect(financeView.creditRating == "AA")
        #expect(financeView.creditLimit.amountMicros == 5_000_000 * 1_000_000)
        #expect(financeView.address == "徐州经济技术开发区")
        let listed = try await fixture.handler.listAccounts(.init(), context: rep).accounts
        #expect(listed.allSatisfy { $0.creditRating.isEmpty && !$0.hasCreditLimit })
    }

    @Test("list filters by tag (key:value or key) and by updated-since")
    func tagFilter() async throws {
        let fixture = try AccountsFixture()
        let tagged = try await fixture.handler.createAccount(.with {
            $0.account = .with {
                $0.name = "宁波模具"
                $0.tags = ["展会": "2026汉诺威"]
            }
        }, context: rep).account
        _ = try await fixture.create("宁波注塑")
        func ids(_ request: Forge_Accounts_V1_ListAccountsRequest) async throws -> [String] {
            try await fixture.handler.listAccounts(request, context: rep).accounts.map(\.id)
        }
        #expect(try await ids(.with { $0.tag = "展会:2026汉诺威" }) == [tagged.id])
        #expect(try await ids(.with { $0.tag = "展会" }) == [tagged.id])
        #expect(try await ids(.with { $0.tag = "展会:2025" }) == [])
        fixture.clock.advance(by: 3600)
        var edit = tagged
        edit.address = "宁波北仑"
        _ = try await fixture.handler.updateAccount(.with { $0.account = edit }, context: rep)
        #expect(try await ids(.with { $0.updatedSince = .init(date: fixture.clock.now() - 60) }) == [tagged.id])
    }

    @Test("a parent that does not exist, or that would make a cycle, is INVALID_ARGUMENT naming the field")
    func parentChecks() async throws {
        let fixture = try AccountsFixture()
        let missing = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.createAccount(.with {
                $0.account = .with {
                    $0.name = "无父公司"
                    $0.parentAccountID = "acc_nope"
                }
            }, context: rep)
        }
        #expect(missing?.violations.map(\.field) == ["account.parent_account_id"])
        let group = try await fixture.create("潍柴集团")
        let child = try await fixture.handler.createAccount(.with {
            $0.account = .with {
                $0.name = "潍柴动力"
                $0.parentAccountID = group.id
            }
        }, context: rep).account
        var edit = group
        edit.parentAccountID = child.id
        let cycle = await #expect(throws: RPCError.self) { _ = try await fixture.handler.updateAccount(.with { $0.account = edit }, context: rep) }
        #expect(cycle?.code == .invalidArgument)
        #expect(cycle?.violations.map(\.field) == ["account.parent_account_id"])
    }

    @Test("create with contacts: a shared phone or company email domain is a duplicate; public mail domains are not")
    func duplicateByContact() async throws {
        let fixture = try AccountsFixture()
        let first = try await fixture.handler.createAccount(.with {
            $0.account = .with { $0.name = "苏州汇川技术" }
            $0.contacts = [.with {
                $0.name = "王工"
                $0.phone = "+86 138-0000-1234"
                $0.email = "wang@inovance.cn"
            }]
        }, context: rep)
        #expect(first.contacts.count == 1)
        #expect(first.contacts[0].accountID == first.account.id)

        let byPhone = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.createAccount(.with {
                $0.account = .with { $0.name = "汇川（苏州）自动化" }
                $0.contacts = [.with {
                    $0.name = "王先生"
                    $0.phone = "13800001234"
                }]
            }, context: rep)
        }
        #expect(byPhone?.code == .alreadyExists)
        #expect(byPhone?.violations.map(\.field) == ["contacts[0].phone"])
        let byDomain = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.createAccount(.with {
                $0.account = .with { $0.name = "深圳汇川" }
                $0.contacts = [.with {
                    $0.name = "李工"
                    $0.email = "li@inovance.cn"
                }]
            }, context: rep)
        }
        #expect(byDomain?.violations.map(\.field) == ["contacts[0].email"])
        let publicDomain = try await fixture.handler.createAccount(.with {
            $0.account = .with { $0.name = "常熟开关" }
            $0.contacts = [.with {
                $0.name = "赵经理"
                $0.email = "zhao@qq.com"
            }]
        }, context: rep)
        #expect(!publicDomain.account.id.isEmpty)
        let nothingLeft = try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM contact") }
        #expect(nothingLeft == 2, "refused creates left no contacts behind")
    }
}
