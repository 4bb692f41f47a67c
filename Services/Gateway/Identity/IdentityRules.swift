import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation

/// Identity rules with no I/O: what a user and a password must be, and how sign-in failures
/// slow further attempts down.
enum IdentityRules {
    static let tokenLifetime: TimeInterval = 15 * 60
    static let refreshLifetime: TimeInterval = 30 * 86_400

    static func validate(_ user: Forge_Gateway_V1_User, isNew: Bool) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        let name = user.username
        if name.isEmpty || name.count > 64 || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) })
            || name.hasPrefix("key:") {
            violations.append(FieldViolation(field: "user.username", description: "1–64 letters, digits, '.', '_' or '-'"))
        }
        if user.displayName.isBlank || user.displayName.count > 100 {
            violations.append(FieldViolation(field: "user.display_name", description: "is required, at most 100 characters"))
        }
        if user.roles.isEmpty {
            violations.append(FieldViolation(field: "user.roles", description: "at least one role"))
        }
        for (index, role) in user.roles.enumerated() where !Role.all.contains(role) {
            violations.append(FieldViolation(field: "user.roles[\(index)]", description: "'\(role)' is not a role (\(Role.all.sorted().joined(separator: ", ")))"))
        }
        if user.team.count > 64 { violations.append(FieldViolation(field: "user.team", description: "at most 64 characters")) }
        if !isNew, user.version <= 0 { violations.append(FieldViolation(field: "user.version", description: "is required: the version you read")) }
        return violations
    }

    static func validate(password: String, field: String) -> [FieldViolation] {
        // Counted in Unicode scalars, as the OpenAPI document's lengths are; 256 of them are at
        // most 1 KiB of UTF-8 for scrypt.
        guard password.unicodeScalars.count >= 10, password.unicodeScalars.count <= 256 else {
            return [FieldViolation(field: field, description: "10 to 256 characters")]
        }
        return []
    }

    /// Sign-in slow-down: five failures in a row are free; each further failure locks the
    /// username for 2^(failures − 5) seconds, at most 15 minutes. A success clears it.
    static func lockout(afterFailures failures: Int) -> TimeInterval {
        guard failures >= 5 else { return 0 }
        return min(900, pow(2, Double(failures - 5)))
    }
}
