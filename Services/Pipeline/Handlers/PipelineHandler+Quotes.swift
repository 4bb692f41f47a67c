import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

extension PipelineHandler {
    var quotes: QuoteStore { QuoteStore(database: database, clock: clock) }

    func createQuote(_ request: Forge_Pipeline_V1_CreateQuoteRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_CreateQuoteResponse {
        var quote = request.quote
        quote.lines = quote.lines.map { line in
            var line = line
            line.sku = line.sku.trimmingCharacters(in: .whitespaces)
            line.name = line.name.trimmingCharacters(in: .whitespaces)
            return line
        }
        let (completed, unknown) = try await fromProductMaster(quote.lines)
        quote.lines = completed
        let violations = unknown + QuotePricing.validate(quote, now: clock.now())
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let created = try await quotes.create(quote, context: context, principal: try context.caller())
        return .with { $0.quote = QuoteViews.view(created, for: context.principal) }
    }

    /// Lines that name a SKU but no list price take the product master's (forge-orders, as
    /// synced from ERP): its name and unit when the line has none, its list price and volume
    /// tiers. A SKU the master does not have, or no longer sells, is a violation on that line.
    func fromProductMaster(_ lines: [Forge_Pipeline_V1_QuoteLine]) async throws -> ([Forge_Pipeline_V1_QuoteLine], [FieldViolation]) {
        var lines = lines
        var violations: [FieldViolation] = []
        for index in lines.indices where !lines[index].sku.isEmpty && !lines[index].hasListUnitPrice {
            guard let orders else { throw RPCError(.unavailable, "forge-orders is not configured: give list_unit_price for \(lines[index].sku)") }
            let product: Forge_Orders_V1_Product
            do {
                product = try await Forge_Orders_V1_OrdersClient(channel: orders)
                    .getProduct(.with { $0.sku = lines[index].sku }, options: CallOptions(timeout: Self.accountsTimeout)).product
            } catch let error as RPCError where error.code == .notFound {
                violations.append(FieldViolation(field: "quote.lines[\(index)].sku", description: "is not in the product master: give list_unit_price"))
                continue
            } catch let error as RPCError where error.code == .unavailable || error.code == .deadlineExceeded {
                throw RPCError(.unavailable, "forge-orders is unavailable: cannot look up \(lines[index].sku)'s price; nothing was changed, try again (\(error.message))")
            }
            guard product.active else {
                violations.append(FieldViolation(field: "quote.lines[\(index)].sku", description: "is no longer sold (inactive in the product master)"))
                continue
            }
            if lines[index].name.isEmpty { lines[index].name = product.name }
            if lines[index].unit.isEmpty { lines[index].unit = product.unit }
            lines[index].listUnitPrice = product.listPrice
            if lines[index].tiers.isEmpty { lines[index].tiers = product.tiers }
        }
        return (lines, violations)
    }

    func getQuote(_ request: Forge_Pipeline_V1_GetQuoteRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_GetQuoteResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let principal = try context.caller()
        let quote = try await database.read { db in try QuoteStore.visible(db, id: request.id, principal: principal) }
        return .with { $0.quote = QuoteViews.view(quote, for: principal) }
    }

    func listQuotes(_ request: Forge_Pipeline_V1_ListQuotesRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_ListQuotesResponse {
        guard !request.opportunityID.isEmpty || !request.accountID.isEmpty else {
            throw RPCError.invalidArgument([FieldViolation(field: "opportunity_id", description: "is required (or account_id)")])
        }
        let principal = try context.caller()
        let found = try await database.read { db in
            var clauses: [String] = []
            var arguments = StatementArguments()
            if !request.opportunityID.isEmpty {
                clauses.append("opportunity_id = ?")
                arguments += [request.opportunityID]
            }
            if !request.accountID.isEmpty {
                clauses.append("account_id = ?")
                arguments += [request.accountID]
            }
            OwnerScope.restrict(principal, clauses: &clauses, arguments: &arguments)
            return try Data.fetchAll(db, sql: "SELECT payload FROM quote WHERE \(clauses.joined(separator: " AND ")) ORDER BY created_at DESC, revision DESC LIMIT 200",
                                     arguments: arguments).map { try Forge_Pipeline_V1_Quote(serializedBytes: $0) }
        }
        return .with { $0.quotes = found.map { QuoteViews.view($0, for: principal) } }
    }

    func decideQuote(_ request: Forge_Pipeline_V1_DecideQuoteRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_DecideQuoteResponse {
        var violations: [FieldViolation] = []
        if request.id.isBlank { violations.append(FieldViolation(field: "id", description: "is required")) }
        if !request.approve, request.comment.isBlank {
            violations.append(FieldViolation(field: "comment", description: "says why, when the quote is not approved"))
        }
        if request.comment.count > 1_000 { violations.append(FieldViolation(field: "comment", description: "must be at most 1,000 characters")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let quote = try await quotes.change(id: request.id, context: context, principal: principal) { db, quote, now in
            try QuoteStore.decide(db, &quote, approve: request.approve, comment: request.comment, principal: principal, now: now)
            return ["status": "\(quote.status.rawValue)", "comment": request.comment]
        }
        return .with { $0.quote = QuoteViews.view(quote, for: principal) }
    }

    func sendQuote(_ request: Forge_Pipeline_V1_SendQuoteRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_SendQuoteResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        let principal = try context.caller()
        let quote = try await quotes.change(id: request.id, context: context, principal: principal) { db, quote, now in
            try QuoteStore.send(db, &quote, now: now)
            return ["status": "\(quote.status.rawValue)"]
        }
        return .with { $0.quote = QuoteViews.view(quote, for: principal) }
    }

    func recordQuoteAnswer(_ request: Forge_Pipeline_V1_RecordQuoteAnswerRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_RecordQuoteAnswerResponse {
        var violations: [FieldViolation] = []
        if request.id.isBlank { violations.append(FieldViolation(field: "id", description: "is required")) }
        if !request.accepted, request.note.isBlank {
            violations.append(FieldViolation(field: "note", description: "says why the customer declined"))
        }
        if request.note.count > 1_000 { violations.append(FieldViolation(field: "note", description: "must be at most 1,000 characters")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var quote = try QuoteStore.visible(db, id: request.id, principal: principal)
            let opportunity = try QuoteStore.answer(db, &quote, accepted: request.accepted, note: request.note, principal: principal, now: now)
            quote.version += 1
            try QuoteStore.write(db, quote)
            try AuditLog.record(db, context: context, recordID: quote.id, changes: ["status": "\(quote.status.rawValue)", "note": request.note], at: now)
            return .with {
                $0.quote = QuoteViews.view(quote, for: principal)
                if let opportunity { $0.opportunity = OpportunityRules.view(opportunity, for: principal) }
            }
        }
    }

    func getAccountPipeline(_ request: Forge_Pipeline_V1_GetAccountPipelineRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_GetAccountPipelineResponse {
        guard !request.accountID.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "account_id", description: "is required")]) }
        let principal = try context.caller()
        return try database.pointRead { db in
            var scope: [String] = []
            var scopeArguments = StatementArguments()
            OwnerScope.restrict(principal, clauses: &scope, arguments: &scopeArguments)
            let scoped = scope.map { " AND " + $0 }.joined()
            let opportunities = try Data.fetchAll(db.cachedStatement(sql: """
                SELECT payload FROM opportunity WHERE account_id = ? AND stage NOT IN (7, 8)\(scoped) ORDER BY id DESC LIMIT 50
                """), arguments: [request.accountID] + scopeArguments).map { try Forge_Pipeline_V1_Opportunity(serializedBytes: $0) }
            let quotes = try Data.fetchAll(db.cachedStatement(sql: """
                SELECT payload FROM quote q WHERE account_id = ?\(scoped)
                AND revision = (SELECT max(revision) FROM quote r WHERE r.opportunity_id = q.opportunity_id)
                ORDER BY created_at DESC LIMIT 10
                """), arguments: [request.accountID] + scopeArguments).map { try Forge_Pipeline_V1_Quote(serializedBytes: $0) }
            // Tasks are their owners': the account's open tasks of the records the caller sees.
            let visibleOpportunityIDs = Set(try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM opportunity WHERE account_id = ?\(scoped)"),
                                                                arguments: [request.accountID] + scopeArguments))
            let stored = try Data.fetchAll(db.cachedStatement(sql: "SELECT payload FROM task WHERE account_id = ? AND done = 0 ORDER BY due_at LIMIT 100"),
                                           arguments: [request.accountID]).map { try Forge_Pipeline_V1_Task(serializedBytes: $0) }
            // The first-touch reminders of the account's NEW leads (a revisit lead has one).
            let reminders = try Data.fetchAll(db.cachedStatement(sql: "SELECT payload FROM lead WHERE account_id = ? AND status = 1 LIMIT 100"),
                                              arguments: [request.accountID]).map { LeadStore.firstTouchTask(try Forge_Pipeline_V1_Lead(serializedBytes: $0)) }
            let tasks = (stored + reminders).sorted { ($0.dueAt.date, $0.id) < ($1.dueAt.date, $1.id) }
                .filter { !OwnerScope.isScoped(principal) || $0.ownerID == principal.subject || visibleOpportunityIDs.contains($0.opportunityID) }
            return .with {
                $0.openOpportunities = opportunities.map { OpportunityRules.view($0, for: principal) }
                $0.latestQuotes = quotes.map { QuoteViews.view($0, for: principal) }
                $0.openTasks = Array(tasks.prefix(20))
            }
        }
    }
}

/// Quotes carry prices: hidden, like opportunity amounts, from roles that may not see them.
enum QuoteViews {
    static func view(_ quote: Forge_Pipeline_V1_Quote, for principal: Principal?) -> Forge_Pipeline_V1_Quote {
        guard !OpportunityRules.maySeeAmounts(principal) else { return quote }
        var hidden = quote
        hidden.clearSubtotal()
        hidden.clearTotal()
        hidden.lines = quote.lines.map { line in
            var line = line
            line.clearListUnitPrice()
            line.clearUnitPrice()
            line.clearLineTotal()
            line.tiers = []
            line.discountBps = 0
            return line
        }
        hidden.maxDiscountBps = 0
        return hidden
    }
}
