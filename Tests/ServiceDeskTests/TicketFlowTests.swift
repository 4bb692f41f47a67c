@testable import ForgeServiceDesk
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import SwiftProtobuf
import Testing

/// The service desk handler over a real database file, called as the server calls it, with a
/// manual clock and the real job scheduler; accounts' and orders' events applied as the
/// consumers apply them.
struct ServiceDeskFixture {
    let handler: ServiceDeskHandler
    let database: DatabasePool
    let clock: ManualClock

    init(start: Date = SlaRulesTests.at("2026-12-04 16:00")) throws {
        database = try ForgeDatabase.temporary(migrations: ServiceDeskStore.migrations)
        clock = ManualClock(start)
        handler = ServiceDeskHandler(database: database, clock: clock)
    }

    static func context(_ subject: String, _ roles: Set<String>, team: String = "") -> ServerContext {
        ServerContext(method: MethodDescriptor(service: "forge.servicedesk.v1.ServiceDesk", method: "Test"), metadata: [:],
                      principal: Principal(subject: subject, roles: roles, team: team), deadline: .now + .seconds(30),
                      requestID: "req", logger: Logger(label: "test"), peer: "test")
    }

    static let manager = context("svc-boss", [Role.serviceManager])
    static let engineerEast = context("eng-east", [Role.serviceEngineer])
    static let engineerWest = context("eng-west", [Role.serviceEngineer])
    static let rep = context("rep-a", [Role.salesRep], team: "east")
    static let otherRep = context("rep-w", [Role.salesRep], team: "west")

    var scheduler: JobScheduler { JobScheduler(database: database, clock: clock, handlers: handler.jobHandlers) }

    func apply(_ message: some SwiftProtobuf.Message, from upstream: String) async throws {
        let event = Forge_Common_V1_Event.with {
            $0.type = String(type(of: message).protoMessageName.split(separator: ".").last!)
            $0.payload = try! message.serializedData()
        }
        let now = clock.now()
        try await database.write { db in
            switch upstream {
            case "accounts": try UpstreamEvents.applyAccounts(db, event, now: now)
            case "feedback": try UpstreamEvents.applyFeedback(db, event, now: now)
            case "loyalty": try UpstreamEvents.applyLoyalty(db, event, now: now)
            default: try UpstreamEvents.applyOrders(db, event, now: now)
            }
        }
    }

    /// An account owned by rep-a (team east), and the two engineers.
    func setUp() async throws {
        try await apply(Forge_Accounts_V1_AccountCreated.with {
            $0.account = .with { $0.id = "acc_1"; $0.name = "杭州汽轮动力集团有限公司"; $0.ownerID = "rep-a"; $0.team = "east" }
        }, from: "accounts")
        for (id, region) in [("eng-east", "华东"), ("eng-west", "西南")] {
            _ = try await handler.upsertEngineer(.with {
                $0.engineer = .with { $0.id = id; $0.name = id; $0.regions = [region]; $0.productLines = ["机床"]; $0.active = true }
            }, context: Self.manager)
        }
    }

    func events(_ type: String) async throws -> [Forge_Common_V1_Event] {
        try await database.read { db in try Outbox.events(db, after: 0, limit: 1000, types: [type]) }
    }
}

@Suite("Tickets, SLAs and the complaint loop")
struct TicketFlowTests {
    @Test("a delivered order's serial numbers join the installed base; a P1 on one gets the equipment's account, region and gold targets, and its engineer by region; the SLA watch warns the assignee at 80 % and escalates at 100 %, once each, over the weekend")
    func slaWatch() async throws {
        let fixture = try ServiceDeskFixture()
        try await fixture.setUp()
        try await fixture.apply(Forge_Orders_V1_OrderDelivered.with {
            $0.order = .with {
                $0.id = "ord_1"
                $0.accountID = "acc_1"
                $0.deliveryAddress = "浙江省杭州市余杭区 高新路 88 号"
                $0.lines = [.with { $0.lineNo = 1; $0.sku = "VMC-850"; $0.name = "立式加工中心 VMC850"; $0.serialNumbers = ["vmc850-26-0117", "VMC850-26-0118"] }]
            }
            $0.deliveredAt = Google_Protobuf_Timestamp(date: fixture.clock.now())
        }, from: "orders")
        let machine = try await fixture.handler.getEquipment(.with { $0.serialNumber = "VMC850-26-0117" }, context: ServiceDeskFixture.rep).equipment
        #expect(machine.accountName == "杭州汽轮动力集团有限公司" && machine.orderID == "ord_1" && machine.model == "VMC-850")
        #expect(machine.warrantyUntil.date == fixture.clock.now().addingTimeInterval(365 * 86_400))
        // Service sets where it stands and its contract level.
        let registered = try await fixture.handler.registerEquipment(.with {
            $0.equipment = .with { $0.serialNumber = "VMC850-26-0117"; $0.model = machine.model; $0.accountID = "acc_1"; $0.region = "华东"; $0.productLine = "机床"; $0.serviceLevel = "gold" }
        }, context: ServiceDeskFixture.manager)
        #expect(!registered.created && registered.equipment.id == machine.id && registered.equipment.serviceLevel == "gold")

        // Friday 16:00: gold P1, first response 1 h — 60 minutes, of which 90 remain on Friday.
        let ticket = try await fixture.handler.openTicket(.with {
            $0.ticket = .with { $0.serialNumber = "VMC850-26-0117"; $0.channel = .phone; $0.category = .fault; $0.priority = .p1; $0.subject = "主轴报警 停机" }
        }, context: ServiceDeskFixture.rep).ticket
        #expect(ticket.accountID == "acc_1" && ticket.region == "华东" && ticket.assigneeID == "eng-east" && ticket.number.hasPrefix("SR-2026-"))
        #expect(ticket.sla.serviceLevel == "gold" && ticket.sla.firstResponse.targetMinutes == 60)
        #expect(ticket.sla.firstResponse.dueAt.date == SlaRulesTests.at("2026-12-04 17:00"))
        // Resolution 8 h: 1.5 h Friday, 6.5 h Monday → Monday 15:00.
        #expect(ticket.sla.resolution.dueAt.date == SlaRulesTests.at("2026-12-07 15:00"))

        // 16:47: 47 of 60 minutes — nothing yet. 16:48: 80 %.
        fixture.clock.set(SlaRulesTests.at("2026-12-04 16:47"))
        _ = try await fixture.scheduler.runDue()
        #expect(try await fixture.events("SlaWarning").isEmpty)
        fixture.clock.set(SlaRulesTests.at("2026-12-04 16:48"))
        _ = try await fixture.scheduler.runDue()
        let warnings = try await fixture.events("SlaWarning").map { try Forge_Servicedesk_V1_SlaWarning(serializedBytes: $0.payload) }
        #expect(warnings.map(\.target) == ["first_response"] && warnings.first?.notify == "eng-east")
        #expect(warnings.first?.ticket.sla.firstResponse.status == .atRisk)
        fixture.clock.set(SlaRulesTests.at("2026-12-04 17:00"))
        _ = try await fixture.scheduler.runDue()
        fixture.clock.set(SlaRulesTests.at("2026-12-04 17:20"))
        _ = try await fixture.scheduler.runDue()
        let breaches = try await fixture.events("SlaBreached").map { try Forge_Servicedesk_V1_SlaBreached(serializedBytes: $0.payload) }
        #expect(breaches.map(\.target) == ["first_response"], "escalated once")
        let escalated = try await fixture.handler.getTicket(.with { $0.id = ticket.id }, context: ServiceDeskFixture.manager).ticket
        #expect(escalated.sla.firstResponse.status == .breached && escalated.sla.firstResponse.warned && escalated.sla.firstResponse.escalated)
        #expect(escalated.history.map(\.kind) == ["opened", "assigned", "sla_warning", "sla_escalated"])

        // Monday: the resolution's 80 % (6.4 h: 1.5 Friday + 4.9 Monday → 13:24) warns; responding
        // late leaves the first response missed.
        fixture.clock.set(SlaRulesTests.at("2026-12-07 09:00"))
        let responded = try await fixture.handler.respondToTicket(.with { $0.id = ticket.id; $0.note = "已电话联系，工程师出发" }, context: ServiceDeskFixture.engineerEast).ticket
        #expect(responded.state == .inProgress && responded.sla.firstResponse.status == .missed)
        fixture.clock.set(SlaRulesTests.at("2026-12-07 13:24"))
        _ = try await fixture.scheduler.runDue()
        #expect(try await fixture.events("SlaWarning").count == 2)
        let resolved = try await fixture.handler.resolveTicket(.with { $0.id = ticket.id; $0.resolution = "更换主轴编码器" }, context: ServiceDeskFixture.engineerEast).ticket
        #expect(resolved.state == .resolved && resolved.sla.resolution.status == .met)
        fixture.clock.set(SlaRulesTests.at("2026-12-08 09:00"))
        _ = try await fixture.scheduler.runDue()
        #expect(try await fixture.events("SlaBreached").count == 1, "a resolved ticket is watched no more")
        let closed = try await fixture.handler.closeTicket(.with { $0.id = ticket.id }, context: ServiceDeskFixture.engineerEast).ticket
        #expect(closed.state == .closed)
        #expect(try await fixture.events("TicketClosed").count == 1)
    }

    @Test("waiting on the customer pauses the resolution clock and the queue puts the paused ticket last")
    func waitingOnTheCustomer() async throws {
        let fixture = try ServiceDeskFixture(start: SlaRulesTests.at("2026-12-07 09:00"))
        try await fixture.setUp()
        func open(_ subject: String, _ priority: Forge_Servicedesk_V1_Priority) async throws -> Forge_Servicedesk_V1_Ticket {
            try await fixture.handler.openTicket(.with {
                $0.ticket = .with { $0.accountID = "acc_1"; $0.region = "华东"; $0.channel = .wechat; $0.category = .question; $0.priority = priority; $0.subject = subject }
            }, context: ServiceDeskFixture.engineerEast).ticket
        }
        let p3 = try await open("操作面板问题", .p3)
        let p2 = try await open("精度偏差", .p2)
        var queue = try await fixture.handler.listTickets(.init(), context: ServiceDeskFixture.engineerEast).tickets.map(\.id)
        #expect(queue == [p2.id, p3.id], "least time left first")
        _ = try await fixture.handler.respondToTicket(.with { $0.id = p2.id }, context: ServiceDeskFixture.engineerEast)
        fixture.clock.set(SlaRulesTests.at("2026-12-07 10:00"))
        let waiting = try await fixture.handler.setWaitingOnCustomer(.with { $0.id = p2.id; $0.waiting = true; $0.note = "等客户提供加工程序" }, context: ServiceDeskFixture.engineerEast).ticket
        #expect(waiting.state == .waitingCustomer && waiting.sla.resolution.status == .paused)
        queue = try await fixture.handler.listTickets(.init(), context: ServiceDeskFixture.engineerEast).tickets.map(\.id)
        #expect(queue == [p3.id, p2.id])
        fixture.clock.set(SlaRulesTests.at("2026-12-09 10:00"))
        let resumed = try await fixture.handler.setWaitingOnCustomer(.with { $0.id = p2.id; $0.waiting = false }, context: ServiceDeskFixture.engineerEast).ticket
        #expect(resumed.sla.pausedMinutes == 18 * 60 && resumed.sla.resolution.elapsedMinutes == 60)
        #expect(resumed.sla.resolution.dueAt.date == SlaRulesTests.at("2026-12-11 15:00"))
        // Visibility: the other region's engineer does not see it; the account's rep does, another team's does not.
        await #expect { _ = try await fixture.handler.getTicket(.with { $0.id = p2.id }, context: ServiceDeskFixture.engineerWest) } throws: { ($0 as? RPCError)?.code == .notFound }
        #expect(try await fixture.handler.listTickets(.init(), context: ServiceDeskFixture.engineerWest).tickets.isEmpty)
        #expect(try await fixture.handler.listTickets(.init(), context: ServiceDeskFixture.rep).tickets.count == 2)
        #expect(try await fixture.handler.listTickets(.init(), context: ServiceDeskFixture.otherRep).tickets.isEmpty)
        await #expect { _ = try await fixture.handler.resolveTicket(.with { $0.id = p2.id; $0.resolution = "x" }, context: ServiceDeskFixture.engineerWest) } throws: { ($0 as? RPCError)?.code == .notFound }
    }

    @Test("a complaint goes received → acknowledged → root cause → corrective action → verified → customer confirmed, no step skipped, notes where something was found or done; it closes only after the customer confirms or with a service manager's reason")
    func complaintLoop() async throws {
        let fixture = try ServiceDeskFixture(start: SlaRulesTests.at("2026-12-07 09:00"))
        try await fixture.setUp()
        let handler = fixture.handler
        @Sendable func complaint() async throws -> Forge_Servicedesk_V1_Ticket {
            let opened = try await handler.openTicket(.with {
                $0.ticket = .with { $0.accountID = "acc_1"; $0.region = "华东"; $0.channel = .email; $0.category = .complaint; $0.priority = .p2; $0.subject = "交货延误三周且未通知" }
            }, context: ServiceDeskFixture.rep)
            return opened.ticket
        }
        let ticket = try await complaint()
        #expect(ticket.complaintStep == .received && ticket.acknowledgeDueAt.date == fixture.clock.now().addingTimeInterval(86_400))
        let engineer = ServiceDeskFixture.engineerEast
        let ticketID = ticket.id
        @Sendable func advance(_ step: Forge_Servicedesk_V1_ComplaintStep, _ note: String = "") async throws -> Forge_Servicedesk_V1_Ticket {
            let advanced = try await handler.advanceComplaint(.with { $0.id = ticketID; $0.step = step; $0.note = note }, context: engineer)
            return advanced.ticket
        }
        await #expect { _ = try await advance(.rootCause, "排产变更") } throws: {
            ($0 as? RPCError)?.code == .failedPrecondition && ($0 as? RPCError)?.message.contains("the next step is acknowledged") == true
        }
        let acknowledged = try await advance(.acknowledged, "已致电采购部王经理致歉")
        #expect(acknowledged.sla.firstResponse.status == .met, "acknowledging is the first response")
        await #expect { _ = try await advance(.rootCause) } throws: { ($0 as? RPCError)?.violations.map(\.field) == ["note"] }
        _ = try await advance(.rootCause, "排产系统未同步插单，物流未触发延误通知")
        _ = try await advance(.correctiveAction, "插单需客户确认交期；延误自动通知客户")
        _ = try await advance(.verified, "两周内 12 单按期，通知正常")
        _ = try await fixture.handler.resolveTicket(.with { $0.id = ticket.id; $0.resolution = "流程已改进" }, context: engineer)
        await #expect { _ = try await fixture.handler.closeTicket(.with { $0.id = ticket.id }, context: engineer) } throws: {
            ($0 as? RPCError)?.code == .failedPrecondition && ($0 as? RPCError)?.message.contains("after the customer confirms") == true
        }
        await #expect { _ = try await fixture.handler.closeTicket(.with { $0.id = ticket.id; $0.overrideReason = "客户不回复" }, context: engineer) } throws: {
            ($0 as? RPCError)?.code == .permissionDenied
        }
        _ = try await advance(.customerConfirmed, "王经理邮件确认满意")
        let closed = try await fixture.handler.closeTicket(.with { $0.id = ticket.id }, context: engineer).ticket
        #expect(closed.state == .closed && closed.overrideReason.isEmpty)
        #expect(closed.history.filter { $0.kind == "complaint" }.map(\.complaintStep) == [.acknowledged, .rootCause, .correctiveAction, .verified, .customerConfirmed])
        #expect(closed.history.allSatisfy { !$0.actor.isEmpty && $0.hasAt })

        // Another complaint the customer never confirms: a service manager closes it with a reason.
        let silent = try await complaint()
        _ = try await fixture.handler.resolveTicket(.with { $0.id = silent.id; $0.resolution = "已处理" }, context: ServiceDeskFixture.manager)
        let overridden = try await fixture.handler.closeTicket(.with { $0.id = silent.id; $0.overrideReason = "客户三次未回复，区域经理同意关闭" }, context: ServiceDeskFixture.manager).ticket
        #expect(overridden.state == .closed && overridden.overrideReason == "客户三次未回复，区域经理同意关闭")
    }

    @Test("a holiday declared for today moves every open ticket's due times, queue rank and SLA watch, without rewriting the ticket; settings that move nothing touch no watch")
    func calendarChange() async throws {
        let fixture = try ServiceDeskFixture(start: SlaRulesTests.at("2026-12-07 09:00"))
        try await fixture.setUp()
        var opened: [Forge_Servicedesk_V1_Ticket] = []
        for priority in [Forge_Servicedesk_V1_Priority.p2, .p3] {
            opened.append(try await fixture.handler.openTicket(.with {
                $0.ticket = .with { $0.accountID = "acc_1"; $0.region = "华东"; $0.channel = .phone; $0.category = .fault; $0.priority = priority; $0.subject = "主轴异响" }
            }, context: ServiceDeskFixture.engineerEast).ticket)
        }
        struct Stored: Equatable { let rank: Double; let version: Int64; let payload: Data }
        func stored() async throws -> [String: Stored] {
            try await fixture.database.read { db in
                try [String: Stored](uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, sla_rank, version, payload FROM ticket").map {
                    ($0["id"], Stored(rank: $0["sla_rank"], version: $0["version"], payload: $0["payload"]))
                })
            }
        }
        func watches() async throws -> [String: Double] {
            try await fixture.database.read { db in
                try [String: Double](uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, updated_at FROM jobs WHERE kind = 'servicedesk.sla' AND state = 'pending'").map { ($0["id"], $0["updated_at"]) })
            }
        }
        let before = try await stored()
        let watchesBefore = try await watches()
        #expect(watchesBefore.count == 2)
        let dueBefore = try await fixture.handler.getTicket(.with { $0.id = opened[0].id }, context: ServiceDeskFixture.manager).ticket.sla.resolution.dueAt.date

        fixture.clock.advance(by: 60)
        var settings = try await fixture.handler.getServiceSettings(.init(), context: ServiceDeskFixture.manager).settings
        settings.calendar.holidays = ["2026-12-07"]  // today: the clocks start tomorrow
        settings = try await fixture.handler.updateServiceSettings(.with { $0.settings = settings }, context: ServiceDeskFixture.manager).settings
        let after = try await stored()
        let watchesAfter = try await watches()
        for ticket in opened {
            #expect(after[ticket.id]!.rank > before[ticket.id]!.rank, "due later")
            #expect(after[ticket.id]!.payload == before[ticket.id]!.payload && after[ticket.id]!.version == before[ticket.id]!.version, "the ticket is not rewritten")
        }
        #expect(watchesAfter.count == 2 && Set(watchesAfter.keys).isDisjoint(with: watchesBefore.keys), "each watch moved")
        let dueAfter = try await fixture.handler.getTicket(.with { $0.id = opened[0].id }, context: ServiceDeskFixture.manager).ticket.sla.resolution.dueAt.date
        #expect(dueAfter > dueBefore, "read with the holiday")

        fixture.clock.advance(by: 60)
        _ = try await fixture.handler.updateServiceSettings(.with { $0.settings = settings }, context: ServiceDeskFixture.manager)
        #expect(try await stored() == after)
        #expect(try await watches() == watchesAfter, "the same calendar again: no watch rewritten")
    }

    @Test("bad input is refused naming each field, and nothing is written")
    func validation() async throws {
        let fixture = try ServiceDeskFixture()
        try await fixture.setUp()
        await #expect { _ = try await fixture.handler.openTicket(.with { $0.ticket = .with { $0.subject = " " } }, context: ServiceDeskFixture.rep) } throws: {
            Set(($0 as? RPCError)?.violations.map(\.field) ?? []) == ["ticket.account_id", "ticket.subject", "ticket.channel", "ticket.category", "ticket.priority"]
        }
        await #expect { _ = try await fixture.handler.openTicket(.with {
            $0.ticket = .with { $0.serialNumber = "NOPE-1"; $0.channel = .phone; $0.category = .fault; $0.priority = .p1; $0.subject = "x" }
        }, context: ServiceDeskFixture.rep) } throws: { ($0 as? RPCError)?.violations.map(\.field) == ["ticket.serial_number"] }
        await #expect { _ = try await fixture.handler.updateServiceSettings(.with {
            $0.settings = .with { $0.calendar = .with { $0.timeZone = "Mars/Olympus"; $0.workingDays = [0, 8]; $0.opensAtMinute = 600; $0.closesAtMinute = 500; $0.holidays = ["12/25"] } }
        }, context: ServiceDeskFixture.manager) } throws: {
            Set(($0 as? RPCError)?.violations.map(\.field) ?? []) == ["settings.calendar.time_zone", "settings.calendar.working_days", "settings.calendar.closes_at_minute", "settings.calendar.holidays[0]"]
        }
        let count = try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM ticket") }
        #expect(count == 0)
    }

    @Test("the previous helpdesk's history imports once per number with its own times; SLA results come from today's targets in business hours; SR- numbers and times out of order are refused by field")
    func ticketHistory() async throws {
        let fixture = try ServiceDeskFixture(start: SlaRulesTests.at("2026-12-07 09:00"))
        try await fixture.setUp()
        func old(_ number: String, opened: String, responded: String? = nil, resolved: String, closed: String? = nil) -> Forge_Servicedesk_V1_Ticket {
            .with {
                $0.number = number; $0.accountID = "acc_1"; $0.region = "华东"; $0.channel = .phone; $0.category = .fault; $0.priority = .p2; $0.subject = "主轴异响"
                $0.createdAt = .init(date: SlaRulesTests.at(opened)); $0.resolvedAt = .init(date: SlaRulesTests.at(resolved))
                if let responded { $0.sla.firstResponse.metAt = .init(date: SlaRulesTests.at(responded)) }
                if let closed { $0.closedAt = .init(date: SlaRulesTests.at(closed)) }
                $0.assigneeID = "eng-east"
            }
        }
        let tickets = [
            // P2 standard: first response 4 h, resolution 24 business hours (3 days of 9).
            old("HD-2026-0101", opened: "2026-06-01 10:00", responded: "2026-06-01 11:00", resolved: "2026-06-02 16:00", closed: "2026-06-03 09:00"),
            old("HD-2026-0102", opened: "2026-06-05 16:00", responded: "2026-06-08 15:00", resolved: "2026-06-15 10:00"),
            old("SR-2026-000001", opened: "2026-06-01 10:00", resolved: "2026-05-01 10:00"),
        ]
        let response = try await fixture.handler.importTickets(.with { $0.tickets = tickets }, context: ServiceDeskFixture.manager)
        #expect(response.results.map(\.status) == [.created, .created, .rejected])
        #expect(response.results[2].violations.map(\.field) == ["tickets[2].number", "tickets[2].resolved_at"])
        let met = try await fixture.handler.getTicket(.with { $0.id = response.results[0].id }, context: ServiceDeskFixture.manager).ticket
        #expect(met.number == "HD-2026-0101" && met.state == .closed && met.createdAt.date == SlaRulesTests.at("2026-06-01 10:00"))
        #expect(met.sla.firstResponse.status == .met && met.sla.resolution.status == .met && met.history.map(\.kind) == ["imported"])
        let missed = try await fixture.handler.getTicket(.with { $0.id = response.results[1].id }, context: ServiceDeskFixture.manager).ticket
        #expect(missed.state == .resolved && missed.sla.firstResponse.status == .missed && missed.sla.resolution.status == .missed)
        let again = try await fixture.handler.importTickets(.with { $0.tickets = Array(tickets.prefix(2)) }, context: ServiceDeskFixture.manager)
        #expect(again.results.map(\.status) == [.unchanged, .unchanged] && again.results.map(\.id) == response.results.prefix(2).map(\.id))
        let service = try await fixture.handler.getAccountService(.with { $0.accountID = "acc_1" }, context: ServiceDeskFixture.rep)
        #expect(service.ticketsLast12Months == 2 && service.slaMissedLast12Months == 1 && service.openTickets.isEmpty)
        #expect(try await fixture.events("TicketImported").count == 2)
        #expect(try await fixture.events("TicketClosed").isEmpty, "history notifies nobody")
    }

    @Test("a detractor's survey answer (NPS 0–6, CSAT 1–2) opens one follow-up complaint for the account however often it arrives, a passive's none; a partner tier sets the service level of the account's machines")
    func feedbackAndLoyalty() async throws {
        let fixture = try ServiceDeskFixture(start: SlaRulesTests.at("2026-12-07 09:00"))
        try await fixture.setUp()
        func answered(_ id: String, _ kind: Forge_Feedback_V1_SurveyKind, _ score: Int32) -> Forge_Feedback_V1_SurveyAnswered {
            .with { $0.survey = .with { $0.id = id; $0.accountID = "acc_1"; $0.contactID = "con_1"; $0.kind = kind; $0.score = score; $0.comment = "交货太慢，没人通知" } }
        }
        for _ in 0..<2 { try await fixture.apply(answered("svy_1", .nps, 4), from: "feedback") }
        try await fixture.apply(answered("svy_2", .nps, 7), from: "feedback")
        try await fixture.apply(answered("svy_3", .csat, 4), from: "feedback")
        try await fixture.apply(answered("svy_4", .csat, 2), from: "feedback")
        let tickets = try await fixture.handler.listTickets(.with { $0.accountID = "acc_1" }, context: ServiceDeskFixture.rep).tickets
        #expect(tickets.count == 2)
        let nps = try #require(tickets.first { $0.subject.hasPrefix("NPS 4") })
        #expect(nps.category == .complaint && nps.priority == .p2 && nps.ownerID == "rep-a" && nps.contactID == "con_1" && nps.description_p.contains("交货太慢"))

        _ = try await fixture.handler.registerEquipment(.with {
            $0.equipment = .with { $0.serialNumber = "VMC850-26-0200"; $0.model = "VMC-850"; $0.accountID = "acc_1"; $0.region = "华东" }
        }, context: ServiceDeskFixture.manager)
        try await fixture.apply(Forge_Loyalty_V1_TierChanged.with { $0.accountID = "acc_1"; $0.from = .silver; $0.to = .gold }, from: "loyalty")
        let machine = try await fixture.handler.getEquipment(.with { $0.serialNumber = "VMC850-26-0200" }, context: ServiceDeskFixture.manager).equipment
        #expect(machine.serviceLevel == "gold")
        let ticket = try await fixture.handler.openTicket(.with {
            $0.ticket = .with { $0.serialNumber = "VMC850-26-0200"; $0.channel = .phone; $0.category = .fault; $0.priority = .p1; $0.subject = "停机" }
        }, context: ServiceDeskFixture.manager).ticket
        #expect(ticket.sla.serviceLevel == "gold" && ticket.sla.firstResponse.targetMinutes == 60)
        // A machine registered after the tier changed gets the programme's level too.
        try await fixture.apply(Forge_Loyalty_V1_TierChanged.with { $0.accountID = "acc_1"; $0.toTier = "silver"; $0.serviceLevel = "silver" }, from: "loyalty")
        _ = try await fixture.handler.registerEquipment(.with {
            $0.equipment = .with { $0.serialNumber = "VMC850-26-0201"; $0.model = "VMC-850"; $0.accountID = "acc_1" }
        }, context: ServiceDeskFixture.manager)
        #expect(try await fixture.handler.getEquipment(.with { $0.serialNumber = "VMC850-26-0201" }, context: ServiceDeskFixture.manager).equipment.serviceLevel == "silver")
        #expect(try await fixture.handler.getEquipment(.with { $0.serialNumber = "VMC850-26-0200" }, context: ServiceDeskFixture.manager).equipment.serviceLevel == "silver")
    }
}
