import Foundation
import GRDB

/// Group commit: small durable writes that arrive together share one transaction and one
/// sync of the log. A write waits only while the transaction before it commits; everything that
/// arrived meanwhile goes in the next one, each write in its own savepoint, so one that throws
/// is rolled back alone and the others commit. Each caller is answered after its commit is
/// durable (a failed commit fails every write in it). Under no concurrency it is one
/// transaction per write, as before; under load the single writer spends its time on work.
///
/// With `synchronous=FULL` a commit would wait for its fsync on the writer, and nothing else
/// could be written meanwhile (PipelineBench: 1.25 ms of each 3.4 ms group). Here the group
/// commits without it (`synchronous=NORMAL` for that transaction), the log is synced beside
/// the writer (`LogSync`), and only then are the group's callers answered: a write is answered
/// only once it is on disk, as before, while the next group already runs. What the writer
/// committed but the disk does not hold yet is visible to readers; after a power cut the log
/// ends at a commit before it, and none of those writes had been answered.
public actor GroupCommit {
    private let database: DatabasePool
    private let log: any LogSync
    /// Writes waiting for the next transaction: each runs its work and returns how to answer.
    private var pending: [@Sendable (Database) -> @Sendable () -> Void] = []
    private var failures: [@Sendable (any Error) -> Void] = []
    private var flushing = false
    /// Transactions committed and writes in them (for the tests and the metrics).
    public private(set) var transactions = 0
    public private(set) var writes = 0

    public init(database: DatabasePool) {
        self.init(database: database, log: WALFileSync(databasePath: database.path))
    }

    init(database: DatabasePool, log: any LogSync) {
        self.database = database
        self.log = log
    }

    public func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            pending.append { db in
                let result: Result<T, any Error>
                do {
                    result = .success(try db.withSavepoint { try work(db) })
                } catch {
                    result = .failure(error)
                }
                return { continuation.resume(with: result) }
            }
            failures.append { continuation.resume(throwing: $0) }
            if !flushing {
                flushing = true
                Task { await flush() }
            }
        }
    }

    private func flush() async {
        while !pending.isEmpty {
            let batch = pending
            let failed = failures
            pending = []
            failures = []
            do {
                let (answers, syncLog) = try await database.writeWithoutTransaction { db in
                    // FULL (2) or EXTRA (3): durable commits, synced here beside the writer.
                    // NORMAL: the database is configured not to sync commits, nor does this.
                    let level = try Int.fetchOne(db.cachedStatement(sql: "PRAGMA synchronous")) ?? 2
                    if level >= 2 { try db.execute(cached: "PRAGMA synchronous = NORMAL") }
                    defer { if level >= 2 { try? db.execute(cached: "PRAGMA synchronous = \(level)") } }
                    var answers: [@Sendable () -> Void] = []
                    try db.inTransaction {
                        answers = batch.map { $0(db) }
                        return .commit
                    }
                    return (answers, level >= 2)
                }
                transactions += 1
                writes += batch.count
                if syncLog {
                    // The next group may run while this one's log is synced.
                    Task { [log] in
                        do {
                            try await log.sync()
                            for answer in answers { answer() }
                        } catch {
                            for fail in failed { fail(error) }
                        }
                    }
                } else {
                    for answer in answers { answer() }
                }
            } catch {
                for fail in failed { fail(error) }
            }
        }
        flushing = false
    }
}
