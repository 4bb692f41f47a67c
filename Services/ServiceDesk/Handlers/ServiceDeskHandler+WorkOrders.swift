import Crypto
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Work orders, maintenance plans and the reliability figures.
extension ServiceDeskHandler {
    typealias WorkOrder = Forge_Servicedesk_V1_WorkOrder

    func createWorkOrder(_ request: Forge_Servicedesk_V1_CreateWorkOrderRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_CreateWorkOrderResponse {
        let violations = WorkOrderRules.validate(request.workOrder)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let now = clock.now()
        var id: String?
        let diagnosticAccount = request.workOrder.kind == .diagnostic
            ? try await database.read { db in try WorkOrderStore.equipment(db, for: request.workOrder)?.accountID } : nil
        if let diagnosticAccount {
            id = try await consumeDiagnostic(accountID: diagnosticAccount, context: context, now: now)
        }
        do {
            return try await database.write(recordingIdempotencyOf: context, at: now) { [id] db in
                let (order, _) = try WorkOrderStore.create(db, request.workOrder, actor: principal.subject, id: id, now: now)
                try AuditLog.record(db, context: context, recordID: order.id, changes: ["kind": "\(order.kind)", "equipment_id": order.equipmentID], at: now)
                return .with { $0.workOrder = order }
            }
        } catch {
            if let id, let diagnosticAccount { await giveBackDiagnostic(accountID: diagnosticAccount, reference: id, context: context) }
            throw error
        }
    }

    static let diagnosticEntitlement = "on_site_diagnostic"

    /// A free on-site diagnostic uses one of the account's loyalty entitlement (as the caller,
    /// once per work order: the reference is the work order's id, made here first — from the
    /// idempotency key when the call has one, so a retried call consumes nothing more). A quota
    /// used up is FAILED_PRECONDITION with what loyalty says (what is left, when it renews):
    /// the dispatcher books a paid visit instead.
    func consumeDiagnostic(accountID: String, context: ServerContext, now: Date) async throws -> String {
        let id = context.idempotencyKey.map { "wko_k\(Data(SHA256.hash(data: Data($0.utf8))).prefix(12).map { String(format: "%02x", $0) }.joined())" }
            ?? EventID.make(prefix: "wko", at: now)
        _ = try await UpstreamCall.run("loyalty", loyalty, cannot: "use the account's free on-site diagnostic") { channel in
            try await Forge_Loyalty_V1_LoyaltyClient(channel: channel).consumeEntitlement(.with {
                $0.accountID = accountID
                $0.code = Self.diagnosticEntitlement
                $0.reference = id
                $0.note = "诊断工单 diagnostic work order"
            }, options: UpstreamCall.asCaller(context, timeout: .seconds(5)))
        }
        return id
    }

    /// The work order was not created after all: the diagnostic goes back (best effort; a
    /// manager can reverse it in loyalty by the work order id).
    func giveBackDiagnostic(accountID: String, reference: String, context: ServerContext) async {
        _ = try? await UpstreamCall.run("loyalty", loyalty, cannot: "give the diagnostic back") { channel in
            try await Forge_Loyalty_V1_LoyaltyClient(channel: channel).reverseConsumption(.with {
                $0.accountID = accountID
                $0.code = Self.diagnosticEntitlement
                $0.reference = reference
                $0.reason = "工单未创建 the work order was not created"
            }, options: UpstreamCall.asCaller(context, timeout: .seconds(5)))
        }
    }

    func getWorkOrder(_ request: Forge_Servicedesk_V1_GetWorkOrderRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_GetWorkOrderResponse {
        guard !request.id.isEmpty else { throw RPCError.invalidArgument(Self.required(request.id, "id")) }
        let principal = try context.caller()
        return try await database.read { db in
            let order = try WorkOrderStore.visible(db, id: request.id, principal: principal)
            return .with { $0.workOrder = order }
        }
    }

    func listWorkOrders(_ request: Forge_Servicedesk_V1_ListWorkOrdersRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_ListWorkOrdersResponse {
        var violations: [FieldViolation] = []
        for (index, state) in request.states.enumerated() where !(1...4).contains(state.rawValue) {
            violations.append(FieldViolation(field: "states[\(index)]", description: "is not a work order state"))
        }
        let page: Page
        do {
            page = try Page(request.page, isCursor: WorkOrderStore.isPosition)
        } catch let error as RPCError {
            throw RPCError.invalidArgument(violations + error.violations)
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        return try await database.read { db in
            if OwnerScope.isScoped(principal) {
                guard !request.accountID.isEmpty else {
                    throw RPCError.invalidArgument([FieldViolation(field: "account_id", description: "is required (a sales user lists one account's work orders)")])
                }
                guard try Self.canSeeAccount(db, request.accountID, principal: principal) else { return .init() }
            }
            let (orders, next) = try WorkOrderStore.list(db, request, page: page, principal: principal)
            return .with {
                $0.workOrders = orders
                $0.page = page.response(next: next, count: orders.count)
            }
        }
    }

    /// Loads a work order the caller may see and work, lets `change` move it, saves it.
    private func changeWorkOrder(_ id: String, context: ServerContext, audit: [String: String],
                                 _ change: @escaping @Sendable (_ db: Database, _ order: inout WorkOrder, _ principal: Principal, _ now: Date) throws -> Void)
        async throws -> WorkOrder {
        guard !id.isEmpty else { throw RPCError.invalidArgument(Self.required(id, "id")) }
        let principal = try context.caller()
        let now = clock.now()
        let response: Forge_Servicedesk_V1_GetWorkOrderResponse = try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var order = try WorkOrderStore.visible(db, id: id, principal: principal)
            guard WorkOrderRules.mayWork(order, principal: principal) else {
                throw RPCError(.permissionDenied, "work order \(order.number) is \(order.engineerID)'s; only they or a service manager may work it")
            }
            try change(db, &order, principal, now)
            try WorkOrderStore.save(db, &order, now: now)
            try AuditLog.record(db, context: context, recordID: order.id, changes: audit, at: now)
            return .with { $0.workOrder = order }
        }
        return response.workOrder
    }

    func scheduleWorkOrder(_ request: Forge_Servicedesk_V1_ScheduleWorkOrderRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_ScheduleWorkOrderResponse {
        var violations = Self.required(request.id, "id") + Self.required(request.engineerID, "engineer_id")
        if !request.hasScheduledAt { violations.append(FieldViolation(field: "scheduled_at", description: "is required")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let order = try await changeWorkOrder(request.id, context: context, audit: ["engineer_id": request.engineerID, "scheduled_at": "\(request.scheduledAt.seconds)"]) { db, order, _, now in
            try WorkOrderRules.requireOpen(order, to: "scheduled")
            guard try ServiceDeskStore.engineer(db, id: request.engineerID) != nil else {
                throw RPCError(.notFound, "engineer_id names no engineer", violations: [FieldViolation(field: "engineer_id", description: "is not an engineer")])
            }
            order.engineerID = request.engineerID
            order.scheduledAt = request.scheduledAt
            order.state = .scheduled
            let scheduled = order
            try Outbox.append(db, Forge_Servicedesk_V1_WorkOrderScheduled.with { $0.workOrder = scheduled }, accountID: order.accountID, at: now)
        }
        return .with { $0.workOrder = order }
    }

    func completeWorkOrder(_ request: Forge_Servicedesk_V1_CompleteWorkOrderRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_CompleteWorkOrderResponse {
        let violations = WorkOrderRules.validateCompletion(request)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let order = try await changeWorkOrder(request.id, context: context, audit: ["state": "COMPLETED", "labour_hours": "\(request.labourHours)"]) { db, order, principal, now in
            try WorkOrderRules.requireOpen(order, to: "completed")
            if order.engineerID.isEmpty { order.engineerID = principal.subject }
            order.state = .completed
            order.labourHours = request.labourHours
            order.parts = request.parts.map { part in
                var part = part
                part.partNumber = part.partNumber.trimmingCharacters(in: .whitespaces)
                return part
            }
            order.result = request.result
            order.completedBy = principal.subject
            order.completedAt = Google_Protobuf_Timestamp(date: now)
            if request.runningHours > 0 {
                order.runningHours = request.runningHours
                try TelemetryStore.updateRunningHours(db, equipmentID: order.equipmentID, hours: request.runningHours)
            } else {
                order.runningHours = try EquipmentStore.byID(db, order.equipmentID)?.runningHours ?? 0
            }
            try WorkOrderStore.closePrediction(db, of: order, now: now)
            let completed = order
            try Outbox.append(db, Forge_Servicedesk_V1_WorkOrderCompleted.with { $0.workOrder = completed }, accountID: order.accountID, at: now)
        }
        return .with { $0.workOrder = order }
    }

    func cancelWorkOrder(_ request: Forge_Servicedesk_V1_CancelWorkOrderRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_CancelWorkOrderResponse {
        guard !request.reason.isBlank else {
            throw RPCError.invalidArgument(Self.required(request.id, "id") + [FieldViolation(field: "reason", description: "is required: why the visit is not needed")])
        }
        let order = try await changeWorkOrder(request.id, context: context, audit: ["state": "CANCELLED", "reason": request.reason]) { db, order, principal, now in
            try WorkOrderRules.requireOpen(order, to: "cancelled")
            order.state = .cancelled
            order.cancelReason = request.reason
            order.completedBy = principal.subject
            try WorkOrderStore.closePrediction(db, of: order, now: now)
            let cancelled = order
            try Outbox.append(db, Forge_Servicedesk_V1_WorkOrderCancelled.with { $0.workOrder = cancelled }, accountID: order.accountID, at: now)
        }
        return .with { $0.workOrder = order }
    }

    // MARK: Maintenance plans and reliability

    func upsertMaintenancePlan(_ request: Forge_Servicedesk_V1_UpsertMaintenancePlanRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_UpsertMaintenancePlanResponse {
        let violations = MaintenanceRules.validate(request.plan)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let plan = try WorkOrderStore.savePlan(db, request.plan, now: now)
            // A new or changed plan applies at once, not at the next daily sweep.
            try WorkOrderStore.generateMaintenance(db, now: now, model: plan.model)
            try AuditLog.record(db, context: context, recordID: plan.id, changes: ["model": plan.model, "every_months": "\(plan.everyMonths)",
                                                                                   "every_running_hours": "\(plan.everyRunningHours)", "active": "\(plan.active)"], at: now)
            return .with { $0.plan = plan }
        }
    }

    func listMaintenancePlans(_ request: Forge_Servicedesk_V1_ListMaintenancePlansRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_ListMaintenancePlansResponse {
        try await database.read { db in
            let plans = try WorkOrderStore.plans(db, model: request.model)
            return .with { $0.plans = plans }
        }
    }

    func getReliability(_ request: Forge_Servicedesk_V1_GetReliabilityRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_GetReliabilityResponse {
        let now = clock.now()
        let to = request.hasTo ? request.to.date : now
        let from = request.hasFrom ? request.from.date : to.addingTimeInterval(-365 * 86_400)
        guard from < to else { throw RPCError.invalidArgument([FieldViolation(field: "from", description: "must be before to")]) }
        let principal = try context.caller()
        return try await database.read { db in
            if !request.accountID.isEmpty, try !Self.canSeeAccount(db, request.accountID, principal: principal) {
                throw RPCError(.notFound, "account \(request.accountID) not found")
            }
            return try WorkOrderStore.reliability(db, model: request.model, accountID: request.accountID, from: from, to: to)
        }
    }
}
