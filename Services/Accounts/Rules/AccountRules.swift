import ForgeContracts
import ForgeWire
import Foundation

/// The accounts rules that need no database or socket.
enum AccountRules {
    /// Field violations of a new account; empty when it may be created.
    static func validate(new account: Forge_Accounts_V1_Account) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        let name = account.name.trimmingCharacters(in: .whitespacesAndNewlines)
        if name.isEmpty {
            violations.append(FieldViolation(field: "account.name", description: "is required"))
        } else if name.count > 200 {
            violations.append(FieldViolation(field: "account.name", description: "must be at most 200 characters"))
        }
        if !account.taxID.isEmpty, !isTaxID(account.taxID) {
            violations.append(FieldViolation(field: "account.tax_id", description: "must be an 18-character unified social credit code or a 5–20 character tax id of letters and digits"))
        }
        if !account.id.isEmpty {
            violations.append(FieldViolation(field: "account.id", description: "is assigned by the server"))
        }
        return violations
    }

    /// A unified social credit code (18 characters of digits and capitals), or another
    /// country's tax id of 5–20 letters, digits and dashes.
    static func isTaxID(_ value: String) -> Bool {
        let allowed = value.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" }
        return allowed && (5...20).contains(value.count)
    }

    /// Object-level access (DESIGN §9): a sales rep reaches accounts they own or share a team
    /// with; every other role allowed to call the method reaches all.
    static func canSee(_ account: Forge_Accounts_V1_Account, principal: Principal) -> Bool {
        let salesRepOnly = principal.roles.contains("sales_rep")
            && principal.roles.isDisjoint(with: ["admin", "sales_manager", "analyst", "finance", "marketing", "service", "service_manager", "service_engineer"])
        guard salesRepOnly else { return true }
        return account.ownerID == principal.subject || (!principal.team.isEmpty && account.team == principal.team)
    }
}
