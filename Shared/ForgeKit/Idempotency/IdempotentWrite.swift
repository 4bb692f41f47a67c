import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

extension DatabaseWriter {
    /// A write transaction that also stores the call's idempotency key, so the change and the
    /// key commit together: a crash after the commit cannot let a retry with the same key apply
    /// the change twice. When `updates` returns the RPC's response message, that answer is
    /// stored with the key; when it returns a record the handler then shapes into the response,
    /// a pending marker is, and the interceptor records the answer the handler gave (a retry in
    /// between is told the call was applied). Without a key it is a plain write.
    public func write<Result: SwiftProtobuf.Message>(
        recordingIdempotencyOf context: ServerContext,
        at date: Date,
        _ updates: @escaping @Sendable (Database) throws -> Result
    ) async throws -> Result {
        try await write(IdempotencyInterceptor.recording(context, at: date, updates))
    }
}

extension GroupCommit {
    /// The same as a database's `write(recordingIdempotencyOf:at:_:)`, in the next group's
    /// transaction: the key is stored in the write's own savepoint, so it commits with the
    /// change or, when the write throws, goes with it.
    public func write<Result: SwiftProtobuf.Message>(
        recordingIdempotencyOf context: ServerContext,
        at date: Date,
        _ updates: @escaping @Sendable (Database) throws -> Result
    ) async throws -> Result {
        try await write(IdempotencyInterceptor.recording(context, at: date, updates))
    }
}

extension IdempotencyInterceptor {
    /// `updates`, then the call's key stored in the same transaction: with the result when it is
    /// the RPC's response message, else with the pending marker. Nothing more without a key.
    static func recording<Result: SwiftProtobuf.Message>(
        _ context: ServerContext, at date: Date, _ updates: @escaping @Sendable (Database) throws -> Result
    ) -> @Sendable (Database) throws -> Result {
        { db in
            let result = try updates(db)
            guard context.idempotencyKey != nil else { return result }
            let isAnswer = responseNames[context.method.path] == Result.protoMessageName
            try store(db, context: context, response: isAnswer ? try result.serializedData() : pendingAnswer, at: date)
            return result
        }
    }
}
