import Crypto
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// The gateway's own data: users, API keys, refresh tokens and sign-in failures.
struct IdentityStore: Sendable {
    let database: DatabasePool
    let hasher: PasswordHasher

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("gateway-v1-identity") { db in
            try db.create(table: "user") { t in
                t.primaryKey("username", .text)
                t.column("display_name", .text).notNull()
                t.column("roles", .text).notNull()
                t.column("team", .text).notNull()
                t.column("manager", .text).notNull()
                t.column("disabled", .boolean).notNull()
                t.column("password_hash", .text).notNull()
                t.column("created_at", .double).notNull()
                t.column("version", .integer).notNull()
            }
            try db.create(table: "api_key") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
                t.column("secret_hash", .blob).notNull()
                t.column("roles", .text).notNull()
                t.column("team", .text).notNull()
                t.column("created_by", .text).notNull()
                t.column("created_at", .double).notNull()
                t.column("revoked_at", .double)
                t.column("last_used_at", .double)
            }
            try db.create(table: "refresh_token") { t in
                t.primaryKey("token_hash", .blob)
                t.column("username", .text).notNull().indexed().references("user", onDelete: .cascade)
                t.column("expires_at", .double).notNull()
            }
            try db.create(table: "sign_in_failure") { t in
                t.primaryKey("username", .text)
                t.column("failures", .integer).notNull()
                t.column("locked_until", .double).notNull()
            }
        }
    }

    // MARK: Users

    /// Creates the first admin when there are no users; returns whether it did.
    func bootstrapAdmin(password: String, at now: Date) async throws -> Bool {
        let hash = try await hasher.hash(password)
        return try await database.write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM user") == 0 else { return false }
            try Self.insert(db, .with {
                $0.username = "admin"
                $0.displayName = "管理员"
                $0.roles = [Role.admin]
            }, passwordHash: hash, at: now)
            return true
        }
    }

    func create(_ user: Forge_Gateway_V1_User, password: String, context: ServerContext, at now: Date) async throws -> Forge_Gateway_V1_User {
        let hash = try await hasher.hash(password)
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM user WHERE username = ?", arguments: [user.username]) == true {
                throw RPCError(.alreadyExists, "user \(user.username) exists", violations: [FieldViolation(field: "user.username", description: "is taken")])
            }
            let created = try Self.insert(db, user, passwordHash: hash, at: now)
            try AuditLog.record(db, context: context, recordID: user.username, changes: ["roles": user.roles.joined(separator: ","), "team": user.team], at: now)
            return Forge_Gateway_V1_CreateUserResponse.with { $0.user = created }
        }.user
    }

    @discardableResult
    private static func insert(_ db: Database, _ user: Forge_Gateway_V1_User, passwordHash: String, at now: Date) throws -> Forge_Gateway_V1_User {
        var user = user
        user.createdAt = .init(date: now)
        user.version = 1
        try db.execute(
            sql: "INSERT INTO user (username, display_name, roles, team, manager, disabled, password_hash, created_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
            arguments: [user.username, user.displayName, user.roles.joined(separator: ","), user.team, user.manager, user.disabled, passwordHash, now.timeIntervalSince1970]
        )
        return user
    }

    func update(_ edit: Forge_Gateway_V1_User, context: ServerContext, at now: Date) async throws -> Forge_Gateway_V1_User {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            guard let current = try Self.user(db, username: edit.username) else { throw RPCError(.notFound, "user \(edit.username) not found") }
            guard current.version == edit.version else {
                throw RPCError(.aborted, "user \(edit.username) changed since version \(edit.version) (now \(current.version)); read it again")
            }
            var updated = edit
            updated.createdAt = current.createdAt
            updated.version = current.version + 1
            try db.execute(
                sql: "UPDATE user SET display_name = ?, roles = ?, team = ?, manager = ?, disabled = ?, version = ? WHERE username = ?",
                arguments: [updated.displayName, updated.roles.joined(separator: ","), updated.team, updated.manager, updated.disabled, updated.version, updated.username]
            )
            if updated.disabled { try db.execute(sql: "DELETE FROM refresh_token WHERE username = ?", arguments: [updated.username]) }
            try AuditLog.record(db, context: context, recordID: updated.username, changes: [
                "roles": updated.roles.joined(separator: ","), "team": updated.team, "manager": updated.manager, "disabled": "\(updated.disabled)",
            ], at: now)
            return Forge_Gateway_V1_UpdateUserResponse.with { $0.user = updated }
        }.user
    }

    func users(page: Int, after: String) async throws -> [Forge_Gateway_V1_User] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM user WHERE username > ? ORDER BY username LIMIT ?", arguments: [after, page]).map(Self.user(from:))
        }
    }

    func user(_ username: String) async throws -> Forge_Gateway_V1_User? {
        try await database.read { db in try Self.user(db, username: username) }
    }

    static func user(_ db: Database, username: String) throws -> Forge_Gateway_V1_User? {
        try Row.fetchOne(db, sql: "SELECT * FROM user WHERE username = ?", arguments: [username]).map(user(from:))
    }

    static func user(from row: Row) -> Forge_Gateway_V1_User {
        .with {
            $0.username = row["username"]
            $0.displayName = row["display_name"]
            $0.roles = (row["roles"] as String).split(separator: ",").map(String.init)
            $0.team = row["team"]
            $0.manager = row["manager"]
            $0.disabled = row["disabled"]
            $0.createdAt = .init(date: Date(timeIntervalSince1970: row["created_at"]))
            $0.version = row["version"]
        }
    }

    func setPassword(username: String, oldPassword: String?, newPassword: String, context: ServerContext, at now: Date) async throws {
        let stored = try await database.read { db in
            try String.fetchOne(db, sql: "SELECT password_hash FROM user WHERE username = ?", arguments: [username])
        }
        guard let stored else { throw RPCError(.notFound, "user \(username) not found") }
        if let oldPassword, await !hasher.verify(oldPassword, against: stored) {
            throw RPCError(.permissionDenied, "the old password is wrong")
        }
        let hash = try await hasher.hash(newPassword)
        _ = try await database.write(recordingIdempotencyOf: context, at: now) { db in
            try db.execute(sql: "UPDATE user SET password_hash = ? WHERE username = ?", arguments: [hash, username])
            // Every session of the old password ends.
            try db.execute(sql: "DELETE FROM refresh_token WHERE username = ?", arguments: [username])
            try AuditLog.record(db, context: context, recordID: username, changes: ["password": "changed"], at: now)
            return Forge_Gateway_V1_SetPasswordResponse()
        }
    }

    // MARK: Sign-in

    /// The user whose password this is. Wrong or unknown → UNAUTHENTICATED (the same message
    /// and about the same time); while a username is locked out → RESOURCE_EXHAUSTED with
    /// the wait, before any password is checked.
    func signIn(username: String, password: String, at now: Date) async throws -> Forge_Gateway_V1_User {
        let (found, storedHash, lockedUntil) = try await database.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT * FROM user WHERE username = ?", arguments: [username])
            return (row.map(Self.user(from:)), row?["password_hash"] as String?,
                    try Double.fetchOne(db, sql: "SELECT locked_until FROM sign_in_failure WHERE username = ?", arguments: [username]) ?? 0)
        }
        if lockedUntil > now.timeIntervalSince1970 {
            let wait = Int((lockedUntil - now.timeIntervalSince1970).rounded(.up))
            throw RPCError(.resourceExhausted, "too many failed sign-ins for \(username); try again in \(wait) s")
        }
        let stored = storedHash ?? hasher.decoy()
        guard await hasher.verify(password, against: stored), let user = found, !user.disabled else {
            try await database.write { db in
                let failures = (try Int.fetchOne(db, sql: "SELECT failures FROM sign_in_failure WHERE username = ?", arguments: [username]) ?? 0) + 1
                try db.execute(
                    sql: "INSERT OR REPLACE INTO sign_in_failure (username, failures, locked_until) VALUES (?, ?, ?)",
                    arguments: [username, failures, now.timeIntervalSince1970 + IdentityRules.lockout(afterFailures: failures)]
                )
            }
            throw RPCError(.unauthenticated, "wrong username or password")
        }
        try await database.write { db in try db.execute(sql: "DELETE FROM sign_in_failure WHERE username = ?", arguments: [username]) }
        return user
    }

    /// A new refresh token for `username` (only its hash is kept).
    func issueRefreshToken(username: String, at now: Date) async throws -> String {
        let token = "fr_" + Self.randomSecret()
        try await database.write { db in
            try db.execute(sql: "DELETE FROM refresh_token WHERE expires_at < ?", arguments: [now.timeIntervalSince1970])
            try db.execute(sql: "INSERT INTO refresh_token (token_hash, username, expires_at) VALUES (?, ?, ?)",
                           arguments: [Self.digest(token), username, now.timeIntervalSince1970 + IdentityRules.refreshLifetime])
        }
        return token
    }

    /// Uses up a refresh token: the user it belongs to, when it is valid and they are enabled.
    func redeemRefreshToken(_ token: String, at now: Date) async throws -> Forge_Gateway_V1_User {
        try await database.write { db in
            guard let username = try String.fetchOne(db, sql: "DELETE FROM refresh_token WHERE token_hash = ? AND expires_at >= ? RETURNING username",
                                                     arguments: [Self.digest(token), now.timeIntervalSince1970]),
                  let user = try Self.user(db, username: username), !user.disabled
            else { throw RPCError(.unauthenticated, "refresh token invalid, used or expired; sign in again") }
            return user
        }
    }

    // MARK: API keys

    func createKey(name: String, roles: [String], team: String, context: ServerContext, at now: Date) async throws -> (Forge_Gateway_V1_ApiKey, String) {
        let id = EventID.make(prefix: "key", at: now).replacingOccurrences(of: "_", with: "")
        let secret = "fk_\(id)_\(Self.randomSecret())"
        let key = Forge_Gateway_V1_ApiKey.with {
            $0.id = id
            $0.name = name
            $0.roles = roles
            $0.team = team
            $0.createdBy = context.principal?.subject ?? ""
            $0.createdAt = .init(date: now)
        }
        _ = try await database.write(recordingIdempotencyOf: context, at: now) { db in
            try db.execute(
                sql: "INSERT INTO api_key (id, name, secret_hash, roles, team, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [id, name, Self.digest(secret), roles.joined(separator: ","), team, key.createdBy, now.timeIntervalSince1970]
            )
            try AuditLog.record(db, context: context, recordID: id, changes: ["name": name, "roles": roles.joined(separator: ",")], at: now)
            // What a repeat of this call gets: the key, never its secret (not stored anywhere).
            return Forge_Gateway_V1_CreateApiKeyResponse.with { $0.key = key }
        }
        return (key, secret)
    }

    func keys(includeRevoked: Bool) async throws -> [Forge_Gateway_V1_ApiKey] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_key \(includeRevoked ? "" : "WHERE revoked_at IS NULL") ORDER BY created_at").map(Self.key(from:))
        }
    }

    func revokeKey(id: String, context: ServerContext, at now: Date) async throws -> Forge_Gateway_V1_ApiKey {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            guard let row = try Row.fetchOne(db, sql: "UPDATE api_key SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? RETURNING *",
                                             arguments: [now.timeIntervalSince1970, id])
            else { throw RPCError(.notFound, "API key \(id) not found") }
            try AuditLog.record(db, context: context, recordID: id, changes: ["revoked": "true"], at: now)
            return Forge_Gateway_V1_RevokeApiKeyResponse.with { $0.key = Self.key(from: row) }
        }.key
    }

    /// The principal of a presented key "fk_<id>_<secret>"; UNAUTHENTICATED when unknown,
    /// wrong or revoked.
    func principal(forKey presented: String, at now: Date) async throws -> Principal {
        let parts = presented.split(separator: "_", maxSplits: 2)
        guard parts.count == 3, parts[0] == "fk" else { throw RPCError(.unauthenticated, "invalid API key") }
        let id = String(parts[1])
        let found = try await database.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM api_key WHERE id = ?", arguments: [id]).map { (key: Self.key(from: $0), hash: $0["secret_hash"] as Data) }
        }
        guard let found, Self.digest(presented) == found.hash else { throw RPCError(.unauthenticated, "invalid API key") }
        guard !found.key.hasRevokedAt else { throw RPCError(.unauthenticated, "API key revoked") }
        let last = found.key.hasLastUsedAt ? found.key.lastUsedAt.timeIntervalSince1970 : 0
        if now.timeIntervalSince1970 - last > 60 {
            // At most one write a minute per key.
            try? await database.write { db in
                try db.execute(sql: "UPDATE api_key SET last_used_at = ? WHERE id = ?", arguments: [now.timeIntervalSince1970, id])
            }
        }
        return Principal(subject: "key:\(id)", roles: Set(found.key.roles), team: found.key.team)
    }

    static func key(from row: Row) -> Forge_Gateway_V1_ApiKey {
        .with {
            $0.id = row["id"]
            $0.name = row["name"]
            $0.roles = (row["roles"] as String).split(separator: ",").map(String.init)
            $0.team = row["team"]
            $0.createdBy = row["created_by"]
            $0.createdAt = .init(date: Date(timeIntervalSince1970: row["created_at"]))
            if let revoked = row["revoked_at"] as Double? { $0.revokedAt = .init(date: Date(timeIntervalSince1970: revoked)) }
            if let used = row["last_used_at"] as Double? { $0.lastUsedAt = .init(date: Date(timeIntervalSince1970: used)) }
        }
    }

    static func randomSecret() -> String {
        Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    static func digest(_ secret: String) -> Data { Data(SHA256.hash(data: Data(secret.utf8))) }
}
