import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// The product master: ERP's batch upsert, the spreadsheet import, reads.
extension OrdersHandler {
    func upsertProducts(_ request: Forge_Orders_V1_UpsertProductsRequest, context: ServerContext) async throws -> Forge_Orders_V1_UpsertProductsResponse {
        guard request.products.count <= ProductRules.maxBatch else {
            throw RPCError.invalidArgument([FieldViolation(field: "products", description: "must be at most \(ProductRules.maxBatch) products per call")])
        }
        var results = [Forge_Common_V1_ImportRowResult](repeating: .init(), count: request.products.count)
        var valid: [(index: Int, product: Forge_Orders_V1_Product)] = []
        var seen: [String: Int] = [:]
        for (index, product) in request.products.enumerated() {
            var violations = ProductRules.validate(product).map { FieldViolation(field: "products[\(index)].\($0.field)", description: $0.description) }
            let normalized = ProductRules.normalized(product)
            if violations.isEmpty, let first = seen[normalized.sku] {
                violations.append(FieldViolation(field: "products[\(index)].sku", description: "repeats products[\(first)]"))
            }
            seen[normalized.sku] = seen[normalized.sku] ?? index
            if violations.isEmpty {
                valid.append((index, normalized))
            } else {
                results[index] = .with {
                    $0.line = Int32(index + 1)
                    $0.id = product.sku
                    $0.status = .rejected
                    $0.violations = violations.map(Self.rowViolation)
                }
            }
        }
        for (index, result) in try await products.upsert(valid) { results[index] = result }
        return .with { $0.results = results }
    }

    func importProducts(_ request: Forge_Common_V1_ImportRequest, context: ServerContext) async throws -> Forge_Common_V1_ImportResponse {
        var violations = Self.required(request.importID, "import_id")
        if request.rows.count > ProductRules.maxBatch { violations.append(FieldViolation(field: "rows", description: "must be at most \(ProductRules.maxBatch) rows per call")) }
        let (columns, ignored) = ImportColumns.columns(request.header, aliases: ProductRules.aliases)
        for (column, name) in [(ProductRules.Column.sku, "SKU (物料号)"), (.name, "name (名称)"), (.listPrice, "list_price (单价)")] where !columns.values.contains(column) {
            violations.append(FieldViolation(field: "header", description: "needs a \(name) column"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        var results: [Forge_Common_V1_ImportRowResult] = []
        var valid: [(index: Int, product: Forge_Orders_V1_Product)] = []
        var seen: [String: Int32] = [:]
        for row in request.rows {
            let (product, cellViolations) = ProductRules.product(ImportColumns.cells(row.values, columns: columns))
            let problems = cellViolations.isEmpty ? ProductRules.validate(product).map(Self.rowViolation) : cellViolations
            let normalized = ProductRules.normalized(product)
            if problems.isEmpty, let first = seen[normalized.sku] {
                results.append(.with {
                    $0.line = row.line
                    $0.id = normalized.sku
                    $0.status = .duplicate
                    $0.duplicateOf = "line \(first)"
                })
                continue
            }
            seen[normalized.sku] = row.line
            if problems.isEmpty { valid.append((results.count, normalized)) }
            results.append(.with {
                $0.line = row.line
                $0.id = normalized.sku
                if !problems.isEmpty {
                    $0.status = .rejected
                    $0.violations = problems
                }
            })
        }
        for (index, result) in try await products.upsert(valid, dryRun: request.dryRun) { results[index].status = result.status }
        return .with {
            $0.results = results
            $0.ignoredColumns = ignored
        }
    }

    func getProduct(_ request: Forge_Orders_V1_GetProductRequest, context: ServerContext) async throws -> Forge_Orders_V1_GetProductResponse {
        guard !request.sku.isEmpty else { throw RPCError.invalidArgument(Self.required(request.sku, "sku")) }
        let product = try await products.product(sku: request.sku)
        return .with { $0.product = ProductRules.view(product, for: context.principal) }
    }

    func listProducts(_ request: Forge_Orders_V1_ListProductsRequest, context: ServerContext) async throws -> Forge_Orders_V1_ListProductsResponse {
        let page = try Page(request.page) { !$0.isEmpty }
        let found = try await products.list(request, page: page)
        return .with {
            $0.products = found.map { ProductRules.view($0, for: context.principal) }
            $0.page = page.response(next: found.last?.sku, count: found.count)
        }
    }
}
