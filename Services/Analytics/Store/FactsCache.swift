import Foundation
import GRDB
import Synchronization

/// The facts in memory between changes of the read model: a KPI over a million orders is a
/// pass over arrays, not a million rows read. Every consumer's transaction that changes the
/// read model moves the generation on when it commits (`changed`); the next question loads
/// the facts again, once however many ask at the same moment. Per-customer questions (one
/// account's health) read their own rows and need none of this.
final class FactsCache: Sendable {
    private struct State {
        var generation: UInt64 = 1
        var loaded: (generation: UInt64, facts: Facts, byAccount: [String: Facts])?
        var loading: Task<(Facts, [String: Facts]), any Error>?
        var loadingGeneration: UInt64 = 0
        /// A commit hook is registered for the transaction under way (one per transaction:
        /// GRDB tells every registered observer about every statement).
        var bumpPending = false
    }

    private let state = Mutex(State())
    private let database: DatabasePool

    init(database: DatabasePool) {
        self.database = database
    }

    /// Marks the read model changed once `db`'s transaction commits.
    func changed(_ db: Database) {
        // One writer connection: transactions do not overlap.
        guard state.withLock({ state in
            defer { state.bumpPending = true }
            return !state.bumpPending
        }) else { return }
        db.afterNextTransaction { _ in
            self.state.withLock { $0.generation &+= 1; $0.bumpPending = false }
        } onRollback: { _ in
            self.state.withLock { $0.bumpPending = false }
        }
    }

    /// The facts as of the last committed change, and each account's own.
    func facts() async throws -> (facts: Facts, byAccount: [String: Facts]) {
        let task: Task<(Facts, [String: Facts]), any Error>
        let generation: UInt64
        (task, generation) = state.withLock { state -> (Task<(Facts, [String: Facts]), any Error>, UInt64) in
            if let loaded = state.loaded, loaded.generation == state.generation {
                return (Task { (loaded.facts, loaded.byAccount) }, state.generation)
            }
            if let loading = state.loading, state.loadingGeneration == state.generation {
                return (loading, state.generation)
            }
            let database = self.database
            let loading = Task {
                let facts = try await database.read { db in try AnalyticsStore.facts(db) }.indexed()
                return (facts, facts.byAccount())
            }
            state.loading = loading
            state.loadingGeneration = state.generation
            return (loading, state.generation)
        }
        let facts: Facts, byAccount: [String: Facts]
        do {
            (facts, byAccount) = try await task.value
        } catch {
            // A failed load is not kept: the next question tries again.
            state.withLock { state in
                if state.loadingGeneration == generation { state.loading = nil }
            }
            throw error
        }
        state.withLock { state in
            if state.loaded.map({ $0.generation < generation }) ?? true { state.loaded = (generation, facts, byAccount) }
            if state.loadingGeneration == generation { state.loading = nil }
        }
        return (facts, byAccount)
    }
}
