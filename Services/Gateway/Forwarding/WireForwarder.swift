import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation

/// The gateway's wire port as the one door to every domain service (DESIGN §2): a deployment
/// publishes only the gateway's ports, so a connector outside the stack calls
/// `/forge.orders.v1.Orders/ReportProductionStatuses` on the gateway and the gateway passes it
/// to forge-orders — the service chosen by the method's package (`forge.<service>.v1`).
///
/// The edge authenticates (the method's access is `.authenticated`): an API key becomes a
/// short-lived token for its principal, a token passes as it is; the service checks its roles.
/// The payload goes through as bytes (never decoded), with the caller's remaining deadline,
/// metadata (request id, idempotency key, trace) and cancellation (the Swift task's, which
/// the wire client turns into a Cancel frame upstream).
struct WireForwarder: Sendable {
    private let routes: [String: (descriptor: MethodDescriptor, channel: any RPCChannel)]
    private let callerTokens: CallerTokens

    /// Every registered method of a service in `upstreams`, except the gateway's own.
    init(upstreams: [String: any RPCChannel], callerTokens: CallerTokens) {
        var routes: [String: (descriptor: MethodDescriptor, channel: any RPCChannel)] = [:]
        for registered in ForgeMethodRegistry.methods {
            guard let service = Self.service(of: registered.descriptor), service != "gateway",
                  let channel = upstreams[service]
            else { continue }
            routes[registered.descriptor.path] = (registered.descriptor, channel)
        }
        self.routes = routes
        self.callerTokens = callerTokens
    }

    /// The process serving a method: `forge.orders.v1.Orders` → "orders".
    static func service(of method: MethodDescriptor) -> String? {
        let parts = method.service.split(separator: ".")
        guard parts.count == 4, parts[0] == "forge" else { return nil }
        return String(parts[1])
    }

    /// The methods forwarded (their access at the edge: any authenticated caller).
    var methods: [MethodDescriptor] { routes.values.map(\.descriptor) }

    func route(for path: String) -> (descriptor: MethodDescriptor, route: RPCRouter.Route)? {
        guard let (descriptor, channel) = routes[path] else { return nil }
        let callerTokens = callerTokens
        return (descriptor, { payload, context in
            try await Self.forward(payload, descriptor: descriptor, channel: channel, context: context, callerTokens: callerTokens)
        })
    }

    private static func forward(_ payload: Data, descriptor: MethodDescriptor, channel: any RPCChannel,
                                context: ServerContext, callerTokens: CallerTokens) async throws -> Data {
        let remaining = context.deadline - .now
        guard remaining > .zero else { throw RPCError(.deadlineExceeded, "the call's deadline passed at the gateway") }
        // Internal keys (x-forge-…) are the receiving process's own business.
        var metadata = context.metadata.filter { !$0.key.hasPrefix("x-forge-") }
        metadata[MetadataKey.authorization] = "Bearer \(try await callerTokens.upstreamToken(for: context))"
        metadata[MetadataKey.requestID] = context.requestID
        return try await channel.unary(descriptor, payload: payload, options: CallOptions(timeout: remaining, metadata: metadata))
    }
}
