import ArgumentParser
import ForgeContracts
import ForgeWire
import Foundation

/// Orders at the size of issue 13: 300 products and a year of ERP history — four in five
/// orders delivered, the rest released and in production — three lines each, spread over the
/// given accounts, through the services' own RPCs (`UpsertProducts`, `ImportOrders`, 500 a
/// call, four in flight). Used by OrdersBench and by GatewayBench's full data set.
public enum OrdersDataSet {
    public static func erpNumber(_ index: Int) -> String { String(format: "45%08d", index) }

    public static func seed(connector: Forge_Orders_V1_OrdersClient, accounts: [String], orders: Int) async throws {
        _ = try await connector.upsertProducts(.with {
            $0.products = (0..<300).map { index in
                .with {
                    $0.sku = String(format: "MAT-%05d", index)
                    $0.name = "物料 \(index)"
                    $0.unit = "件"
                    $0.listPrice = .with { $0.amountMicros = Int64(1_000 + index * 37) * 1_000_000 }
                    $0.standardCost = .with { $0.amountMicros = Int64(700 + index * 25) * 1_000_000 }
                    $0.leadTimeDays = 30
                    $0.active = true
                }
            }
        })
        // A year of ERP history: four in five delivered, the rest released and in production
        // (those the status ingest reports on).
        let started = ContinuousClock.now
        let now = Date()
        try await inParallel(workers: 4, total: orders, chunk: 500) { range in
            let results = try await connector.importOrders(.with {
                $0.orders = range.map { index in
                    .with {
                        // Fibonacci hashing spreads each account's orders over every status
                        // (index × 7919 gave an account only released or only completed ones).
                        $0.accountID = accounts[Int((UInt64(index) &* 11_400_714_819_323_198_485) >> 40) % accounts.count]
                        $0.erpOrderNumber = erpNumber(index)
                        $0.status = index % 5 == 0 ? .released : .completed
                        $0.createdAt = .init(date: now.addingTimeInterval(-Double(1 + index % 360) * 86_400))
                        $0.deliveredAt = .init(date: now.addingTimeInterval(-Double(index % 360) * 86_400 / 2))
                        $0.lines = (0..<3).map { line in
                            .with {
                                $0.sku = String(format: "MAT-%05d", (index + line * 101) % 300)
                                $0.name = "物料"
                                $0.quantity = Int64(1 + (index + line) % 20)
                                $0.unitPrice = .with { $0.amountMicros = Int64(1_000 + (index + line) % 300 * 37) * 1_000_000 }
                            }
                        }
                    }
                }
            }, options: CallOptions(timeout: .seconds(300))).results
            if let failed = results.first(where: { $0.status == .rejected }) { throw ValidationError("seed: \(failed)") }
            if range.lowerBound % 100_000 == 0 { print("seed: \(range.lowerBound) orders") }
        }
        let seconds = (ContinuousClock.now - started).seconds
        print(String(format: "seed: %d orders (%d lines) through ImportOrders (500 a call, C=4, normal durability) in %.1f s = %.0f orders/s",
                     orders, orders * 3, seconds, Double(orders) / seconds))
    }
}
