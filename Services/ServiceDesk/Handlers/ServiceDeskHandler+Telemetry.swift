import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// IoT telemetry: ingest, the chart's series, the rules and the predictions they open.
extension ServiceDeskHandler {
    func ingestTelemetry(_ request: Forge_Servicedesk_V1_IngestTelemetryRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_IngestTelemetryResponse {
        guard request.points.count <= TelemetryRules.maxBatch else {
            throw RPCError.invalidArgument([FieldViolation(field: "points", description: "must be at most \(TelemetryRules.maxBatch) points per call")])
        }
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let outcome = try TelemetryStore.ingest(db, request.points, now: now)
            return .with {
                $0.accepted = Int32(outcome.accepted)
                $0.rejected = outcome.rejected
                $0.predictions = outcome.predictions
            }
        }
    }

    /// The equipment if the caller may see its account; NOT_FOUND otherwise.
    static func visibleEquipment(_ db: Database, id: String, principal: Principal) throws -> Forge_Servicedesk_V1_Equipment {
        guard let equipment = try EquipmentStore.byID(db, id), try canSeeAccount(db, equipment.accountID, principal: principal) else {
            throw RPCError(.notFound, "equipment \(id) not found")
        }
        return equipment
    }

    func getTelemetry(_ request: Forge_Servicedesk_V1_GetTelemetryRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_GetTelemetryResponse {
        var violations = Self.required(request.equipmentID, "equipment_id") + Self.required(request.metric, "metric")
        let now = clock.now()
        let to = request.hasTo ? request.to.date : now
        let from = request.hasFrom ? request.from.date : to.addingTimeInterval(-7 * 86_400)
        if from >= to { violations.append(FieldViolation(field: "from", description: "must be before to")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        return try await database.read { db in
            let equipment = try Self.visibleEquipment(db, id: request.equipmentID, principal: principal)
            let values = try TelemetryStore.values(db, equipmentID: equipment.id, metric: request.metric, from: from, to: to, hourly: request.hourly)
            let metric = TelemetryRules.metric(request.metric)
            let rules = try TelemetryStore.allRules(db, model: equipment.model).filter { $0.metric == metric }
            return .with {
                $0.values = values
                $0.rules = rules
            }
        }
    }

    func upsertTelemetryRule(_ request: Forge_Servicedesk_V1_UpsertTelemetryRuleRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_UpsertTelemetryRuleResponse {
        let violations = TelemetryRules.validate(request.rule)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let rule = try TelemetryStore.saveRule(db, request.rule, now: now)
            try AuditLog.record(db, context: context, recordID: rule.id, changes: ["model": rule.model, "metric": rule.metric, "kind": "\(rule.kind)",
                                                                                   "limit": "\(rule.limit)", "active": "\(rule.active)"], at: now)
            return .with { $0.rule = rule }
        }
    }

    func listTelemetryRules(_ request: Forge_Servicedesk_V1_ListTelemetryRulesRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_ListTelemetryRulesResponse {
        try await database.read { db in
            let rules = try TelemetryStore.allRules(db, model: request.model)
            return .with { $0.rules = rules }
        }
    }

    func listPredictions(_ request: Forge_Servicedesk_V1_ListPredictionsRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_ListPredictionsResponse {
        guard (0...500).contains(request.limit) else { throw RPCError.invalidArgument([FieldViolation(field: "limit", description: "must be 0 (50) to 500")]) }
        let principal = try context.caller()
        return try await database.read { db in
            if !request.equipmentID.isEmpty {
                _ = try Self.visibleEquipment(db, id: request.equipmentID, principal: principal)
            } else if !request.accountID.isEmpty {
                guard try Self.canSeeAccount(db, request.accountID, principal: principal) else { return .init() }
            } else if OwnerScope.isScoped(principal) {
                throw RPCError.invalidArgument([FieldViolation(field: "account_id", description: "is required (a sales user lists one account's predictions)")])
            }
            let predictions = try TelemetryStore.predictions(db, equipmentID: request.equipmentID, accountID: request.accountID,
                                                             openOnly: request.openOnly, limit: request.limit == 0 ? 50 : Int(request.limit))
            return .with { $0.predictions = predictions }
        }
    }
}
