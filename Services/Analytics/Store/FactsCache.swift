import Foundation
import GRDB
import ServiceLifecycle
import Synchronization

/// The facts in memory between changes of the read model: a KPI over a million orders is a
/// pass over arrays, not a million rows read. Every consumer's transaction that changes the
/// read model moves the generation on when it commits (`changed`); the next question loads
/// the facts again, once however many ask at the same moment. Per-customer questions (one
/// account's health) read their own rows and need none of this.
///
/// Reloading a large read model (a million orders take seconds to read) does not hold
/// questions up: while it runs they are answered from the facts before it, so under a steady
/// stream of events the figures are at most one reload behind the feeds instead of every
/// question waiting for one. A small one (fewer facts than `largeAbove`, read in well under a
/// second) is waited for and always answered fresh. Size, not the time a reload took, decides:
/// a busy machine must not turn a small read model's answers stale.
final class FactsCache: Sendable {
    private struct Loaded {
        var generation: UInt64
        var facts: Facts
        var byAccount: [String: Facts]
        /// How many facts (rows) they are.
        var size: Int
    }

    private struct State {
        var generation: UInt64 = 1
        var loaded: Loaded?
        var loading: Task<Loaded, any Error>?
        var loadingGeneration: UInt64 = 0
        /// A commit hook is registered for the transaction under way (one per transaction:
        /// GRDB tells every registered observer about every statement).
        var bumpPending = false
    }

    private let state = Mutex(State())
    private let database: DatabasePool
    private let largeAbove: Int

    /// - Parameter largeAbove: how many facts make a read model large (its reloads run while
    ///   questions are answered from the facts before): ~0.3 s of reading at 250,000.
    init(database: DatabasePool, largeAbove: Int = 250_000) {
        self.database = database
        self.largeAbove = largeAbove
    }

    /// Whether facts have been read into memory (any generation).
    var hasFacts: Bool { state.withLock { $0.loaded != nil } }

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

    /// The facts as of the last committed change (or, while a long reload runs, as of the
    /// one before it), and each account's own.
    func facts() async throws -> (facts: Facts, byAccount: [String: Facts]) {
        enum Answer { case now(Loaded), after(Task<Loaded, any Error>) }
        let answer = state.withLock { state -> Answer in
            if let loaded = state.loaded, loaded.generation == state.generation { return .now(loaded) }
            if let loaded = state.loaded, loaded.size >= largeAbove {
                // One long reload at a time; the question does not wait for it.
                if state.loading == nil { _ = startLoading(&state) }
                return .now(loaded)
            }
            return .after(state.loading.flatMap { state.loadingGeneration == state.generation ? $0 : nil } ?? startLoading(&state))
        }
        let loaded: Loaded
        switch answer {
        case .now(let kept): loaded = kept
        case .after(let reload): loaded = try await reload.value
        }
        return (loaded.facts, loaded.byAccount)
    }

    /// Starts reading the facts of the current generation; the result is kept when it is
    /// newer than what is kept, whether or not anyone waits for it.
    private func startLoading(_ state: inout State) -> Task<Loaded, any Error> {
        let generation = state.generation
        let database = database
        let task = Task {
            do {
                let facts = try await database.read { db in try AnalyticsStore.facts(db) }.indexed()
                let size = facts.accounts.count + facts.orders.count + facts.lines.count + facts.installments.count
                    + facts.opportunities.count + facts.tickets.count + facts.answers.count + facts.activities.count
                let loaded = Loaded(generation: generation, facts: facts, byAccount: facts.byAccount(), size: size)
                self.state.withLock { state in
                    if state.loaded.map({ $0.generation < generation }) ?? true { state.loaded = loaded }
                    if state.loadingGeneration == generation { state.loading = nil }
                }
                return loaded
            } catch {
                // A failed load is not kept: the next question tries again.
                self.state.withLock { state in
                    if state.loadingGeneration == generation { state.loading = nil }
                }
                throw error
            }
        }
        state.loading = task
        state.loadingGeneration = generation
        return task
    }
}

/// Reads the facts once at start-up, so that the first question after a restart finds them
/// read (6–10 s at a million orders) instead of waiting for them.
struct FactsWarmUp: Service {
    let cache: FactsCache

    func run() async throws {
        _ = try? await cache.facts()
        try? await gracefulShutdown()
    }
}
