import Foundation
import NIOCore

/// Why a call failed in the transport, and whether it may be retried.
struct TransportFailure: Error {
    enum Outcome {
        /// The server never received the call (not written, or refused by GoAway): always safe to retry.
        case notSent
        /// The server may have run it: retry only with an idempotency key.
        case unknown
    }

    let error: RPCError
    let outcome: Outcome
}

/// One attempt of a call on one connection.
///
/// Created by the calling task; from then on every mutable property is touched only on the
/// connection's event loop, which is what makes the unchecked `Sendable` sound.
///
/// The outcome resumes the calling task's continuation directly: an `EventLoopPromise` and
/// `future.get()` cost a promise, a callback closure and a second continuation per call.
final class ClientCall: @unchecked Sendable {
    let method: String
    let metadata: [String: String]
    let deadline: NIODeadline
    let payload: Data
    /// The calling task, once it waits; the outcome, when it arrived before the task waited
    /// (a Cancel can reach the loop before the call does).
    private var continuation: UnsafeContinuation<Data, any Error>?
    private var outcome: Result<Data, any Error>?

    /// Assigned when written to a channel.
    var callID: UInt64 = 0
    var handler: ClientConnectionHandler?
    /// Told when the call finishes, to stop tracking its deadline (the connection outlives
    /// its calls: it fails them all before it goes).
    unowned(unsafe) var connection: ClientConnection?
    private(set) var finished = false

    init(method: String, metadata: [String: String], deadline: NIODeadline, payload: Data) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.payload = payload
    }

    /// The calling task waits for the outcome. On the event loop.
    func wait(with continuation: UnsafeContinuation<Data, any Error>) {
        if let outcome {
            self.outcome = nil
            continuation.resume(with: outcome)
        } else {
            self.continuation = continuation
        }
    }

    func succeed(_ payload: Data) {
        guard !finished else { return }
        finished = true
        connection?.finished(self)
        deliver(.success(payload))
    }

    func fail(_ error: RPCError, outcome: TransportFailure.Outcome? = nil) {
        guard !finished else { return }
        finished = true
        connection?.finished(self)
        if let outcome {
            deliver(.failure(TransportFailure(error: error, outcome: outcome)))
        } else {
            deliver(.failure(error))
        }
    }

    private func deliver(_ result: Result<Data, any Error>) {
        if let continuation {
            self.continuation = nil
            continuation.resume(with: result)
        } else {
            outcome = result
        }
    }

    /// The deadline passed: stop the server's work and answer DEADLINE_EXCEEDED.
    func expire() {
        guard !finished else { return }
        handler?.cancel(self, error: RPCError(.deadlineExceeded, "deadline exceeded"))
        fail(RPCError(.deadlineExceeded, "deadline exceeded"))
    }

    /// The calling task was cancelled: send Cancel and answer CANCELLED.
    func cancel() {
        guard !finished else { return }
        handler?.cancel(self, error: RPCError(.cancelled, "call cancelled"))
        fail(RPCError(.cancelled, "call cancelled"))
    }
}
