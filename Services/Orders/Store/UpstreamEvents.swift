import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Where other services' events reach orders. From accounts: the account directory (names,
/// owners), merges (orders and their money follow the survivor) and erasures (an erased person
/// is removed from the orders that name them). From pipeline: a won opportunity drafts its
/// order from the accepted quote, exactly once per opportunity.
enum UpstreamEvents {
    static let accountsTypes = AccountDirectory.eventTypes + ["ContactErased"]
    static let pipelineTypes = ["OpportunityWon"]

    static func applyAccounts(_ db: Database, _ event: Forge_Common_V1_Event, now: Date) throws {
        try AccountDirectory.apply(db, event)
        switch event.type {
        case "AccountMerged":
            let merged = try Forge_Accounts_V1_AccountMerged(serializedBytes: event.payload)
            try repoint(db, from: merged.mergedIds, to: merged.survivorID, now: now)
        case "ContactErased":
            let erased = try Forge_Accounts_V1_ContactErased(serializedBytes: event.payload)
            try anonymise(db, contactID: erased.contactID, now: now)
        default:
            break
        }
    }

    static func repoint(_ db: Database, from merged: [String], to survivor: String, now: Date) throws {
        guard !merged.isEmpty else { return }
        let name = try AccountDirectory.entry(db, accountID: survivor)?.name
        for var order in try OrderStore.orders(db, "SELECT payload FROM orders WHERE account_id IN (\(databaseQuestionMarks(count: merged.count)))",
                                               arguments: StatementArguments(merged)) {
            order.accountID = survivor
            if let name { order.accountName = name }
            order.version += 1
            order.updatedAt = .init(date: now)
            try OrderStore.write(db, order)
        }
        let marks = databaseQuestionMarks(count: merged.count)
        try db.execute(sql: "UPDATE payment SET account_id = ? WHERE account_id IN (\(marks))", arguments: [survivor] + StatementArguments(merged))
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM order_task WHERE account_id IN (\(marks))", arguments: StatementArguments(merged)) {
            var task = try Forge_Orders_V1_OrderTask(serializedBytes: payload)
            task.accountID = survivor
            try db.execute(sql: "UPDATE order_task SET account_id = ?, payload = ? WHERE id = ?", arguments: [survivor, try task.serializedData(), task.id])
        }
    }

    /// The erased person leaves the orders: no contact, no delivery name or phone (the
    /// delivery address is the company's and stays).
    static func anonymise(_ db: Database, contactID: String, now: Date) throws {
        for var order in try OrderStore.orders(db, "SELECT payload FROM orders WHERE contact_id = ? AND contact_id != ''", arguments: [contactID]) {
            order.contactID = ""
            order.deliveryContactName = ""
            order.deliveryPhone = ""
            order.version += 1
            order.updatedAt = .init(date: now)
            try OrderStore.write(db, order)
        }
    }

    /// OpportunityWon: the accepted quote's lines, prices, payment terms and account, and the
    /// opportunity's owner, team and contact, as a draft order. The opportunity id is unique
    /// among orders, so a redelivered event (or an order already created by RPC for it) drafts
    /// nothing.
    static func applyPipeline(_ db: Database, _ event: Forge_Common_V1_Event, now: Date) throws {
        guard event.type == "OpportunityWon" else { return }
        let won = try Forge_Pipeline_V1_OpportunityWon(serializedBytes: event.payload)
        let opportunity = won.opportunity
        guard try !OrderStore.hasOrder(db, opportunityID: opportunity.id) else { return }
        let quote = won.acceptedQuote
        var order = Forge_Orders_V1_Order.with {
            $0.id = "ord_" + opportunity.id
            $0.accountID = opportunity.accountID
            $0.contactID = opportunity.primaryContactID
            $0.opportunityID = opportunity.id
            $0.quoteID = quote.id
            $0.ownerID = opportunity.ownerID
            $0.team = opportunity.team
            $0.currencyCode = quote.currencyCode.isEmpty ? "CNY" : quote.currencyCode
            $0.lines = quote.lines.map { line in
                .with {
                    $0.sku = line.sku
                    $0.name = line.name
                    $0.unit = line.unit
                    $0.quantity = line.quantity
                    $0.unitPrice = line.unitPrice
                }
            }
            $0.paymentPlan = PaymentPlanRules.plan(from: quote.paymentTerms)
            $0.notes = "由商机「\(opportunity.name)」赢单生成（报价 第\(quote.revision)版）"
        }
        // A quote's terms that do not add up (older quotes were not checked as orders are) give
        // way to the default plan rather than losing the order.
        if !PaymentPlanRules.validate(order.paymentPlan, total: OrderRules.total(order.lines)).isEmpty {
            order.paymentPlan = []
        }
        try OrderStore.insert(db, &order, now: now)
        try AuditLog.record(db, actor: "pipeline", event: "OpportunityWon", recordID: order.id, changes: ["status": "DRAFT", "from_opportunity": opportunity.id], at: now)
    }
}
