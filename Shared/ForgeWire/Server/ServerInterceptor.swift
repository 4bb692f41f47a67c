import Foundation

/// Runs around every call a server dispatches: authentication, logging, metrics.
///
/// An interceptor may change the context passed on (e.g. set the principal), answer without
/// calling `next` (e.g. UNAUTHENTICATED), or observe the outcome. `request` is the serialized
/// request (an idempotency check hashes it).
public protocol ServerInterceptor: Sendable {
    func intercept(
        request: Data,
        context: ServerContext,
        next: @Sendable (ServerContext) async throws -> Data
    ) async throws -> Data
}

/// An interceptor that observes every call, also those no route serves (an unknown method,
/// answered UNIMPLEMENTED): logging and metrics. It must not answer in the call's place.
public protocol CallObserver: ServerInterceptor {}
