import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// `forge.servicedesk.v1.ServiceDesk`: translates RPCs into store calls and rules.
struct ServiceDeskHandler: Forge_Servicedesk_V1_ServiceDeskHandler {
    typealias Ticket = Forge_Servicedesk_V1_Ticket

    let database: DatabasePool
    let clock: any WallClock
    /// forge-loyalty, called as the caller: a diagnostic work order uses the account's entitlement.
    var loyalty: (any RPCChannel)? = nil

    static func required(_ value: String, _ field: String) -> [FieldViolation] {
        value.isBlank ? [FieldViolation(field: field, description: "is required")] : []
    }

    static func calendar(_ db: Database) throws -> BusinessCalendar {
        ServiceDeskStore.calendar(try ServiceDeskStore.settings(db).calendar)
    }

    // MARK: Installed base

    func registerEquipment(_ request: Forge_Servicedesk_V1_RegisterEquipmentRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_RegisterEquipmentResponse {
        let violations = EquipmentStore.validate(request.equipment)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            guard try AccountDirectory.entry(db, accountID: request.equipment.accountID) != nil else {
                throw RPCError(.notFound, "account \(request.equipment.accountID) not found", violations: [FieldViolation(field: "equipment.account_id", description: "is not a known account")])
            }
            let (equipment, created) = try EquipmentStore.register(db, request.equipment, now: now)
            try AuditLog.record(db, context: context, recordID: equipment.id, changes: ["serial_number": equipment.serialNumber, "created": "\(created)"], at: now)
            return .with {
                $0.equipment = equipment
                $0.created = created
            }
        }
    }

    /// An account's machines and service record a caller may see: the service organisation and
    /// analysts all; sales the accounts they own or share a team with.
    static func canSeeAccount(_ db: Database, _ accountID: String, principal: Principal) throws -> Bool {
        guard OwnerScope.isScoped(principal) else { return true }
        guard let account = try AccountDirectory.entry(db, accountID: accountID) else { return false }
        return OwnerScope.canSee(owner: account.ownerID, team: account.team, principal: principal)
    }

    func getEquipment(_ request: Forge_Servicedesk_V1_GetEquipmentRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_GetEquipmentResponse {
        guard !request.id.isEmpty || !request.serialNumber.isEmpty else {
            throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required (or serial_number)")])
        }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.read { db in
            let found = request.id.isEmpty ? try EquipmentStore.bySerial(db, request.serialNumber) : try EquipmentStore.byID(db, request.id)
            guard let equipment = found, try Self.canSeeAccount(db, equipment.accountID, principal: principal) else {
                throw RPCError(.notFound, "equipment \(request.id.isEmpty ? request.serialNumber : request.id) not found")
            }
            let calendar = try Self.calendar(db)
            let regions = try ServiceDeskStore.regions(db, engineer: principal.subject)
            let tickets = try TicketStore.forEquipment(db, equipmentID: equipment.id)
                .filter { TicketRules.canSee($0, principal: principal, engineerRegions: regions) }
                .map { TicketStore.view($0, now: now, calendar: calendar) }
            let workOrders = try WorkOrderStore.forEquipment(db, equipmentID: equipment.id)
                .filter { WorkOrderRules.canSee($0, principal: principal, engineerRegions: regions, accountVisible: true) }
            let predictions = try TelemetryStore.predictions(db, equipmentID: equipment.id)
            let metrics = try TelemetryStore.metrics(db, equipmentID: equipment.id)
            return .with {
                $0.equipment = equipment
                $0.tickets = tickets
                $0.workOrders = workOrders
                $0.predictions = predictions
                $0.metrics = metrics
            }
        }
    }

    func listEquipment(_ request: Forge_Servicedesk_V1_ListEquipmentRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_ListEquipmentResponse {
        let page = try Page(request.page) { !$0.isEmpty }
        let principal = try context.caller()
        return try await database.read { db in
            if !request.accountID.isEmpty {
                guard try Self.canSeeAccount(db, request.accountID, principal: principal) else { return .init() }
            } else if OwnerScope.isScoped(principal) {
                throw RPCError.invalidArgument([FieldViolation(field: "account_id", description: "is required (a sales user lists one account's equipment)")])
            }
            let found = try EquipmentStore.list(db, accountID: request.accountID, model: request.model, after: page.after, limit: page.size)
            return .with {
                $0.equipment = found
                $0.page = page.response(next: found.last?.serialNumber, count: found.count)
            }
        }
    }

    /// The 360° view's service section: what sales and service need to know before a visit.
    func getAccountService(_ request: Forge_Servicedesk_V1_GetAccountServiceRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_GetAccountServiceResponse {
        guard !request.accountID.isEmpty else { throw RPCError.invalidArgument(Self.required(request.accountID, "account_id")) }
        let principal = try context.caller()
        let now = clock.now()
        return try database.pointRead { db in
            guard try Self.canSeeAccount(db, request.accountID, principal: principal) else {
                throw RPCError(.notFound, "account \(request.accountID) not found")
            }
            let calendar = try Self.calendar(db)
            let since = now.addingTimeInterval(-365 * 86_400).timeIntervalSince1970
            let open = try Data.fetchAll(db.cachedStatement(sql: "SELECT payload FROM ticket WHERE account_id = ? AND state IN (1, 2, 3) ORDER BY sla_rank, id LIMIT 50"),
                                         arguments: [request.accountID])
                .map { var ticket = TicketStore.view(try Ticket(serializedBytes: $0), now: now, calendar: calendar); ticket.history = []; return ticket }
            let year = try Data.fetchAll(db.cachedStatement(sql: "SELECT payload FROM ticket WHERE account_id = ? AND created_at >= ?"), arguments: [request.accountID, since])
                .map { TicketStore.view(try Ticket(serializedBytes: $0), now: now, calendar: calendar) }
            let missed = year.filter { ticket in
                [ticket.sla.firstResponse.status, ticket.sla.resolution.status].contains { $0 == .missed || $0 == .breached }
            }.count
            let count = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM equipment WHERE account_id = ?"), arguments: [request.accountID]) ?? 0
            let machines = try EquipmentStore.list(db, accountID: request.accountID, model: "", after: "", limit: 20)
            let predictions = try TelemetryStore.predictions(db, accountID: request.accountID, limit: 1)
            let openPredictions = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM prediction WHERE account_id = ? AND state = 1"), arguments: [request.accountID]) ?? 0
            let openWorkOrders = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM work_order WHERE account_id = ? AND state IN (1, 2)"), arguments: [request.accountID]) ?? 0
            return .with {
                if let last = predictions.first { $0.lastPrediction = last }
                $0.predictionsOpen = Int32(openPredictions)
                $0.workOrdersOpen = Int32(openWorkOrders)
                $0.equipmentCount = Int32(count)
                $0.equipment = machines
                $0.openTickets = open
                $0.ticketsLast12Months = Int32(year.count)
                $0.slaMissedLast12Months = Int32(missed)
                $0.complaintsOpen = Int32(open.filter { $0.category == .complaint }.count)
            }
        }
    }

    // MARK: Tickets

    func openTicket(_ request: Forge_Servicedesk_V1_OpenTicketRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_OpenTicketResponse {
        let violations = TicketRules.validate(request.ticket)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            let ticket = try TicketStore.open(db, request.ticket, principal: principal, now: now)
            try AuditLog.record(db, context: context, recordID: ticket.id, changes: ["state": "OPEN", "priority": "\(ticket.priority)"], at: now)
            let calendar = try Self.calendar(db)
            return .with { $0.ticket = TicketStore.view(ticket, now: now, calendar: calendar) }
        }
    }

    func getTicket(_ request: Forge_Servicedesk_V1_GetTicketRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_GetTicketResponse {
        guard !request.id.isEmpty else { throw RPCError.invalidArgument(Self.required(request.id, "id")) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.read { db in
            let ticket = try TicketStore.visible(db, id: request.id, principal: principal)
            let calendar = try Self.calendar(db)
            return .with { $0.ticket = TicketStore.view(ticket, now: now, calendar: calendar) }
        }
    }

    func listTickets(_ request: Forge_Servicedesk_V1_ListTicketsRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_ListTicketsResponse {
        var violations: [FieldViolation] = []
        for (index, state) in request.states.enumerated() where !(1...5).contains(state.rawValue) {
            violations.append(FieldViolation(field: "states[\(index)]", description: "is not a ticket state"))
        }
        if !(0...5).contains(request.category.rawValue) { violations.append(FieldViolation(field: "category", description: "is not a category")) }
        let page: Page
        do {
            page = try Page(request.page, isCursor: TicketStore.isPosition)
        } catch let error as RPCError {
            throw RPCError.invalidArgument(violations + error.violations)
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.read { db in
            let calendar = try Self.calendar(db)
            let (tickets, next) = try TicketStore.list(db, request, page: page, principal: principal)
            return .with {
                $0.tickets = tickets.map { var ticket = TicketStore.view($0, now: now, calendar: calendar); ticket.history = []; return ticket }
                $0.page = page.response(next: next, count: tickets.count)
            }
        }
    }

    /// Loads a ticket the caller may see, lets `change` move it, saves it and answers it.
    private func change(_ id: String, context: ServerContext, audit: [String: String],
                        _ change: @escaping @Sendable (_ db: Database, _ ticket: inout Ticket, _ principal: Principal, _ now: Date, _ calendar: BusinessCalendar) throws -> Void)
        async throws -> Ticket {
        guard !id.isEmpty else { throw RPCError.invalidArgument(Self.required(id, "id")) }
        let principal = try context.caller()
        let now = clock.now()
        let response: Forge_Servicedesk_V1_GetTicketResponse = try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var ticket = try TicketStore.visible(db, id: id, principal: principal)
            let calendar = try Self.calendar(db)
            try change(db, &ticket, principal, now, calendar)
            try TicketStore.save(db, &ticket, calendar: calendar, now: now)
            try AuditLog.record(db, context: context, recordID: ticket.id, changes: audit, at: now)
            return .with { $0.ticket = TicketStore.view(ticket, now: now, calendar: calendar) }
        }
        return response.ticket
    }

    static func requireWorker(_ ticket: Ticket, _ principal: Principal) throws {
        guard TicketRules.mayWork(ticket, principal: principal) else {
            throw RPCError(.permissionDenied, "ticket \(ticket.number) is assigned to \(ticket.assigneeID.isEmpty ? "nobody" : ticket.assigneeID); only they or a service manager may work it")
        }
    }

    /// The first response, given now unless it was.
    static func respond(_ ticket: inout Ticket, principal: Principal, now: Date) {
        guard !ticket.sla.firstResponse.hasMetAt else { return }
        ticket.sla.firstResponse.metAt = Google_Protobuf_Timestamp(date: now)
        if ticket.state == .open { ticket.state = .inProgress }
    }

    /// Ends a pause: its business time no longer counts against the resolution target.
    static func endPause(_ ticket: inout Ticket, now: Date, calendar: BusinessCalendar) {
        guard ticket.sla.paused else { return }
        if ticket.sla.hasPausedSince {
            ticket.sla.pausedSeconds += calendar.businessSeconds(from: ticket.sla.pausedSince.date, to: now)
        }
        ticket.sla.paused = false
        ticket.sla.clearPausedSince()
    }

    func assignTicket(_ request: Forge_Servicedesk_V1_AssignTicketRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_AssignTicketResponse {
        guard !request.assigneeID.isEmpty else { throw RPCError.invalidArgument(Self.required(request.id, "id") + Self.required(request.assigneeID, "assignee_id")) }
        let ticket = try await change(request.id, context: context, audit: ["assignee_id": request.assigneeID]) { db, ticket, principal, now, _ in
            try TicketRules.requireOpen(ticket, to: "reassigned")
            guard try ServiceDeskStore.engineer(db, id: request.assigneeID) != nil else {
                throw RPCError(.notFound, "assignee_id names no engineer", violations: [FieldViolation(field: "assignee_id", description: "is not an engineer")])
            }
            let previous = ticket.assigneeID
            guard previous != request.assigneeID else { return }
            ticket.assigneeID = request.assigneeID
            var step = TicketRules.step("assigned", actor: principal.subject, at: now, note: [previous.isEmpty ? "" : "from \(previous)", request.note].filter { !$0.isEmpty }.joined(separator: ": "))
            step.assigneeID = request.assigneeID
            ticket.history.append(step)
            let assigned = ticket
            try Outbox.append(db, Forge_Servicedesk_V1_TicketAssigned.with { $0.ticket = assigned; $0.previousAssigneeID = previous }, accountID: ticket.accountID, at: now)
        }
        return .with { $0.ticket = ticket }
    }

    func respondToTicket(_ request: Forge_Servicedesk_V1_RespondToTicketRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_RespondToTicketResponse {
        let ticket = try await change(request.id, context: context, audit: ["first_response": "given"]) { _, ticket, principal, now, _ in
            try Self.requireWorker(ticket, principal)
            try TicketRules.requireOpen(ticket, to: "answered")
            guard !ticket.sla.firstResponse.hasMetAt else { throw RPCError(.failedPrecondition, "ticket \(ticket.number) had its first response") }
            Self.respond(&ticket, principal: principal, now: now)
            ticket.history.append(TicketRules.step("responded", actor: principal.subject, at: now, note: request.note))
        }
        return .with { $0.ticket = ticket }
    }

    func setWaitingOnCustomer(_ request: Forge_Servicedesk_V1_SetWaitingOnCustomerRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_SetWaitingOnCustomerResponse {
        let ticket = try await change(request.id, context: context, audit: ["waiting": "\(request.waiting)"]) { _, ticket, principal, now, calendar in
            try Self.requireWorker(ticket, principal)
            try TicketRules.requireOpen(ticket, to: request.waiting ? "put on hold" : "resumed")
            if request.waiting {
                guard !ticket.sla.paused else { throw RPCError(.failedPrecondition, "ticket \(ticket.number) is already waiting on the customer") }
                Self.respond(&ticket, principal: principal, now: now)
                ticket.sla.paused = true
                ticket.sla.pausedSince = Google_Protobuf_Timestamp(date: now)
                ticket.state = .waitingCustomer
                ticket.history.append(TicketRules.step("waiting", actor: principal.subject, at: now, note: request.note))
            } else {
                guard ticket.sla.paused else { throw RPCError(.failedPrecondition, "ticket \(ticket.number) is not waiting on the customer") }
                Self.endPause(&ticket, now: now, calendar: calendar)
                ticket.state = .inProgress
                ticket.history.append(TicketRules.step("resumed", actor: principal.subject, at: now, note: request.note))
            }
        }
        return .with { $0.ticket = ticket }
    }

    func resolveTicket(_ request: Forge_Servicedesk_V1_ResolveTicketRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_ResolveTicketResponse {
        guard !request.resolution.isBlank else {
            throw RPCError.invalidArgument(Self.required(request.id, "id") + [FieldViolation(field: "resolution", description: "is required: what was done")])
        }
        let ticket = try await change(request.id, context: context, audit: ["state": "RESOLVED"]) { db, ticket, principal, now, calendar in
            try Self.requireWorker(ticket, principal)
            try TicketRules.requireOpen(ticket, to: "resolved")
            Self.endPause(&ticket, now: now, calendar: calendar)
            Self.respond(&ticket, principal: principal, now: now)
            ticket.sla.resolution.metAt = Google_Protobuf_Timestamp(date: now)
            ticket.state = .resolved
            ticket.resolution = request.resolution
            ticket.resolvedAt = Google_Protobuf_Timestamp(date: now)
            ticket.history.append(TicketRules.step("resolved", actor: principal.subject, at: now, note: request.resolution))
            let resolved = TicketStore.view(ticket, now: now, calendar: calendar)
            try Outbox.append(db, Forge_Servicedesk_V1_TicketResolved.with { $0.ticket = resolved }, accountID: ticket.accountID, at: now)
        }
        return .with { $0.ticket = ticket }
    }

    func closeTicket(_ request: Forge_Servicedesk_V1_CloseTicketRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_CloseTicketResponse {
        let ticket = try await change(request.id, context: context, audit: ["state": "CLOSED", "override_reason": request.overrideReason]) { db, ticket, principal, now, calendar in
            try Self.requireWorker(ticket, principal)
            guard ticket.state == .resolved else {
                throw RPCError(.failedPrecondition, "ticket \(ticket.number) is \(TicketRules.label(ticket.state)); it closes once resolved")
            }
            try ComplaintRules.checkClose(ticket, overrideReason: request.overrideReason, principal: principal)
            if ticket.category == .complaint, ticket.complaintStep != .customerConfirmed { ticket.overrideReason = request.overrideReason }
            ticket.state = .closed
            ticket.closedAt = Google_Protobuf_Timestamp(date: now)
            ticket.history.append(TicketRules.step("closed", actor: principal.subject, at: now, note: ticket.overrideReason))
            let closed = TicketStore.view(ticket, now: now, calendar: calendar)
            try Outbox.append(db, Forge_Servicedesk_V1_TicketClosed.with { $0.ticket = closed }, accountID: ticket.accountID, at: now)
        }
        return .with { $0.ticket = ticket }
    }

    func advanceComplaint(_ request: Forge_Servicedesk_V1_AdvanceComplaintRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_AdvanceComplaintResponse {
        let ticket = try await change(request.id, context: context, audit: ["complaint_step": "\(request.step)"]) { db, ticket, principal, now, _ in
            try Self.requireWorker(ticket, principal)
            guard ticket.category == .complaint else {
                throw RPCError(.failedPrecondition, "ticket \(ticket.number) is not a complaint")
            }
            guard ticket.state != .closed else { throw RPCError(.failedPrecondition, "complaint \(ticket.number) is closed") }
            try ComplaintRules.checkAdvance(from: ticket.complaintStep, to: request.step, note: request.note)
            ticket.complaintStep = request.step
            // Acknowledging the complaint is the first response to the customer.
            if request.step == .acknowledged { Self.respond(&ticket, principal: principal, now: now) }
            var step = TicketRules.step("complaint", actor: principal.subject, at: now, note: request.note)
            step.complaintStep = request.step
            ticket.history.append(step)
            let advanced = ticket
            try Outbox.append(db, Forge_Servicedesk_V1_ComplaintAdvanced.with { $0.ticket = advanced; $0.step = request.step }, accountID: ticket.accountID, at: now)
        }
        return .with { $0.ticket = ticket }
    }

    // MARK: Engineers and settings

    func upsertEngineer(_ request: Forge_Servicedesk_V1_UpsertEngineerRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_UpsertEngineerResponse {
        var violations = Self.required(request.engineer.id, "engineer.id")
        if request.engineer.name.isBlank { violations.append(FieldViolation(field: "engineer.name", description: "is required")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            try ServiceDeskStore.saveEngineer(db, request.engineer)
            try AuditLog.record(db, context: context, recordID: request.engineer.id, changes: ["regions": request.engineer.regions.joined(separator: ","),
                                                                                              "active": "\(request.engineer.active)"], at: now)
            let saved = try ServiceDeskStore.engineers(db).first { $0.id == request.engineer.id } ?? request.engineer
            return .with { $0.engineer = saved }
        }
    }

    func listEngineers(_ request: Forge_Servicedesk_V1_ListEngineersRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_ListEngineersResponse {
        try await database.read { db in
            let engineers = try ServiceDeskStore.engineers(db)
            return .with { $0.engineers = engineers }
        }
    }

    func getServiceSettings(_ request: Forge_Servicedesk_V1_GetServiceSettingsRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_GetServiceSettingsResponse {
        try await database.read { db in
            let settings = try ServiceDeskStore.settings(db)
            return .with { $0.settings = settings }
        }
    }

    /// New settings apply to every open ticket's due times at once (the queue re-sorts, the
    /// SLA watches move).
    func updateServiceSettings(_ request: Forge_Servicedesk_V1_UpdateServiceSettingsRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_UpdateServiceSettingsResponse {
        var requested = request.settings
        if requested.calendar.timeZone.isEmpty { requested.calendar.timeZone = BusinessCalendar.standard.timeZone.identifier }
        let violations = ServiceDeskStore.validate(requested)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { [requested] db in
            var settings = requested
            let current = try ServiceDeskStore.settings(db)
            guard settings.version == current.version else {
                throw RPCError(.aborted, "the settings changed since version \(settings.version) (now \(current.version)): read them again")
            }
            settings.version = current.version + 1
            try ServiceDeskStore.saveSettings(db, settings)
            try TicketStore.applyCalendar(db, ServiceDeskStore.calendar(settings.calendar), now: now)
            try AuditLog.record(db, context: context, recordID: "settings", changes: ["version": "\(settings.version)"], at: now)
            return .with { $0.settings = settings }
        }
    }
}

enum ServiceDeskAccess {
    static func declare(in access: inout AccessTable) {
        let method = Forge_Servicedesk_V1_ServiceDeskService.Method.self
        let service: Set<String> = [Role.serviceManager, Role.serviceEngineer]
        let readers = service.union([Role.salesManager, Role.salesRep, Role.analyst, Role.service])
        access.allow(method.registerEquipment, .roles(service.union([Role.erpConnector])))
        access.allow(method.getEquipment, .roles(readers))
        access.allow(method.listEquipment, .roles(readers))
        access.allow(method.getAccountService, .roles(readers))
        // Sales may log a customer's complaint or breakdown; the desk works it.
        access.allow(method.openTicket, .roles(service.union([Role.salesManager, Role.salesRep, Role.service])))
        access.allow(method.getTicket, .roles(readers))
        access.allow(method.listTickets, .roles(readers))
        access.allow(method.assignTicket, .roles([Role.serviceManager]))
        access.allow(method.respondToTicket, .roles(service))
        access.allow(method.setWaitingOnCustomer, .roles(service))
        access.allow(method.resolveTicket, .roles(service))
        access.allow(method.closeTicket, .roles(service))
        access.allow(method.advanceComplaint, .roles(service))
        access.allow(method.upsertEngineer, .roles([Role.serviceManager]))
        access.allow(method.listEngineers, .roles(service))
        access.allow(method.getServiceSettings, .roles(service.union([Role.analyst])))
        access.allow(method.updateServiceSettings, .roles([Role.serviceManager]))
        access.allow(method.importEquipment, .roles([Role.serviceManager]))
        access.allow(method.importTickets, .roles([Role.serviceManager]))
        access.allow(method.createWorkOrder, .roles(service))
        access.allow(method.getWorkOrder, .roles(readers))
        access.allow(method.listWorkOrders, .roles(readers))
        access.allow(method.scheduleWorkOrder, .roles(service))
        access.allow(method.completeWorkOrder, .roles(service))
        access.allow(method.cancelWorkOrder, .roles([Role.serviceManager]))
        access.allow(method.upsertMaintenancePlan, .roles([Role.serviceManager]))
        access.allow(method.listMaintenancePlans, .roles(service.union([Role.analyst])))
        access.allow(method.getReliability, .roles(service.union([Role.analyst, Role.salesManager])))
        // Machines report through a connector (an IoT platform's, with the connector role).
        access.allow(method.ingestTelemetry, .roles([Role.erpConnector, Role.service, Role.serviceManager]))
        access.allow(method.getTelemetry, .roles(readers))
        access.allow(method.upsertTelemetryRule, .roles([Role.serviceManager]))
        access.allow(method.listTelemetryRules, .roles(service.union([Role.analyst])))
        access.allow(method.listPredictions, .roles(readers))
    }
}
