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
final class ClientCall: @unchecked Sendable {
    let method: String
    let metadata: [String: String]
    let deadline: NIODeadline
    let payload: Data
    let promise: EventLoopPromise<Data>

    /// Assigned when written to a channel.
    var callID: UInt64 = 0
    var handler: ClientConnectionHandler?
    /// Told when the call finishes, to stop tracking its deadline (the connection outlives
    /// its calls: it fails them all before it goes).
    unowned(unsafe) var connection: ClientConnection?
    private(set) var finished = false

    init(method: String, metadata: [String: String], deadline: NIODeadline, payload: Data, promise: EventLoopPromise<Data>) {
        self.method = method
        self.metadata = metadata
        self.deadline = deadline
        self.payload = payload
        self.promise = promise
    }

    func succeed(_ payload: Data) {
        guard !finished else { return }
        finished = true
        connection?.finished(self)
        promise.succeed(payload)
    }

    func fail(_ error: RPCError, outcome: TransportFailure.Outcome? = nil) {
        guard !finished else { return }
        finished = true
        connection?.finished(self)
        if let outcome {
            promise.fail(TransportFailure(error: error, outcome: outcome))
        } else {
            promise.fail(error)
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
