import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Finds candidate duplicate accounts across the whole database (issue 4's rules).
struct DuplicateFinder: Sendable {
    let database: DatabasePool

    func pairs(limit: Int, principal: Principal) async throws -> [Forge_Accounts_V1_DuplicatePair] {
        try await database.read { db in
            var pairs: [Forge_Accounts_V1_DuplicatePair] = []
            var seen = Set<String>()
            func add(_ rows: [Row], reason: String) {
                for row in rows where pairs.count < limit {
                    let a: String = row["a"]
                    let b: String = row["b"]
                    guard seen.insert(a + "|" + b).inserted else { continue }
                    pairs.append(.with {
                        $0.accountID = a
                        $0.otherAccountID = b
                        $0.reason = reason
                    })
                }
            }
            // Rows that kept a tax id as typed because another already held its normalised form
            // (the accounts-v16 migration); the index on tax_id finds the holder.
            add(try Row.fetchAll(db, sql: """
                SELECT min(x.id, y.id) AS a, max(x.id, y.id) AS b FROM account x JOIN account y ON y.tax_id = replace(upper(x.tax_id), ' ', '')
                WHERE x.tax_id != replace(upper(x.tax_id), ' ', '') ORDER BY a, b LIMIT ?
                """, arguments: [limit]), reason: "same tax id")
            add(try Row.fetchAll(db, sql: """
                SELECT x.id AS a, y.id AS b FROM account x JOIN account y ON x.normalized_name = y.normalized_name AND x.id < y.id
                WHERE x.normalized_name != '' ORDER BY x.id, y.id LIMIT ?
                """, arguments: [limit]), reason: "same normalised name")
            add(try Row.fetchAll(db, sql: """
                SELECT DISTINCT x.account_id AS a, y.account_id AS b FROM contact x
                JOIN contact y ON x.phone = y.phone AND x.account_id < y.account_id
                WHERE length(x.phone) >= 7 ORDER BY a, b LIMIT ?
                """, arguments: [limit]), reason: "shared contact phone")
            let publicDomains = Array(ContactKeys.publicEmailDomains)
            add(try Row.fetchAll(db, sql: """
                SELECT DISTINCT x.account_id AS a, y.account_id AS b FROM contact x
                JOIN contact y ON x.email_domain = y.email_domain AND x.account_id < y.account_id
                WHERE x.email_domain != '' AND x.email_domain NOT IN (\(databaseQuestionMarks(count: publicDomains.count)))
                ORDER BY a, b LIMIT ?
                """, arguments: StatementArguments(publicDomains) + [limit]), reason: "shared email domain")
            // Only pairs whose two accounts the caller may see.
            let ids = Array(Set(pairs.flatMap { [$0.accountID, $0.otherAccountID] }))
            guard !ids.isEmpty else { return [] }
            var clauses = ["id IN (\(databaseQuestionMarks(count: ids.count)))"]
            var arguments = StatementArguments(ids)
            AccountRules.visibility(for: principal, clauses: &clauses, arguments: &arguments)
            let visible = Set(try String.fetchAll(db, sql: "SELECT id FROM account WHERE \(clauses.joined(separator: " AND "))", arguments: arguments))
            return pairs.filter { visible.contains($0.accountID) && visible.contains($0.otherAccountID) }
        }
    }
}
