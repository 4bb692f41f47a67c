import Foundation

/// Runs around every call a server dispatches: authentication, logging, metrics.
///
/// An interceptor may change the context passed on (e.g. set the principal), answer without
/// calling `next` (e.g. UNAUTHENTICATED), or observe the outcome.
public protocol ServerInterceptor: Sendable {
    func intercept(
        context: ServerContext,
        next: @Sendable (ServerContext) async throws -> Data
    ) async throws -> Data
}
