import NIOCore

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
