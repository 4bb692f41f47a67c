import ForgeContracts
@testable import ForgeLoyalty
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import SwiftProtobuf
import Testing

/// The loyalty handler over a real database file, called as the server calls it, with a manual
/// clock and the real job scheduler; other services' events applied as the consumers apply them.
struct LoyaltyFixture {
    let handler: LoyaltyHandler
    let database: DatabasePool
    let clock: ManualClock

    static let start = Date(timeIntervalSince1970: 1_796_083_200)  // 2026-12-01 00:00 UTC
    static let day: TimeInterval = 86_400
    static let yuan = ProgrammeRules.yuan

    init() throws {
        database = try ForgeDatabase.temporary(migrations: LoyaltyStore.migrations)
        clock = ManualClock(Self.start)
        handler = LoyaltyHandler(database: database, clock: clock)
    }

    static func context(_ subject: String, _ roles: Set<String>, team: String = "") -> ServerContext {
        ServerContext(method: MethodDescriptor(service: "forge.loyalty.v1.Loyalty", method: "Test"), metadata: [:],
                      principal: Principal(subject: subject, roles: roles, team: team), deadline: .now + .seconds(30),
                      requestID: "req", logger: Logger(label: "test"), peer: "test")
    }

    static let manager = context("boss-east", [Role.salesManager], team: "east")
    static let rep = context("rep-a", [Role.salesRep], team: "east")
    static let otherRep = context("rep-w", [Role.salesRep], team: "west")
    static let engineer = context("eng-1", [Role.serviceEngineer])
    static let finance = context("fin-1", [Role.finance])
    static let erp = context("erp", [Role.erpConnector])
    static let marketing = context("mkt-1", [Role.marketing])

    var scheduler: JobScheduler { JobScheduler(database: database, clock: clock, handlers: LoyaltyJobs.handlers(database: database, clock: clock, day: Self.day)) }

    func advance(days: Double) async throws {
        clock.advance(by: days * Self.day)
        _ = try await scheduler.runDue(limit: 1000)
    }

    func apply(_ message: some SwiftProtobuf.Message, from upstream: String, seq: UInt64 = 1) async throws {
        let event = Forge_Common_V1_Event.with {
            $0.seq = seq
            $0.type = String(type(of: message).protoMessageName.split(separator: ".").last!)
            $0.payload = try! message.serializedData()
            $0.occurredAt = .init(date: clock.now())
        }
        let now = clock.now()
        try await database.write { db in
            switch upstream {
            case "accounts": try UpstreamEvents.applyAccounts(db, event, now: now, day: Self.day)
            case "feedback": try UpstreamEvents.applyFeedback(db, event, now: now, day: Self.day)
            default: try UpstreamEvents.applyOrders(db, event, now: now, day: Self.day)
            }
        }
    }

    /// Two accounts: acc_1 (rep-a, team east), acc_2 (rep-w, team west).
    func setUp() async throws {
        try await apply(Forge_Accounts_V1_AccountCreated.with {
            $0.account = .with { $0.id = "acc_1"; $0.name = "杭州汽轮动力集团有限公司"; $0.ownerID = "rep-a"; $0.team = "east" }
        }, from: "accounts")
        try await apply(Forge_Accounts_V1_AccountCreated.with {
            $0.account = .with { $0.id = "acc_2"; $0.name = "成都航空零部件有限公司"; $0.ownerID = "rep-w"; $0.team = "west" }
        }, from: "accounts")
    }

    @discardableResult
    func purchase(_ key: String, account: String = "acc_1", yuan amount: Int64, line: String = "数控机床", daysAgo: Double = 0) async throws -> Forge_Loyalty_V1_RecordPurchasesResponse {
        try await handler.recordPurchases(.with {
            $0.purchases = [.with {
                $0.key = key
                $0.accountID = account
                $0.occurredAt = .init(date: clock.now().addingTimeInterval(-daysAgo * Self.day))
                $0.productLine = line
                $0.amount = .with { $0.amountMicros = amount * Self.yuan }
            }]
        }, context: Self.erp)
    }

    func membership(_ account: String = "acc_1", as context: ServerContext = Self.manager) async throws -> Forge_Loyalty_V1_Membership {
        try await handler.getMembership(.with { $0.accountID = account }, context: context).membership
    }

    func events(_ type: String) async throws -> [Forge_Common_V1_Event] {
        try await database.read { db in try Outbox.events(db, after: 0, limit: 10_000, types: [type]) }
    }

    func tierChanges() async throws -> [Forge_Loyalty_V1_TierChanged] {
        try await events("TierChanged").map { try Forge_Loyalty_V1_TierChanged(serializedBytes: $0.payload) }
    }

    func consume(_ reference: String, code: String = "on_site_diagnostic", account: String = "acc_1") async throws -> Forge_Loyalty_V1_ConsumeEntitlementResponse {
        try await handler.consumeEntitlement(.with { $0.accountID = account; $0.code = code; $0.reference = reference }, context: Self.engineer)
    }
}

@Suite("Loyalty: a year of purchases, entitlements, overrides, rebates, merges, through the handler on a real database")
struct LoyaltyFlowTests {
    typealias F = LoyaltyFixture

    @Test("a year of purchases: bronze, then silver at once, then below it a warning, 90 days' grace and the downgrade; a purchase in the grace cancels it")
    func yearOfPurchases() async throws {
        let f = try F()
        try await f.setUp()
        try await f.purchase("inv-1|1", yuan: 300_000)
        #expect(try await f.membership().tier == "bronze")
        try await f.advance(days: 30)
        try await f.purchase("inv-2|1", yuan: 900_000, line: "激光切割")
        var membership = try await f.membership()
        #expect(membership.tier == "silver" && membership.serviceLevel == "silver", "¥1.2 M, two product lines, no overdue instalment")
        #expect(try await f.tierChanges().map(\.toTier) == ["bronze", "silver"])
        let upgrade = try await f.tierChanges().last
        #expect(upgrade?.serviceLevel == "silver" && upgrade?.to == .silver && upgrade?.reason == "upgrade")
        // A year on, the first purchase has left the trailing window: ¥900 k is bronze, after a warning.
        try await f.advance(days: 340)
        _ = try await f.scheduler.runDue()
        try await LoyaltyJobs.evaluateAll(database: f.database, trigger: "scheduled", after: "", clock: f.clock, day: F.day)
        membership = try await f.membership()
        #expect(membership.tier == "silver" && membership.evaluation.qualifiedTier == "bronze")
        #expect(membership.pendingDowngrade.toTier == "bronze")
        #expect(membership.pendingDowngrade.effectiveAt.date == f.clock.now().addingTimeInterval(90 * F.day))
        #expect(try await f.events("TierDowngradePending").count == 1)
        // Qualifying again in the grace cancels the downgrade.
        try await f.advance(days: 10)
        try await f.purchase("inv-3|1", yuan: 400_000)
        membership = try await f.membership()
        #expect(membership.tier == "silver" && !membership.hasPendingDowngrade)
        #expect(try await f.events("TierDowngradeCancelled").count == 1)
        // Nothing more bought: the window empties, warned again, and 90 days later bronze… then nothing.
        try await f.advance(days: 370)
        try await LoyaltyJobs.evaluateAll(database: f.database, trigger: "scheduled", after: "", clock: f.clock, day: F.day)
        membership = try await f.membership()
        #expect(membership.tier == "silver" && membership.pendingDowngrade.toTier == "")
        try await f.advance(days: 89)
        #expect(try await f.membership().tier == "silver", "the grace is not over")
        try await f.advance(days: 1)
        membership = try await f.membership()
        #expect(membership.tier == "" && !membership.hasPendingDowngrade)
        #expect(try await f.tierChanges().map(\.toTier) == ["bronze", "silver", ""])
        let history = try await f.handler.getTierHistory(.with { $0.accountID = "acc_1" }, context: F.manager).entries
        #expect(history.map(\.kind).filter { $0 != "evaluated" } == ["tier_changed", "downgrade_warned", "downgrade_cancelled", "downgrade_warned", "tier_changed", "tier_changed"])
        #expect(history.first?.evaluation.checks.isEmpty == false, "each change keeps the evaluation that made it")
    }

    @Test("a quota is used up, answered with what is left and when it renews, and renews on the membership anniversary")
    func quotaAndRenewal() async throws {
        let f = try F()
        try await f.setUp()
        try await f.purchase("inv-1|1", yuan: 700_000)
        try await f.purchase("inv-1|2", yuan: 600_000, line: "激光切割")
        let since = try await f.membership().memberSince.date
        let first = try await f.consume("wo-1")
        #expect(!first.replayed && first.entitlement.used == 1 && first.entitlement.remaining == 0)
        let again = try await f.consume("wo-1")
        #expect(again.replayed && again.consumption.id == first.consumption.id && again.entitlement.used == 1, "the same work order consumes once")
        let refused = await #expect(throws: RPCError.self) { _ = try await f.consume("wo-2") }
        #expect(refused?.code == .failedPrecondition)
        #expect(refused?.message.contains("1 of 1 used, 0 left") == true && refused?.message.contains("renews on \(TierRules.day(TierRules.calendar.date(byAdding: .year, value: 1, to: since)!))") == true)
        // A standing benefit is not consumed; a benefit the tier lacks is refused.
        #expect(await #expect(throws: RPCError.self) { _ = try await f.consume("x", code: "priority_response") }?.code == .failedPrecondition)
        #expect(await #expect(throws: RPCError.self) { _ = try await f.consume("x", code: "early_access") }?.message.contains("brings no early_access") == true)
        // Keep buying so the tier holds, and cross the anniversary.
        try await f.advance(days: 300)
        try await f.purchase("inv-2|1", yuan: 700_000)
        try await f.purchase("inv-2|2", yuan: 600_000, line: "激光切割")
        try await f.advance(days: 66)
        let renewed = try await f.consume("wo-2")
        #expect(renewed.entitlement.used == 1 && renewed.entitlement.remaining == 0)
        #expect(try await f.membership().entitlements.first { $0.code == "on_site_diagnostic" }?.used == 1)
    }

    @Test("20 concurrent consumers of a quota of 2: exactly 2 succeed; 10 retries of one reference consume once")
    func concurrentConsumers() async throws {
        let f = try F()
        try await f.setUp()
        try await f.purchase("inv-1|1", yuan: 300_000)
        // Gold by a manager's override: two free diagnostics a year.
        let version = try await f.membership().version
        _ = try await f.handler.overrideTier(.with {
            $0.accountID = "acc_1"; $0.tier = "gold"; $0.reason = "战略客户 strategic launch partner"; $0.version = version
            $0.expiresAt = .init(date: f.clock.now().addingTimeInterval(180 * F.day))
        }, context: F.manager)
        #expect(try await f.membership().tier == "gold")
        let outcomes = await withTaskGroup(of: StatusCode?.self) { group in
            for index in 0..<20 {
                group.addTask {
                    do { _ = try await f.consume("wo-\(index)"); return nil } catch let error as RPCError { return error.code } catch { return .unknown }
                }
            }
            var outcomes: [StatusCode?] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        #expect(outcomes.filter { $0 == nil }.count == 2)
        #expect(outcomes.filter { $0 == .failedPrecondition }.count == 18)
        let g = try F()
        try await g.setUp()
        try await g.purchase("inv-1|1", yuan: 300_000)
        let retries = try await withThrowingTaskGroup(of: Forge_Loyalty_V1_ConsumeEntitlementResponse.self) { group in
            for _ in 0..<10 { group.addTask { try await g.consume("wo-same", code: "training_seat") } }
            var all: [Forge_Loyalty_V1_ConsumeEntitlementResponse] = []
            for try await response in group { all.append(response) }
            return all
        }
        #expect(Set(retries.map(\.consumption.id)).count == 1 && retries.filter { !$0.replayed }.count == 1)
        #expect(try await g.membership().entitlements.first { $0.code == "training_seat" }?.used == 1)
    }

    @Test("a reversal gives the quota back, once, with its reason")
    func reversal() async throws {
        let f = try F()
        try await f.setUp()
        try await f.purchase("inv-1|1", yuan: 300_000)
        _ = try await f.consume("course-1", code: "training_seat")
        #expect(await #expect(throws: RPCError.self) {
            _ = try await f.handler.reverseConsumption(.with { $0.accountID = "acc_1"; $0.code = "training_seat"; $0.reference = "course-1" }, context: F.manager)
        }?.violations.map(\.field) == ["reason"])
        let reversed = try await f.handler.reverseConsumption(.with {
            $0.accountID = "acc_1"; $0.code = "training_seat"; $0.reference = "course-1"; $0.reason = "课程取消 course cancelled"
        }, context: F.manager)
        #expect(reversed.consumption.reversed && reversed.consumption.reversalReason == "课程取消 course cancelled" && reversed.entitlement.remaining == 1)
        _ = try await f.consume("course-2", code: "training_seat")
        #expect(try await f.events("EntitlementReversed").count == 1)
    }

    @Test("an override holds until it expires, then the evaluated tier returns")
    func overrideExpires() async throws {
        let f = try F()
        try await f.setUp()
        try await f.purchase("inv-1|1", yuan: 300_000)
        let bad = await #expect(throws: RPCError.self) {
            _ = try await f.handler.overrideTier(.with { $0.accountID = "acc_1"; $0.tier = "platinum" }, context: F.manager)
        }
        #expect(Set(bad?.violations.map(\.field) ?? []) == ["reason", "expires_at"])
        let version = try await f.membership().version
        _ = try await f.handler.overrideTier(.with {
            $0.accountID = "acc_1"; $0.tier = "gold"; $0.reason = "行业标杆试点 showcase pilot"; $0.version = version
            $0.expiresAt = .init(date: f.clock.now().addingTimeInterval(30 * F.day))
        }, context: F.manager)
        var membership = try await f.membership()
        #expect(membership.tier == "gold" && membership.override.setBy == "boss-east" && membership.evaluation.qualifiedTier == "bronze")
        #expect(try await f.tierChanges().last?.reason == "override")
        try await f.advance(days: 31)
        membership = try await f.membership()
        #expect(membership.tier == "bronze" && !membership.hasOverride)
        let last = try await f.tierChanges().last
        #expect(last?.fromTier == "gold" && last?.toTier == "bronze" && last?.reason == "override_expired")
    }

    @Test("a rebate accrues as purchases arrive, states the way to the next rate, and settles after its period with a credit-note request")
    func rebate() async throws {
        let f = try F()
        try await f.setUp()
        let agreement = try await f.handler.createRebateAgreement(.with {
            $0.agreement = .with {
                $0.accountID = "acc_1"
                $0.name = "2027 年度框架协议"
                $0.startAt = .init(date: f.clock.now())
                $0.endAt = .init(date: f.clock.now().addingTimeInterval(365 * F.day))
                $0.brackets = [.with { $0.threshold = .with { $0.amountMicros = 5_000_000 * F.yuan }; $0.rateBp = 200 },
                               .with { $0.threshold = .with { $0.amountMicros = 10_000_000 * F.yuan }; $0.rateBp = 300 }]
            }
        }, context: F.finance).agreement
        try await f.purchase("inv-9|1", yuan: 6_000_000, daysAgo: 1)  // before the period: not counted
        try await f.advance(days: 10)
        try await f.purchase("inv-10|1", yuan: 4_000_000)
        try await f.purchase("inv-11|1", yuan: 4_800_000)
        try await f.purchase("cn-11|1", yuan: -400_000)  // a return
        let statement = try await f.handler.getRebateStatement(.with { $0.id = agreement.id }, context: F.finance).progress
        #expect(statement.purchases.amountMicros == 8_400_000 * F.yuan && statement.currentRateBp == 200 && statement.accruedRebate.amountMicros == 168_000 * F.yuan)
        #expect(statement.statement == "再采购 CNY 1,600,000.00 可达 3.00%（当前 2.00%，预计返利 CNY 168,000.00）")
        #expect(try await f.membership(as: F.finance).rebates.first?.agreementID == agreement.id)
        #expect(try await f.membership(as: F.rep).rebates.isEmpty, "rebates are for finance and managers")
        #expect(try await f.membership(as: F.rep).entitlements.allSatisfy { $0.code != "discount" }, "so are discounts")
        let early = await #expect(throws: RPCError.self) {
            _ = try await f.handler.settleRebate(.with { $0.id = agreement.id; $0.version = agreement.version }, context: F.finance)
        }
        #expect(early?.code == .failedPrecondition)
        try await f.advance(days: 356)
        let settled = try await f.handler.getRebateStatement(.with { $0.id = agreement.id }, context: F.finance).agreement
        #expect(settled.state == .settled && settled.settledRateBp == 200 && settled.settledAmount.amountMicros == 168_000 * F.yuan && settled.settledBy == "system")
        let request = try await f.events("RebateCreditNoteRequested").map { try Forge_Loyalty_V1_RebateCreditNoteRequested(serializedBytes: $0.payload) }
        #expect(request.count == 1 && request.first?.agreement.settledAmount.amountMicros == 168_000 * F.yuan)
    }

    @Test("orders' deliveries and ERP's imported history are purchases in their product lines, counted once")
    func ordersFeed() async throws {
        let f = try F()
        try await f.setUp()
        for (sku, line) in [("CNC-5X", "数控机床"), ("LASER-3K", "激光切割")] {
            try await f.apply(Forge_Orders_V1_ProductUpserted.with { $0.product = .with { $0.sku = sku; $0.productLine = line } }, from: "orders")
        }
        let order = Forge_Orders_V1_Order.with {
            $0.id = "ord_1"; $0.accountID = "acc_1"; $0.orderNumber = "SO-2026-000001"; $0.currencyCode = "CNY"
            $0.lines = [.with { $0.lineNo = 1; $0.sku = "CNC-5X"; $0.lineTotal = .with { $0.amountMicros = 800_000 * F.yuan } },
                        .with { $0.lineNo = 2; $0.sku = "LASER-3K"; $0.lineTotal = .with { $0.amountMicros = 500_000 * F.yuan } }]
        }
        for _ in 0..<2 {
            try await f.apply(Forge_Orders_V1_OrderDelivered.with { $0.order = order; $0.deliveredAt = .init(date: f.clock.now()) }, from: "orders")
        }
        var membership = try await f.membership()
        #expect(membership.evaluation.purchases12M.amountMicros == 1_300_000 * F.yuan && membership.tier == "silver")
        // History from ERP three years back makes the cooperation long enough.
        try await f.apply(Forge_Orders_V1_OrderImported.with {
            $0.order = .with {
                $0.id = "ord_old"; $0.accountID = "acc_1"; $0.status = .completed; $0.deliveredAt = .init(date: f.clock.now().addingTimeInterval(-3.2 * 365 * F.day))
                $0.lines = [.with { $0.lineNo = 1; $0.sku = "CNC-5X"; $0.lineTotal = .with { $0.amountMicros = 2_000_000 * F.yuan } }]
            }
        }, from: "orders")
        membership = try await f.membership()
        #expect(membership.evaluation.purchases12M.amountMicros == 1_300_000 * F.yuan, "outside the trailing twelve months")
        #expect(membership.evaluation.checks.first { $0.tier == "gold" }?.criteria.first { $0.kind == .yearsOfCooperation }?.met == true)
        // An overdue instalment and an NPS answer are facts too.
        try await f.apply(Forge_Orders_V1_PaymentOverdue.with { $0.orderID = "ord_1"; $0.accountID = "acc_1"; $0.installment = .with { $0.number = 2 } }, from: "orders")
        try await f.apply(Forge_Feedback_V1_SurveyAnswered.with {
            $0.survey = .with { $0.id = "svy_1"; $0.accountID = "acc_1"; $0.kind = .nps; $0.score = 10; $0.answeredAt = .init(date: f.clock.now()) }
        }, from: "feedback")
        let silver = try await f.membership().evaluation.checks.first { $0.tier == "silver" }!
        #expect(silver.criteria.first { $0.kind == .paymentBehaviour }?.met == false && silver.criteria.first { $0.kind == .nps }?.valueText == "10")
    }

    @Test("purchases: each bad row is rejected naming its fields, good rows are recorded once, an unknown account is refused")
    func recordPurchases() async throws {
        let f = try F()
        try await f.setUp()
        let response = try await f.handler.recordPurchases(.with {
            $0.purchases = [
                .with { $0.key = "a|1"; $0.accountID = "acc_1"; $0.occurredAt = .init(date: f.clock.now()); $0.amount = .with { $0.amountMicros = 250_000 * F.yuan } },
                .with { $0.key = ""; $0.accountID = "acc_1"; $0.amount = .with { $0.amountMicros = 5; $0.currencyCode = "yuan" } },
                .with { $0.key = "b|1"; $0.accountID = "acc_nope"; $0.occurredAt = .init(date: f.clock.now()); $0.amount = .with { $0.amountMicros = F.yuan } },
                .with { $0.key = "a|1"; $0.accountID = "acc_1"; $0.occurredAt = .init(date: f.clock.now()); $0.amount = .with { $0.amountMicros = 250_000 * F.yuan } },
            ]
        }, context: F.erp)
        #expect(response.results.map(\.status) == [.created, .rejected, .rejected, .unchanged])
        #expect(Set(response.results[1].violations.map(\.field)) == ["key", "occurred_at", "amount", "amount.currency_code"])
        #expect(response.results[2].violations.map(\.field) == ["account_id"])
        #expect(try await f.membership().evaluation.purchases12M.amountMicros == 250_000 * F.yuan)
        #expect(await #expect(throws: RPCError.self) { _ = try await f.handler.recordPurchases(.init(), context: F.erp) }?.code == .invalidArgument)
    }

    @Test("a purchase of the smallest 64-bit amount is a rejected row, not a crash (its size was checked with abs, which traps on Int64.min)")
    func smallestAmount() async throws {
        let f = try F()
        try await f.setUp()
        let response = try await f.handler.recordPurchases(.with {
            $0.purchases = [.with { $0.key = "min|1"; $0.accountID = "acc_1"; $0.occurredAt = .init(date: f.clock.now()); $0.amount = .with { $0.amountMicros = .min } }]
        }, context: F.erp)
        #expect(response.results.map(\.status) == [.rejected])
        #expect(Set(response.results.first?.violations.map(\.field) ?? []) == ["amount"])
    }

    @Test("a merge moves purchases, consumptions and agreements to the survivor and measures it on the combined facts")
    func merge() async throws {
        let f = try F()
        try await f.setUp()
        try await f.purchase("a|1", account: "acc_1", yuan: 600_000)
        try await f.purchase("b|1", account: "acc_2", yuan: 700_000, line: "激光切割")
        _ = try await f.consume("course-1", code: "training_seat", account: "acc_2")
        #expect(try await f.membership("acc_1").tier == "bronze")
        try await f.apply(Forge_Accounts_V1_AccountMerged.with { $0.survivorID = "acc_1"; $0.mergedIds = ["acc_2"] }, from: "accounts")
        let survivor = try await f.membership("acc_1")
        #expect(survivor.tier == "silver" && survivor.evaluation.purchases12M.amountMicros == 1_300_000 * F.yuan)
        #expect(survivor.entitlements.first { $0.code == "training_seat" }?.used == 1, "what the merged account used counts")
        #expect(await #expect(throws: RPCError.self) { _ = try await f.membership("acc_2") }?.code == .notFound)
    }

    @Test("an erased contact leaves no trace on the consumptions made for them")
    func contactErased() async throws {
        let f = try F()
        try await f.setUp()
        try await f.purchase("a|1", yuan: 300_000)
        _ = try await f.handler.consumeEntitlement(.with {
            $0.accountID = "acc_1"; $0.code = "training_seat"; $0.reference = "course-1"; $0.contactID = "con_9"; $0.note = "王工 参加五轴编程培训"
        }, context: F.engineer)
        try await f.apply(Forge_Accounts_V1_ContactErased.with { $0.contactID = "con_9"; $0.accountID = "acc_1" }, from: "accounts")
        let consumption = try await f.handler.listConsumptions(.with { $0.accountID = "acc_1" }, context: F.manager).consumptions.first
        #expect(consumption?.contactID == "" && consumption?.note == "" && consumption?.reference == "course-1")
    }

    @Test("a programme change becomes a new version and re-measures every member when it takes effect; a stale version is ABORTED")
    func programmeChange() async throws {
        let f = try F()
        try await f.setUp()
        try await f.purchase("a|1", yuan: 800_000)
        try await f.purchase("a|2", yuan: 100_000, line: "激光切割")
        #expect(try await f.membership().tier == "bronze")
        var programme = try await f.handler.getProgramme(.init(), context: F.marketing).programme
        #expect(programme.tiers[1].entitlements.allSatisfy { !$0.financeOnly }, "marketing does not see discounts")
        programme = try await f.handler.getProgramme(.init(), context: F.manager).programme
        programme.tiers[1].criteria[0].threshold = 800_000 * F.yuan
        programme.changeNote = "银牌门槛降至 80 万 silver from ¥0.8 M"
        programme.effectiveAt = .init(date: f.clock.now().addingTimeInterval(7 * F.day))
        let updated = try await f.handler.updateProgramme(.with { $0.programme = programme }, context: F.manager).programme
        #expect(updated.version == 2 && updated.changedBy == "boss-east")
        #expect(await #expect(throws: RPCError.self) { _ = try await f.handler.updateProgramme(.with { $0.programme = programme }, context: F.manager) }?.code == .aborted)
        #expect(try await f.handler.getProgramme(.init(), context: F.manager).scheduled.version == 2)
        try await f.advance(days: 6)
        #expect(try await f.membership().tier == "bronze", "not yet in force")
        try await f.advance(days: 1)
        #expect(try await f.membership().tier == "silver")
        #expect(try await f.tierChanges().last?.reason == "programme_change")
        #expect(try await f.handler.listProgrammeVersions(.init(), context: F.manager).versions.map(\.version) == [2, 1])
        // Marketing changes the programme without seeing the discounts: they are kept as they were.
        var masked = try await f.handler.getProgramme(.init(), context: F.marketing).programme
        masked.downgradeGraceDays = 60
        masked.changeNote = "宽限期 60 天 grace 60 days"
        let third = try await f.handler.updateProgramme(.with { $0.programme = masked }, context: F.marketing).programme
        #expect(third.downgradeGraceDays == 60 && third.tiers.first { $0.code == "gold" }?.entitlements.contains { $0.code == "discount" && $0.value == "3%" } == true)
    }

    @Test("a rep sees their own and their team's members only; another's is NOT_FOUND; the overview counts what the caller may see")
    func scope() async throws {
        let f = try F()
        try await f.setUp()
        try await f.purchase("a|1", yuan: 300_000)
        try await f.purchase("b|1", account: "acc_2", yuan: 1_200_000)
        #expect(await #expect(throws: RPCError.self) { _ = try await f.membership("acc_2", as: F.rep) }?.code == .notFound)
        #expect(try await f.handler.listMembers(.init(), context: F.rep).members.map(\.accountID) == ["acc_1"])
        let overview = try await f.handler.getProgrammeOverview(.init(), context: F.rep)
        #expect(overview.tiers.first { $0.tier == "bronze" }?.members == 1 && overview.tiers.reduce(0) { $0 + $1.members } == 1)
        let all = try await f.handler.getProgrammeOverview(.init(), context: F.finance)
        #expect(all.movements.count == 2 && all.tiers.reduce(0) { $0 + $1.members } == 2)
        #expect(all.nearNextTier.map(\.accountID) == [], "¥300 k is far from silver's ¥1 M; acc_2 has silver's ¥1 M but not its optional criteria")
        // A renamed account and a new owner reach its membership from accounts' feed.
        try await f.apply(Forge_Accounts_V1_AccountUpdated.with {
            $0.account = .with { $0.id = "acc_1"; $0.name = "杭汽轮集团股份有限公司"; $0.ownerID = "rep-b"; $0.team = "east" }
        }, from: "accounts", seq: 3)
        let renamed = try await f.handler.listMembers(.init(), context: F.finance).members.first { $0.accountID == "acc_1" }
        #expect(renamed?.accountName == "杭汽轮集团股份有限公司" && renamed?.ownerID == "rep-b")
        try await f.purchase("a|2", yuan: 550_000)
        let near = try await f.handler.getProgrammeOverview(.init(), context: F.finance).nearNextTier
        #expect(near.map(\.accountID) == ["acc_1"] && near.first?.evaluation.missingForNext.first == "还差 CNY 150,000.00 采购额", "¥850 k is within 20 % of silver's ¥1 M")
    }
}
