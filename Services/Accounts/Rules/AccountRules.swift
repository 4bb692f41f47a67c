import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB

/// The accounts rules that need no database or socket.
enum AccountRules {
    /// Field violations of a new account; empty when it may be created.
    /// - Parameter checkingCheckCharacter: false for an update, whose store step checks the
    ///   check character only when the tax id changes (rows stored before it was checked stay editable).
    static func validate(new account: Forge_Accounts_V1_Account, checkingCheckCharacter: Bool = true) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        let name = account.name.trimmed
        if name.isEmpty {
            violations.append(FieldViolation(field: "account.name", description: "is required"))
        } else if name.count > 200 {
            violations.append(FieldViolation(field: "account.name", description: "must be at most 200 characters"))
        }
        if !account.taxID.isEmpty, let problem = TaxID.problem(TaxID.normalize(account.taxID), checkingCheckCharacter: checkingCheckCharacter) {
            violations.append(FieldViolation(field: "account.tax_id", description: problem))
        }
        if !account.id.isEmpty {
            violations.append(FieldViolation(field: "account.id", description: "is assigned by the server"))
        }
        for field in ["legal_name": account.legalName, "industry": account.industry, "region": account.region,
                      "credit_rating": account.creditRating] where field.value.count > 100 {
            violations.append(FieldViolation(field: "account.\(field.key)", description: "must be at most 100 characters"))
        }
        if account.address.count > 500 {
            violations.append(FieldViolation(field: "account.address", description: "must be at most 500 characters"))
        }
        violations += validate(tags: account.tags, field: "account.tags")
        if account.hasCreditLimit {
            if account.creditLimit.amountMicros < 0 {
                violations.append(FieldViolation(field: "account.credit_limit.amount_micros", description: "must not be negative"))
            }
            let currency = account.creditLimit.currencyCode
            if !currency.isEmpty, currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isUppercase }) {
                violations.append(FieldViolation(field: "account.credit_limit.currency_code", description: "must be an ISO 4217 code such as CNY"))
            }
        }
        return violations
    }

    /// At most 50 tags; keys of 1–50 characters without ":", values of at most 200.
    static func validate(tags: [String: String], field: String) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        if tags.count > 50 { violations.append(FieldViolation(field: field, description: "at most 50 tags")) }
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
            if key.isBlank || key.count > 50 || key.contains(":") {
                violations.append(FieldViolation(field: "\(field)[\(key)]", description: "a tag key has 1–50 characters and no ':'"))
            }
            if value.count > 200 {
                violations.append(FieldViolation(field: "\(field)[\(key)]", description: "a tag value has at most 200 characters"))
            }
        }
        return violations
    }

    /// Credit fields may be set only by those who may see them (DESIGN §9 field level).
    static func validateCredit(_ account: Forge_Accounts_V1_Account, principal: Principal?) -> [FieldViolation] {
        guard !maySeeCredit(principal) else { return [] }
        var violations: [FieldViolation] = []
        if !account.creditRating.isEmpty {
            violations.append(FieldViolation(field: "account.credit_rating", description: "only finance, managers and admins set credit fields"))
        }
        if account.hasCreditLimit {
            violations.append(FieldViolation(field: "account.credit_limit", description: "only finance, managers and admins set credit fields"))
        }
        return violations
    }

    static func maySeeCredit(_ principal: Principal?) -> Bool {
        guard let principal else { return false }
        // Services read them for their own rules (orders' credit check) and apply their own field rules.
        return !principal.roles.isDisjoint(with: [Role.finance, Role.salesManager, Role.serviceManager, Role.admin, Role.service])
    }

    /// The account as `principal` may see it: credit fields only for finance, managers, admin.
    static func view(_ account: Forge_Accounts_V1_Account, for principal: Principal?) -> Forge_Accounts_V1_Account {
        guard !maySeeCredit(principal) else { return account }
        var masked = account
        masked.creditRating = ""
        masked.clearCreditLimit()
        return masked
    }

    /// Field violations of an update; empty when it may be applied.
    static func validate(update account: Forge_Accounts_V1_Account) -> [FieldViolation] {
        var violations = validate(new: account, checkingCheckCharacter: false).filter { $0.field != "account.id" }
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
        compare("size", "\(old.size)", "\(new.size)")
        compare("industry_showcase", "\(old.industryShowcase)", "\(new.industryShowcase)")
        compare("brings_partners", "\(old.bringsPartners)", "\(new.bringsPartners)")
        compare("parent_account_id", old.parentAccountID, new.parentAccountID)
        compare("credit_rating", old.creditRating, new.creditRating)
        compare("credit_limit", old.hasCreditLimit ? "\(old.creditLimit.amountMicros) \(old.creditLimit.currencyCode)" : "",
                new.hasCreditLimit ? "\(new.creditLimit.amountMicros) \(new.creditLimit.currencyCode)" : "")
        compare("marketing_consent", "\(old.consent.marketing)", "\(new.consent.marketing)")
        compare("processing_basis", "\(old.consent.processingBasis)", "\(new.consent.processingBasis)")
        compare("tags", AccountStore.encodeTags(old.tags), AccountStore.encodeTags(new.tags))
        return changed
    }

    /// Restricts a query to what `principal` may see (DESIGN §9, `OwnerScope`).
    /// - Parameter table: the alias of the account table in the query, when it has one.
    static func visibility(for principal: Principal, table: String? = nil, clauses: inout [String], arguments: inout StatementArguments) {
        OwnerScope.restrict(principal, table: table, clauses: &clauses, arguments: &arguments)
    }

    static func isScoped(_ principal: Principal) -> Bool { OwnerScope.isScoped(principal) }

    /// Object-level access (DESIGN §9): the account's owner and team decide (`OwnerScope`).
    static func canSee(_ account: Forge_Accounts_V1_Account, principal: Principal) -> Bool {
        OwnerScope.canSee(owner: account.ownerID, team: account.team, principal: principal)
    }
}

extension Forge_Accounts_V1_Account {
    /// Takes the editable fields of `edit` (an update replaces them), except the credit fields
    /// when `principal` may not see them: those keep their stored values.
    mutating func apply(editsFrom edit: Forge_Accounts_V1_Account, principal: Principal?) {
        name = edit.name
        legalName = edit.legalName
        taxID = edit.taxID
        industry = edit.industry
        region = edit.region
        address = edit.address
        if edit.stage != .unspecified { stage = edit.stage }
        if edit.grade != .unspecified { grade = edit.grade }
        if edit.tier != .unspecified { tier = edit.tier }
        size = edit.size
        industryShowcase = edit.industryShowcase
        bringsPartners = edit.bringsPartners
        parentAccountID = edit.parentAccountID
        consent = edit.consent
        tags = edit.tags
        if AccountRules.maySeeCredit(principal) {
            creditRating = edit.creditRating
            if edit.hasCreditLimit { creditLimit = edit.creditLimit } else { clearCreditLimit() }
        }
    }
}
