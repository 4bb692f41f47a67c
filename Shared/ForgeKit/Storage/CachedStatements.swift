import GRDB

extension Database {
    /// Runs a statement prepared once per connection (GRDB's statement cache). On hot write
    /// paths preparing costs more than running: an import spent a third of its time in
    /// `sqlite3_prepare`. Only for fixed SQL — text built with varying lists or clauses would
    /// grow the cache without bound.
    public func execute(cached sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// The rows of `select` + " = ?" for one value, else `select` + " IN (SELECT value FROM
    /// json_each(?))" with the values as one JSON list (`JSONList`), then `tail` (an ORDER BY, a
    /// partial index's condition). Both statement texts are fixed, so both stay prepared: a
    /// list of `?`s is a new statement for every count, prepared and bound value by value.
    public func fetchCursor(_ select: String, oneOf values: [String], _ tail: String = "") throws -> RowCursor {
        values.count == 1
            ? try Row.fetchCursor(cachedStatement(sql: "\(select) = ?\(tail)"), arguments: [values[0]])
            : try Row.fetchCursor(cachedStatement(sql: "\(select) IN (SELECT value FROM json_each(?))\(tail)"), arguments: [JSONList.of(values)])
    }

    /// Runs `body` in a savepoint inside the current transaction (a transaction of its own
    /// outside one): what it wrote is rolled back when it throws, and the error rethrown. As
    /// GRDB's `inSavepoint`, with its three statements prepared once per connection — GRDB
    /// prepares them on every call, which a group commit of small writes paid once per write.
    public func withSavepoint<T>(_ body: () throws -> T) throws -> T {
        guard isInsideTransaction else {
            var value: T?
            try inTransaction {
                value = try body()
                return .commit
            }
            return value!
        }
        try execute(cached: "SAVEPOINT forge")
        let value: T
        do {
            value = try body()
        } catch {
            // When SQLite has already rolled the whole transaction back, these fail too; the
            // body's error is the one to report, and the transaction's commit fails after it.
            try? execute(cached: "ROLLBACK TO SAVEPOINT forge")
            try? execute(cached: "RELEASE SAVEPOINT forge")
            throw error
        }
        try execute(cached: "RELEASE SAVEPOINT forge")
        return value
    }

    /// Writes many rows, in order, with a few multi-row statements: `head` + "row, row, …" +
    /// `tail` (an INSERT's columns, one row's placeholders, an ON CONFLICT clause), `values`
    /// the rows' values one after another. A statement per row spends more in GRDB's
    /// per-statement work (arguments, observation, reset) than SQLite spends storing the row.
    /// Rows go `rowsPerStatement` at a time, the rest in groups of 64, 32, … 1, so a handful
    /// of statement texts is ever cached however the batches vary. SQLite applies an upsert
    /// row by row within one statement too: of two rows with one key, the later one wins.
    public func executeRows(_ head: String, row: String, _ tail: String = "", values: [DatabaseValue],
                            columns: Int, rowsPerStatement: Int = 100) throws {
        precondition(columns > 0 && values.count % columns == 0, "values must be whole rows")
        var start = 0
        var remaining = values.count / columns
        while remaining > 0 {
            let rows = remaining >= rowsPerStatement ? rowsPerStatement : 1 << (Int.bitWidth - 1 - remaining.leadingZeroBitCount)
            let sql = head + Array(repeating: row, count: rows).joined(separator: ", ") + tail
            let statement = try cachedStatement(sql: sql)
            // Bound here value by value: GRDB's StatementArguments maps every value through a
            // key path and checks it again before binding, which cost the ERP ingest a tenth
            // of its writer's time (perf). Marking the statement's (empty) arguments as bound
            // resets it; the values bound after are what `execute()` runs with.
            statement.setUncheckedArguments(StatementArguments())
            for (index, value) in zip(CInt(1)..., values[start..<(start + rows * columns)]) {
                let code = ResultCode(rawValue: value.bind(to: statement.sqliteStatement, at: index))
                guard code == .SQLITE_OK else { throw DatabaseError(resultCode: code, message: "binding value \(index)", sql: sql) }
            }
            try statement.execute()
            start += rows * columns
            remaining -= rows
        }
    }
}
