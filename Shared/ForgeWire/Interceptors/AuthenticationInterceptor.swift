import Foundation
import Logging

/// Turns a bearer token into a principal; the service kit plugs its JWT verifier in here.
public protocol Authenticator: Sendable {
    /// Verifies `token` and returns who it names; throws UNAUTHENTICATED when it cannot.
    func authenticate(token: String) async throws -> Principal
}

/// Who may call a method (DESIGN §9: every method declares its roles).
public enum MethodAccess: Sendable, Hashable {
    /// No token needed (e.g. `Health/Check`).
    case open
    /// Any authenticated caller holding one of these roles.
    case roles(Set<String>)
    /// Any authenticated caller: the method's own service checks the roles (the gateway's edge
    /// for the calls it forwards).
    case authenticated
}

/// Authenticates every call and checks the method's roles before the handler runs.
///
/// No token, a token the authenticator refuses → UNAUTHENTICATED; a principal without one of the
/// method's roles → PERMISSION_DENIED. Methods the policy does not know are denied.
public struct AuthenticationInterceptor: ServerInterceptor {
    private let authenticator: any Authenticator
    private let access: @Sendable (MethodDescriptor) -> MethodAccess?

    /// - Parameters:
    ///   - authenticator: verifies tokens.
    ///   - access: the access rule of each method; nil denies the method to everyone.
    public init(
        authenticator: any Authenticator,
        access: @escaping @Sendable (MethodDescriptor) -> MethodAccess?
    ) {
        self.authenticator = authenticator
        self.access = access
    }

    public func intercept(
        request: Data,
        context: ServerContext,
        next: @Sendable (ServerContext) async throws -> Data
    ) async throws -> Data {
        let rule = access(context.method)
        if rule == .open {
            return try await next(context)
        }
        guard let header = context.metadata[MetadataKey.authorization] else {
            throw RPCError(.unauthenticated, "missing authorization token")
        }
        guard header.hasPrefix("Bearer ") else {
            throw RPCError(.unauthenticated, "authorization must be 'Bearer <token>'")
        }
        let principal = try await authenticator.authenticate(token: String(header.dropFirst(7)))
        switch rule {
        case .authenticated:
            break
        case .roles(let allowed) where !allowed.isDisjoint(with: principal.roles):
            break
        default:
            throw RPCError(.permissionDenied, "\(context.method.path) is not allowed for this caller")
        }
        var context = context
        context.principal = principal
        context.logger[metadataKey: "sub"] = "\(principal.subject)"
        return try await next(context)
    }
}
