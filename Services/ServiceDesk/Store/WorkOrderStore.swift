import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Work orders: creating one (from a ticket, a plan, a prediction or by hand), every move,
/// the lists, maintenance plans and their daily sweep, and the reliability figures. Functions
/// run inside the caller's transaction.
enum WorkOrderStore {
    typealias WorkOrder = Forge_Servicedesk_V1_WorkOrder
    typealias Plan = Forge_Servicedesk_V1_MaintenancePlan

    static func load(_ db: Database, id: String) throws -> WorkOrder? {
        try Data.fetchOne(db, sql: "SELECT payload FROM work_order WHERE id = ?", arguments: [id]).map { try .init(serializedBytes: $0) }
    }

    /// The work order if `principal` may see it; NOT_FOUND otherwise.
    static func visible(_ db: Database, id: String, principal: Principal) throws -> WorkOrder {
        guard let order = try load(db, id: id), try canSee(db, order, principal: principal) else {
            throw RPCError(.notFound, "work order \(id) not found")
        }
        return order
    }

    static func canSee(_ db: Database, _ order: WorkOrder, principal: Principal) throws -> Bool {
        WorkOrderRules.canSee(order, principal: principal, engineerRegions: try ServiceDeskStore.regions(db, engineer: principal.subject),
                              accountVisible: try ServiceDeskHandler.canSeeAccount(db, order.accountID, principal: principal))
    }

    /// Creates a work order. From a ticket it takes the ticket's machine and account (and, for a
    /// repair, the failure's report time); `sourceKey` makes it once-only (a plan's cycle, a
    /// prediction): when one with that key exists, that one is answered and nothing is written.
    /// The machine a requested work order is for: named, or its ticket's.
    static func equipment(_ db: Database, for requested: WorkOrder) throws -> Forge_Servicedesk_V1_Equipment? {
        var equipmentID = requested.equipmentID
        if !requested.ticketID.isEmpty, equipmentID.isEmpty, requested.serialNumber.isEmpty {
            equipmentID = try TicketStore.load(db, id: requested.ticketID)?.equipmentID ?? ""
        }
        return equipmentID.isEmpty ? try EquipmentStore.bySerial(db, requested.serialNumber) : try EquipmentStore.byID(db, equipmentID)
    }

    /// - Parameter id: the work order's id when the caller made it first (a diagnostic's
    ///   entitlement is consumed for it before it exists).
    static func create(_ db: Database, _ requested: WorkOrder, actor: String, sourceKey: String? = nil, id: String? = nil, now: Date) throws -> (order: WorkOrder, created: Bool) {
        if let sourceKey, let payload = try Data.fetchOne(db, sql: "SELECT payload FROM work_order WHERE source_key = ?", arguments: [sourceKey]) {
            return (try WorkOrder(serializedBytes: payload), false)
        }
        var order = WorkOrder()
        var equipmentID = requested.equipmentID
        var serial = requested.serialNumber
        if !requested.ticketID.isEmpty {
            guard let ticket = try TicketStore.load(db, id: requested.ticketID) else {
                throw RPCError(.notFound, "ticket \(requested.ticketID) not found", violations: [FieldViolation(field: "work_order.ticket_id", description: "is not a ticket")])
            }
            order.ticketID = ticket.id
            if equipmentID.isEmpty && serial.isEmpty { equipmentID = ticket.equipmentID }
            if requested.kind == .repair { order.failureReportedAt = ticket.createdAt }
            order.description_p = ticket.subject
        }
        let found = equipmentID.isEmpty ? try EquipmentStore.bySerial(db, serial) : try EquipmentStore.byID(db, equipmentID)
        guard let equipment = found else {
            let field = !requested.ticketID.isEmpty && requested.equipmentID.isEmpty && requested.serialNumber.isEmpty ? "work_order.ticket_id"
                : requested.equipmentID.isEmpty ? "work_order.serial_number" : "work_order.equipment_id"
            let violation = FieldViolation(field: field, description: field.hasSuffix("ticket_id") ? "names no equipment: give the machine" : "is not in the installed base")
            // A ticket without a machine is the request's gap (400); a machine not in the base is not found (404).
            if field.hasSuffix("ticket_id") { throw RPCError.invalidArgument([violation]) }
            throw RPCError(.notFound, "no such machine in the installed base", violations: [violation])
        }
        serial = equipment.serialNumber
        if !requested.engineerID.isEmpty, try ServiceDeskStore.engineer(db, id: requested.engineerID) == nil {
            throw RPCError(.notFound, "work_order.engineer_id names no engineer", violations: [FieldViolation(field: "work_order.engineer_id", description: "is not an engineer")])
        }
        order.id = id ?? EventID.make(prefix: "wko", at: now)
        let year = Calendar(identifier: .gregorian).component(.year, from: now)
        order.number = "WO-\(year)-" + String(format: "%06lld", try Counters.next(db, "work-order-\(year)"))
        order.kind = requested.kind
        order.accountID = equipment.accountID
        order.accountName = equipment.accountName
        order.equipmentID = equipment.id
        order.serialNumber = serial
        order.model = equipment.model
        order.region = equipment.region
        order.planID = requested.planID
        order.predictionID = requested.predictionID
        if !requested.description_p.isEmpty { order.description_p = requested.description_p }
        order.engineerID = requested.engineerID
        if requested.hasScheduledAt { order.scheduledAt = requested.scheduledAt }
        if requested.hasDueAt { order.dueAt = requested.dueAt }
        if order.kind == .repair, !order.hasFailureReportedAt { order.failureReportedAt = Google_Protobuf_Timestamp(date: now) }
        order.state = order.hasScheduledAt && !order.engineerID.isEmpty ? .scheduled : .open
        order.createdBy = actor
        order.createdAt = Google_Protobuf_Timestamp(date: now)
        order.version = 1
        try db.execute(sql: """
            INSERT INTO work_order (id, number, account_id, equipment_id, engineer_id, region, kind, state, plan_id, source_key, created_at, version, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [order.id, order.number, order.accountID, order.equipmentID, order.engineerID, order.region, order.kind.rawValue,
                             order.state.rawValue, order.planID, sourceKey, now.timeIntervalSince1970, order.version, try order.serializedData()])
        try Outbox.append(db, Forge_Servicedesk_V1_WorkOrderCreated.with { $0.workOrder = order }, accountID: order.accountID, at: now)
        return (order, true)
    }

    /// Writes a changed work order (its version bumped).
    static func save(_ db: Database, _ order: inout WorkOrder, now: Date) throws {
        order.version += 1
        try db.execute(sql: """
            UPDATE work_order SET account_id = ?, engineer_id = ?, state = ?, completed_at = ?, version = ?, payload = ? WHERE id = ?
            """, arguments: [order.accountID, order.engineerID, order.state.rawValue, order.hasCompletedAt ? order.completedAt.date.timeIntervalSince1970 : nil,
                             order.version, try order.serializedData(), order.id])
    }

    static func isPosition(_ cursor: String) -> Bool {
        let parts = cursor.split(separator: "|", maxSplits: 1)
        return parts.count == 2 && Double(parts[0]) != nil
    }

    /// Work orders `principal` may see, newest first (sales: one account's, checked by the caller).
    static func list(_ db: Database, _ request: Forge_Servicedesk_V1_ListWorkOrdersRequest, page: Page, principal: Principal)
        throws -> (orders: [WorkOrder], next: String?) {
        let states = request.states.isEmpty ? WorkOrderRules.openStates : request.states
        var clauses = ["state IN (\(states.map { String($0.rawValue) }.joined(separator: ",")))"]
        var arguments: StatementArguments = []
        if let cursor = page.cursor {
            let parts = cursor.split(separator: "|", maxSplits: 1)
            clauses.append("(created_at, id) < (?, ?)")
            arguments += [Double(parts[0])!, String(parts[1])]
        }
        if !request.equipmentID.isEmpty { clauses.append("equipment_id = ?"); arguments += [request.equipmentID] }
        if !request.accountID.isEmpty { clauses.append("account_id = ?"); arguments += [request.accountID] }
        if !request.engineerID.isEmpty { clauses.append("engineer_id = ?"); arguments += [request.engineerID] }
        let roles = principal.roles
        if roles.isDisjoint(with: [Role.admin, Role.serviceManager, Role.analyst, Role.service, Role.salesRep, Role.salesManager]) {
            let regions = try ServiceDeskStore.regions(db, engineer: principal.subject)
            var visible = ["engineer_id = ?"]
            arguments += [principal.subject]
            if !regions.isEmpty {
                visible.append("region IN (\(databaseQuestionMarks(count: regions.count)))")
                arguments += StatementArguments(regions.sorted())
            }
            clauses.append("(\(visible.joined(separator: " OR ")))")
        }
        let rows = try Row.fetchAll(db, sql: """
            SELECT created_at, id, payload FROM work_order WHERE \(clauses.joined(separator: " AND ")) ORDER BY created_at DESC, id DESC LIMIT ?
            """, arguments: arguments + [page.size])
        let orders = try rows.map { try WorkOrder(serializedBytes: $0["payload"] as Data) }
        return (orders, rows.last.map { "\($0["created_at"] as Double)|\($0["id"] as String)" })
    }

    static func forEquipment(_ db: Database, equipmentID: String, limit: Int = 100) throws -> [WorkOrder] {
        try Data.fetchAll(db, sql: "SELECT payload FROM work_order WHERE equipment_id = ? ORDER BY created_at DESC LIMIT ?",
                          arguments: [equipmentID, limit]).map { try .init(serializedBytes: $0) }
    }

    /// A prediction's work order is done (or dropped): the prediction closes, and a rule that
    /// still fires opens a new one.
    static func closePrediction(_ db: Database, of order: WorkOrder, now: Date) throws {
        guard !order.predictionID.isEmpty, var prediction = try TelemetryStore.prediction(db, id: order.predictionID), prediction.state == .open else { return }
        prediction.state = .closed
        prediction.closedAt = Google_Protobuf_Timestamp(date: now)
        try TelemetryStore.savePrediction(db, prediction)
    }

    // MARK: Maintenance plans

    static func plans(_ db: Database, model: String = "") throws -> [Plan] {
        let sql = model.isEmpty ? "SELECT payload FROM maintenance_plan ORDER BY model, id" : "SELECT payload FROM maintenance_plan WHERE model = ? ORDER BY id"
        return try Data.fetchAll(db, sql: sql, arguments: model.isEmpty ? [] : [model]).map { try .init(serializedBytes: $0) }
    }

    static func savePlan(_ db: Database, _ requested: Plan, now: Date) throws -> Plan {
        var plan = requested
        plan.model = plan.model.trimmingCharacters(in: .whitespaces)
        if plan.id.isEmpty { plan.id = EventID.make(prefix: "pmp", at: now) }
        let current = try Data.fetchOne(db, sql: "SELECT payload FROM maintenance_plan WHERE id = ?", arguments: [plan.id]).map { try Plan(serializedBytes: $0) }
        plan.version = (current?.version ?? 0) + 1
        try db.execute(sql: "INSERT INTO maintenance_plan (id, model, payload) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET model = excluded.model, payload = excluded.payload",
                       arguments: [plan.id, plan.model, try plan.serializedData()])
        let saved = plan
        try Outbox.append(db, Forge_Servicedesk_V1_MaintenancePlanChanged.with { $0.plan = saved }, at: now)
        return plan
    }

    /// Where a plan counts from on a machine: its last maintenance under the plan (completed:
    /// that day and the hour meter then; cancelled: the skipped due date), else the installation.
    static func anchor(_ db: Database, plan: Plan, equipment: Forge_Servicedesk_V1_Equipment) throws -> MaintenanceRules.Anchor? {
        guard let payload = try Data.fetchOne(db, sql: "SELECT payload FROM work_order WHERE plan_id = ? AND equipment_id = ? ORDER BY created_at DESC LIMIT 1",
                                              arguments: [plan.id, equipment.id]) else {
            let installed = equipment.hasInstalledAt ? equipment.installedAt.date : equipment.createdAt.date
            return .init(at: installed, runningHours: 0, key: "install")
        }
        let last = try WorkOrder(serializedBytes: payload)
        switch last.state {
        case .completed:
            return .init(at: last.completedAt.date, runningHours: last.runningHours, key: last.id)
        case .cancelled:
            return .init(at: last.hasDueAt ? last.dueAt.date : last.createdAt.date, runningHours: equipment.runningHours, key: last.id)
        default:
            return nil  // one open at a time
        }
    }

    /// The daily sweep (and a saved plan, for its model): every active plan's machines whose
    /// next maintenance falls within the plan's lead days get their work order, once per due
    /// date. Returns how many it created.
    @discardableResult
    static func generateMaintenance(_ db: Database, now: Date, model: String = "") throws -> Int {
        var created = 0
        for plan in try plans(db, model: model) where plan.active {
            for payload in try Data.fetchAll(db, sql: "SELECT payload FROM equipment WHERE model = ?", arguments: [plan.model]) {
                let equipment = try Forge_Servicedesk_V1_Equipment(serializedBytes: payload)
                guard equipment.status != .decommissioned, let anchor = try anchor(db, plan: plan, equipment: equipment) else { continue }
                let inService = equipment.hasInstalledAt ? equipment.installedAt.date : equipment.createdAt.date
                guard let due = MaintenanceRules.due(plan, anchor: anchor, runningHours: equipment.runningHours, inServiceSince: inService, now: now),
                      MaintenanceRules.isDue(due, plan: plan, now: now) else { continue }
                let (_, isNew) = try create(db, .with {
                    $0.kind = .preventive
                    $0.equipmentID = equipment.id
                    $0.planID = plan.id
                    $0.dueAt = Google_Protobuf_Timestamp(date: due)
                    $0.description_p = plan.checklist.isEmpty ? plan.name : "\(plan.name)\n\(plan.checklist)"
                }, actor: "forge", sourceKey: "plan|\(plan.id)|\(equipment.id)|\(anchor.key)", now: now)
                if isNew { created += 1 }
            }
        }
        return created
    }

    // MARK: Reliability

    /// MTTR per model (and for one account) from completed repairs, MTBF per model from fault
    /// tickets and the machines' time in service, within [from, to].
    static func reliability(_ db: Database, model: String, accountID: String, from: Date, to: Date) throws -> Forge_Servicedesk_V1_GetReliabilityResponse {
        struct Tally { var machines = 0; var hours = 0.0; var failures = 0; var repairs: [(reported: Date, repaired: Date)] = [] }
        var byModel: [String: Tally] = [:]
        var account = Tally()
        var modelOf: [String: String] = [:]
        var accountOf: [String: String] = [:]
        let filter = model.isEmpty ? "" : " WHERE model = ?"
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM equipment\(filter)", arguments: model.isEmpty ? [] : [model]) {
            let equipment = try Forge_Servicedesk_V1_Equipment(serializedBytes: payload)
            modelOf[equipment.id] = equipment.model
            accountOf[equipment.id] = equipment.accountID
            let hours = ReliabilityRules.hoursInService(since: equipment.hasInstalledAt ? equipment.installedAt.date : equipment.createdAt.date, from: from, to: to)
            byModel[equipment.model, default: Tally()].machines += 1
            byModel[equipment.model, default: Tally()].hours += hours
            if equipment.accountID == accountID { account.machines += 1; account.hours += hours }
        }
        for row in try Row.fetchAll(db, sql: "SELECT equipment_id, account_id FROM ticket WHERE category = ? AND equipment_id != '' AND created_at >= ? AND created_at <= ?",
                                    arguments: [Forge_Servicedesk_V1_Category.fault.rawValue, from.timeIntervalSince1970, to.timeIntervalSince1970]) {
            guard let model = modelOf[row["equipment_id"] as String] else { continue }
            byModel[model, default: Tally()].failures += 1
            if (row["account_id"] as String) == accountID { account.failures += 1 }
        }
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM work_order WHERE kind = ? AND state = ? AND completed_at >= ? AND completed_at <= ?",
                                         arguments: [Forge_Servicedesk_V1_WorkOrderKind.repair.rawValue, Forge_Servicedesk_V1_WorkOrderState.completed.rawValue,
                                                     from.timeIntervalSince1970, to.timeIntervalSince1970]) {
            let order = try WorkOrder(serializedBytes: payload)
            let repair = (reported: order.failureReportedAt.date, repaired: order.completedAt.date)
            if let model = modelOf[order.equipmentID] { byModel[model, default: Tally()].repairs.append(repair) }
            if order.accountID == accountID { account.repairs.append(repair) }
        }
        func figure(_ key: String, _ name: String, _ tally: Tally) -> Forge_Servicedesk_V1_ReliabilityFigure {
            .with {
                $0.key = key
                $0.name = name
                $0.repairs = Int32(tally.repairs.count)
                $0.mttrHours = ReliabilityRules.mttr(tally.repairs)
                $0.machines = Int32(tally.machines)
                $0.failures = Int32(tally.failures)
                $0.hoursInService = tally.hours
                $0.mtbfHours = ReliabilityRules.mtbf(hoursInService: tally.hours, failures: tally.failures)
            }
        }
        let accountName = accountID.isEmpty ? "" : try AccountDirectory.entry(db, accountID: accountID)?.name ?? ""
        return .with {
            $0.models = byModel.keys.sorted().map { figure($0, $0, byModel[$0]!) }
            if !accountID.isEmpty { $0.account = figure(accountID, accountName, account) }
            $0.from = Google_Protobuf_Timestamp(date: from)
            $0.to = Google_Protobuf_Timestamp(date: to)
        }
    }
}
