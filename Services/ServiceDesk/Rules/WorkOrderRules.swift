import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// What a work order may hold and who may see and work it. No I/O.
enum WorkOrderRules {
    typealias WorkOrder = Forge_Servicedesk_V1_WorkOrder

    static let openStates: [Forge_Servicedesk_V1_WorkOrderState] = [.open, .scheduled]
    static let maxParts = 200

    static func validate(_ order: WorkOrder) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func bad(_ field: String, _ description: String) { violations.append(FieldViolation(field: "work_order.\(field)", description: description)) }
        if order.equipmentID.isEmpty && order.serialNumber.isEmpty && order.ticketID.isEmpty {
            bad("equipment_id", "is required (or the serial number, or the ticket it comes from)")
        }
        if !(1...5).contains(order.kind.rawValue) { bad("kind", "is required: repair, preventive, predictive, installation or diagnostic") }
        if order.description_p.count > 20_000 { bad("description", "must be at most 20,000 characters") }
        if !order.planID.isEmpty || !order.predictionID.isEmpty { bad("plan_id", "is set by the service (plans and predictions create their own work orders)") }
        return violations
    }

    static func validateCompletion(_ request: Forge_Servicedesk_V1_CompleteWorkOrderRequest) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        if request.id.isBlank { violations.append(FieldViolation(field: "id", description: "is required")) }
        if request.result.isBlank {
            violations.append(FieldViolation(field: "result", description: "is required: what was found and done"))
        }
        if !(0...1_000).contains(request.labourHours) || !request.labourHours.isFinite {
            violations.append(FieldViolation(field: "labour_hours", description: "must be 0 to 1,000"))
        }
        if request.runningHours < 0 || !request.runningHours.isFinite {
            violations.append(FieldViolation(field: "running_hours", description: "must be zero or more"))
        }
        if request.parts.count > maxParts { violations.append(FieldViolation(field: "parts", description: "must be at most \(maxParts)")) }
        for (index, part) in request.parts.enumerated() {
            if part.partNumber.isBlank {
                violations.append(FieldViolation(field: "parts[\(index)].part_number", description: "is required"))
            }
            if !(part.quantity > 0) || !part.quantity.isFinite {
                violations.append(FieldViolation(field: "parts[\(index)].quantity", description: "must be positive"))
            }
        }
        return violations
    }

    /// Engineers see the work orders of their regions or assigned to them; managers, analysts
    /// and services all; sales its accounts' (`accountVisible`).
    static func canSee(_ order: WorkOrder, principal: Principal, engineerRegions: Set<String>, accountVisible: Bool) -> Bool {
        let roles = principal.roles
        if !roles.isDisjoint(with: [Role.admin, Role.serviceManager, Role.analyst, Role.service]) { return true }
        if roles.contains(Role.serviceEngineer), order.engineerID == principal.subject || engineerRegions.contains(order.region) { return true }
        if !roles.isDisjoint(with: [Role.salesRep, Role.salesManager]) { return accountVisible }
        return false
    }

    /// Its engineer, or a service manager or admin (an engineer also takes an unassigned one).
    static func mayWork(_ order: WorkOrder, principal: Principal) -> Bool {
        !principal.roles.isDisjoint(with: [Role.admin, Role.serviceManager]) || order.engineerID == principal.subject || order.engineerID.isEmpty
    }

    static func requireOpen(_ order: WorkOrder, to action: String) throws {
        guard openStates.contains(order.state) else {
            throw RPCError(.failedPrecondition, "work order \(order.number) is \(label(order.state)); only an open one can be \(action)")
        }
    }

    static func label(_ state: Forge_Servicedesk_V1_WorkOrderState) -> String {
        switch state {
        case .open: "open"
        case .scheduled: "scheduled"
        case .completed: "completed"
        case .cancelled: "cancelled"
        default: "unknown"
        }
    }
}

/// When a maintenance plan falls due on a machine. No I/O.
enum MaintenanceRules {
    typealias Plan = Forge_Servicedesk_V1_MaintenancePlan

    static let defaultLeadDays: Int32 = 14

    static func validate(_ plan: Plan) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func bad(_ field: String, _ description: String) { violations.append(FieldViolation(field: "plan.\(field)", description: description)) }
        if plan.model.isBlank { bad("model", "is required") }
        if plan.name.isBlank { bad("name", "is required") }
        if plan.everyRunningHours < 0 || !plan.everyRunningHours.isFinite { bad("every_running_hours", "must be zero or more") }
        if !(0...120).contains(plan.everyMonths) { bad("every_months", "must be 0 to 120") }
        if plan.everyRunningHours == 0 && plan.everyMonths == 0 { bad("every_months", "or every_running_hours must be set") }
        if !(0...180).contains(plan.leadDays) { bad("lead_days", "must be 0 to 180") }
        return violations
    }

    /// Where the plan counts from on one machine: the last maintenance (its date and the hour
    /// meter then), else the installation (0 hours).
    struct Anchor: Equatable {
        var at: Date
        var runningHours: Double
        /// Names the cycle: one work order per plan, machine and anchor.
        var key: String
    }

    /// The next due date: `every_months` after the anchor, or when the hour meter reaches the
    /// anchor's hours + `every_running_hours` at the machine's average daily use, whichever
    /// is first. Nil when neither can be known (no months, and no use measured yet).
    ///
    /// Counted from the installation (no maintenance under the plan in Forge yet), the cycle
    /// runs on from there: a machine installed three years before the plan existed is due at
    /// its next six-month mark (or hour mark), not 30 months overdue — its earlier services
    /// were done before Forge knew of them.
    static func due(_ plan: Plan, anchor: Anchor, runningHours: Double, inServiceSince: Date, now: Date) -> Date? {
        let fromInstall = anchor.key == "install"
        var candidates: [Date] = []
        if plan.everyMonths > 0 {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = BusinessCalendar.standard.timeZone
            var cycles = 1
            while var date = calendar.date(byAdding: .month, value: Int(plan.everyMonths) * cycles, to: anchor.at) {
                if !fromInstall || date >= now || cycles > 1200 {
                    if date < anchor.at { date = anchor.at }
                    candidates.append(date)
                    break
                }
                cycles += 1
            }
        }
        if plan.everyRunningHours > 0 {
            var target = anchor.runningHours + plan.everyRunningHours
            if fromInstall, runningHours >= target {
                target = anchor.runningHours + ((runningHours - anchor.runningHours) / plan.everyRunningHours).rounded(.down) * plan.everyRunningHours + plan.everyRunningHours
            }
            let remaining = target - runningHours
            let days = now.timeIntervalSince(inServiceSince) / 86_400
            if remaining <= 0 {
                candidates.append(now)
            } else if days >= 1, runningHours > 0 {
                let perDay = runningHours / days
                candidates.append(now.addingTimeInterval(remaining / perDay * 86_400))
            }
        }
        return candidates.min()
    }

    /// Whether the work order for that due date should exist now.
    static func isDue(_ due: Date, plan: Plan, now: Date) -> Bool {
        let lead = plan.leadDays == 0 ? defaultLeadDays : plan.leadDays
        return due.addingTimeInterval(-Double(lead) * 86_400) <= now
    }
}

/// MTTR and MTBF from the failure and repair history. No I/O.
enum ReliabilityRules {
    /// Mean hours from a failure's report to the end of its repair.
    static func mttr(_ repairs: [(reported: Date, repaired: Date)]) -> Double {
        guard !repairs.isEmpty else { return 0 }
        return repairs.reduce(0) { $0 + max($1.repaired.timeIntervalSince($1.reported), 0) } / Double(repairs.count) / 3600
    }

    /// Hours each machine was in service within [from, to).
    static func hoursInService(since installed: Date, from: Date, to: Date) -> Double {
        max(to.timeIntervalSince(max(installed, from)), 0) / 3600
    }

    /// Hours in service per failure; 0 when there was none.
    static func mtbf(hoursInService: Double, failures: Int) -> Double {
        failures == 0 ? 0 : hoursInService / Double(failures)
    }
}
