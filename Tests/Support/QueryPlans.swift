import GRDB

/// The statements a piece of code runs on a connection, each with the plan SQLite makes for it
/// (no statistics, as in production): for tests that hold a hot read to its indexes.
public enum QueryPlans {
    public static func of(_ db: Database, running body: () throws -> Void) throws -> [(sql: String, plan: String)] {
        let log = StatementLog()
        db.trace(options: .statement) { event in
            if case let .statement(statement) = event { log.sql.append(statement.expandedSQL) }
        }
        do {
            try body()
        } catch {
            db.trace(options: .statement, nil)
            throw error
        }
        db.trace(options: .statement, nil)
        return try log.sql.map { sql in
            (sql, try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }.joined(separator: "; "))
        }
    }

    /// Filled by the trace, on the connection's queue.
    private final class StatementLog: @unchecked Sendable {
        var sql: [String] = []
    }
}
