import GRDB

extension Database {
    /// Runs a statement prepared once per connection (GRDB's statement cache). On hot write
    /// paths preparing costs more than running: an import spent a third of its time in
    /// `sqlite3_prepare`. Only for fixed SQL — text built with varying lists or clauses would
    /// grow the cache without bound.
    public func execute(cached sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
