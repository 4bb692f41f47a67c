import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Tickets: opening (SLA targets, assignment), every move with its history entry, the queue,
/// and the SLA job that warns at 80 % and escalates at 100 %. Functions run inside the
/// caller's transaction.
enum TicketStore {
    typealias Ticket = Forge_Servicedesk_V1_Ticket

    /// The SLA watch of one ticket, due at the next 80 % or 100 % point of a running clock.
    static let slaJob = "servicedesk.sla"
    /// Sorts after every real due time (no clock running).
    static let noDeadline = 9e12

    static func load(_ db: Database, id: String) throws -> Ticket? {
        try Data.fetchOne(db, sql: "SELECT payload FROM ticket WHERE id = ?", arguments: [id]).map { try .init(serializedBytes: $0) }
    }

    /// The ticket if `principal` may see it; NOT_FOUND otherwise (no existence leak).
    static func visible(_ db: Database, id: String, principal: Principal) throws -> Ticket {
        guard let ticket = try load(db, id: id),
              TicketRules.canSee(ticket, principal: principal, engineerRegions: try ServiceDeskStore.regions(db, engineer: principal.subject))
        else { throw RPCError(.notFound, "ticket \(id) not found") }
        return ticket
    }

    /// The ticket as answered: its SLA evaluated at `now`.
    static func view(_ ticket: Ticket, now: Date, calendar: BusinessCalendar) -> Ticket {
        var ticket = ticket
        ticket.sla = SlaRules.evaluate(ticket.sla, opened: ticket.createdAt.date, now: now, calendar: calendar)
        return ticket
    }

    /// A ticket's parties and description as requested: the account (and region, product line,
    /// service level) from the equipment when one is named, the account's name, owner and team.
    static func described(_ db: Database, _ requested: Ticket) throws -> (ticket: Ticket, level: String) {
        var ticket = Ticket()
        var level = ""
        if !requested.equipmentID.isEmpty || !requested.serialNumber.isEmpty {
            let equipment = requested.equipmentID.isEmpty ? try EquipmentStore.bySerial(db, requested.serialNumber) : try EquipmentStore.byID(db, requested.equipmentID)
            guard let equipment else {
                let field = requested.equipmentID.isEmpty ? "ticket.serial_number" : "ticket.equipment_id"
                throw RPCError(.notFound, "no machine \(requested.equipmentID.isEmpty ? requested.serialNumber : requested.equipmentID) in the installed base", violations: [FieldViolation(field: field, description: "is not in the installed base")])
            }
            if !requested.accountID.isEmpty, requested.accountID != equipment.accountID {
                throw RPCError.invalidArgument([FieldViolation(field: "ticket.account_id", description: "is not the account of equipment \(equipment.serialNumber)")])
            }
            ticket.equipmentID = equipment.id
            ticket.serialNumber = equipment.serialNumber
            ticket.accountID = equipment.accountID
            ticket.region = equipment.region
            ticket.productLine = equipment.productLine
            level = equipment.serviceLevel
        } else {
            ticket.accountID = requested.accountID
        }
        guard let account = try AccountDirectory.entry(db, accountID: ticket.accountID) else {
            throw RPCError(.notFound, "account \(ticket.accountID) not found", violations: [FieldViolation(field: "ticket.account_id", description: "is not a known account")])
        }
        if !requested.region.isEmpty { ticket.region = requested.region }
        if !requested.productLine.isEmpty { ticket.productLine = requested.productLine }
        ticket.accountName = account.name
        ticket.ownerID = account.ownerID
        ticket.team = account.team
        ticket.contactID = requested.contactID
        ticket.channel = requested.channel
        ticket.category = requested.category
        ticket.priority = requested.priority
        ticket.subject = requested.subject.trimmed
        ticket.description_p = requested.description_p
        return (ticket, level)
    }

    /// A detractor's answer (NPS 0–6, CSAT 1–2) opens a follow-up complaint, P2, for the
    /// account (its owner sees it; an engineer by region is assigned): acknowledged within 24 h,
    /// worked through the complaint loop until the customer confirms. Once per survey; not for
    /// answers imported from the past (their loop happened elsewhere).
    static func openDetractorFollowUp(_ db: Database, _ survey: Forge_Feedback_V1_Survey, now: Date) throws {
        guard TicketRules.isDetractor(survey), !survey.id.isEmpty, survey.trigger != .imported,
              try AccountDirectory.entry(db, accountID: survey.accountID) != nil else { return }
        try db.execute(sql: "INSERT INTO survey_follow_up (survey_id, ticket_id) VALUES (?, '') ON CONFLICT DO NOTHING", arguments: [survey.id])
        guard db.changesCount == 1 else { return }
        let kind = survey.kind == .nps ? "NPS" : "CSAT"
        let ticket = try open(db, .with {
            $0.accountID = survey.accountID
            $0.contactID = survey.contactID
            $0.channel = .portal
            $0.category = .complaint
            $0.priority = .p2
            $0.subject = "\(kind) \(survey.score) 分：回访客户，了解不满原因"
            $0.description_p = survey.comment.isEmpty ? "客户未留言" : "客户留言：\(survey.comment)"
        }, principal: Principal(subject: "forge", roles: [Role.service]), now: now)
        try db.execute(sql: "UPDATE survey_follow_up SET ticket_id = ? WHERE survey_id = ?", arguments: [ticket.id, survey.id])
    }

    /// The history of the previous helpdesk: a resolved (or closed) ticket with its own number
    /// and times, its SLA results computed with today's targets and calendar; nothing to watch,
    /// nobody notified (`TicketImported`). Once per number: a number already here is answered
    /// as it is.
    static func importHistory(_ db: Database, _ requested: Ticket, principal: Principal, now: Date) throws -> (ticket: Ticket, created: Bool) {
        if let payload = try Data.fetchOne(db, sql: "SELECT payload FROM ticket WHERE number = ?", arguments: [requested.number.trimmingCharacters(in: .whitespaces)]) {
            return (try Ticket(serializedBytes: payload), false)
        }
        var (ticket, level) = try described(db, requested)
        let opened = requested.createdAt.date
        ticket.id = EventID.make(prefix: "tkt", at: opened)
        ticket.number = requested.number.trimmingCharacters(in: .whitespaces)
        ticket.openedBy = principal.subject
        ticket.createdAt = requested.createdAt
        ticket.assigneeID = requested.assigneeID
        ticket.resolution = requested.resolution
        ticket.resolvedAt = requested.resolvedAt
        ticket.state = requested.hasClosedAt ? .closed : .resolved
        if requested.hasClosedAt { ticket.closedAt = requested.closedAt }
        ticket.updatedAt = requested.hasClosedAt ? requested.closedAt : requested.resolvedAt
        let settings = try ServiceDeskStore.settings(db)
        ticket.sla = SlaRules.start(level: level, priority: ticket.priority, targets: settings.targets)
        ticket.sla.firstResponse.metAt = requested.sla.firstResponse.hasMetAt ? requested.sla.firstResponse.metAt : requested.resolvedAt
        ticket.sla.resolution.metAt = requested.resolvedAt
        if ticket.category == .complaint { ticket.complaintStep = requested.complaintStep == .unspecified ? .customerConfirmed : requested.complaintStep }
        ticket.history = [TicketRules.step("imported", actor: principal.subject, at: now, note: ticket.number)]
        let calendar = ServiceDeskStore.calendar(settings.calendar)
        ticket = view(ticket, now: ticket.resolvedAt.date, calendar: calendar)
        ticket.version = 1
        try db.execute(sql: """
            INSERT INTO ticket (id, number, account_id, equipment_id, assignee_id, region, owner_id, team, state, category, sla_rank, created_at, version, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [ticket.id, ticket.number, ticket.accountID, ticket.equipmentID, ticket.assigneeID, ticket.region, ticket.ownerID, ticket.team,
                             ticket.state.rawValue, ticket.category.rawValue, noDeadline, opened.timeIntervalSince1970, ticket.version, try ticket.serializedData()])
        let imported = ticket
        try Outbox.append(db, Forge_Servicedesk_V1_TicketImported.with { $0.ticket = imported }, accountID: ticket.accountID, at: now)
        return (ticket, true)
    }

    /// Opens a ticket: the account (and region, product line, service level) from the equipment
    /// when one is named, the SLA targets of that level and the priority, an engineer by region,
    /// product skill and load.
    static func open(_ db: Database, _ requested: Ticket, principal: Principal, now: Date) throws -> Ticket {
        var (ticket, level) = try described(db, requested)
        ticket.id = EventID.make(prefix: "tkt", at: now)
        let year = Calendar(identifier: .gregorian).component(.year, from: now)
        ticket.number = "SR-\(year)-" + String(format: "%06lld", try Counters.next(db, "ticket-\(year)"))
        ticket.state = .open
        ticket.openedBy = principal.subject
        ticket.createdAt = Google_Protobuf_Timestamp(date: now)
        ticket.updatedAt = ticket.createdAt
        let settings = try ServiceDeskStore.settings(db)
        ticket.sla = SlaRules.start(level: level, priority: ticket.priority, targets: settings.targets)
        ticket.history = [TicketRules.step("opened", actor: principal.subject, at: now)]
        if ticket.category == .complaint {
            ticket.complaintStep = .received
            ticket.acknowledgeDueAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(ComplaintRules.acknowledgeWithin))
        }
        let requestedAssignee = requested.assigneeID
        if !requestedAssignee.isEmpty {
            guard try ServiceDeskStore.engineer(db, id: requestedAssignee) != nil else {
                throw RPCError(.notFound, "ticket.assignee_id names no engineer", violations: [FieldViolation(field: "ticket.assignee_id", description: "is not an engineer")])
            }
            ticket.assigneeID = requestedAssignee
        } else if let engineer = AssignmentRules.pick(try ServiceDeskStore.counted(db, AssignmentRules.candidates(
            try ServiceDeskStore.uncountedEngineers(db), region: ticket.region, productLine: ticket.productLine))) {
            ticket.assigneeID = engineer.id
        }
        if !ticket.assigneeID.isEmpty {
            var step = TicketRules.step("assigned", actor: principal.subject, at: now, note: requestedAssignee.isEmpty ? TicketRules.autoAssigned : "")
            step.assigneeID = ticket.assigneeID
            ticket.history.append(step)
        }
        try insert(db, ticket, calendar: ServiceDeskStore.calendar(settings.calendar), now: now)
        try Outbox.append(db, Forge_Servicedesk_V1_TicketOpened.with { $0.ticket = ticket }, accountID: ticket.accountID, at: now)
        return ticket
    }

    private static func insert(_ db: Database, _ ticket: Ticket, calendar: BusinessCalendar, now: Date) throws {
        var ticket = ticket
        ticket.version = 1
        try db.execute(sql: """
            INSERT INTO ticket (id, number, account_id, equipment_id, assignee_id, region, owner_id, team, state, category, sla_rank, created_at, version, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [ticket.id, ticket.number, ticket.accountID, ticket.equipmentID, ticket.assigneeID, ticket.region, ticket.ownerID, ticket.team,
                             ticket.state.rawValue, ticket.category.rawValue, rank(ticket, calendar: calendar), now.timeIntervalSince1970, ticket.version,
                             try ticket.serializedData()])
        try scheduleWatch(db, ticket, calendar: calendar, now: now)
    }

    /// Writes a changed ticket (its version bumped) and reschedules its SLA watch.
    static func save(_ db: Database, _ ticket: inout Ticket, calendar: BusinessCalendar, now: Date) throws {
        ticket.version += 1
        ticket.updatedAt = Google_Protobuf_Timestamp(date: now)
        try db.execute(sql: """
            UPDATE ticket SET account_id = ?, assignee_id = ?, region = ?, owner_id = ?, team = ?, state = ?, sla_rank = ?, version = ?, payload = ?
            WHERE id = ?
            """, arguments: [ticket.accountID, ticket.assigneeID, ticket.region, ticket.ownerID, ticket.team, ticket.state.rawValue,
                             rank(ticket, calendar: calendar), ticket.version, try ticket.serializedData(), ticket.id])
        try scheduleWatch(db, ticket, calendar: calendar, now: now)
    }

    /// The queue's order: when the clock that runs falls due (the first response until given,
    /// then the resolution); no deadline when resolved, closed or paused.
    static func rank(_ ticket: Ticket, calendar: BusinessCalendar) -> Double {
        guard TicketRules.openStates.contains(ticket.state) else { return noDeadline }
        let opened = ticket.createdAt.date
        let sla = ticket.sla
        if !sla.firstResponse.hasMetAt {
            return SlaRules.instant(sla.firstResponse, share: 1, opened: opened, pausedSeconds: 0, calendar: calendar).timeIntervalSince1970
        }
        guard !sla.paused, !sla.resolution.hasMetAt else { return noDeadline }
        return SlaRules.instant(sla.resolution, share: 1, opened: opened, pausedSeconds: sla.pausedSeconds, calendar: calendar).timeIntervalSince1970
    }

    /// One pending watch per ticket, its id naming its instant: the watch that is running when
    /// it schedules the next one (a running job's id cannot be rescheduled) leaves it alone.
    private static func scheduleWatch(_ db: Database, _ ticket: Ticket, calendar: BusinessCalendar, now: Date) throws {
        try scheduleWatch(db, ticket, next: watch(ticket, calendar: calendar, now: now), now: now)
    }

    private static func scheduleWatch(_ db: Database, _ ticket: Ticket, next: (id: String, due: Date)?, now: Date) throws {
        try JobScheduler.cancelPending(db, kind: slaJob, idPrefix: "sla-\(ticket.id)-")
        if let (id, due) = next {
            try JobScheduler.schedule(db, kind: slaJob, payload: Data(ticket.id.utf8), dueAt: due, id: id, now: now)
        }
    }

    /// The id and instant of an open ticket's next SLA look; nil when nothing is left to watch.
    private static func watch(_ ticket: Ticket, calendar: BusinessCalendar, now: Date) -> (id: String, due: Date)? {
        guard TicketRules.openStates.contains(ticket.state),
              let next = SlaRules.nextCheck(ticket.sla, opened: ticket.createdAt.date, calendar: calendar) else { return nil }
        let due = max(next, now)
        return ("sla-\(ticket.id)-\(Int64(due.timeIntervalSince1970))", due)
    }

    /// New business hours or holidays move every open ticket's due times: its queue rank and
    /// its SLA watch. Nothing the ticket records changes (its targets stay those it was opened
    /// with; due times are worked out when it is read), so its row is not rewritten: the rank
    /// is updated where it moved and the watch rescheduled where its instant did — the pass
    /// over 20,000 open tickets rewrote every ticket and every watch.
    static func applyCalendar(_ db: Database, _ calendar: BusinessCalendar, now: Date) throws {
        let open = try Row.fetchCursor(db, sql: "SELECT id, sla_rank, payload FROM ticket WHERE state IN (1, 2, 3)")
        while let row = try open.next() {
            let ticket = try Ticket(serializedBytes: row["payload"] as Data)
            let rank = rank(ticket, calendar: calendar)
            if rank != row["sla_rank"] as Double {
                try db.execute(cached: "UPDATE ticket SET sla_rank = ? WHERE id = ?", arguments: [rank, ticket.id])
            }
            let next = watch(ticket, calendar: calendar, now: now)
            if let next, try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM jobs WHERE id = ? AND state = 'pending'"), arguments: [next.id]) == true {
                continue  // already due then
            }
            try scheduleWatch(db, ticket, next: next, now: now)
        }
    }

    /// The SLA watch: signals what is due at `now` (a warning for the assignee at 80 %, an
    /// escalation for the service manager at 100 %), each once, and schedules the next look.
    static func watch(_ db: Database, ticketID: String, now: Date) throws {
        guard var ticket = try load(db, id: ticketID), TicketRules.openStates.contains(ticket.state) else { return }
        let calendar = ServiceDeskStore.calendar(try ServiceDeskStore.settings(db).calendar)
        let evaluated = SlaRules.evaluate(ticket.sla, opened: ticket.createdAt.date, now: now, calendar: calendar)
        var changed = false
        for (name, clock) in [("first_response", evaluated.firstResponse), ("resolution", evaluated.resolution)] {
            let (warn, escalate) = SlaRules.due(clock)
            if warn {
                if name == "first_response" { ticket.sla.firstResponse.warned = true } else { ticket.sla.resolution.warned = true }
                ticket.history.append(TicketRules.step("sla_warning", actor: "forge", at: now, note: name))
                let view = Self.view(ticket, now: now, calendar: calendar)
                try Outbox.append(db, Forge_Servicedesk_V1_SlaWarning.with {
                    $0.ticket = view
                    $0.target = name
                    $0.notify = ticket.assigneeID.isEmpty ? "role:service_manager" : ticket.assigneeID
                }, accountID: ticket.accountID, at: now)
                changed = true
            }
            if escalate {
                if name == "first_response" { ticket.sla.firstResponse.escalated = true } else { ticket.sla.resolution.escalated = true }
                ticket.history.append(TicketRules.step("sla_escalated", actor: "forge", at: now, note: name))
                try Outbox.append(db, Forge_Servicedesk_V1_SlaBreached.with {
                    $0.ticket = Self.view(ticket, now: now, calendar: calendar)
                    $0.target = name
                }, accountID: ticket.accountID, at: now)
                changed = true
            }
        }
        if changed {
            try save(db, &ticket, calendar: calendar, now: now)
        } else {
            try scheduleWatch(db, ticket, calendar: calendar, now: now)
        }
    }

    // MARK: The queue

    static func isPosition(_ cursor: String) -> Bool {
        let parts = cursor.split(separator: "|", maxSplits: 1)
        return parts.count == 2 && Double(parts[0]) != nil
    }

    static func cursor(after ticket: (rank: Double, id: String)) -> String { "\(ticket.rank)|\(ticket.id)" }

    /// Tickets `principal` may see, least SLA time left first.
    static func list(_ db: Database, _ request: Forge_Servicedesk_V1_ListTicketsRequest, page: Page, principal: Principal)
        throws -> (tickets: [Ticket], next: String?) {
        let states = request.states.isEmpty ? TicketRules.openStates : request.states
        var clauses = ["state IN (\(states.map { String($0.rawValue) }.joined(separator: ",")))"]
        var arguments: StatementArguments = []
        if let cursor = page.cursor {
            let parts = cursor.split(separator: "|", maxSplits: 1)
            clauses.append("(sla_rank, id) > (?, ?)")
            arguments += [Double(parts[0])!, String(parts[1])]
        }
        if !request.assigneeID.isEmpty { clauses.append("assignee_id = ?"); arguments += [request.assigneeID] }
        if !request.accountID.isEmpty { clauses.append("account_id = ?"); arguments += [request.accountID] }
        if !request.region.isEmpty { clauses.append("region = ?"); arguments += [request.region] }
        if request.category != .unspecified { clauses.append("category = ?"); arguments += [request.category.rawValue] }
        let roles = principal.roles
        if roles.isDisjoint(with: [Role.admin, Role.serviceManager, Role.analyst, Role.service]) {
            var visible: [String] = []
            if roles.contains(Role.serviceEngineer) {
                let regions = try ServiceDeskStore.regions(db, engineer: principal.subject)
                visible.append("assignee_id = ?")
                arguments += [principal.subject]
                if !regions.isEmpty {
                    visible.append("region IN (\(regions.map { _ in "?" }.joined(separator: ",")))")
                    arguments += StatementArguments(regions.sorted())
                }
            }
            if !roles.isDisjoint(with: [Role.salesRep, Role.salesManager]) {
                var scoped: [String] = []
                OwnerScope.restrict(principal, clauses: &scoped, arguments: &arguments)
                visible.append(scoped.first ?? "1")
            }
            clauses.append(visible.isEmpty ? "0" : "(\(visible.joined(separator: " OR ")))")
        }
        // The whole open queue (a service manager's first look) walks the partial index in SLA
        // order; the planner, knowing no statistics, would rather sort every open ticket.
        let wholeQueue = Set(states) == Set(TicketRules.openStates) && clauses.count == (page.cursor == nil ? 1 : 2)
        let rows = try Row.fetchAll(db, sql: """
            SELECT sla_rank, id, payload FROM ticket \(wholeQueue ? "INDEXED BY ticket_open_queue" : "")
            WHERE \(clauses.joined(separator: " AND ")) ORDER BY sla_rank, id LIMIT ?
            """, arguments: arguments + [page.size])
        let tickets = try rows.map { try Ticket(serializedBytes: $0["payload"] as Data) }
        return (tickets, rows.last.map { cursor(after: ($0["sla_rank"], $0["id"])) })
    }

    static func forEquipment(_ db: Database, equipmentID: String, limit: Int = 100) throws -> [Ticket] {
        try Data.fetchAll(db, sql: "SELECT payload FROM ticket WHERE equipment_id = ? ORDER BY created_at DESC LIMIT ?",
                          arguments: [equipmentID, limit]).map { try .init(serializedBytes: $0) }
    }
}
