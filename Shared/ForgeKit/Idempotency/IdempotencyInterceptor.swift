import Crypto
import ForgeContracts
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Makes a call carrying `idempotency-key` safe to repeat (DESIGN §6): the first successful
/// response is stored; a repeat with the same key and the same request gets the stored response
/// without running the handler again; the same key with a different request fails with
/// FAILED_PRECONDITION. Keys are scoped to the caller (the token's subject).
///
/// Handlers that mutate should write through `write(recordingIdempotencyOf:)`, which stores the
/// key in the mutation's own transaction; the interceptor's own store after the handler is the
/// fallback for handlers that do not.
public struct IdempotencyInterceptor: ServerInterceptor {
    /// Carries the request hash from the interceptor to the handler's transaction.
    static let hashMetadataKey = "x-forge-request-hash"

    private let database: any DatabaseWriter
    private let clock: any WallClock

    public init(database: any DatabaseWriter, clock: any WallClock) {
        self.database = database
        self.clock = clock
    }

    public func intercept(
        request: Data,
        context: ServerContext,
        next: @Sendable (ServerContext) async throws -> Data
    ) async throws -> Data {
        // A forwarded call's key is kept by the service that runs it, next to its writes.
        guard !context.forwarded, let key = context.idempotencyKey, !key.isEmpty else {
            // Never trust a hash a client sent.
            var handlerContext = context
            handlerContext.metadata[Self.hashMetadataKey] = nil
            return try await next(handlerContext)
        }
        guard key.utf8.count <= 200 else {
            throw RPCError.invalidArgument([FieldViolation(field: "idempotency-key", description: "must be at most 200 bytes")])
        }
        let subject = context.principal?.subject ?? ""
        var hasher = SHA256()
        hasher.update(data: Data(context.method.path.utf8))
        hasher.update(data: request)
        let hash = Data(hasher.finalize())

        let stored: (hash: Data, response: Data)? = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT request_hash, response FROM idempotency_keys WHERE subject = ? AND key = ?", arguments: [subject, key])
                .map { ($0["request_hash"], $0["response"]) }
        }
        if let stored {
            guard stored.hash == hash else {
                throw RPCError(.failedPrecondition, "idempotency-key '\(key)' was already used for a different request")
            }
            guard stored.response != Self.pendingAnswer else {
                // Applied (its change committed with the key), but the answer was not recorded
                // yet — the first call is still finishing, or the process stopped in between.
                throw RPCError(.aborted, "the call with idempotency-key '\(key)' was applied; its answer is not available: read the record to see the result")
            }
            return stored.response
        }
        var handlerContext = context
        handlerContext.metadata[Self.hashMetadataKey] = hash.hexadecimal
        let response = try await next(handlerContext)
        let now = clock.now()
        let storingContext = handlerContext
        try await database.write { db in
            try Self.store(db, context: storingContext, response: response, at: now)
        }
        return response
    }

    /// Stores `response` under the call's key and request hash (set by `intercept`). A key the
    /// handler's own transaction stored with its answer is left as it is; one it stored with the
    /// pending marker gets the answer now.
    static func store(_ db: Database, context: ServerContext, response: Data, at date: Date) throws {
        guard let key = context.idempotencyKey, let hex = context.metadata[hashMetadataKey], let hash = Data(hexadecimal: hex) else {
            return
        }
        try db.execute(
            cached: """
                INSERT INTO idempotency_keys (subject, key, method, request_hash, response, created_at) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(subject, key) DO UPDATE SET response = excluded.response WHERE idempotency_keys.response = X'00'
                """,
            arguments: [context.principal?.subject ?? "", key, context.method.path, hash, response, date.timeIntervalSince1970]
        )
    }

    /// Stored with a change whose RPC answer is made after the transaction (the handler's
    /// closure returned a record, not the response): no serialized message starts with a zero
    /// byte (there is no field number 0), so it cannot be mistaken for an answer.
    static let pendingAnswer = Data([0])

    /// The response message of each method, to tell an answer from a record.
    static let responseNames: [String: String] = Dictionary(
        ForgeMethodRegistry.methods.map { ($0.descriptor.path, $0.responseType.protoMessageName) }, uniquingKeysWith: { first, _ in first })

    /// Forgets the stored responses that carry `id` (an erased person's record): what a
    /// retried call would have been answered with must not keep what the erasure removed. A
    /// repeat of such a key after the erasure runs as a new call.
    public static func forgetResponses(_ db: Database, containing id: String) throws {
        guard !id.isEmpty else { return }
        try db.execute(sql: "DELETE FROM idempotency_keys WHERE instr(response, CAST(? AS BLOB)) > 0", arguments: [id])
    }
}
