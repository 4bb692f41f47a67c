import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// The product master, synced from ERP by SKU.
struct ProductStore: Sendable {
    let database: DatabasePool
    let clock: any WallClock

    static func product(_ db: Database, sku: String) throws -> Forge_Orders_V1_Product? {
        try Data.fetchOne(db.cachedStatement(sql: "SELECT payload FROM product WHERE sku = ?"), arguments: [sku]).map { try Forge_Orders_V1_Product(serializedBytes: $0) }
    }

    /// Standard costs by SKU, for the products that have one.
    static func costs(_ db: Database, skus: [String]) throws -> [String: Int64] {
        var costs: [String: Int64] = [:]
        for sku in Set(skus) {
            if let product = try product(db, sku: sku), product.hasStandardCost { costs[sku] = product.standardCost.amountMicros }
        }
        return costs
    }

    /// Validated, normalised products upserted in one transaction: each created, updated or
    /// left unchanged (then nothing is written and no event goes out). `results[i]` answers
    /// `products[i]`; rejected ones carry their violations and change nothing.
    func upsert(_ products: [(index: Int, product: Forge_Orders_V1_Product)], dryRun: Bool = false) async throws -> [Int: Forge_Common_V1_ImportRowResult] {
        let now = clock.now()
        let write = { @Sendable (db: Database) throws -> [Int: Forge_Common_V1_ImportRowResult] in
            var results: [Int: Forge_Common_V1_ImportRowResult] = [:]
            for (index, incoming) in products {
                var product = incoming
                let stored = try Self.product(db, sku: product.sku)
                var result = Forge_Common_V1_ImportRowResult.with {
                    $0.line = Int32(index + 1)
                    $0.id = product.sku
                }
                if let stored, !ProductRules.differs(stored, product) {
                    result.status = .unchanged
                } else {
                    result.status = stored == nil ? .created : .updated
                    product.version = (stored?.version ?? 0) + 1
                    product.updatedAt = .init(date: now)
                    if !dryRun {
                        try db.execute(cached: """
                            INSERT INTO product (sku, product_line, active, version, payload) VALUES (?, ?, ?, ?, ?)
                            ON CONFLICT(sku) DO UPDATE SET product_line = excluded.product_line, active = excluded.active,
                                version = excluded.version, payload = excluded.payload
                            """, arguments: [product.sku, product.productLine, product.active, product.version, try product.serializedData()])
                        var published = product
                        published.clearStandardCost()
                        try Outbox.append(db, Forge_Orders_V1_ProductUpserted.with { $0.product = published }, at: now)
                    }
                }
                results[index] = result
            }
            return results
        }
        return dryRun ? try await database.read(write) : try await database.write(write)
    }

    func product(sku: String) async throws -> Forge_Orders_V1_Product {
        guard let product = try await database.read({ db in try Self.product(db, sku: sku) }) else {
            throw RPCError(.notFound, "product \(sku) not found")
        }
        return product
    }

    func list(_ request: Forge_Orders_V1_ListProductsRequest, page: Page) async throws -> [Forge_Orders_V1_Product] {
        try await database.read { db in
            var clauses = ["sku > ?"]
            var arguments: StatementArguments = [page.after]
            if !request.productLine.isEmpty {
                clauses.append("product_line = ?")
                arguments += [request.productLine]
            }
            if !request.includeInactive { clauses.append("active = 1") }
            return try Data.fetchAll(db, sql: "SELECT payload FROM product WHERE \(clauses.joined(separator: " AND ")) ORDER BY sku LIMIT ?",
                                     arguments: arguments + [page.size]).map { try Forge_Orders_V1_Product(serializedBytes: $0) }
        }
    }
}
