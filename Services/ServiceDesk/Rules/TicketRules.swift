import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// What a ticket may hold and which moves it may make. No I/O.
enum TicketRules {
    typealias Ticket = Forge_Servicedesk_V1_Ticket
    typealias State = Forge_Servicedesk_V1_TicketState

    static let openStates: [State] = [.open, .inProgress, .waitingCustomer]
    /// The note of an assignment made by the rules (region, skill, load); pages say it in their language.
    static let autoAssigned = "auto"

    static func validate(_ ticket: Ticket) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func bad(_ field: String, _ description: String) { violations.append(FieldViolation(field: "ticket.\(field)", description: description)) }
        if ticket.accountID.isEmpty && ticket.equipmentID.isEmpty && ticket.serialNumber.isEmpty {
            bad("account_id", "is required (or the equipment's id or serial number)")
        }
        if ticket.subject.isBlank { bad("subject", "is required") }
        if ticket.subject.count > 200 { bad("subject", "must be at most 200 characters") }
        if ticket.description_p.count > 20_000 { bad("description", "must be at most 20,000 characters") }
        if !(1...5).contains(ticket.channel.rawValue) { bad("channel", "is required: phone, wechat, email, portal or iot") }
        if !(1...5).contains(ticket.category.rawValue) { bad("category", "is required: fault, complaint, question, installation or maintenance") }
        if !(1...4).contains(ticket.priority.rawValue) { bad("priority", "is required: P1 (machine down) … P4") }
        return violations
    }

    /// Whether a survey answer is a detractor's: NPS 0–6, CSAT 1–2.
    static func isDetractor(_ survey: Forge_Feedback_V1_Survey) -> Bool {
        guard survey.hasScore else { return false }
        switch survey.kind {
        case .nps: return (0...6).contains(survey.score)
        case .csat: return (1...2).contains(survey.score)
        default: return false
        }
    }

    /// The service level a partner tier brings.
    static func serviceLevel(for tier: Forge_Loyalty_V1_PartnerTier) -> String {
        switch tier {
        case .gold: "gold"
        case .silver: "silver"
        default: "standard"
        }
    }

    /// A ticket of the previous helpdesk's history: what `validate` asks, and its number and times.
    static func validateHistory(_ ticket: Ticket, now: Date) -> [FieldViolation] {
        var violations = validate(ticket)
        func bad(_ field: String, _ description: String) { violations.append(FieldViolation(field: "ticket.\(field)", description: description)) }
        let number = ticket.number.trimmingCharacters(in: .whitespaces)
        if number.isEmpty || number.count > 40 { bad("number", "is required: the previous system's number (at most 40 characters)") }
        if number.uppercased().hasPrefix("SR-") { bad("number", "SR-… numbers are Forge's own: keep the previous system's (e.g. HD-2025-0042)") }
        if !ticket.hasCreatedAt || ticket.createdAt.date > now { bad("created_at", "is required and in the past") }
        if !ticket.hasResolvedAt || ticket.resolvedAt.date < ticket.createdAt.date || ticket.resolvedAt.date > now {
            bad("resolved_at", "is required, after created_at and in the past (history is resolved or closed)")
        }
        if ticket.hasClosedAt, ticket.closedAt.date < ticket.resolvedAt.date { bad("closed_at", "must not be before resolved_at") }
        if ticket.sla.firstResponse.hasMetAt, ticket.sla.firstResponse.metAt.date < ticket.createdAt.date || ticket.sla.firstResponse.metAt.date > ticket.resolvedAt.date {
            bad("sla.first_response.met_at", "must be between created_at and resolved_at")
        }
        return violations
    }

    /// Who may see a ticket (DESIGN §9): service managers and admins all; an engineer the
    /// tickets of their regions or assigned to them; sales its accounts' (owner or team);
    /// analysts and services all.
    static func canSee(_ ticket: Ticket, principal: Principal, engineerRegions: Set<String>) -> Bool {
        let roles = principal.roles
        if !roles.isDisjoint(with: [Role.admin, Role.serviceManager, Role.analyst, Role.service]) { return true }
        if roles.contains(Role.serviceEngineer),
           ticket.assigneeID == principal.subject || engineerRegions.contains(ticket.region) {
            return true
        }
        if !roles.isDisjoint(with: [Role.salesRep, Role.salesManager]) {
            return OwnerScope.canSee(owner: ticket.ownerID, team: ticket.team, principal: principal)
        }
        return false
    }

    /// Whether `principal` may work the ticket (respond, wait, resolve, advance a complaint):
    /// its assignee, or a service manager or admin.
    static func mayWork(_ ticket: Ticket, principal: Principal) -> Bool {
        !principal.roles.isDisjoint(with: [Role.admin, Role.serviceManager]) || ticket.assigneeID == principal.subject
    }

    static func requireOpen(_ ticket: Ticket, to action: String) throws {
        guard openStates.contains(ticket.state) else {
            throw RPCError(.failedPrecondition, "ticket \(ticket.number) is \(label(ticket.state)); only an open ticket can be \(action)")
        }
    }

    static func label(_ state: State) -> String {
        switch state {
        case .open: "open"
        case .inProgress: "in progress"
        case .waitingCustomer: "waiting on the customer"
        case .resolved: "resolved"
        case .closed: "closed"
        default: "unknown"
        }
    }

    static func step(_ kind: String, actor: String, at: Date, note: String = "") -> Forge_Servicedesk_V1_TicketStep {
        .with {
            $0.kind = kind
            $0.actor = actor
            $0.at = Google_Protobuf_Timestamp(date: at)
            $0.note = note
        }
    }
}

/// A complaint's closed loop (seed 004): received → acknowledged (within 24 h) → root cause →
/// corrective action → verified → the customer confirms → closed. No step is skipped; a
/// complaint closes only after the customer's confirmation, or with a service manager's
/// reason. No I/O.
enum ComplaintRules {
    typealias Step = Forge_Servicedesk_V1_ComplaintStep

    static let order: [Step] = [.received, .acknowledged, .rootCause, .correctiveAction, .verified, .customerConfirmed]
    static let acknowledgeWithin: TimeInterval = 24 * 3600
    /// Steps whose note says what was found or done.
    static let needsNote: Set<Step> = [.rootCause, .correctiveAction, .verified]

    static func label(_ step: Step) -> String {
        switch step {
        case .received: "received"
        case .acknowledged: "acknowledged"
        case .rootCause: "root cause"
        case .correctiveAction: "corrective action"
        case .verified: "verified"
        case .customerConfirmed: "customer confirmed"
        default: "unknown"
        }
    }

    /// Refuses a step that is not the next one, or lacks its note.
    static func checkAdvance(from current: Step, to next: Step, note: String) throws {
        guard let position = order.firstIndex(of: next), next != .received else {
            throw RPCError.invalidArgument([FieldViolation(field: "step", description: "must be acknowledged, root_cause, corrective_action, verified or customer_confirmed")])
        }
        if needsNote.contains(next), note.isBlank {
            throw RPCError.invalidArgument([FieldViolation(field: "note", description: "is required for \(label(next)): say what was found or done")])
        }
        let expected = order[order.index(before: position)]
        guard current == expected else {
            let expectedNext = order.firstIndex(of: current).map { $0 + 1 < order.count ? label(order[$0 + 1]) : "closing" } ?? "acknowledged"
            throw RPCError(.failedPrecondition, "the complaint is at \(label(current)); the next step is \(expectedNext), not \(label(next))")
        }
    }

    /// A complaint closes after the customer confirmed, or with a service manager's (or
    /// admin's) reason; other tickets need no reason.
    static func checkClose(_ ticket: Forge_Servicedesk_V1_Ticket, overrideReason: String, principal: Principal) throws {
        guard ticket.category == .complaint, ticket.complaintStep != .customerConfirmed else { return }
        let reason = overrideReason.trimmed
        guard !reason.isEmpty else {
            throw RPCError(.failedPrecondition, "complaint \(ticket.number) is at \(label(ticket.complaintStep)): it closes after the customer confirms, or with a service manager's override_reason")
        }
        guard !principal.roles.isDisjoint(with: [Role.admin, Role.serviceManager]) else {
            throw RPCError(.permissionDenied, "only a service manager may close a complaint the customer has not confirmed")
        }
    }
}

/// Picks the engineer for a new ticket: active, covering the ticket's region and product line
/// (an engineer with no regions or product lines listed covers all), the fewest open tickets
/// first, then by name. No I/O.
enum AssignmentRules {
    /// The active engineers who cover the region and the product line.
    static func candidates(_ engineers: [Forge_Servicedesk_V1_Engineer], region: String, productLine: String) -> [Forge_Servicedesk_V1_Engineer] {
        engineers
            .filter { $0.active }
            .filter { $0.regions.isEmpty || $0.regions.contains(region) }
            .filter { $0.productLines.isEmpty || productLine.isEmpty || $0.productLines.contains(productLine) }
    }

    /// Of the candidates (their `open_tickets` counted), the least loaded.
    static func pick(_ candidates: [Forge_Servicedesk_V1_Engineer]) -> Forge_Servicedesk_V1_Engineer? {
        candidates.min { ($0.openTickets, $0.id) < ($1.openTickets, $1.id) }
    }
}
