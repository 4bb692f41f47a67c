/// Who is calling: established by the authentication interceptor from the caller's token.
public struct Principal: Sendable, Hashable {
    /// The user or integration id (the token's `sub`).
    public var subject: String
    /// Roles from DESIGN §9, e.g. `sales_rep`, `admin`, `service`.
    public var roles: Set<String>
    /// The sales or service team, empty when none.
    public var team: String

    public init(subject: String, roles: Set<String>, team: String = "") {
        self.subject = subject
        self.roles = roles
        self.team = team
    }

    public func hasRole(_ role: String) -> Bool { roles.contains(role) }
}
