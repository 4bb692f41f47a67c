import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

extension DatabaseWriter {
    /// A write transaction that also stores the call's response under its idempotency key, so
    /// the change and the key commit together: a crash after the commit cannot let a retry with
    /// the same key apply the change twice. Without a key it is a plain write.
    public func write<Response: SwiftProtobuf.Message>(
        recordingIdempotencyOf context: ServerContext,
        at date: Date,
        _ updates: @escaping @Sendable (Database) throws -> Response
    ) async throws -> Response {
        try await write { db in
            let response = try updates(db)
            if context.idempotencyKey != nil {
                try IdempotencyInterceptor.store(db, context: context, response: try response.serializedData(), at: date)
            }
            return response
        }
    }
}
