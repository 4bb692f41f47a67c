@testable import ForgeOrders
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import SwiftProtobuf

/// The orders handler over a real database file, called as the server calls it; accounts' and
/// pipeline's events are applied as the consumers apply them. The credit limit forge-accounts
/// would answer is passed to the store's approval (the wire read is in the process tests).
struct OrdersFixture {
    let handler: OrdersHandler
    let database: DatabasePool
    let clock = ManualClock()

    init() throws {
        database = try ForgeDatabase.temporary(migrations: OrdersStore.migrations)
        handler = OrdersHandler(database: database, clock: clock, accounts: nil)
    }

    static func context(_ subject: String, _ roles: Set<String>, team: String = "", method: String = "CreateOrder", key: String? = nil) -> ServerContext {
        ServerContext(
            method: MethodDescriptor(service: "forge.orders.v1.Orders", method: method),
            metadata: key.map { [MetadataKey.idempotencyKey: $0] } ?? [:],
            principal: Principal(subject: subject, roles: roles, team: team),
            deadline: .now + .seconds(30),
            requestID: "req",
            logger: Logger(label: "test"),
            peer: "test"
        )
    }

    static let rep = context("rep-a", ["sales_rep"], team: "east")
    static let otherRep = context("rep-w", ["sales_rep"], team: "west")
    static let manager = context("boss-east", ["sales_manager"], team: "east")
    static let finance = context("fin-1", ["finance"])
    static let connector = context("erp-bridge", ["erp_connector"])
    static let serviceEngineer = context("eng-1", ["service_engineer"])

    var scheduler: JobScheduler {
        JobScheduler(database: database, clock: clock, handlers: handler.jobHandlers)
    }

    static func money(_ yuan: Int64, cents: Int64 = 0) -> Forge_Common_V1_Money {
        .with {
            $0.amountMicros = yuan * 1_000_000 + cents * 10_000
            $0.currencyCode = "CNY"
        }
    }

    /// Applies an upstream event as orders' consumers do.
    func apply(_ message: some SwiftProtobuf.Message, from upstream: String = "accounts") async throws {
        let event = Forge_Common_V1_Event.with {
            $0.type = String(type(of: message).protoMessageName.split(separator: ".").last!)
            $0.payload = try! message.serializedData()
        }
        let now = clock.now()
        try await database.write { db in
            if upstream == "accounts" { try UpstreamEvents.applyAccounts(db, event, now: now) } else { try UpstreamEvents.applyPipeline(db, event, now: now) }
        }
    }

    func account(_ id: String = "acc_1", _ name: String = "杭州汽轮动力集团有限公司", owner: String = "rep-a", team: String = "east") async throws {
        try await apply(Forge_Accounts_V1_AccountCreated.with {
            $0.account = .with {
                $0.id = id
                $0.name = name
                $0.ownerID = owner
                $0.team = team
            }
        })
    }

    func product(_ sku: String, price: Int64, cost: Int64? = nil, leadTime: Int32 = 30) async throws {
        let results = try await handler.upsertProducts(.with {
            $0.products = [.with {
                $0.sku = sku
                $0.name = "产品 \(sku)"
                $0.unit = "台"
                $0.listPrice = Self.money(price)
                if let cost { $0.standardCost = Self.money(cost) }
                $0.leadTimeDays = leadTime
                $0.active = true
            }]
        }, context: Self.connector).results
        precondition(results.allSatisfy { $0.status != .rejected })
    }

    /// A draft for acc_1 by rep-a: two lines (2 × 150,000 and 10 × 3,000.50) and the 30/60/10 plan.
    func draft(account: String = "acc_1", contact: String = "con_1", plan: [Forge_Orders_V1_Installment]? = nil,
               as context: ServerContext = Self.rep) async throws -> Forge_Orders_V1_Order {
        try await handler.createOrder(.with {
            $0.order = .with {
                $0.accountID = account
                $0.contactID = contact
                $0.lines = [
                    .with { $0.sku = "CNC-500"; $0.name = "数控车床 CK500"; $0.unit = "台"; $0.quantity = 2; $0.unitPrice = Self.money(150_000) },
                    .with { $0.sku = "SP-10"; $0.name = "主轴备件"; $0.unit = "件"; $0.quantity = 10; $0.unitPrice = Self.money(3_000, cents: 50) },
                ]
                $0.paymentPlan = plan ?? Self.standardPlan
                $0.contractNumber = "HT-2026-088"
                $0.incoterms = "DAP"
                $0.deliveryAddress = "浙江省杭州市余杭区 高新路 88 号"
            }
        }, context: context).order
    }

    static let standardPlan: [Forge_Orders_V1_Installment] = [
        .with { $0.label = "预付款"; $0.percentBps = 3000; $0.trigger = .onApproval; $0.daysAfter = 7 },
        .with { $0.label = "发货前"; $0.percentBps = 6000; $0.trigger = .beforeShipment },
        .with { $0.label = "验收后"; $0.percentBps = 1000; $0.trigger = .onDelivery; $0.daysAfter = 30 },
    ]

    /// Approves through the store with the limit accounts would answer.
    func approve(_ order: Forge_Orders_V1_Order, limit: Int64?, as context: ServerContext = Self.manager, reason: String = "") async throws -> Forge_Orders_V1_Order {
        try await handler.orders.approve(.with {
            $0.id = order.id
            $0.creditOverrideReason = reason
        }, limit: limit.map { Self.money($0) }, context: context, principal: context.principal!)
    }

    /// Approved and released.
    func released(limit: Int64? = nil) async throws -> Forge_Orders_V1_Order {
        let approved = try await approve(try await draft(), limit: limit)
        return try await handler.releaseOrder(.with { $0.id = approved.id }, context: Self.manager).order
    }

    func report(_ orderID: String, _ id: String, _ status: Forge_Orders_V1_ProductionStatus, at date: Date, line: Int32 = 0, source: String = "mes",
                configure: (inout Forge_Orders_V1_StatusReport) -> Void = { _ in }) async throws -> Forge_Orders_V1_ReportProductionStatusResponse {
        var report = Forge_Orders_V1_StatusReport.with {
            $0.eventID = id
            $0.source = source
            $0.orderID = orderID
            $0.lineNo = line
            $0.status = status
            $0.sourceTime = .init(date: date)
        }
        configure(&report)
        return try await handler.reportProductionStatus(.with { $0.report = report }, context: Self.connector)
    }

    func events(_ type: String) async throws -> [Forge_Common_V1_Event] {
        try await database.read { db in try Outbox.events(db, after: 0, limit: 10_000, types: [type]) }
    }
}
