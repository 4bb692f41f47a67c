import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// `forge.gateway.v1.Gateway`: identity (sign-in, users, API keys) and the 360° view.
struct GatewayHandler: Forge_Gateway_V1_GatewayHandler {
    let identity: IdentityStore
    let issuer: TokenIssuer
    let customer360: Customer360
    let webhooks: WebhookStore
    let clock: any WallClock
    /// Webhooks may target loopback and private addresses (`FORGE_WEBHOOK_ALLOW_PRIVATE`).
    var allowPrivateWebhookTargets = false

    // MARK: Sign-in

    func signIn(_ request: Forge_Gateway_V1_SignInRequest, context: ServerContext) async throws -> Forge_Gateway_V1_SignInResponse {
        var violations: [FieldViolation] = []
        if request.username.isBlank || request.username.unicodeScalars.count > 64 { violations.append(FieldViolation(field: "username", description: "is required")) }
        if request.password.isEmpty || request.password.unicodeScalars.count > 256 { violations.append(FieldViolation(field: "password", description: "is required")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let user = try await identity.signIn(username: request.username, password: request.password, at: clock.now())
        return try await session(for: user)
    }

    func refreshToken(_ request: Forge_Gateway_V1_RefreshTokenRequest, context: ServerContext) async throws -> Forge_Gateway_V1_SignInResponse {
        guard !request.refreshToken.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "refresh_token", description: "is required")]) }
        let user = try await identity.redeemRefreshToken(request.refreshToken, at: clock.now())
        return try await session(for: user)
    }

    /// A token pair for a signed-in user.
    func session(for user: Forge_Gateway_V1_User) async throws -> Forge_Gateway_V1_SignInResponse {
        let now = clock.now()
        let token = try await issuer.issue(subject: user.username, roles: user.roles, team: user.team.isEmpty ? nil : user.team,
                                           ttl: IdentityRules.tokenLifetime, now: now)
        let refresh = try await identity.issueRefreshToken(username: user.username, at: now)
        return .with {
            $0.token = token
            $0.expiresAt = .init(date: now + IdentityRules.tokenLifetime)
            $0.refreshToken = refresh
            $0.refreshExpiresAt = .init(date: now + IdentityRules.refreshLifetime)
            $0.user = user
        }
    }

    // MARK: Users

    func createUser(_ request: Forge_Gateway_V1_CreateUserRequest, context: ServerContext) async throws -> Forge_Gateway_V1_CreateUserResponse {
        let violations = IdentityRules.validate(request.user, isNew: true) + IdentityRules.validate(password: request.password, field: "password")
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let user = try await identity.create(request.user, password: request.password, context: context, at: clock.now())
        return .with { $0.user = user }
    }

    func updateUser(_ request: Forge_Gateway_V1_UpdateUserRequest, context: ServerContext) async throws -> Forge_Gateway_V1_UpdateUserResponse {
        let violations = IdentityRules.validate(request.user, isNew: false)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let user = try await identity.update(request.user, context: context, at: clock.now())
        return .with { $0.user = user }
    }

    func listUsers(_ request: Forge_Gateway_V1_ListUsersRequest, context: ServerContext) async throws -> Forge_Gateway_V1_ListUsersResponse {
        let page = try Page(request.page) { !$0.isEmpty }
        let users = try await identity.users(page: page.size, after: page.after)
        return .with {
            $0.users = users
            $0.page = page.response(next: users.last?.username, count: users.count)
        }
    }

    func setPassword(_ request: Forge_Gateway_V1_SetPasswordRequest, context: ServerContext) async throws -> Forge_Gateway_V1_SetPasswordResponse {
        guard let principal = context.principal else { throw RPCError(.unauthenticated, "no caller") }
        let isAdmin = principal.hasRole(Role.admin)
        var violations = IdentityRules.validate(password: request.newPassword, field: "new_password")
        if request.username.isBlank { violations.append(FieldViolation(field: "username", description: "is required")) }
        if !isAdmin, request.oldPassword.isBlank { violations.append(FieldViolation(field: "old_password", description: "is required")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        // Only admins change someone else's password; to others that user does not exist.
        guard isAdmin || principal.subject == request.username else { throw RPCError(.notFound, "user \(request.username) not found") }
        try await identity.setPassword(username: request.username, oldPassword: isAdmin && request.oldPassword.isEmpty ? nil : request.oldPassword,
                                       newPassword: request.newPassword, context: context, at: clock.now())
        return .init()
    }

    // MARK: API keys

    func createApiKey(_ request: Forge_Gateway_V1_CreateApiKeyRequest, context: ServerContext) async throws -> Forge_Gateway_V1_CreateApiKeyResponse {
        var violations: [FieldViolation] = []
        if request.name.isBlank || request.name.count > 100 {
            violations.append(FieldViolation(field: "name", description: "is required, at most 100 characters"))
        }
        if request.roles.isEmpty { violations.append(FieldViolation(field: "roles", description: "at least one role")) }
        for (index, role) in request.roles.enumerated() where !Role.all.contains(role) || role == Role.admin {
            violations.append(FieldViolation(field: "roles[\(index)]", description: "'\(role)' is not a role an API key may hold"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let (key, secret) = try await identity.createKey(name: request.name, roles: request.roles, team: request.team, context: context, at: clock.now())
        return .with {
            $0.key = key
            $0.secret = secret
        }
    }

    func listApiKeys(_ request: Forge_Gateway_V1_ListApiKeysRequest, context: ServerContext) async throws -> Forge_Gateway_V1_ListApiKeysResponse {
        let keys = try await identity.keys(includeRevoked: request.includeRevoked)
        return .with { $0.keys = keys }
    }

    func revokeApiKey(_ request: Forge_Gateway_V1_RevokeApiKeyRequest, context: ServerContext) async throws -> Forge_Gateway_V1_RevokeApiKeyResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let key = try await identity.revokeKey(id: request.id, context: context, at: clock.now())
        return .with { $0.key = key }
    }

    // MARK: 360°

    func getCustomer360(_ request: Forge_Gateway_V1_GetCustomer360Request, context: ServerContext) async throws -> Forge_Gateway_V1_GetCustomer360Response {
        var violations: [FieldViolation] = []
        if request.accountID.isBlank || request.accountID.count > 64 { violations.append(FieldViolation(field: "account_id", description: "is required")) }
        if !(0...Customer360.maxDeadlineMilliseconds).contains(request.deadlineMs) {
            violations.append(FieldViolation(field: "deadline_ms", description: "must be 0 to \(Customer360.maxDeadlineMilliseconds)"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        var deadline = request.deadlineMs == 0 ? Customer360.defaultDeadline : .milliseconds(request.deadlineMs)
        // Never beyond the caller's own deadline.
        let callerLeft = context.deadline - .now
        if callerLeft < deadline { deadline = max(.zero, callerLeft) }
        return try await customer360.view(accountID: request.accountID, deadline: deadline, protobuf: request.sectionEncoding == .protobuf, context: context)
    }
}

/// The roles of each gateway method (DESIGN §9).
enum GatewayAccess {
    static func declare(in access: inout AccessTable) {
        let method = Forge_Gateway_V1_GatewayService.Method.self
        access.allow(method.signIn, .open)
        access.allow(method.refreshToken, .open)
        for admin in [method.createUser, method.updateUser, method.listUsers, method.createApiKey, method.listApiKeys, method.revokeApiKey,
                      method.createWebhook, method.listWebhooks, method.deleteWebhook, method.listDeliveries, method.replayDelivery, method.listNotifications, method.retryNotification] {
            access.allow(admin, .roles([Role.admin]))
        }
        let people = Role.all.subtracting([Role.erpConnector])
        access.allow(method.setPassword, .roles(people))
        access.allow(method.getCustomer360, .roles(people))
    }
}
