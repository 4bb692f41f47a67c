import ForgeContracts
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

/// forge-accounts, forge-pipeline and forge-orders as real processes: a quote accepted in the
/// pipeline drafts its order in orders through the event feed, the credit check reads the
/// account's limit from accounts over the wire, and a connector reaches only the bridge.
@Suite("Orders across real processes", .serialized)
struct OrdersProcessTests {
    struct Clients {
        let accounts: Forge_Accounts_V1_AccountsClient
        let pipeline: Forge_Pipeline_V1_PipelineClient
        let orders: Forge_Orders_V1_OrdersClient
        let channels: [WireClient]
        func close() async { for channel in channels { await channel.close() } }
    }

    static func clients(_ stack: LocalStack, subject: String, roles: [String], team: String? = nil) async throws -> Clients {
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        let token = try await issuer.issue(subject: subject, roles: roles, team: team, ttl: 3600)
        let channels = try ["accounts", "pipeline", "orders"].map {
            try WireClient(host: "127.0.0.1", port: stack.wirePort($0), interceptors: [BearerTokenInterceptor(token: token)])
        }
        return Clients(accounts: .init(channel: channels[0]), pipeline: .init(channel: channels[1]), orders: .init(channel: channels[2]), channels: channels)
    }

    static func start(portBase: Int) async throws -> LocalStack {
        var stack = try LocalStack(portBase: portBase)
        try await stack.writeServiceToken()
        for service in ["accounts", "pipeline", "orders"] {
            try stack.start(service)
            #expect(await stack.waitUntilServing(service))
        }
        return stack
    }

    @Test("a quote accepted in the pipeline drafts the order once; the manager's approval is held over the limit read from accounts; finance releases it; the connector sees it and nothing else")
    func wonToReleased() async throws {
        let stack = try await Self.start(portBase: 15100)
        defer { stack.killAll() }
        let admin = try await Self.clients(stack, subject: "admin", roles: ["admin"])
        let rep = try await Self.clients(stack, subject: "rep-a", roles: ["sales_rep"], team: "east")
        let manager = try await Self.clients(stack, subject: "boss-east", roles: ["sales_manager"], team: "east")
        let finance = try await Self.clients(stack, subject: "fin-1", roles: ["finance"])
        let connector = try await Self.clients(stack, subject: "erp-bridge", roles: ["erp_connector"])
        defer { Task { for client in [admin, rep, manager, finance, connector] { await client.close() } } }

        let account = try await admin.accounts.createAccount(.with {
            $0.account = .with {
                $0.name = "宁波精工机械有限公司"
                $0.region = "华东"
                $0.ownerID = "rep-a"
                $0.team = "east"
                $0.creditLimit = .with { $0.amountMicros = 500_000_000_000; $0.currencyCode = "CNY" }
            }
        }).account
        let opportunity = try await rep.pipeline.createOpportunity(.with {
            $0.opportunity = .with { $0.accountID = account.id; $0.name = "加工中心 10 台"; $0.ownerID = "rep-a"; $0.team = "east" }
        }).opportunity
        // The product master as ERP syncs it; the quote line names only the SKU and takes its
        // name, unit and price from there. A SKU the master lacks is refused on its line.
        _ = try await connector.orders.upsertProducts(.with {
            $0.products = [.with {
                $0.sku = "VMC-850"
                $0.name = "立式加工中心 VMC850"
                $0.unit = "台"
                $0.listPrice = .with { $0.amountMicros = 300_000_000_000 }
                $0.tiers = [.with { $0.minQuantity = 10; $0.unitPrice = .with { $0.amountMicros = 280_000_000_000 } }]
                $0.active = true
            }]
        })
        await #expect {
            _ = try await rep.pipeline.createQuote(.with {
                $0.quote = .with {
                    $0.opportunityID = opportunity.id
                    $0.lines = [.with { $0.sku = "NO-SUCH-SKU"; $0.quantity = 1 }]
                    $0.validUntil = .init(date: Date().addingTimeInterval(30 * 86_400))
                }
            })
        } throws: { ($0 as? RPCError)?.violations.map(\.field) == ["quote.lines[0].sku"] }
        let quote = try await rep.pipeline.createQuote(.with {
            $0.quote = .with {
                $0.opportunityID = opportunity.id
                $0.lines = [.with {
                    $0.sku = "VMC-850"
                    $0.quantity = 10
                }]
                $0.paymentTerms = [.with { $0.label = "预付款"; $0.percent = 30; $0.dueRule = "on_order" },
                                   .with { $0.label = "发货前"; $0.percent = 70; $0.dueRule = "before_shipment" }]
                $0.validUntil = .init(date: Date().addingTimeInterval(30 * 86_400))
            }
        }).quote
        #expect(quote.lines[0].name == "立式加工中心 VMC850" && quote.lines[0].unit == "台" && quote.lines[0].listUnitPrice.amountMicros == 300_000_000_000)
        #expect(quote.lines[0].unitPrice.amountMicros == 280_000_000_000, "the master's volume tier applies")
        _ = try await rep.pipeline.sendQuote(.with { $0.id = quote.id })
        _ = try await rep.pipeline.recordQuoteAnswer(.with { $0.id = quote.id; $0.accepted = true })

        // The order appears through pipeline's feed.
        var drafted: Forge_Orders_V1_Order?
        for _ in 0..<400 where drafted == nil {
            drafted = try await rep.orders.listOrders(.with { $0.accountID = account.id }).orders.first
            if drafted == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let order = try #require(drafted)
        #expect(order.opportunityID == opportunity.id && order.quoteID == quote.id && order.accountName == "宁波精工机械有限公司")
        #expect(order.total.amountMicros == 2_800_000_000_000 && order.paymentPlan.map(\.percentBps) == [3000, 7000])

        // 2,800,000 against a 500,000 limit read from accounts: held, with the figures.
        await #expect {
            _ = try await manager.orders.approveOrder(.with { $0.id = order.id })
        } throws: {
            let error = $0 as? RPCError
            return error?.code == .failedPrecondition && error?.message.contains("limit CNY 500,000.00") == true
        }
        let approved = try await finance.orders.approveOrder(.with { $0.id = order.id; $0.creditOverrideReason = "总经理特批，预付款到账后发货" }).order
        #expect(approved.status == .approved && approved.creditCheck.overrideBy == "fin-1")
        _ = try await manager.orders.releaseOrder(.with { $0.id = order.id })

        let released = try await connector.orders.listReleasedOrders(.init())
        #expect(released.orders.map(\.id) == [order.id])
        await #expect { _ = try await connector.orders.createOrder(.with { $0.order = order }) } throws: { ($0 as? RPCError)?.code == .permissionDenied }
        await #expect { _ = try await connector.orders.getReceivables(.init()) } throws: { ($0 as? RPCError)?.code == .permissionDenied }
        await #expect { _ = try await rep.orders.reportProductionStatus(.init()) } throws: { ($0 as? RPCError)?.code == .permissionDenied }
        let shipped = try await connector.orders.reportProductionStatus(.with {
            $0.report = .with {
                $0.eventID = "erp-77"
                $0.source = "erp"
                $0.orderID = order.id
                $0.status = .shipped
                $0.sourceTime = .init(date: Date())
                $0.carrier = "顺丰"
                $0.trackingNumber = "SF0001"
            }
        })
        #expect(shipped.outcome == .applied && shipped.order.productionStatus == .shipped)
        // Bad bytes of a report: a clear error naming the fields, the process alive.
        await #expect { _ = try await connector.orders.reportProductionStatus(.with { $0.report = .with { $0.percent = 300 } }) } throws: {
            Set(($0 as? RPCError)?.violations.map(\.field) ?? []).isSuperset(of: ["report.event_id", "report.order_id", "report.status", "report.source_time", "report.percent"])
        }
        #expect(try await rep.orders.getOrder(.with { $0.id = order.id }).order.lines[0].production.trackingNumber == "SF0001")
        // One order for the opportunity, whoever looks.
        #expect(try await finance.orders.listOrders(.init()).orders.count == 1)
    }

    @Test("forge import order-status (two batches in flight): every row applied once, the report in the file's order; the same file again answers the same and applies nothing")
    func statusFileThroughTheCLI() async throws {
        let stack = try await Self.start(portBase: 15150)
        defer { stack.killAll() }
        let admin = try await Self.clients(stack, subject: "admin", roles: ["admin"])
        let connector = try await Self.clients(stack, subject: "erp-bridge", roles: ["erp_connector"])
        defer { Task { for client in [admin, connector] { await client.close() } } }
        let account = try await admin.accounts.createAccount(.with { $0.account = .with { $0.name = "常州恒力液压有限公司"; $0.ownerID = "rep-a"; $0.team = "east" } }).account
        // Orders ERP already has, released; orders learns the account from accounts' feed.
        let erpOrders = Forge_Orders_V1_ImportOrdersRequest.with {
            $0.orders = ["4500000301", "4500000302"].map { number in
                .with {
                    $0.accountID = account.id
                    $0.erpOrderNumber = number
                    $0.status = .released
                    $0.createdAt = .init(date: Date().addingTimeInterval(-30 * 86_400))
                    $0.lines = [.with { $0.sku = "HY-20"; $0.name = "液压站"; $0.quantity = 1; $0.unitPrice = .with { $0.amountMicros = 20_000_000_000 } },
                                .with { $0.sku = "HY-30"; $0.name = "液压缸"; $0.quantity = 2; $0.unitPrice = .with { $0.amountMicros = 8_000_000_000 } }]
                }
            }
        }
        var imported: [Forge_Common_V1_ImportRowResult] = []
        for _ in 0..<200 where imported.map(\.status) != [.created, .created] {
            imported = try await connector.orders.importOrders(erpOrders).results
            if imported.map(\.status) != [.created, .created] { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(imported.map(\.status) == [.created, .created], "\(imported.map(\.violations))")

        // Nine rows in batches of two: five calls, two in flight.
        let rows = [
            "4500000301,1,已排产,2026-12-01 08:00", "4500000302,1,备料完成,2026-12-01 08:10", "4500000301,2,生产中,2026-12-01 09:00",
            "4500000302,2,飞走了,2026-12-01 09:10", "4500000301,1,生产中,2026-12-01 10:00", "4500000302,1,生产中,2026-12-01 10:10",
            "4500000301,2,质检,2026-12-01 11:00", "4500000302,2,已排产,2026-12-01 11:10", "4500000399,1,生产中,2026-12-01 12:00",
        ]
        let file = NSTemporaryDirectory() + "erp-status-\(UUID().uuidString).csv"
        try Data((["ERP订单号,行号,状态,更新时间"] + rows).joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: file))
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        let token = try await issuer.issue(subject: "erp-bridge", roles: ["erp_connector"], ttl: 600)
        func runImport() async throws -> [(line: Int, status: String)] {
            let (status, output) = try await runProcess("\(LocalStack.binaries)/forge", ["import", "order-status", file, "--batch-size", "2",
                                                                                      "--address", "127.0.0.1:\(stack.wirePort("orders"))", "--token", token])
            #expect(status == 0, "\(output)")
            return output.split(separator: "\n").compactMap { line in
                let cells = line.split(separator: ",", omittingEmptySubsequences: false)
                guard cells.count >= 2, let number = Int(cells[0]) else { return nil }
                return (number, String(cells[1]))
            }
        }
        let first = try await runImport()
        #expect(first.map(\.line) == Array(2...10), "the report keeps the file's order")
        #expect(first.map(\.status) == ["updated", "updated", "updated", "rejected", "updated", "updated", "updated", "updated", "rejected"])
        func read() async throws -> (one: Forge_Orders_V1_GetOrderResponse, two: Forge_Orders_V1_GetOrderResponse) {
            (try await admin.orders.getOrder(.with { $0.id = imported[0].id }), try await admin.orders.getOrder(.with { $0.id = imported[1].id }))
        }
        let (one, two) = try await read()
        #expect(one.order.lines.map(\.production.status) == [.inProduction, .qualityInspection])
        #expect(two.order.lines.map(\.production.status) == [.inProduction, .scheduled])
        #expect(one.history.count == 4 && two.history.count == 3)
        // The file's batches carry the same idempotency keys: each answers as it did, and
        // nothing is applied twice.
        let again = try await runImport()
        #expect(again.map(\.status) == first.map(\.status))
        let (oneAgain, twoAgain) = try await read()
        #expect(oneAgain == one && twoAgain == two)
    }
}
