import Foundation

/// Runs one call through the interceptors and its route; shared by every connection of a server.
struct CallDispatcher: Sendable {
    let router: RPCRouter
    let interceptors: [any ServerInterceptor]
    /// The interceptors that also see calls no route serves (logging and metrics).
    let observers: [any ServerInterceptor]

    init(router: RPCRouter, interceptors: [any ServerInterceptor]) {
        self.router = router
        self.interceptors = interceptors
        self.observers = interceptors.filter { $0 is any CallObserver }
    }

    /// The route of `path`, or one answering UNIMPLEMENTED under the one descriptor every unknown
    /// method shares (a client sending random names must not grow the metrics without bound),
    /// seen only by the observers: authentication would otherwise hide it behind its own answer.
    func route(for path: String) -> (descriptor: MethodDescriptor, route: RPCRouter.Route, observersOnly: Bool, forwarded: Bool) {
        if let (descriptor, route, forwarded) = router.route(for: path) {
            return (descriptor, route, false, forwarded)
        }
        return (MethodDescriptor.unknown, { _, _ in throw RPCError(.unimplemented, "unknown method \(path)") }, true, false)
    }

    /// The outcome of a call: the serialized response, or the error to answer with.
    func dispatch(route: @escaping RPCRouter.Route, payload: Data, context: ServerContext, observersOnly: Bool = false) async -> Result<Data, RPCError> {
        do {
            let response = try await TextLanguage.serving(context.metadata) {
                try await chain(observersOnly ? observers : interceptors, index: 0, route: route, payload: payload, context: context)
            }
            return .success(response)
        } catch {
            return .failure(RPCError(mapping: error, deadlineExpired: ContinuousClock.now >= context.deadline))
        }
    }

    private func chain(
        _ interceptors: [any ServerInterceptor],
        index: Int,
        route: @escaping RPCRouter.Route,
        payload: Data,
        context: ServerContext
    ) async throws -> Data {
        if index == interceptors.count {
            try Task.checkCancellation()
            return try await route(payload, context)
        }
        return try await interceptors[index].intercept(request: payload, context: context) { context in
            try await self.chain(interceptors, index: index + 1, route: route, payload: payload, context: context)
        }
    }
}
