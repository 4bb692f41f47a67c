import ForgeWire
import Foundation
import JWTKit
import Synchronization

/// Verifies Ed25519-signed JWTs with the public key only (services never hold the signing key).
/// A missing or bad signature, an expired token, or any other algorithm (`none` included) is
/// UNAUTHENTICATED.
///
/// A token verified once is remembered until it expires: a token is immutable, so its
/// signature checks the same every time, and one 360° view presents the same token to nine
/// services — an Ed25519 verification each was a tenth of the gateway's time. Expiry is still
/// checked on every call.
public struct JWTAuthenticator: Authenticator {
    private let keys: JWTKeyCollection
    private let verified = VerifiedTokens()
    private let clock: any WallClock

    public init(publicKey: EdDSA.PublicKey, clock: any WallClock = SystemClock()) async {
        let keys = JWTKeyCollection()
        await keys.add(eddsa: publicKey)
        self.keys = keys
        self.clock = clock
    }

    public func authenticate(token: String) async throws -> Principal {
        let now = clock.now()
        if let known = verified.lookup(token) {
            guard known.expiresAt > now else { throw RPCError(.unauthenticated, "token expired") }
            return known.principal
        }
        do {
            let claims = try await keys.verify(token, as: ForgeClaims.self)
            verified.remember(token, principal: claims.principal, expiresAt: claims.exp.value, now: now)
            return claims.principal
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw RPCError(.unauthenticated, "token expired")
        } catch {
            throw RPCError(.unauthenticated, "invalid token")
        }
    }
}

/// Tokens whose signature has been verified, with what they say; at most `capacity`, expired
/// ones dropped first, everything dropped when still full (a cache, never a source of truth).
final class VerifiedTokens: Sendable {
    let capacity: Int
    private let entries = Mutex<[String: (principal: Principal, expiresAt: Date)]>([:])

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    func lookup(_ token: String) -> (principal: Principal, expiresAt: Date)? {
        entries.withLock { $0[token] }
    }

    func remember(_ token: String, principal: Principal, expiresAt: Date, now: Date) {
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expiresAt > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = (principal, expiresAt)
        }
    }

    var count: Int { entries.withLock { $0.count } }
}

/// Signs tokens with the Ed25519 private key (the CLI and the gateway).
public struct TokenIssuer: Sendable {
    private let keys: JWTKeyCollection

    public init(privateKey: EdDSA.PrivateKey) async {
        let keys = JWTKeyCollection()
        await keys.add(eddsa: privateKey)
        self.keys = keys
    }

    public func issue(subject: String, roles: [String], team: String? = nil, ttl: TimeInterval, now: Date = Date()) async throws -> String {
        let claims = ForgeClaims(subject: subject, roles: roles, team: team, issuedAt: now, expiresAt: now.addingTimeInterval(ttl))
        return try await keys.sign(claims)
    }
}

/// Ed25519 key files: base64 of the raw 32-byte key (PEM is accepted when reading).
public enum SigningKeys {
    public static func generate() throws -> (privateKey: EdDSA.PrivateKey, publicKey: EdDSA.PublicKey) {
        let privateKey = try EdDSA.PrivateKey(curve: .ed25519)
        return (privateKey, privateKey.publicKey)
    }

    public static func write(privateKey: EdDSA.PrivateKey, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let privatePath = "\(directory)/jwt-ed25519.key"
        try privateKey.rawRepresentation.base64EncodedString().write(toFile: privatePath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: privatePath)
        try privateKey.publicKey.rawRepresentation.base64EncodedString()
            .write(toFile: "\(directory)/jwt-ed25519.pub", atomically: true, encoding: .utf8)
    }

    public static func readPublicKey(path: String) throws -> EdDSA.PublicKey {
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmed
        if text.hasPrefix("-----BEGIN") { return try EdDSA.PublicKey(pem: text) }
        guard let raw = Data(base64Encoded: text) else { throw ConfigurationError(setting: "FORGE_JWT_PUBLIC_KEY", problem: "\(path) is not a base64 or PEM Ed25519 key") }
        return try EdDSA.PublicKey(x: Base64URL.encode(raw), curve: .ed25519)
    }

    public static func readPrivateKey(path: String) throws -> EdDSA.PrivateKey {
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmed
        if text.hasPrefix("-----BEGIN") { return try EdDSA.PrivateKey(pem: text) }
        guard let raw = Data(base64Encoded: text) else { throw ConfigurationError(setting: "signing key", problem: "\(path) is not a base64 or PEM Ed25519 key") }
        return try EdDSA.PrivateKey(d: Base64URL.encode(raw), curve: .ed25519)
    }
}
