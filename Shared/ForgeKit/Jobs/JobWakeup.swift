import Synchronization

/// Wakes the job runner when a job due now is committed, so it runs now rather than at the
/// next poll (up to a second later): a customer's notification, a survey's send, a webhook's
/// delivery follow the change that caused them at once. The poll stays for jobs that fall due
/// later and for work committed by another process. One per process: a signal wakes every
/// runner waiting in it (a test process runs several), and one with nothing due polls once
/// and waits again.
final class JobWakeup: Sendable {
    static let shared = JobWakeup()

    private struct State {
        /// A signal no runner was waiting for: the next wait returns at once.
        var signalled = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Waits ended (timer, cancellation) before their runner got to wait.
        var ended: Set<UInt64> = []
        var next: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Ends every current wait, or the next one when none is waiting.
    func signal() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.waiters.isEmpty else {
                state.signalled = true
                return []
            }
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until `signal()`, `duration` passes or the task is cancelled, whichever is first.
    func wait(upTo duration: Duration) async {
        let id = state.withLock { state -> UInt64 in
            state.next += 1
            return state.next
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                guard (try? await Task.sleep(for: duration)) != nil else { return }
                end(id)
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let now = state.withLock { state -> Bool in
                        if state.ended.remove(id) != nil { return true }
                        if state.signalled {
                            state.signalled = false
                            return true
                        }
                        state.waiters[id] = continuation
                        return false
                    }
                    if now { continuation.resume() }
                }
            } onCancel: {
                end(id)
            }
            group.cancelAll()
        }
        state.withLock { _ = $0.ended.remove(id) }
    }

    /// Ends one wait: resumes it, or marks it ended when it has not started waiting yet.
    private func end(_ id: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            state.ended.insert(id)
            return nil
        }
        waiter?.resume()
    }
}
