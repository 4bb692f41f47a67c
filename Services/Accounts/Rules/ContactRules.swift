import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation

/// Contact rules with no I/O: validation, what changed, and field-level masking (DESIGN §9).
enum ContactRules {
    static func validate(_ contact: Forge_Accounts_V1_Contact, isNew: Bool) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        if isNew, contact.accountID.isEmpty {
            violations.append(FieldViolation(field: "contact.account_id", description: "is required"))
        }
        if !isNew, contact.id.isEmpty {
            violations.append(FieldViolation(field: "contact.id", description: "is required"))
        }
        if !isNew, contact.version <= 0 {
            violations.append(FieldViolation(field: "contact.version", description: "is required: the version you read"))
        }
        let name = contact.name.trimmed
        if name.isEmpty || name.count > 100 {
            violations.append(FieldViolation(field: "contact.name", description: "is required, at most 100 characters"))
        }
        if !contact.phone.isEmpty, ContactKeys.phone(contact.phone).count < 5 || ContactKeys.phone(contact.phone).count > 20 {
            violations.append(FieldViolation(field: "contact.phone", description: "must have 5 to 20 digits"))
        }
        if !contact.email.isEmpty, ContactKeys.emailDomain(contact.email).isEmpty {
            violations.append(FieldViolation(field: "contact.email", description: "is not an email address"))
        }
        if !(0...5).contains(contact.relationshipStrength) {
            violations.append(FieldViolation(field: "contact.relationship_strength", description: "must be 1 to 5"))
        }
        return violations
    }

    static func changedFields(from old: Forge_Accounts_V1_Contact, to new: Forge_Accounts_V1_Contact) -> [String: String] {
        var changed: [String: String] = [:]
        func compare(_ name: String, _ a: String, _ b: String) { if a != b { changed[name] = b } }
        compare("name", old.name, new.name)
        compare("title", old.title, new.title)
        compare("department", "\(old.department)", "\(new.department)")
        compare("buying_role", "\(old.buyingRole)", "\(new.buyingRole)")
        compare("relationship_strength", "\(old.relationshipStrength)", "\(new.relationshipStrength)")
        compare("phone", old.phone, new.phone)
        compare("email", old.email, new.email)
        compare("wechat_id", old.wechatID, new.wechatID)
        compare("marketing_consent", "\(old.marketingConsent)", "\(new.marketingConsent)")
        return changed
    }

    /// What `principal` may see of a contact: analysts get contact details masked; marketing
    /// only contacts who consented (nil: not visible at all).
    static func view(_ contact: Forge_Accounts_V1_Contact, for principal: Principal) -> Forge_Accounts_V1_Contact? {
        let roles = principal.roles
        let privileged: Set<String> = ["admin", "sales_manager", "sales_rep", "service_manager", "service_engineer", "service", "finance"]
        if roles.isDisjoint(with: privileged.union(["analyst"])), roles.contains("marketing") {
            return contact.marketingConsent ? contact : nil
        }
        if roles.isDisjoint(with: privileged), roles.contains("analyst") {
            var masked = contact
            masked.phone = mask(contact.phone, keepLast: 4)
            masked.email = contact.email.isEmpty ? "" : "***@" + ContactKeys.emailDomain(contact.email)
            masked.wechatID = contact.wechatID.isEmpty ? "" : "***"
            return masked
        }
        return contact
    }

    static func mask(_ value: String, keepLast count: Int) -> String {
        guard value.count > count else { return value.isEmpty ? "" : "***" }
        return String(repeating: "*", count: value.count - count) + value.suffix(count)
    }
}

/// Activity rules with no I/O.
enum ActivityRules {
    /// Field violations of a new activity, its fields named under `field` (`activity` or
    /// `activities[3]`); empty when it may be logged.
    static func validate(_ activity: Forge_Accounts_V1_Activity, field: String = "activity") -> [FieldViolation] {
        var violations: [FieldViolation] = []
        if activity.accountID.isBlank { violations.append(FieldViolation(field: "\(field).account_id", description: "is required")) }
        if activity.kind == .unspecified { violations.append(FieldViolation(field: "\(field).kind", description: "is required")) }
        if activity.subject.isBlank || activity.subject.count > 200 {
            violations.append(FieldViolation(field: "\(field).subject", description: "is required, at most 200 characters"))
        }
        // A note is text, not a file: 64 KiB is pages of writing.
        if activity.body.utf8.count > 64 * 1024 {
            violations.append(FieldViolation(field: "\(field).body", description: "must be at most 64 KiB"))
        }
        return violations
    }
}
