import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// Invoices, payments and receivables.
extension OrdersHandler {
    func recordInvoice(_ request: Forge_Orders_V1_RecordInvoiceRequest, context: ServerContext) async throws -> Forge_Orders_V1_RecordInvoiceResponse {
        var violations = Self.required(request.orderID, "order_id") + Self.required(request.invoiceNumber, "invoice_number")
        if request.installment <= 0 { violations.append(FieldViolation(field: "installment", description: "is required (1, 2, … in the plan)")) }
        if request.invoiceNumber.count > 64 { violations.append(FieldViolation(field: "invoice_number", description: "must be at most 64 characters")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let order = try await receivables.recordInvoice(request, context: context, principal: principal)
        return .with { $0.order = OrderRules.view(order, for: principal) }
    }

    func recordPayment(_ request: Forge_Orders_V1_RecordPaymentRequest, context: ServerContext) async throws -> Forge_Orders_V1_RecordPaymentResponse {
        var violations = Self.required(request.orderID, "order_id") + Self.required(request.reference, "reference")
        if request.reference.count > 64 { violations.append(FieldViolation(field: "reference", description: "must be at most 64 characters")) }
        if !request.hasAmount || request.amount.amountMicros <= 0 || request.amount.amountMicros % OrderRules.microsPerCent != 0 {
            violations.append(FieldViolation(field: "amount", description: "is required: positive whole cents"))
        }
        if request.hasPaidAt, request.paidAt.date > clock.now().addingTimeInterval(86_400) {
            violations.append(FieldViolation(field: "paid_at", description: "must not be in the future"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        var response = try await receivables.recordPayment(request, context: context, principal: principal)
        response.order = OrderRules.view(response.order, for: principal)
        return response
    }

    func getReceivables(_ request: Forge_Orders_V1_GetReceivablesRequest, context: ServerContext) async throws -> Forge_Orders_V1_GetReceivablesResponse {
        var violations: [FieldViolation] = []
        if request.dsoDays < 0 || request.dsoDays > 730 { violations.append(FieldViolation(field: "dso_days", description: "must be between 0 and 730")) }
        if request.maxItems < 0 || request.maxItems > 500 { violations.append(FieldViolation(field: "max_items", description: "must be between 0 and 500")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        return try await receivables.receivables(request, principal: try context.caller())
    }
}
