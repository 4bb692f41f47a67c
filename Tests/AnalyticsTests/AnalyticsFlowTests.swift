@testable import ForgeAnalytics
import ForgeContracts
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import GRDB
import Logging
import SwiftProtobuf
import Testing

/// The read model over a real database file: other services' events applied as the consumers
/// apply them, the handler called as the server calls it, the daily scan with a manual clock.
struct AnalyticsFixture {
    let database: DatabasePool
    let clock: ManualClock
    let handler: AnalyticsHandler

    /// 2026-12-01 00:00 China time.
    static let start = Date(timeIntervalSince1970: 1_796_054_400)
    static let day: TimeInterval = 86_400

    init() throws {
        database = try ForgeDatabase.temporary(migrations: AnalyticsStore.migrations)
        clock = ManualClock(Self.start)
        handler = AnalyticsHandler(database: database, clock: clock)
    }

    static func context(_ subject: String, _ roles: Set<String>, team: String = "") -> ServerContext {
        ServerContext(method: MethodDescriptor(service: "forge.analytics.v1.Analytics", method: "Test"), metadata: [:],
                      principal: Principal(subject: subject, roles: roles, team: team), deadline: .now + .seconds(30),
                      requestID: "req", logger: Logger(label: "test"), peer: "test")
    }

    static let admin = context("admin", [Role.admin])
    static let analyst = context("ana", [Role.analyst])
    static let rep = context("rep-a", [Role.salesRep], team: "east")
    static let otherRep = context("rep-w", [Role.salesRep], team: "west")

    /// One feed's event as its consumer gets it.
    struct Feed {
        var upstream: String
        var event: Forge_Common_V1_Event
    }

    static func event(_ upstream: String, _ message: some SwiftProtobuf.Message, at date: Date = start) -> Feed {
        Feed(upstream: upstream, event: .with {
            $0.type = String(type(of: message).protoMessageName.split(separator: ".").last!)
            $0.payload = try! message.serializedData()
            $0.occurredAt = .init(date: date)
        })
    }

    func apply(_ feeds: [Feed]) async throws {
        let cache = handler.cache
        try await database.write { db in
            cache.changed(db)
            for feed in feeds {
                switch feed.upstream {
                case "accounts": try UpstreamEvents.applyAccounts(db, feed.event)
                case "pipeline": try UpstreamEvents.applyPipeline(db, feed.event)
                case "orders": try UpstreamEvents.applyOrders(db, feed.event)
                case "servicedesk": try UpstreamEvents.applyServicedesk(db, feed.event)
                case "feedback": try UpstreamEvents.applyFeedback(db, feed.event)
                default: try UpstreamEvents.applyLoyalty(db, feed.event)
                }
            }
        }
    }

    static func daysAgo(_ days: Double) -> Google_Protobuf_Timestamp { .init(date: start.addingTimeInterval(-days * day)) }

    static func account(_ id: String, region: String, owner: String, team: String) -> Feed {
        event("accounts", Forge_Accounts_V1_AccountCreated.with {
            $0.account = .with { $0.id = id; $0.name = "客户\(id)"; $0.region = region; $0.industry = "机械"; $0.tier = .core; $0.ownerID = owner; $0.team = team }
        })
    }

    static func order(_ id: String, account: String, daysAgo days: Double, yuan: Int64, sku: String = "SP-1", status: Forge_Orders_V1_OrderStatus = .completed) -> Feed {
        event("orders", Forge_Orders_V1_OrderImported.with {
            $0.order = .with {
                $0.id = id
                $0.accountID = account
                $0.status = status
                $0.createdAt = daysAgo(days)
                $0.total = .with { $0.currencyCode = "CNY"; $0.amountMicros = yuan * 1_000_000 }
                $0.margin = .with { $0.currencyCode = "CNY"; $0.amountMicros = yuan * 300_000 }
                $0.lines = [.with { $0.lineNo = 1; $0.sku = sku; $0.lineTotal = $0.unitPrice }]
            }
        })
    }

    static func answer(_ id: String, account: String, score: Int32, daysAgo days: Double, region: String) -> Feed {
        event("feedback", Forge_Feedback_V1_SurveyAnswered.with {
            $0.survey = .with {
                $0.id = id; $0.accountID = account; $0.kind = .nps; $0.score = score; $0.answeredAt = daysAgo(days); $0.region = region
                $0.ownerID = "rep-a"; $0.team = "east"
            }
        })
    }
}

struct AnalyticsFlowTests {
    typealias F = AnalyticsFixture

    /// A year of one small customer base across the feeds, merges included.
    static let history: [F.Feed] = [
        F.account("acc_1", region: "华东", owner: "rep-a", team: "east"),
        F.account("acc_2", region: "华东", owner: "rep-a", team: "east"),
        F.account("acc_3", region: "西南", owner: "rep-w", team: "west"),
        F.event("orders", Forge_Orders_V1_ProductUpserted.with { $0.product = .with { $0.sku = "SP-1"; $0.productLine = "备件" } }),
        F.order("o1", account: "acc_1", daysAgo: 300, yuan: 100_000),
        F.order("o2", account: "acc_1", daysAgo: 100, yuan: 200_000),
        F.order("o3", account: "acc_2", daysAgo: 50, yuan: 50_000),
        F.order("o4", account: "acc_3", daysAgo: 20, yuan: 400_000),
        F.order("o5", account: "acc_3", daysAgo: 10, yuan: 70_000, status: .cancelled),
        F.answer("s1", account: "acc_1", score: 10, daysAgo: 30, region: "华东"),
        F.answer("s2", account: "acc_2", score: 4, daysAgo: 20, region: "华东"),
        F.answer("s3", account: "acc_3", score: 8, daysAgo: 10, region: "西南"),
        F.event("pipeline", Forge_Pipeline_V1_OpportunityWon.with {
            $0.opportunity = .with { $0.id = "opp_1"; $0.accountID = "acc_2"; $0.stage = .won; $0.createdAt = F.daysAgo(90); $0.closedAt = F.daysAgo(60)
                $0.history = [.with { $0.from = .technicalConsultation; $0.to = .contract }, .with { $0.from = .contract; $0.to = .won }] }
        }),
        F.event("servicedesk", Forge_Servicedesk_V1_TicketClosed.with {
            $0.ticket = .with { $0.id = "t1"; $0.accountID = "acc_2"; $0.createdAt = F.daysAgo(40); $0.resolvedAt = F.daysAgo(39)
                $0.sla = .with { $0.firstResponse = .with { $0.status = .met }; $0.resolution = .with { $0.status = .missed } } }
        }),
        F.event("loyalty", Forge_Loyalty_V1_TierChanged.with { $0.accountID = "acc_3"; $0.toTier = "silver" }),
        // acc_2 is merged into acc_1: its order, answer, opportunity and ticket follow.
        F.event("accounts", Forge_Accounts_V1_AccountMerged.with { $0.survivorID = "acc_1"; $0.mergedIds = ["acc_2"] }),
        F.event("accounts", Forge_Accounts_V1_ContactErased.with { $0.contactID = "con_1"; $0.accountID = "acc_1" }),
    ]

    func figures(_ fixture: F, _ context: ServerContext = F.admin) async throws -> Forge_Analytics_V1_GetKpisResponse {
        try await fixture.handler.getKpis(.with { $0.groupBy = .region }, context: context)
    }

    @Test("a KPI period: neither end is the last twelve months to now; only from runs to now; only to is the twelve months before it; an end not after its start is refused")
    func period() throws {
        let now = ISO8601DateFormatter().date(from: "2026-12-04T08:00:00Z")!
        let both = try AnalyticsHandler.period(from: nil, to: nil, now: now)
        #expect(both.1 == now.timeIntervalSince1970 && both.0 == ChinaCalendar.monthStart(now, adding: -11).timeIntervalSince1970)
        let from = ISO8601DateFormatter().date(from: "2026-06-01T00:00:00Z")!
        #expect(try AnalyticsHandler.period(from: .init(date: from), to: nil, now: now) == (from.timeIntervalSince1970, now.timeIntervalSince1970))
        let to = ISO8601DateFormatter().date(from: "2026-03-01T00:00:00Z")!
        let before = try AnalyticsHandler.period(from: nil, to: .init(date: to), now: now)
        #expect(before == (ChinaCalendar.monthStart(to, adding: -11).timeIntervalSince1970, to.timeIntervalSince1970))
        let refused = #expect(throws: RPCError.self) { _ = try AnalyticsHandler.period(from: .init(date: now), to: .init(date: to), now: now) }
        #expect(refused?.code == .invalidArgument && refused?.violations.map(\.field) == ["to"])
    }

    @Test("replaying every feed from the start — in another interleaving, twice, after a rebuild — gives exactly the same figures")
    func replayEquality() async throws {
        let fixture = try F()
        try await fixture.apply(Self.history)
        let first = try await figures(fixture)
        // The merge is the last event: acc_2's facts are acc_1's now; 华东 is one customer.
        let east = try #require(first.groups.first { $0.key == "华东" })
        #expect(east.kpis.first { $0.key == "orders" }?.value == 3)
        #expect(east.kpis.first { $0.key == "nps" }?.denominator == 2)
        #expect(first.kpis.first { $0.key == "win_rate" }?.value == 100)

        // Rebuild: the read model and cursors emptied, the feeds replayed.
        try await fixture.database.write { db in
            try db.execute(sql: "INSERT INTO consumer_cursors (upstream, last_seq, updated_at, incarnation) VALUES ('accounts', 42, 0, '')")
        }
        #expect(try await fixture.handler.rebuild(.init(), context: F.admin).feedsReset == 1)
        #expect(try await figures(fixture).kpis.first { $0.key == "orders" }?.value == 0)
        #expect(try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM order_fact") } == 0)
        try await fixture.apply(Self.history)
        #expect(try await figures(fixture) == first)

        // Each feed in its own order, but the accounts feed (with the merge) first and the
        // others after, as a replay on a slow machine may deliver them; and everything twice.
        let other = try F()
        let accountsFirst = Self.history.filter { $0.upstream == "accounts" } + Self.history.filter { $0.upstream != "accounts" }
        try await other.apply(accountsFirst)
        try await other.apply(accountsFirst.reversed().filter { $0.upstream == "orders" } + accountsFirst)
        #expect(try await figures(other) == first)
    }

    @Test("an order's later event leaves exactly its lines and plan — one by one or in one pull: a removed line goes, a changed instalment changes, the rest stay")
    func orderRowsFollowTheLatestEvent() async throws {
        var order = Forge_Orders_V1_Order.with {
            $0.id = "o1"; $0.accountID = "acc_1"; $0.status = .approved; $0.currencyCode = "CNY"; $0.createdAt = F.daysAgo(30)
            $0.total = .with { $0.currencyCode = "CNY"; $0.amountMicros = 300_000_000_000 }
            $0.lines = [Int32(1), 2, 3].map { number in .with { $0.lineNo = number; $0.sku = "SKU-\(number)" } }
            $0.paymentPlan = [Int32(1), 2, 3].map { number in .with { $0.number = number; $0.amount = .with { $0.amountMicros = 100_000_000_000 } } }
        }
        let approved = F.event("orders", Forge_Orders_V1_OrderApproved.with { $0.order = order }).event
        order.status = .delivered
        order.lines.remove(at: 1)
        order.lines[1].production = .with { $0.status = .delivered; $0.deliveredAt = F.daysAgo(1) }
        order.lines[1].deliveredOnTime = true
        order.paymentPlan[0].paid = order.paymentPlan[0].amount
        order.paymentPlan[0].paidAt = F.daysAgo(2)
        let delivered = F.event("orders", Forge_Orders_V1_OrderDelivered.with { $0.order = order }).event
        // Another order in the same pull, with its account merged into acc_9 before.
        let other = F.event("orders", Forge_Orders_V1_OrderCreated.with {
            $0.order = .with { $0.id = "o2"; $0.accountID = "acc_2"; $0.lines = [.with { $0.lineNo = 1; $0.sku = "SKU-1" }] }
        }).event

        for batches in [[[approved], [delivered], [delivered], [other]], [[approved, other, delivered, delivered]]] {
            let fixture = try F()
            try await fixture.database.write { db in
                try UpstreamEvents.merge(db, ["acc_2"], into: "acc_9")
                for batch in batches { try UpstreamEvents.prepareOrders(batch)(db) }
            }
            let (status, lines, plan, accounts) = try await fixture.database.read { db in
                (try Int.fetchOne(db, sql: "SELECT status FROM order_fact WHERE order_id = 'o1'"),
                 try Row.fetchAll(db, sql: "SELECT line_no, sku, delivered_at IS NOT NULL, on_time FROM order_line WHERE order_id = 'o1' ORDER BY line_no")
                    .map { "\($0[0] as Int) \($0[1] as String) \($0[2] as Bool) \($0[3] as Bool)" },
                 try Row.fetchAll(db, sql: "SELECT number, paid_micros, paid_at IS NOT NULL FROM installment WHERE order_id = 'o1' ORDER BY number")
                    .map { "\($0[0] as Int) \($0[1] as Int64) \($0[2] as Bool)" },
                 try String.fetchAll(db, sql: "SELECT account_id FROM order_fact UNION ALL SELECT account_id FROM order_line ORDER BY 1"))
            }
            #expect(status == Forge_Orders_V1_OrderStatus.delivered.rawValue, "\(batches.count) pulls")
            #expect(lines == ["1 SKU-1 false false", "3 SKU-3 true true"], "\(batches.count) pulls")
            #expect(plan == ["1 100000000000 true", "2 0 false", "3 0 false"], "\(batches.count) pulls")
            #expect(accounts == ["acc_1", "acc_1", "acc_1", "acc_9", "acc_9"], "\(batches.count) pulls")
        }
    }

    @Test("an order of 20,000 lines is written and cut back to ten in one pull (no limit on the statement's values)")
    func orderOfManyLines() async throws {
        let fixture = try F()
        var order = Forge_Orders_V1_Order.with {
            $0.id = "o-big"; $0.accountID = "acc_1"; $0.status = .approved; $0.currencyCode = "CNY"; $0.createdAt = F.daysAgo(3)
            $0.lines = (1...20_000).map { number in .with { $0.lineNo = Int32(number); $0.sku = "SKU-\(number % 7)" } }
        }
        let created = F.event("orders", Forge_Orders_V1_OrderCreated.with { $0.order = order }).event
        order.lines = Array(order.lines.prefix(10))
        let updated = F.event("orders", Forge_Orders_V1_OrderUpdated.with { $0.order = order }).event
        try await fixture.database.write { db in try UpstreamEvents.prepareOrders([created])(db) }
        #expect(try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM order_line") } == 20_000)
        try await fixture.database.write { db in try UpstreamEvents.prepareOrders([created, updated])(db) }
        #expect(try await fixture.database.read { db in try String.fetchOne(db, sql: "SELECT max(line_no) || '/' || count(*) FROM order_line") } == "10/10")
    }

    @Test("reloading a large read model does not hold questions up: the facts before it answer until the new ones are read; a small one is waited for")
    func longReloadAnswersFromTheFactsBefore() async throws {
        let database = try ForgeDatabase.temporary(migrations: AnalyticsStore.migrations)
        let long = FactsCache(database: database, largeAbove: 0)  // every read model counts as large
        let quick = FactsCache(database: database)
        func add(_ id: String) async throws {
            try await database.write { db in
                long.changed(db)
                quick.changed(db)
                try UpstreamEvents.applyAccounts(db, F.account(id, region: "华东", owner: "rep-a", team: "east").event)
            }
        }
        try await add("acc_1")
        #expect(try await long.facts().facts.accounts.count == 1, "nothing read yet: the first question waits")
        #expect(try await quick.facts().facts.accounts.count == 1)
        try await add("acc_2")
        #expect(try await quick.facts().facts.accounts.count == 2, "a small read model's reload is waited for")
        #expect(try await long.facts().facts.accounts.count == 1, "the facts before the change while the reload runs")
        #expect(try await Poll.until(seconds: 20) { try await long.facts().facts.accounts.count == 2 }, "then the new ones")
    }

    @Test("at start-up the facts are read before anyone asks")
    func warmUpReadsTheFacts() async throws {
        let database = try ForgeDatabase.temporary(migrations: AnalyticsStore.migrations)
        try await database.write { db in try UpstreamEvents.applyAccounts(db, F.account("acc_1", region: "华东", owner: "rep-a", team: "east").event) }
        let cache = FactsCache(database: database)
        #expect(!cache.hasFacts)
        let warmUp = Task { try await FactsWarmUp(cache: cache).run() }
        #expect(await Poll.until(seconds: 20) { cache.hasFacts })
        warmUp.cancel()
        #expect(try await cache.facts().facts.accounts.map(\.id) == ["acc_1"])
    }

    @Test("a merged customer's figures follow the survivor; an erased contact finds nothing personal to anonymise")
    func mergeAndErase() async throws {
        let fixture = try F()
        try await fixture.apply(Self.history)
        let health = try await fixture.handler.getAccountHealth(.with { $0.accountID = "acc_1" }, context: F.admin).health
        // acc_2's NPS 4 (20 days ago) is now the survivor's latest answer.
        #expect(health.components.first { $0.key == "nps" }?.score == 40)
        // The merged id answers as its survivor.
        #expect(try await fixture.handler.getAccountHealth(.with { $0.accountID = "acc_2" }, context: F.admin).health.accountID == "acc_1")
        let columns = try await fixture.database.read { db in
            try ["answer", "ticket", "activity", "order_fact"].flatMap { try db.columns(in: $0).map(\.name) }
        }
        #expect(!columns.contains { $0.contains("contact") || $0.contains("comment") || $0.contains("phone") || $0.contains("email") })
    }

    @Test("reps get their own portfolio's figures; analysts no margins; another rep's customer is NOT_FOUND")
    func security() async throws {
        let fixture = try F()
        try await fixture.apply(Self.history)
        let mine = try await fixture.handler.getKpis(.init(), context: F.rep)
        // rep-a's portfolio after the merge: acc_1 (o1, o2, o3).
        #expect(mine.kpis.first { $0.key == "orders" }?.value == 3)
        #expect(!mine.kpis.contains { $0.key == "ltv" } && mine.kpis.contains { $0.key == "revenue" })
        let analyst = try await fixture.handler.getKpis(.init(), context: F.analyst)
        #expect(analyst.kpis.first { $0.key == "orders" }?.value == 4)
        #expect(!analyst.kpis.contains { ["ltv", "clv", "receivables", "dso"].contains($0.key) } && analyst.kpis.contains { $0.key == "revenue" })
        await #expect { _ = try await fixture.handler.getAccountHealth(.with { $0.accountID = "acc_3" }, context: F.rep) } throws: {
            ($0 as? RPCError)?.code == .notFound
        }
        await #expect { _ = try await fixture.handler.getKpis(.with { $0.keys = ["nps", "happiness"]; $0.from = F.daysAgo(1) }, context: F.admin) } throws: {
            let error = $0 as? RPCError
            return error?.code == .invalidArgument && error?.violations.map(\.field) == ["keys[1]"]
        }
        await #expect { _ = try await fixture.handler.getKpis(.with { $0.from = F.daysAgo(1); $0.to = F.daysAgo(2) }, context: F.admin) } throws: {
            ($0 as? RPCError)?.violations.map(\.field) == ["to"]
        }
        await #expect { _ = try await fixture.handler.getReport(.with { $0.month = "2026-13" }, context: F.admin) } throws: {
            ($0 as? RPCError)?.violations.map(\.field) == ["month"]
        }
    }

    @Test("churn risk: silent signals open an episode once (ChurnRiskRaised), a new order closes it; the repurchase reminder comes once, 30 days before the window")
    func churnAndRepurchase() async throws {
        let fixture = try F()
        // Spare parts every 310 then 360 days (11 months ± 25 days): mean 335, deviation 25.
        // The last purchase 300 days ago: the window opens in 10 days, the reminder is due.
        try await fixture.apply([
            F.account("acc_1", region: "华东", owner: "rep-a", team: "east"),
            F.event("orders", Forge_Orders_V1_ProductUpserted.with { $0.product = .with { $0.sku = "SP-1"; $0.productLine = "备件" } }),
            F.order("o1", account: "acc_1", daysAgo: 970, yuan: 38_000),
            F.order("o2", account: "acc_1", daysAgo: 660, yuan: 100_000),
            F.order("o3", account: "acc_1", daysAgo: 300, yuan: 38_000),
            F.answer("s1", account: "acc_1", score: 3, daysAgo: 5, region: "华东"),
            F.event("servicedesk", Forge_Servicedesk_V1_SlaBreached.with {
                $0.ticket = .with { $0.id = "t1"; $0.accountID = "acc_1"; $0.createdAt = F.daysAgo(10); $0.sla = .with { $0.resolution = .with { $0.status = .breached } } }
            }),
        ])
        let health = try await fixture.handler.getAccountHealth(.with { $0.accountID = "acc_1" }, context: F.admin).health
        let cycle = try #require(health.cycles.first)
        #expect(cycle.productLine == "备件" && cycle.purchases == 3 && cycle.meanIntervalDays == 335 && cycle.deviationDays == 25)
        #expect(cycle.windowOpens.date == F.start.addingTimeInterval(10 * F.day) && cycle.windowCloses.date == F.start.addingTimeInterval(60 * F.day))
        #expect(health.nextExpectedPurchase == cycle.windowOpens)
        // Signals: no order for 300 days (usual 335: not yet 1.5×), falling value (0 in the last
        // year against 38,000 before: yes), the detractor (3), the SLA miss → 20 + 20 + 15 = 55.
        #expect(health.churn.signals.map(\.key) == ["falling_value", "detractor", "sla_miss"] && health.churn.score == 55 && health.churn.level == "high")
        // The NPS of 3 moved the score since a month ago (no answer then: 50 → 30 of 100).
        #expect(health.reasons.contains { $0.component == "nps" && $0.change == -3 })

        let first = try await AnalyticsJobs.scan(database: fixture.database, cache: fixture.handler.cache, now: fixture.clock.now())
        #expect(first == .init(raised: 1, reminded: 1))
        fixture.clock.advance(by: F.day)
        #expect(try await AnalyticsJobs.scan(database: fixture.database, cache: fixture.handler.cache, now: fixture.clock.now()) == .init(raised: 0, reminded: 0))
        let alerted = try await fixture.handler.getAccountHealth(.with { $0.accountID = "acc_1" }, context: F.admin).health
        #expect(alerted.churn.alerted && alerted.cycles.first?.reminded == true)

        // A new order, a promoter's answer: the risk falls under medium and the episode ends.
        try await fixture.apply([F.order("o4", account: "acc_1", daysAgo: 0, yuan: 38_000), F.answer("s2", account: "acc_1", score: 10, daysAgo: 0, region: "华东")])
        fixture.clock.advance(by: F.day)
        _ = try await AnalyticsJobs.scan(database: fixture.database, cache: fixture.handler.cache, now: fixture.clock.now())
        let events = try await fixture.database.read { db in try String.fetchAll(db, sql: "SELECT type FROM outbox ORDER BY seq") }
        #expect(events == ["ChurnRiskRaised", "RepurchaseWindowApproaching", "ChurnRiskCleared"])
        let raised = try await fixture.database.read { db in
            try Forge_Analytics_V1_ChurnRiskRaised(serializedBytes: try Data.fetchOne(db, sql: "SELECT payload FROM outbox WHERE type = 'ChurnRiskRaised'")!)
        }
        #expect(raised.ownerID == "rep-a" && raised.risk.alerted && raised.risk.signals.count == 3)
    }

    @Test("the monthly report: the month against the one before and a year before, movers, charts")
    func report() async throws {
        let fixture = try F()
        try await fixture.apply(Self.history)
        let report = try await fixture.handler.getReport(.with { $0.month = "2026-11" }, context: F.admin)
        #expect(report.month == "2026-11" && report.from.date == F.start.addingTimeInterval(-30 * F.day) && report.to.date == F.start)
        // November: o3 (50 days ago) is October; o4 (20 days ago) is November.
        let orders = try #require(report.lines.first { $0.current.key == "orders" })
        #expect(orders.current.value == 1 && orders.previousMonth.value == 1 && orders.previousYear.value == 0)
        #expect(Set(report.charts.map(\.key)) == ["revenue_trend", "nps_trend", "nps_by_region", "ageing", "funnel"])
        #expect(report.charts.first { $0.key == "revenue_trend" }?.points.count == 12)
        #expect(report.charts.first { $0.key == "nps_by_region" }?.points.map(\.label) == ["华东", "西南"])
    }

    @Test("the daily scan comes back every day through the scheduler (each run schedules the next under its own id), and start-up gives a database without a pending run one")
    func dailyScanRecurs() async throws {
        let fixture = try F()
        // The migration's first run is due at once (wall time, before the fixture's clock).
        let scheduler = JobScheduler(database: fixture.database, clock: fixture.clock,
                                     handlers: AnalyticsJobs.handlers(database: fixture.database, cache: fixture.handler.cache, clock: fixture.clock, day: F.day))
        func pending() async throws -> Int {
            try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM jobs WHERE kind = ? AND state = 'pending'", arguments: [AnalyticsJobs.daily]) ?? 0 }
        }
        fixture.clock.advance(by: 400 * F.day)
        #expect(try await scheduler.runDue() == 1)
        for _ in 0..<3 {
            #expect(try await pending() == 1, "the next day's run is waiting")
            #expect(try await scheduler.runDue() == 0)
            fixture.clock.advance(by: F.day)
            #expect(try await scheduler.runDue() == 1)
        }
        try await AnalyticsJobs.ensureDaily(database: fixture.database, now: fixture.clock.now(), day: F.day)
        #expect(try await pending() == 1, "start-up adds nothing while a run is pending")
        try await fixture.database.write { db in try db.execute(sql: "DELETE FROM jobs") }
        try await AnalyticsJobs.ensureDaily(database: fixture.database, now: fixture.clock.now(), day: F.day)
        #expect(try await pending() == 1, "a database whose run was lost gets one at start-up")
    }
}
