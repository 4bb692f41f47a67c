@testable import ForgeAccounts
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Accounts: privacy requests")
struct PrivacyTests {
    @Test("export returns the contact and the activities about them; erase anonymises them, redacts the notes, the search index and the feed's past events, and emits ContactErased")
    func exportAndErase() async throws {
        let fixture = try AccountsFixture()
        let account = try await fixture.create("烟台港机")
        let rep = AccountsFixture.context("rep-a", ["sales_rep"], team: "east")
        let contact = try await fixture.handler.createContact(.with {
            $0.contact = .with {
                $0.accountID = account.id
                $0.name = "刘海涛"
                $0.phone = "13900001111"
                $0.email = "liu@yantai.example.cn"
            }
        }, context: rep).contact
        for body in ["与刘海涛讨论备件价格", "安装调试顺利"] {
            _ = try await fixture.handler.logActivity(.with {
                $0.activity = .with {
                    $0.accountID = account.id
                    $0.kind = .meeting
                    $0.subject = "会议"
                    $0.body = body
                }
            }, context: rep)
        }
        let manager = AccountsFixture.context("mgr", ["sales_manager"], team: "east")
        let exported = try await fixture.handler.exportContactData(.with { $0.contactID = contact.id }, context: manager)
        #expect(exported.contact.phone == "13900001111")
        #expect(exported.activities.map(\.body) == ["与刘海涛讨论备件价格"])

        let erased = try await fixture.handler.eraseContact(.with {
            $0.contactID = contact.id
            $0.reason = "本人要求删除个人信息"
        }, context: manager)
        #expect(erased.activitiesRedacted == 1)
        #expect(erased.contact.name == PrivacyStore.erasedName)
        #expect(erased.contact.phone.isEmpty && erased.contact.email.isEmpty)

        let after = try await fixture.handler.getContact(.with { $0.id = contact.id }, context: manager).contact
        #expect(after.name == PrivacyStore.erasedName)
        #expect(try await fixture.handler.searchActivities(.with { $0.query = "刘海涛" }, context: manager).activities.isEmpty, "the name is gone from the index")
        #expect(try await fixture.handler.searchActivities(.with { $0.query = "讨论备件" }, context: manager).activities.first?.body == "与\(PrivacyStore.erasedName)讨论备件价格")
        let events = try await fixture.database.read { db in try Outbox.events(db, after: 0, limit: 100, types: ["ContactErased"]) }
        #expect(events.count == 1)
        // The feed replayed from the start brings the person back nowhere.
        let history = try await fixture.database.read { db in try Outbox.events(db, after: 0, limit: 1000) }
        #expect(!history.contains { $0.payload.range(of: Data("13900001111".utf8)) != nil || $0.payload.range(of: Data("liu@yantai.example.cn".utf8)) != nil
            || $0.payload.range(of: Data("刘海涛".utf8)) != nil }, "past contact and activity events are redacted")
        let created = try #require(history.first { $0.type == "ContactCreated" })
        #expect(try Forge_Accounts_V1_ContactCreated(serializedBytes: created.payload).contact.name == PrivacyStore.erasedName)

        let missingReason = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.eraseContact(.with { $0.contactID = contact.id }, context: manager)
        }
        #expect(missingReason?.violations.map(\.field) == ["reason"])
    }
}
