import Foundation
import Synchronization

/// Makes durable what the write-ahead log holds so far (an fsync of the log file), off the
/// single writer: a group commit answers its writes once this returns, while the writer is
/// already running the next group (see `GroupCommit`).
public protocol LogSync: Sendable {
    func sync() async throws
}

/// `fsync` of a database's `-wal` file on a thread of its own. Calls that arrive while one is
/// in flight share the next: each call takes a ticket after its commit, and an fsync covers
/// every ticket taken before it started — their frames were written by then, and an fsync
/// flushes the whole file.
public final class WALFileSync: LogSync {
    private let path: String
    private let queue = DispatchQueue(label: "forge.wal-sync")
    /// The last ticket handed out, the last one an fsync covered, and the log's descriptor
    /// (opened on first use: the file exists once the database has committed in WAL mode).
    private let state = Mutex<(requested: UInt64, synced: UInt64, descriptor: Int32)>((0, 0, -1))

    public init(databasePath: String) {
        path = databasePath + "-wal"
    }

    deinit {
        let descriptor = state.withLock { $0.descriptor }
        if descriptor >= 0 { close(descriptor) }
    }

    public func sync() async throws {
        let ticket = state.withLock { state in
            state.requested += 1
            return state.requested
        }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            queue.async { [self] in
                continuation.resume(with: Result { try syncCovering(ticket) })
            }
        }
    }

    /// On the queue: nothing to do when an fsync since `ticket` was taken covered it.
    private func syncCovering(_ ticket: UInt64) throws {
        let (synced, covering, descriptor) = try state.withLock { state in
            if state.descriptor < 0 {
                state.descriptor = open(path, O_RDONLY | O_CLOEXEC)
                guard state.descriptor >= 0 else { throw LogSyncError(path: path, errno: errno) }
            }
            return (state.synced, state.requested, state.descriptor)
        }
        guard synced < ticket else { return }
        guard fsync(descriptor) == 0 else { throw LogSyncError(path: path, errno: errno) }
        state.withLock { $0.synced = max($0.synced, covering) }
    }
}

public struct LogSyncError: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32

    public var description: String { "could not sync \(path): \(String(cString: strerror(errno)))" }
}
