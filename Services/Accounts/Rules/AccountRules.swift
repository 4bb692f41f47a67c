import ForgeContracts
import ForgeWire
import Foundation
import GRDB

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

    /// Field violations of an update; empty when it may be applied.
    static func validate(update account: Forge_Accounts_V1_Account) -> [FieldViolation] {
        var violations = validate(new: account).filter { $0.field != "account.id" }
        if account.id.isEmpty {
            violations.append(FieldViolation(field: "account.id", description: "is required"))
        }
        if account.version <= 0 {
            violations.append(FieldViolation(field: "account.version", description: "is required: the version you read"))
        }
        return violations
    }

    /// Field name → new value, for every field that differs.
    static func changedFields(from old: Forge_Accounts_V1_Account, to new: Forge_Accounts_V1_Account) -> [String: String] {
        var changed: [String: String] = [:]
        func compare(_ name: String, _ a: String, _ b: String) { if a != b { changed[name] = b } }
        compare("name", old.name, new.name)
        compare("legal_name", old.legalName, new.legalName)
        compare("tax_id", old.taxID, new.taxID)
        compare("industry", old.industry, new.industry)
        compare("region", old.region, new.region)
        compare("address", old.address, new.address)
        compare("stage", "\(old.stage)", "\(new.stage)")
        compare("grade", "\(old.grade)", "\(new.grade)")
        compare("tier", "\(old.tier)", "\(new.tier)")
        return changed
    }

    /// Restricts a query to what `principal` may see (the SQL form of `canSee`).
    /// - Parameter table: the alias of the account table in the query, when it has one.
    static func visibility(for principal: Principal, table: String? = nil, clauses: inout [String], arguments: inout StatementArguments) {
        guard isRepOnly(principal) else { return }
        let column = { (name: String) in table.map { "\($0).\(name)" } ?? name }
        if principal.team.isEmpty {
            clauses.append("\(column("owner_id")) = ?")
            arguments += [principal.subject]
        } else {
            clauses.append("(\(column("owner_id")) = ? OR \(column("team")) = ?)")
            arguments += [principal.subject, principal.team]
        }
    }

    static func isRepOnly(_ principal: Principal) -> Bool {
        principal.roles.contains("sales_rep")
            && principal.roles.isDisjoint(with: ["admin", "sales_manager", "analyst", "finance", "marketing", "service", "service_manager", "service_engineer"])
    }

    /// Object-level access (DESIGN §9): a sales rep reaches accounts they own or share a team
    /// with; every other role allowed to call the method reaches all.
    static func canSee(_ account: Forge_Accounts_V1_Account, principal: Principal) -> Bool {
        guard isRepOnly(principal) else { return true }
        return account.ownerID == principal.subject || (!principal.team.isEmpty && account.team == principal.team)
    }
}
