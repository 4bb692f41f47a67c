import ForgeKit
import ForgeWire
import Foundation

/// Who is calling the gateway: a signed-in person's JWT, or an integration's API key
/// ("fk_…", checked against its stored hash on every call, so a revoked key stops at once).
struct GatewayAuthenticator: Authenticator {
    let jwt: JWTAuthenticator
    let identity: IdentityStore
    let clock: any WallClock

    func authenticate(token: String) async throws -> Principal {
        if token.hasPrefix("fk_") { return try await identity.principal(forKey: token, at: clock.now()) }
        return try await jwt.authenticate(token: token)
    }
}
