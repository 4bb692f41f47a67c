import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Webhooks of `forge.gateway.v1.Gateway`: subscriptions, the delivery log, replay.
extension GatewayHandler {
    func createWebhook(_ request: Forge_Gateway_V1_CreateWebhookRequest, context: ServerContext) async throws -> Forge_Gateway_V1_CreateWebhookResponse {
        var violations: [FieldViolation] = []
        if let problem = WebhookTarget.problem(request.webhook.url, allowPrivate: allowPrivateWebhookTargets) {
            violations.append(FieldViolation(field: "webhook.url", description: problem))
        }
        if request.webhook.eventTypes.isEmpty || request.webhook.eventTypes.contains(where: { $0.isEmpty || $0.contains(",") }) {
            violations.append(FieldViolation(field: "webhook.event_types", description: "at least one event type, or \"*\""))
        }
        if !request.secret.isEmpty, request.secret.count < 16 {
            violations.append(FieldViolation(field: "secret", description: "at least 16 characters, or empty to have one made"))
        }
        if !request.webhook.id.isEmpty { violations.append(FieldViolation(field: "webhook.id", description: "is assigned by the server")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let now = clock.now()
        var webhook = request.webhook
        webhook.id = EventID.make(prefix: "whk", at: now)
        webhook.createdBy = context.principal?.subject ?? ""
        webhook.createdAt = .init(date: now)
        let secret = request.secret.isEmpty ? "whsec_" + IdentityStore.randomSecret() : request.secret
        let created = try await webhooks.create(webhook, secret: secret, context: context, at: now)
        return .with {
            $0.webhook = created
            $0.secret = secret
        }
    }

    func listWebhooks(_ request: Forge_Gateway_V1_ListWebhooksRequest, context: ServerContext) async throws -> Forge_Gateway_V1_ListWebhooksResponse {
        let all = try await webhooks.webhooks()
        return .with { $0.webhooks = all }
    }

    func deleteWebhook(_ request: Forge_Gateway_V1_DeleteWebhookRequest, context: ServerContext) async throws -> Forge_Gateway_V1_DeleteWebhookResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        try await webhooks.delete(id: request.id, context: context, at: clock.now())
        return .init()
    }

    func listDeliveries(_ request: Forge_Gateway_V1_ListDeliveriesRequest, context: ServerContext) async throws -> Forge_Gateway_V1_ListDeliveriesResponse {
        var violations: [FieldViolation] = []
        if !["", "pending", "delivered", "dead"].contains(request.state) {
            violations.append(FieldViolation(field: "state", description: "pending, delivered, dead or empty"))
        }
        if !(0...Int32(Page.maxSize)).contains(request.limit) { violations.append(FieldViolation(field: "limit", description: "must be 0 to \(Page.maxSize)")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let found = try await webhooks.deliveries(webhookID: request.webhookID, state: request.state, limit: request.limit == 0 ? 100 : Int(request.limit))
        return .with { $0.deliveries = found }
    }

    func replayDelivery(_ request: Forge_Gateway_V1_ReplayDeliveryRequest, context: ServerContext) async throws -> Forge_Gateway_V1_ReplayDeliveryResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let delivery = try await webhooks.replay(id: request.id, context: context, at: clock.now())
        return .with { $0.delivery = delivery }
    }

    func listNotifications(_ request: Forge_Gateway_V1_ListNotificationsRequest, context: ServerContext) async throws -> Forge_Gateway_V1_ListNotificationsResponse {
        var violations: [FieldViolation] = []
        if !request.state.isEmpty && !NotificationStore.states.contains(request.state) {
            violations.append(FieldViolation(field: "state", description: "pending, sent, skipped, bridged, dead or empty"))
        }
        if !(0...Int32(Page.maxSize)).contains(request.limit) { violations.append(FieldViolation(field: "limit", description: "must be 0 to \(Page.maxSize)")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let found = try await webhooks.database.read { db in
            try NotificationStore.list(db, accountID: request.accountID, state: request.state, limit: request.limit == 0 ? 100 : Int(request.limit))
        }
        return .with { $0.notifications = found }
    }

    func retryNotification(_ request: Forge_Gateway_V1_RetryNotificationRequest, context: ServerContext) async throws -> Forge_Gateway_V1_RetryNotificationResponse {
        guard !request.dedupeKey.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "dedupe_key", description: "is required")]) }
        let now = clock.now()
        return try await webhooks.database.write(recordingIdempotencyOf: context, at: now) { db in
            let notification = try NotificationStore.retry(db, key: request.dedupeKey, context: context, at: now)
            return Forge_Gateway_V1_RetryNotificationResponse.with { $0.notification = notification }
        }
    }
}
