import Foundation
import GRDB

/// Group commit: small durable writes that arrive together share one transaction and one
/// `fdatasync`. A write waits only while the transaction before it commits; everything that
/// arrived meanwhile goes in the next one, each write in its own savepoint, so one that throws
/// is rolled back alone and the others commit. Each caller is answered after the commit (a
/// failed commit fails every write in it). Under no concurrency it is one transaction per
/// write, as before; under load the single writer spends its time on work, not on syncing.
public actor GroupCommit {
    private let database: DatabasePool
    /// Writes waiting for the next transaction: each runs its work and returns how to answer.
    private var pending: [@Sendable (Database) -> @Sendable () -> Void] = []
    private var failures: [@Sendable (any Error) -> Void] = []
    private var flushing = false
    /// Transactions committed and writes in them (for the tests and the metrics).
    public private(set) var transactions = 0
    public private(set) var writes = 0

    public init(database: DatabasePool) {
        self.database = database
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
                let answers = try await database.write { db in batch.map { $0(db) } }
                transactions += 1
                writes += batch.count
                for answer in answers { answer() }
            } catch {
                for fail in failed { fail(error) }
            }
        }
        flushing = false
    }
}
