import ForgeWire
import Foundation
import JWTKit

/// Verifies Ed25519-signed JWTs with the public key only (services never hold the signing key).
/// A missing or bad signature, an expired token, or any other algorithm (`none` included) is
/// UNAUTHENTICATED.
public struct JWTAuthenticator: Authenticator {
    private let keys: JWTKeyCollection

    public init(publicKey: EdDSA.PublicKey) async {
        let keys = JWTKeyCollection()
        await keys.add(eddsa: publicKey)
        self.keys = keys
    }

    public func authenticate(token: String) async throws -> Principal {
        do {
            let claims = try await keys.verify(token, as: ForgeClaims.self)
            return claims.principal
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw RPCError(.unauthenticated, "token expired")
        } catch {
            throw RPCError(.unauthenticated, "invalid token")
        }
    }
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
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("-----BEGIN") { return try EdDSA.PublicKey(pem: text) }
        guard let raw = Data(base64Encoded: text) else { throw ConfigurationError(setting: "FORGE_JWT_PUBLIC_KEY", problem: "\(path) is not a base64 or PEM Ed25519 key") }
        return try EdDSA.PublicKey(x: raw.base64URLEncoded, curve: .ed25519)
    }

    public static func readPrivateKey(path: String) throws -> EdDSA.PrivateKey {
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.hasPrefix("-----BEGIN") { return try EdDSA.PrivateKey(pem: text) }
        guard let raw = Data(base64Encoded: text) else { throw ConfigurationError(setting: "signing key", problem: "\(path) is not a base64 or PEM Ed25519 key") }
        return try EdDSA.PrivateKey(d: raw.base64URLEncoded, curve: .ed25519)
    }
}

extension Data {
    var base64URLEncoded: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
