@testable import ForgeAccounts
import ForgeContracts
@testable import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf
import Testing

@Suite("Account rules")
struct AccountRulesTests {
    @Test("names that differ only in width, case, spacing, punctuation or legal suffix normalise alike", arguments: [
        ("上海精密机械有限公司", "上海精密机械"),
        ("上海精密机械 有限公司", "上海精密机械"),
        ("上海精密机械股份有限公司", "上海精密机械"),
        ("上海精密机械有限责任公司", "上海精密机械"),
        ("上海精密机械（集团）有限公司", "上海精密机械"),
        ("ＳＨＡＮＧＨＡＩ　ＰＲＥＣＩＳＩＯＮ", "shanghaiprecision"),
        ("Shanghai Precision Co., Ltd.", "shanghaiprecision"),
        ("SHANGHAI-PRECISION, INC.", "shanghaiprecision"),
        ("徐工集团", "徐工"),
    ])
    func normalisation(name: String, expected: String) {
        #expect(NameNormalizer.normalize(name) == expected)
    }

    @Test("folding plain ASCII and CJK text without NFKC gives what NFKC gives", arguments: [
        "Shanghai Precision Co., Ltd.", "徐工集团 XCMG-2026", "华东", "数控机床", "A-b_C d!9~", "", "  ", "\t\u{7F}x",
        "上海精密机械（集团）有限公司", "ＳＨＡＮＧＨＡＩ", "Café", "\u{9FFF}\u{3400}", "é",
    ])
    func plainFold(name: String) {
        let folded = name.precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars
            .filter { CharacterSet.alphanumerics.contains($0) }
        #expect(NameNormalizer.fold(name) == String(String.UnicodeScalarView(folded)))
        // Full-width forms, accents and rare ideographs take the NFKC path.
        #expect((NameNormalizer.foldPlain(name) == nil) == name.unicodeScalars.contains { $0.value > 0x7F && !(0x4E00...0x9FEF).contains($0.value) })
    }

    @Test("a name made only of legal suffixes never normalises to nothing", arguments: ["有限公司", "Co., Ltd.", "集团"])
    func onlySuffix(name: String) {
        #expect(!NameNormalizer.normalize(name).isEmpty)
    }

    @Test("a new account's bad fields are each named", arguments: [
        (Forge_Accounts_V1_Account.with { $0.name = "  " }, ["account.name"]),
        (.with { $0.name = String(repeating: "厂", count: 201) }, ["account.name"]),
        (.with { $0.name = "ok"; $0.taxID = "91-31@" }, ["account.tax_id"]),
        (.with { $0.name = ""; $0.taxID = "x"; $0.id = "acc_1" }, ["account.name", "account.tax_id", "account.id"]),
        (.with { $0.name = "常州精工"; $0.taxID = "91320400MA1W9XY12Y" }, []),
    ])
    func validation(account: Forge_Accounts_V1_Account, fields: [String]) {
        #expect(AccountRules.validate(new: account).map(\.field) == fields)
    }

    @Test("a sales rep sees accounts they own or share a team with, a manager their team's; other roles see all")
    func visibility() {
        let account = Forge_Accounts_V1_Account.with {
            $0.ownerID = "rep-a"
            $0.team = "east"
        }
        #expect(AccountRules.canSee(account, principal: Principal(subject: "rep-a", roles: ["sales_rep"])))
        #expect(AccountRules.canSee(account, principal: Principal(subject: "rep-c", roles: ["sales_rep"], team: "east")))
        #expect(!AccountRules.canSee(account, principal: Principal(subject: "rep-b", roles: ["sales_rep"], team: "west")))
        #expect(!AccountRules.canSee(account, principal: Principal(subject: "boss", roles: ["sales_manager"], team: "west")))
        #expect(AccountRules.canSee(account, principal: Principal(subject: "boss-east", roles: ["sales_manager"], team: "east")))
        #expect(AccountRules.canSee(account, principal: Principal(subject: "head-of-sales", roles: ["sales_manager"])))
        #expect(AccountRules.canSee(account, principal: Principal(subject: "analyst", roles: ["analyst"], team: "west")))
    }
}
