import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf
import GRDB

/// The weighted forecast (amount × stage probability) of the open opportunities expected to
/// close in each month, with commit and best case, the win rate and the days spent per stage.
struct Forecast: Sendable {
    let database: DatabasePool

    func report(_ request: Forge_Pipeline_V1_GetForecastRequest, window: (start: Date, end: Date), principal: Principal) async throws -> Forge_Pipeline_V1_GetForecastResponse {
        try await database.read { db in
            // The same scope over opportunities (o) and over their stage changes (s), which
            // carry the owner and team.
            func scope(_ table: String) -> (sql: String, arguments: StatementArguments) {
                var clauses: [String] = []
                var arguments = StatementArguments()
                if !request.team.isEmpty {
                    clauses.append("\(table).team = ?")
                    arguments += [request.team]
                }
                OwnerScope.restrict(principal, table: table, clauses: &clauses, arguments: &arguments)
                return (clauses.map { " AND " + $0 }.joined(), arguments)
            }
            let (scoped, scopeArguments) = scope("o")
            let (changesScoped, changesArguments) = scope("s")
            let (start, end) = (window.start.timeIntervalSince1970, window.end.timeIntervalSince1970)

            let key: String
            var join = ""
            var share = "1.0"
            switch request.by {
            case .owner: key = "o.owner_id"
            case .team: key = "o.team"
            case .productLine:
                key = "coalesce(p.product_line, '')"
                join = "LEFT JOIN opportunity_product_line p ON p.opportunity_id = o.id"
                // An opportunity over several product lines counts a share in each.
                share = "1.0 / max(1, (SELECT count(*) FROM opportunity_product_line q WHERE q.opportunity_id = o.id))"
            default: key = "''"
            }
            var response = Forge_Pipeline_V1_GetForecastResponse()
            let rows = try Row.fetchAll(db, sql: """
                SELECT strftime('%Y-%m', o.expected_close + \(Int(ForecastRules.offset)), 'unixepoch') AS month, \(key) AS key, o.currency AS currency,
                       count(*) AS n,
                       sum(o.amount_micros * \(share)) AS amount,
                       sum(o.amount_micros * o.probability / 100.0 * \(share)) AS weighted,
                       sum(CASE WHEN o.forecast_category = 3 THEN o.amount_micros * \(share) ELSE 0 END) AS commit_amount,
                       sum(CASE WHEN o.forecast_category IN (2, 3) THEN o.amount_micros * \(share) ELSE 0 END) AS best
                FROM opportunity o \(join)
                WHERE o.stage NOT IN (7, 8) AND o.expected_close >= ? AND o.expected_close < ?\(scoped)
                GROUP BY month, key, currency ORDER BY month, key, currency
                """, arguments: [start, end] + scopeArguments)
            response.rows = rows.map { row in
                let currency: String = row["currency"]
                func money(_ column: String) -> Forge_Common_V1_Money {
                    .with {
                        $0.currencyCode = currency
                        $0.amountMicros = Int64(((row[column] as Double?) ?? 0).rounded())
                    }
                }
                return .with {
                    $0.month = row["month"]
                    $0.key = row["key"]
                    $0.opportunities = row["n"]
                    $0.amount = money("amount")
                    $0.weighted = money("weighted")
                    $0.commit = money("commit_amount")
                    $0.bestCase = money("best")
                }
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT o.stage AS stage, count(*) AS n FROM opportunity o
                WHERE o.stage IN (7, 8) AND o.closed_at >= ? AND o.closed_at < ?\(scoped) GROUP BY o.stage
                """, arguments: [start, end] + scopeArguments) {
                if row["stage"] as Int == Forge_Pipeline_V1_Stage.won.rawValue { response.won = row["n"] } else { response.lost = row["n"] }
            }
            response.winRate = response.won + response.lost == 0 ? 0 : Double(response.won) / Double(response.won + response.lost)
            response.averageCycleDays = try Double.fetchOne(db, sql: """
                SELECT avg(o.closed_at - o.created_at) / 86400.0 FROM opportunity o
                WHERE o.stage = 7 AND o.closed_at >= ? AND o.closed_at < ?\(scoped)
                """, arguments: [start, end] + scopeArguments) ?? 0
            response.stages = try Row.fetchAll(db, sql: """
                SELECT s.from_stage AS stage, count(*) AS n, avg(s.days_in_from) AS days FROM stage_change s
                WHERE s.at >= ? AND s.at < ?\(changesScoped) GROUP BY s.from_stage ORDER BY s.from_stage
                """, arguments: [start, end] + changesArguments).map { row in
                .with {
                    $0.stage = Forge_Pipeline_V1_Stage(rawValue: row["stage"]) ?? .unspecified
                    $0.exits = row["n"]
                    $0.averageDays = row["days"]
                }
            }
            return response
        }
    }
}
