import ForgeWire
import Foundation

/// A service calling another service on a caller's behalf (pipeline converting a lead in
/// accounts, orders reading a credit limit, feedback reading a segment): the same wording for
/// an upstream that is down, and the caller's own token on the call, so the upstream decides
/// what this caller may see.
public enum UpstreamCall {
    /// Runs `call` on `service`'s channel; the upstream being down or too slow is UNAVAILABLE
    /// naming what could not be done (nothing here changed, so the caller may retry).
    public static func run<T: Sendable>(
        _ service: String, _ channel: (any RPCChannel)?, cannot what: String, _ call: (any RPCChannel) async throws -> T
    ) async throws -> T {
        guard let channel else { throw RPCError(.unavailable, "forge-\(service) is not configured: cannot \(what)") }
        do {
            return try await call(channel)
        } catch let error as RPCError where error.code == .unavailable || error.code == .deadlineExceeded {
            throw RPCError(.unavailable, "forge-\(service) is unavailable: cannot \(what); nothing was changed, try again (\(error.message))")
        }
    }

    /// Call options that act as the caller (their token and request id), with an optional
    /// idempotency key.
    public static func asCaller(_ context: ServerContext, timeout: Duration, key: String? = nil) -> CallOptions {
        var metadata = [MetadataKey.requestID: context.requestID]
        if let authorization = context.metadata[MetadataKey.authorization] { metadata[MetadataKey.authorization] = authorization }
        if let key { metadata[MetadataKey.idempotencyKey] = key }
        return CallOptions(timeout: timeout, metadata: metadata)
    }
}
