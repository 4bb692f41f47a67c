import ForgeContracts
import Foundation
import GRDB

/// SQL conditions over the `account` table shared by the list filters and segments.
enum AccountQuery {
    /// `tag` is "key:value", or "key" for any value.
    static func tag(_ tag: String, clauses: inout [String], arguments: inout StatementArguments) {
        if let colon = tag.firstIndex(of: ":") {
            clauses.append("id IN (SELECT account_id FROM account_tag WHERE key = ? AND value = ?)")
            arguments += [String(tag[..<colon]), String(tag[tag.index(after: colon)...])]
        } else {
            clauses.append("id IN (SELECT account_id FROM account_tag WHERE key = ?)")
            arguments += [tag]
        }
    }

    /// The conditions of a segment: each non-empty list is an IN; every tag must match.
    static func segment(_ filter: Forge_Accounts_V1_SegmentFilter, clauses: inout [String], arguments: inout StatementArguments) {
        func oneOf(_ column: String, _ values: [any DatabaseValueConvertible]) {
            guard !values.isEmpty else { return }
            clauses.append("\(column) IN (\(databaseQuestionMarks(count: values.count)))")
            arguments += StatementArguments(values)
        }
        oneOf("industry", filter.industries)
        oneOf("region", filter.regions)
        oneOf("grade", filter.grades.map(\.rawValue))
        oneOf("tier", filter.tiers.map(\.rawValue))
        oneOf("stage", filter.stages.map(\.rawValue))
        for tag in filter.tags { Self.tag(tag, clauses: &clauses, arguments: &arguments) }
        if filter.marketingConsentOnly { clauses.append("marketing_consent = 1") }
    }
}
