import ForgeWire
import GRDB

/// Object-level access to owned records (DESIGN §9), the same in every service that keeps
/// records with an owner and a team (accounts, leads, opportunities): a sales rep reaches the
/// records they own or share a team with, a sales manager their team's (a manager without a
/// team heads all of sales); every other role allowed to call the method reaches all.
public enum OwnerScope {
    /// Whether `principal` reaches only their own and their team's records.
    public static func isScoped(_ principal: Principal) -> Bool {
        let companyWide: Set<String> = [Role.admin, Role.analyst, Role.finance, Role.marketing, Role.service,
                                        Role.serviceManager, Role.serviceEngineer]
        guard principal.roles.isDisjoint(with: companyWide) else { return false }
        if principal.roles.contains(Role.salesManager) { return !principal.team.isEmpty }
        return principal.roles.contains(Role.salesRep)
    }

    public static func canSee(owner: String, team: String, principal: Principal) -> Bool {
        guard isScoped(principal) else { return true }
        return owner == principal.subject || (!principal.team.isEmpty && team == principal.team)
    }

    /// Restricts a query to what `principal` may see (the SQL form of `canSee`), on the
    /// columns `owner_id` and `team`.
    /// - Parameter table: the alias of the owning table in the query, when it has one.
    public static func restrict(_ principal: Principal, table: String? = nil, clauses: inout [String], arguments: inout StatementArguments) {
        guard let parts = parts(principal, table: table) else { return }
        clauses.append(parts.count == 1 ? parts[0].clause : "(" + parts.map(\.clause).joined(separator: " OR ") + ")")
        for part in parts { arguments += part.arguments }
    }

    /// What `principal` may see as conditions each of which admits a record — their own, their
    /// team's — or nil for everything. A query that walks an index per condition (a compound
    /// SELECT) can stop early where `owner_id = ? OR team = ?` makes SQLite collect and sort.
    public static func parts(_ principal: Principal, table: String? = nil) -> [(clause: String, arguments: StatementArguments)]? {
        guard isScoped(principal) else { return nil }
        let column = { (name: String) in table.map { "\($0).\(name)" } ?? name }
        var parts: [(clause: String, arguments: StatementArguments)] = [("\(column("owner_id")) = ?", [principal.subject])]
        if !principal.team.isEmpty { parts.append(("\(column("team")) = ?", [principal.team])) }
        return parts
    }
}
