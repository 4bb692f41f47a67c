import GRDB
import Synchronization

/// Wakes long-polling readers when a transaction that wrote the outbox commits — on commit,
/// not on a timer.
public final class CommitSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Increases with every commit that touched the watched tables.
    public var generation: UInt64 { state.withLock { $0.generation } }

    public func signal() {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.generation += 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Returns once the generation moved past `seen`, `timeout` elapsed, or the task was cancelled.
    public func wait(beyond seen: UInt64, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForSignal(beyond: seen) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal(beyond seen: UInt64) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation > seen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let continuation = state.withLock { $0.waiters.removeValue(forKey: id) }
            continuation?.resume()
        }
    }

    /// Signals after every commit that changed `table` in `writer`. Keep the returned
    /// cancellable for as long as signals are wanted.
    public func observe(table: String, in writer: any DatabaseWriter) throws -> AnyDatabaseCancellable {
        let observation = DatabaseRegionObservation(tracking: Table(table))
        return observation.start(in: writer, onError: { _ in }, onChange: { [self] _ in signal() })
    }
}
