import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// The ERP bridge: released orders for the connectors, their acknowledgement, and the status
/// reports from ERP and MES (single, batched, and the nightly file).
extension OrdersHandler {
    func listReleasedOrders(_ request: Forge_Orders_V1_ListReleasedOrdersRequest, context: ServerContext) async throws -> Forge_Orders_V1_ListReleasedOrdersResponse {
        var violations: [FieldViolation] = []
        let cursor = request.after.isEmpty ? 0 : Int64(request.after)
        if cursor == nil || cursor! < 0 { violations.append(FieldViolation(field: "after", description: "is not a cursor this service issued")) }
        if request.maxOrders < 0 || request.maxOrders > 500 { violations.append(FieldViolation(field: "max_orders", description: "must be between 0 and 500")) }
        guard violations.isEmpty, let cursor else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let found = try await orders.released(after: cursor, limit: request.maxOrders == 0 ? 100 : Int(request.maxOrders))
        return .with {
            $0.orders = found.orders.map { OrderRules.view($0, for: principal) }
            $0.cursor = "\(found.cursor)"
        }
    }

    func importOrders(_ request: Forge_Orders_V1_ImportOrdersRequest, context: ServerContext) async throws -> Forge_Orders_V1_ImportOrdersResponse {
        guard request.orders.count <= StatusRules.maxBatch else {
            throw RPCError.invalidArgument([FieldViolation(field: "orders", description: "must be at most \(StatusRules.maxBatch) orders per call")])
        }
        let now = clock.now()
        var results = [Forge_Common_V1_ImportRowResult](repeating: .init(), count: request.orders.count)
        var valid: [(index: Int, order: Forge_Orders_V1_Order)] = []
        var seen = Set<String>()
        for (index, order) in request.orders.enumerated() {
            var violations = OrderRules.validate(order, now: now)
            if order.erpOrderNumber.isEmpty || order.erpOrderNumber.count > 64 {
                violations.append(FieldViolation(field: "order.erp_order_number", description: "is required, at most 64 characters"))
            } else if !seen.insert(order.erpOrderNumber).inserted {
                violations.append(FieldViolation(field: "order.erp_order_number", description: "repeats an earlier order of this call"))
            }
            if !OrderStore.importable.contains(order.status) {
                violations.append(FieldViolation(field: "order.status", description: "must be APPROVED, RELEASED, DELIVERED or COMPLETED"))
            }
            if !order.hasCreatedAt || order.createdAt.date > now {
                violations.append(FieldViolation(field: "order.created_at", description: "is required (when ERP took the order), not in the future"))
            }
            if violations.isEmpty {
                valid.append((index, order))
            } else {
                results[index] = .with {
                    $0.line = Int32(index + 1)
                    $0.status = .rejected
                    $0.violations = violations.map { Self.rowViolation(FieldViolation(field: "orders[\(index)]" + $0.field.dropFirst("order".count), description: $0.description)) }
                }
            }
        }
        for (index, result) in try await orders.importHistory(valid) { results[index] = result }
        return .with { $0.results = results }
    }

    func acknowledgeRelease(_ request: Forge_Orders_V1_AcknowledgeReleaseRequest, context: ServerContext) async throws -> Forge_Orders_V1_AcknowledgeReleaseResponse {
        var violations = Self.required(request.orderID, "order_id") + Self.required(request.erpOrderNumber, "erp_order_number")
        if request.erpOrderNumber.count > 64 { violations.append(FieldViolation(field: "erp_order_number", description: "must be at most 64 characters")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let order = try await orders.acknowledge(orderID: request.orderID, erpNumber: request.erpOrderNumber, context: context, principal: principal)
        return .with { $0.order = OrderRules.view(order, for: principal) }
    }

    func reportProductionStatus(_ request: Forge_Orders_V1_ReportProductionStatusRequest, context: ServerContext) async throws -> Forge_Orders_V1_ReportProductionStatusResponse {
        let violations = StatusRules.validate(request.report)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let now = clock.now()
        let (outcome, order) = try await database.write { db in
            var batch = try ReportBatch(db, [request.report], now: now)
            let applied = try batch.apply(db, request.report)
            try batch.flush(db)
            guard let order = try OrderStore.order(db, id: applied.orderID) else { throw RPCError(.notFound, "order \(applied.orderID) not found") }
            return (applied.outcome, order)
        }
        return .with {
            $0.order = OrderRules.view(order, for: principal)
            $0.outcome = outcome
        }
    }

    /// Up to 500 reports in one transaction (one durable commit for the batch); a report that
    /// is invalid or names an unknown order is answered REJECTED on its own and the rest apply.
    func reportProductionStatuses(_ request: Forge_Orders_V1_ReportProductionStatusesRequest, context: ServerContext) async throws -> Forge_Orders_V1_ReportProductionStatusesResponse {
        guard request.reports.count <= StatusRules.maxBatch else {
            throw RPCError.invalidArgument([FieldViolation(field: "reports", description: "must be at most \(StatusRules.maxBatch) reports")])
        }
        let results = try await applyBatch(request.reports)
        return .with { $0.results = results }
    }

    func applyBatch(_ reports: [Forge_Orders_V1_StatusReport]) async throws -> [Forge_Orders_V1_ReportResult] {
        let now = clock.now()
        // Checked before the transaction: the one writer only applies.
        let violationsOfReport = reports.enumerated().map { index, report in StatusRules.validate(report, field: "reports[\(index)]") }
        return try await database.write { db in
            var batch = try ReportBatch(db, reports, now: now)
            let results = try reports.enumerated().map { index, report in
                var result = Forge_Orders_V1_ReportResult.with { $0.eventID = report.eventID }
                let violations = violationsOfReport[index]
                guard violations.isEmpty else {
                    result.outcome = .rejected
                    result.violations = violations.map(Self.rowViolation)
                    return result
                }
                do {
                    // A refused report leaves nothing behind without a savepoint of its own:
                    // the batch refuses before it changes anything, and a database error fails
                    // the whole call.
                    let (outcome, orderID, repeated) = try batch.apply(db, report)
                    result.outcome = outcome
                    result.orderID = orderID
                    result.repeated = repeated
                } catch let error as RPCError {
                    result.outcome = .rejected
                    result.violations = error.violations.isEmpty
                        ? [.with {
                            $0.field = "reports[\(index)]"
                            $0.description_p = error.message
                        }]
                        : error.violations.map { Self.rowViolation(FieldViolation(field: $0.field.replacingOccurrences(of: "report.", with: "reports[\(index)]."), description: $0.description)) }
                }
                return result
            }
            try batch.flush(db)
            return results
        }
    }

    static func rowViolation(_ violation: FieldViolation) -> Forge_Common_V1_RowViolation {
        ImportColumns.rowViolation(violation, keepingPath: true)
    }

    /// ERP's nightly status file: each row a report (its event id from the file's row or its
    /// position), validated and applied as a batch; rejected rows name their columns.
    func importOrderStatus(_ request: Forge_Common_V1_ImportRequest, context: ServerContext) async throws -> Forge_Common_V1_ImportResponse {
        var violations = Self.required(request.importID, "import_id")
        if request.rows.count > StatusRules.maxBatch { violations.append(FieldViolation(field: "rows", description: "must be at most \(StatusRules.maxBatch) rows per call")) }
        let (columns, ignored) = ImportColumns.columns(request.header, aliases: StatusImportMapping.aliases)
        if !columns.values.contains(.status) { violations.append(FieldViolation(field: "header", description: "needs a status column (状态)")) }
        if !columns.values.contains(.orderID) && !columns.values.contains(.erpOrderNumber) {
            violations.append(FieldViolation(field: "header", description: "needs an order column (ERP订单号 or order_id)"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        var results: [Forge_Common_V1_ImportRowResult] = []
        var reports: [(Int, Forge_Orders_V1_StatusReport)] = []
        for row in request.rows {
            let (report, cellViolations) = StatusImportMapping.report(ImportColumns.cells(row.values, columns: columns), importID: request.importID, line: row.line)
            // Cells that did not read are the row's problems; else what the report rules say, by column.
            let problems = !cellViolations.isEmpty ? cellViolations : StatusRules.validate(report, field: "row")
                .map { Self.rowViolation(FieldViolation(field: String($0.field.dropFirst("row.".count)), description: $0.description)) }
            if problems.isEmpty {
                reports.append((results.count, report))
                results.append(.with { $0.line = row.line })
            } else {
                results.append(.with {
                    $0.line = row.line
                    $0.status = .rejected
                    $0.violations = problems
                })
            }
        }
        if request.dryRun {
            for (index, _) in reports { results[index].status = .unchanged }
        } else {
            for ((index, _), applied) in zip(reports, try await applyBatch(reports.map(\.1))) {
                results[index].id = applied.orderID
                switch applied.outcome {
                case _ where applied.repeated: results[index].status = .unchanged
                case .applied: results[index].status = .updated
                case .historyOnly: results[index].status = .unchanged
                default:
                    results[index].status = .rejected
                    results[index].violations = applied.violations
                }
            }
        }
        return .with {
            $0.results = results
            $0.ignoredColumns = ignored
        }
    }
}
