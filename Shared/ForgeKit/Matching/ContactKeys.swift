import Foundation

/// The forms in which a phone number and an email address identify a company or a person for
/// duplicate detection: accounts compares contacts with them, pipeline compares leads with
/// leads and with accounts' contacts. One implementation, so the two never disagree.
public enum ContactKeys {
    /// Mail domains shared by unrelated companies: a match on these says nothing.
    public static let publicEmailDomains: Set<String> = [
        "qq.com", "163.com", "126.com", "sina.com", "sohu.com", "foxmail.com", "yeah.net", "139.com",
        "gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com",
    ]

    /// Digits only (full-width digits folded), without China's country code, so
    /// "+86 138-0000-1234", "0086 13800001234" and "１３８ 0000 1234" compare equal.
    public static func phone(_ phone: String) -> String {
        let folded = phone.precomposedStringWithCompatibilityMapping
        let digits = String(folded.unicodeScalars.filter { $0.isASCII && CharacterSet.decimalDigits.contains($0) }.map(Character.init))
        if digits.hasPrefix("0086") { return String(digits.dropFirst(4)) }
        if digits.hasPrefix("86"), digits.count == 13 { return String(digits.dropFirst(2)) }
        return digits
    }

    /// The lower-cased domain of a well-formed address, else "".
    public static func emailDomain(_ email: String) -> String {
        let parts = email.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "@")
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains(".") else { return "" }
        return String(parts[1])
    }

    /// The domain when it can tell a company apart (not a public mail service), else "".
    public static func companyEmailDomain(_ email: String) -> String {
        let domain = emailDomain(email)
        return publicEmailDomains.contains(domain) ? "" : domain
    }
}
