@testable import ForgeAccounts
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Accounts: tax ids normalised on every path, unified social credit codes checked")
struct TaxIDTests {
    @Test("normalising trims, drops spaces, folds full width and upper-cases", arguments: [
        ("91310115ma1fl4xq0x", "91310115MA1FL4XQ0X"),
        (" 9131 0115 MA1F L4XQ 0X ", "91310115MA1FL4XQ0X"),
        ("９１３１０１１５ＭＡ１ＦＬ４ＸＱ０Ｘ", "91310115MA1FL4XQ0X"),
        ("de 123 456 789", "DE123456789"),
    ])
    func normalise(raw: String, expected: String) {
        #expect(TaxID.normalize(raw) == expected)
    }

    @Test("a unified social credit code must carry its GB 32100-2015 check character")
    func checkCharacter() {
        // The standard's own example and a real Shanghai code pass.
        #expect(TaxID.problem("91350100M000100Y43") == nil)
        #expect(TaxID.problem("91310115MA1FL4XQ0X") == nil)
        let wrong = TaxID.problem("91310115MA1FL4XQ0Y")
        #expect(wrong?.contains("check character") == true)
        #expect(wrong?.contains("'X'") == true, "it says which character is right")
        // I, O, S, V and Z are not in the code's alphabet.
        #expect(TaxID.problem("91310115MA1FL4XQOX")?.contains("not 'O'") == true)
        // A foreign tax id keeps the 5–20 character rule.
        #expect(TaxID.problem("DE123456789") == nil)
        #expect(TaxID.problem("GB-123-456-78") == nil)
        #expect(TaxID.problem("1234") != nil)
        #expect(TaxID.problem("ABC!12345") != nil)
    }

    @Test("a lower-case tax id is the same customer as the upper-case one, and the answer says what to do instead")
    func createComparesNormalised() async throws {
        let fixture = try AccountsFixture()
        let first = try await fixture.create("上海浦东精工", taxID: "91310115MA1FL4XQ0X")
        let error = await #expect(throws: RPCError.self) {
            _ = try await fixture.create("浦东精工机械", taxID: "91310115ma1fl4xq0x", allowDuplicate: true)
        }
        #expect(error?.code == .alreadyExists)
        #expect(error?.violations.map(\.field) == ["account.tax_id"])
        #expect(error?.message.contains(first.id) == true)
        #expect(error?.message.contains("merge") == true)
        #expect(error?.message.contains("allow_duplicate") == false, "allow_duplicate would be refused again")
    }

    @Test("create stores the normalised form; a wrong check character is INVALID_ARGUMENT on account.tax_id")
    func createNormalisesAndChecks() async throws {
        let fixture = try AccountsFixture()
        let created = try await fixture.create("上海浦东精工", taxID: " 91310115 ma1fl4xq0x ")
        #expect(created.taxID == "91310115MA1FL4XQ0X")
        let error = await #expect(throws: RPCError.self) {
            _ = try await fixture.create("苏州精工", taxID: "91320500MA1XY11230")
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.violations.map(\.field) == ["account.tax_id"])
        #expect(error?.violations.first?.description.contains("check character") == true)
    }

    @Test("an update compares the normalised form and checks a changed code")
    func updateNormalises() async throws {
        let fixture = try AccountsFixture()
        let holder = try await fixture.create("上海浦东精工", taxID: "91310115MA1FL4XQ0X")
        let other = try await fixture.create("苏州模具")
        let context = AccountsFixture.context("rep-a", ["sales_rep"], team: "east", method: "UpdateAccount")
        var edit = other
        edit.taxID = "91310115ma1fl4xq0x"
        let taken = await #expect(throws: RPCError.self) { _ = try await fixture.handler.updateAccount(.with { $0.account = edit }, context: context) }
        #expect(taken?.code == .alreadyExists)
        #expect(taken?.message.contains(holder.id) == true)
        edit.taxID = "91320500MA1XY11230"
        let wrong = await #expect(throws: RPCError.self) { _ = try await fixture.handler.updateAccount(.with { $0.account = edit }, context: context) }
        #expect(wrong?.code == .invalidArgument)
        edit.taxID = "91320500ma1xy1123e"
        #expect(try await fixture.handler.updateAccount(.with { $0.account = edit }, context: context).account.taxID == "91320500MA1XY1123E")
    }

    @Test("the migration normalises stored tax ids and keeps a colliding row's text for FindDuplicates")
    func migration() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("taxid-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var migrator = DatabaseMigrator()
        AccountStore.migrations(&migrator)
        let before = try #require(migrator.migrations.firstIndex(of: "accounts-v16-normalized-tax-id")).advanced(by: -1)
        let queue = try DatabaseQueue(path: path)
        try migrator.migrate(queue, upTo: migrator.migrations[before])
        try await queue.write { db in
            for (id, tax) in [("acc_1", "91310115ma1fl4xq0x"), ("acc_2", "91310115MA1FL4XQ0X"), ("acc_3", "de 123 456 789")] {
                try db.execute(sql: """
                    INSERT INTO account (id, name, tax_id, stage, grade, tier, owner_id, team, created_at, updated_at, version)
                    VALUES (?, ?, ?, 1, 0, 0, 'rep-a', 'east', 0, 0, 1)
                    """, arguments: [id, "客户\(id)", tax])
            }
        }
        try migrator.migrate(queue)
        let stored = try await queue.read { db in try Row.fetchAll(db, sql: "SELECT id, tax_id FROM account ORDER BY id").map { [$0["id"] as String: $0["tax_id"] as String] } }
        #expect(stored == [["acc_1": "91310115ma1fl4xq0x"], ["acc_2": "91310115MA1FL4XQ0X"], ["acc_3": "DE123456789"]])
        try queue.close()

        let pool = try DatabasePool(path: path)
        let pairs = try await DuplicateFinder(database: pool).pairs(limit: 10, principal: Principal(subject: "boss", roles: ["admin"]))
        #expect(pairs.contains { $0.accountID == "acc_1" && $0.otherAccountID == "acc_2" && $0.reason == "same tax id" })
    }
}
