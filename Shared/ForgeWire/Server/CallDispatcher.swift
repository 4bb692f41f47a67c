import Foundation

/// Runs one call through the interceptors and its route; shared by every connection of a server.
struct CallDispatcher: Sendable {
    let router: RPCRouter
    let interceptors: [any ServerInterceptor]

    /// The outcome of a call: the serialized response, or the error to answer with.
    func dispatch(route: @escaping RPCRouter.Route, payload: Data, context: ServerContext) async -> Result<Data, RPCError> {
        do {
            let response = try await chain(index: 0, route: route, payload: payload, context: context)
            return .success(response)
        } catch {
            return .failure(RPCError(mapping: error, deadlineExpired: ContinuousClock.now >= context.deadline))
        }
    }

    private func chain(
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
            try await self.chain(index: index + 1, route: route, payload: payload, context: context)
        }
    }
}
