import GRDB
import ServiceLifecycle
import NIOCore
import NIOPosix
import Synchronization

/// Wakes long-polling readers when a transaction that wrote the outbox commits — on commit,
/// not on a timer.
///
/// A wait's timeout is an event-loop timer, cancelled (and freed) when the commit comes first.
/// It was a `Task.sleep` in a child task: a cancelled sleep keeps its task and dispatch timer
/// alive until the deadline, so a burst of commits woke thousands of 30-second `Pull`s and
/// left 2.8 MB behind in the accounts service after the demo load (heaptrack).
public final class CommitSignal: Sendable {
    private struct Waiter {
        let continuation: CheckedContinuation<Void, Never>
        var timeout: Scheduled<Void>?
    }

    private struct State {
        var closed = false
        var generation: UInt64 = 0
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: Waiter] = [:]
    }

    private let state = Mutex(State())
    private let eventLoop: any EventLoop

    public init(eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()) {
        self.eventLoop = eventLoop
    }

    /// Waits whose timeout timer is armed (tests).
    var armedTimeouts: Int { state.withLock { $0.waiters.values.filter { $0.timeout != nil }.count } }

    /// Increases with every commit that touched the watched tables.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Whether `close()` was called: long polls answer at once from then on.
    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Wakes every wait, now and later: the service is shutting down, and a draining server
    /// should not hold a 30-second long poll open until its grace period ends.
    public func close() {
        state.withLock { $0.closed = true }
        signal()
    }

    public func signal() {
        let waiting = state.withLock { state -> [Waiter] in
            state.generation += 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiting {
            waiter.timeout?.cancel()
            waiter.continuation.resume()
        }
    }

    /// Returns once the generation moved past `seen`, `timeout` elapsed, the signal was closed,
    /// or the task was cancelled.
    public func wait(beyond seen: UInt64, timeout: Duration) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.closed || state.generation > seen || Task.isCancelled || timeout <= .zero { return true }
                    state.waiters[id] = Waiter(continuation: continuation)
                    return false
                }
                if resumeNow {
                    continuation.resume()
                    return
                }
                let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) { self.resume(id) }
                let stillWaiting = state.withLock { state -> Bool in
                    guard state.waiters[id] != nil else { return false }
                    state.waiters[id]?.timeout = timer
                    return true
                }
                if !stillWaiting { timer.cancel() }  // a commit or a cancel came first
            }
        } onCancel: {
            resume(id)
        }
    }

    private func resume(_ id: UInt64) {
        guard let waiter = state.withLock({ $0.waiters.removeValue(forKey: id) }) else { return }
        waiter.timeout?.cancel()
        waiter.continuation.resume()
    }

    /// Signals after every commit that changed `table` in `writer`. Keep the returned
    /// cancellable for as long as signals are wanted.
    public func observe(table: String, in writer: any DatabaseWriter) throws -> AnyDatabaseCancellable {
        let observer = TableCommitObserver(table: table) { [self] in signal() }
        writer.add(transactionObserver: observer, extent: .observerLifetime)
        return AnyDatabaseCancellable { [weak writer] in
            writer?.asyncWriteWithoutTransaction { db in db.remove(transactionObserver: observer) }
        }
    }
}

/// Calls `onCommit` after each transaction that wrote `table`. GRDB asks an observer about
/// every statement a writer runs; a region observation answered by working out the statement's
/// whole modified region, which cost a telemetry batch 7 % of its time (perf) — a table name
/// compared is enough here.
private final class TableCommitObserver: TransactionObserver, @unchecked Sendable {
    // Touched only on the writer's queue (GRDB calls observers there).
    private let table: String
    private let onCommit: @Sendable () -> Void
    private var changed = false

    init(table: String, onCommit: @escaping @Sendable () -> Void) {
        self.table = table
        self.onCommit = onCommit
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        eventKind.tableName == table
    }

    func databaseDidChange(with event: DatabaseEvent) {
        changed = true
        stopObservingDatabaseChangesUntilNextTransaction()
    }

    func databaseDidCommit(_ db: Database) {
        guard changed else { return }
        changed = false
        onCommit()
    }

    func databaseDidRollback(_ db: Database) {
        changed = false
    }
}

/// Closes the commit signal when the service group begins its graceful shutdown. Listed last,
/// it is told first (ServiceGroup stops services in reverse order), so the event consumers'
/// long polls return before the wire server starts draining.
struct LongPollRelease: Service {
    let signal: CommitSignal

    func run() async throws {
        try? await gracefulShutdown()
        signal.close()
    }
}
