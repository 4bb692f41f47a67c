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
        try await write { db in
            let result = try updates(db)
            if context.idempotencyKey != nil {
                let isAnswer = IdempotencyInterceptor.responseNames[context.method.path] == Result.protoMessageName
                try IdempotencyInterceptor.store(db, context: context, response: isAnswer ? try result.serializedData() : IdempotencyInterceptor.pendingAnswer, at: date)
            }
            return result
        }
    }
}
