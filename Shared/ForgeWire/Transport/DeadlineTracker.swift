import NIOCore
import Synchronization

/// Tracks the deadlines of many calls with one timer per connection.
///
/// A timer per call made every completed call cancel its timer, and NIO removes a cancelled
/// timer from its heap by a linear search: about a tenth of a loaded server's time. Here a
/// completion is a dictionary removal; the single timer sits at the earliest deadline known
/// when it was set, and on firing expires what is due and re-arms for the next one.
/// Confined to `eventLoop`.
final class DeadlineTracker<Key: Hashable>: NIOScheduledCallbackHandler {
    private let eventLoop: any EventLoop
    private let onExpire: (Key) -> Void
    private var deadlines: [Key: NIODeadline] = [:]
    private var armed: (at: NIODeadline, callback: NIOScheduledCallback)?

    init(eventLoop: any EventLoop, onExpire: @escaping (Key) -> Void) {
        self.eventLoop = eventLoop
        self.onExpire = onExpire
    }

    func add(_ key: Key, deadline: NIODeadline) {
        deadlines[key] = deadline
        if let armed, armed.at <= deadline { return }
        arm(at: deadline)
    }

    func remove(_ key: Key) {
        deadlines.removeValue(forKey: key)
    }

    /// Stops the timer (the connection is gone).
    func cancelAll() {
        armed?.callback.cancel()
        armed = nil
        deadlines.removeAll()
    }

    func handleScheduledCallback(eventLoop: some EventLoop) {
        armed = nil
        let now = eventLoop.now
        let due = deadlines.filter { $0.value <= now }.map(\.key)
        for key in due {
            deadlines.removeValue(forKey: key)
        }
        for key in due {
            onExpire(key)
        }
        if let next = deadlines.values.min() {
            arm(at: next)
        }
    }

    private func arm(at deadline: NIODeadline) {
        armed?.callback.cancel()
        if let callback = try? eventLoop.assumeIsolated().scheduleCallback(at: deadline, handler: self) {
            armed = (deadline, callback)
        }
    }
}

/// `DeadlineTracker` for callers on any thread (the in-process channel's callers are tasks, not
/// event-loop code): the same one timer at the earliest deadline, under a lock. Arming crosses
/// to the event loop only when a deadline comes before the armed one — with one timeout for
/// every call, a busy stretch arms once; a timer per call woke the loop from another thread
/// twice per call (arm, cancel) and left NIO a linear search of its timer heap per cancel.
final class ConcurrentDeadlineTracker: Sendable {
    private struct State {
        var deadlines: [UInt64: (at: NIODeadline, expire: @Sendable () -> Void)] = [:]
        var nextKey: UInt64 = 0
        var armed: (at: NIODeadline, timer: Scheduled<Void>)?
    }

    private let eventLoop: any EventLoop
    private let state = Mutex(State())

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Calls `expire` once `timeout` has passed (on the event loop's clock) unless `remove`d
    /// first; the key to remove it with.
    func add(after timeout: TimeAmount, expire: @escaping @Sendable () -> Void) -> UInt64 {
        let deadline = eventLoop.now + timeout
        return state.withLock { state in
            let key = state.nextKey
            state.nextKey += 1
            state.deadlines[key] = (deadline, expire)
            if state.armed.map({ $0.at > deadline }) ?? true { arm(&state, at: deadline) }
            return key
        }
    }

    func remove(_ key: UInt64) {
        _ = state.withLock { $0.deadlines.removeValue(forKey: key) }
    }

    private func fire() {
        let now = eventLoop.now
        let due = state.withLock { state in
            state.armed = nil
            let due = state.deadlines.filter { $0.value.at <= now }
            for key in due.keys { state.deadlines.removeValue(forKey: key) }
            if let next = state.deadlines.values.map(\.at).min() { arm(&state, at: next) }
            return due.values.map(\.expire)
        }
        for expire in due { expire() }
    }

    private func arm(_ state: inout State, at deadline: NIODeadline) {
        state.armed?.timer.cancel()
        state.armed = (deadline, eventLoop.scheduleTask(deadline: deadline) { self.fire() })
    }
}
