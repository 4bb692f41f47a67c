import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// What analytics takes from each feed, inside the consumer's transaction. Every event that
/// carries a whole record replaces the row it describes, so applying one twice changes
/// nothing and a replay from the start rebuilds the same tables. Facts name their account
/// through `survivor`: a merge re-points what is there and whatever of the merged account's
/// arrives later on another feed.
enum UpstreamEvents {
    static let accountsTypes = ["AccountCreated", "AccountUpdated", "AccountOwnerChanged", "AccountMerged", "ActivityLogged", "ContactErased"]
    static let pipelineTypes = ["OpportunityCreated", "OpportunityUpdated", "OpportunityStageChanged", "OpportunityWon", "OpportunityLost"]
    static let ordersTypes = ["ProductUpserted", "OrderCreated", "OrderImported", "OrderUpdated", "OrderCreditHold", "OrderApproved",
                              "OrderReleased", "OrderAcknowledged", "OrderCancelled", "OrderDelivered", "InvoiceIssued", "PaymentRecorded"]
    static let servicedeskTypes = ["TicketOpened", "TicketImported", "TicketAssigned", "TicketResolved", "TicketClosed",
                                   "ComplaintAdvanced", "SlaWarning", "SlaBreached"]
    static let feedbackTypes = ["SurveyAnswered"]
    static let loyaltyTypes = ["TierChanged"]

    /// The account a fact belongs to now (the survivor of any merges).
    static func survivor(_ db: Database, _ accountID: String) throws -> String {
        try String.fetchOne(db.cachedStatement(sql: "SELECT survivor_id FROM merged_account WHERE merged_id = ?"), arguments: [accountID]) ?? accountID
    }

    // MARK: accounts

    static func applyAccounts(_ db: Database, _ event: Forge_Common_V1_Event) throws {
        switch event.type {
        case "AccountCreated", "AccountUpdated":
            let account = event.type == "AccountCreated"
                ? try Forge_Accounts_V1_AccountCreated(serializedBytes: event.payload).account
                : try Forge_Accounts_V1_AccountUpdated(serializedBytes: event.payload).account
            // A merged account's late update does not bring it back.
            guard try survivor(db, account.id) == account.id else { return }
            try db.execute(cached: """
                INSERT INTO customer (account_id, region, industry, created_at, events_applied, name, tier, owner_id, team)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(account_id) DO UPDATE SET region = excluded.region, industry = excluded.industry, name = excluded.name,
                    tier = excluded.tier, owner_id = excluded.owner_id, team = excluded.team,
                    events_applied = events_applied + excluded.events_applied
                """, arguments: [account.id, account.region, account.industry, account.createdAt.timeIntervalSince1970,
                                 event.type == "AccountCreated" ? 1 : 0, account.name, account.tier.reportName, account.ownerID, account.team])
        case "AccountOwnerChanged":
            let change = try Forge_Accounts_V1_AccountOwnerChanged(serializedBytes: event.payload).change
            // The new owner's team comes with the AccountUpdated that follows.
            try db.execute(cached: "UPDATE customer SET owner_id = ? WHERE account_id = ?", arguments: [change.toOwnerID, change.accountID])
        case "AccountMerged":
            let merged = try Forge_Accounts_V1_AccountMerged(serializedBytes: event.payload)
            try merge(db, merged.mergedIds, into: merged.survivorID)
        case "ActivityLogged":
            let activity = try Forge_Accounts_V1_ActivityLogged(serializedBytes: event.payload).activity
            try db.execute(cached: "INSERT OR REPLACE INTO activity (id, account_id, author_id, occurred_at) VALUES (?, ?, ?, ?)",
                           arguments: [activity.id, try survivor(db, activity.accountID), activity.authorID, activity.occurredAt.timeIntervalSince1970])
        default:
            // ContactErased: analytics keeps nothing of a person (see AnalyticsStore).
            break
        }
    }

    /// The merged accounts' facts, alerts and reminders move to the survivor; their customer
    /// rows go (the survivor's dimensions stand).
    static func merge(_ db: Database, _ mergedIDs: [String], into survivorID: String) throws {
        guard !mergedIDs.isEmpty else { return }
        let marks = databaseQuestionMarks(count: mergedIDs.count)
        let ids = StatementArguments(mergedIDs)
        for table in ["order_fact", "order_line", "installment", "opportunity", "ticket", "answer", "activity"] {
            try db.execute(sql: "UPDATE \(table) SET account_id = ? WHERE account_id IN (\(marks))", arguments: [survivorID] + ids)
        }
        try db.execute(sql: "DELETE FROM customer WHERE account_id IN (\(marks))", arguments: ids)
        try db.execute(sql: "DELETE FROM risk_episode WHERE account_id IN (\(marks))", arguments: ids)
        try db.execute(sql: "UPDATE OR REPLACE repurchase_reminder SET account_id = ? WHERE account_id IN (\(marks))", arguments: [survivorID] + ids)
        try db.execute(sql: "UPDATE merged_account SET survivor_id = ? WHERE survivor_id IN (\(marks))", arguments: [survivorID] + ids)
        for id in mergedIDs {
            try db.execute(sql: "INSERT OR REPLACE INTO merged_account (merged_id, survivor_id) VALUES (?, ?)", arguments: [id, survivorID])
        }
    }

    // MARK: orders

    static func applyOrders(_ db: Database, _ event: Forge_Common_V1_Event) throws {
        try prepareOrders(event)(db)
    }

    /// The orders feed is the largest (five or more events per order, each carrying the whole
    /// order): its payloads are decoded before the transaction, while the consumer's previous
    /// batch is being written.
    static func prepareOrders(_ event: Forge_Common_V1_Event) throws -> EventConsumer.PreparedWrite {
        let order: Forge_Orders_V1_Order
        switch event.type {
        case "ProductUpserted":
            let product = try Forge_Orders_V1_ProductUpserted(serializedBytes: event.payload).product
            return { db in
                try db.execute(cached: "INSERT OR REPLACE INTO product (sku, product_line) VALUES (?, ?)", arguments: [product.sku, product.productLine])
            }
        case "InvoiceIssued":
            let issued = try Forge_Orders_V1_InvoiceIssued(serializedBytes: event.payload)
            return { db in
                try saveInstallment(db, issued.installment, orderID: issued.orderID, accountID: try survivor(db, issued.accountID), currency: "")
            }
        case "OrderCreated": order = try Forge_Orders_V1_OrderCreated(serializedBytes: event.payload).order
        case "OrderImported": order = try Forge_Orders_V1_OrderImported(serializedBytes: event.payload).order
        case "OrderUpdated": order = try Forge_Orders_V1_OrderUpdated(serializedBytes: event.payload).order
        case "OrderCreditHold": order = try Forge_Orders_V1_OrderCreditHold(serializedBytes: event.payload).order
        case "OrderApproved": order = try Forge_Orders_V1_OrderApproved(serializedBytes: event.payload).order
        case "OrderReleased": order = try Forge_Orders_V1_OrderReleased(serializedBytes: event.payload).order
        case "OrderAcknowledged": order = try Forge_Orders_V1_OrderAcknowledged(serializedBytes: event.payload).order
        case "OrderCancelled": order = try Forge_Orders_V1_OrderCancelled(serializedBytes: event.payload).order
        case "OrderDelivered": order = try Forge_Orders_V1_OrderDelivered(serializedBytes: event.payload).order
        case "PaymentRecorded": order = try Forge_Orders_V1_PaymentRecorded(serializedBytes: event.payload).order
        default: return { _ in }
        }
        return { db in try saveOrder(db, order) }
    }

    /// The order as it stands: its row, its lines, its payment plan. Every event of an order
    /// carries all of it while one event changes a row or two (a status, an instalment paid),
    /// so rows are upserted where they differ — an unchanged row is not rewritten with its
    /// indexes — and the lines and the plan go in one statement each.
    static func saveOrder(_ db: Database, _ order: Forge_Orders_V1_Order) throws {
        let accountID = try survivor(db, order.accountID)
        let currency = order.currencyCode
        try db.execute(cached: """
            INSERT INTO order_fact (order_id, account_id, ordered_at, status, revenue_micros, margin_micros) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT(order_id) DO UPDATE SET account_id = excluded.account_id, ordered_at = excluded.ordered_at, status = excluded.status,
                revenue_micros = excluded.revenue_micros, margin_micros = excluded.margin_micros
            WHERE (account_id, ordered_at, status, revenue_micros, margin_micros)
                IS NOT (excluded.account_id, excluded.ordered_at, excluded.status, excluded.revenue_micros, excluded.margin_micros)
            """, arguments: [order.id, accountID, order.createdAt.timeIntervalSince1970, order.status.rawValue,
                             AnalyticsStore.cnyMicros(order.total, currency: currency), AnalyticsStore.cnyMicros(order.margin, currency: currency)])
        // Lines the order no longer has go; the others are upserted.
        var lineNumbers: StatementArguments = [order.id]
        var lines: StatementArguments = []
        for line in order.lines {
            let delivered = line.production.status == .delivered
                ? (line.production.hasDeliveredAt ? line.production.deliveredAt : order.deliveredAt).timeIntervalSince1970 : nil
            lineNumbers += [line.lineNo]
            lines += [order.id, line.lineNo, accountID, line.sku, delivered, line.deliveredOnTime]
        }
        try db.execute(cached: staleLines.sql(order.lines.count), arguments: lineNumbers)
        if !order.lines.isEmpty {
            try db.execute(cached: linesUpsert.sql(order.lines.count), arguments: lines)
        }
        if !order.paymentPlan.isEmpty {
            var installments: StatementArguments = []
            for installment in order.paymentPlan {
                installments += installmentArguments(installment, orderID: order.id, accountID: accountID, currency: currency)
            }
            try db.execute(cached: installmentsUpsert.sql(order.paymentPlan.count), arguments: installments)
        }
    }

    static func saveInstallment(_ db: Database, _ installment: Forge_Orders_V1_Installment, orderID: String, accountID: String, currency: String) throws {
        try db.execute(cached: installmentsUpsert.sql(1),
                       arguments: installmentArguments(installment, orderID: orderID, accountID: accountID, currency: currency))
    }

    private static func installmentArguments(_ installment: Forge_Orders_V1_Installment, orderID: String, accountID: String, currency: String) -> StatementArguments {
        [orderID, installment.number, accountID, AnalyticsStore.cnyMicros(installment.amount, currency: currency),
         installment.hasInvoicedAt ? installment.invoicedAt.timeIntervalSince1970 : nil,
         installment.hasDueAt ? installment.dueAt.timeIntervalSince1970 : nil,
         AnalyticsStore.cnyMicros(installment.paid, currency: currency),
         installment.hasPaidAt ? installment.paidAt.timeIntervalSince1970 : nil]
    }

    /// A statement whose text repeats one part per row (or per value); the texts for the
    /// common counts are made once.
    private struct Repeating: Sendable {
        private let make: @Sendable (Int) -> String
        private let common: [String]

        init(_ head: String, repeating part: String, _ tail: String = "") {
            let make: @Sendable (Int) -> String = { head + Array(repeating: part, count: $0).joined(separator: ", ") + tail }
            self.make = make
            self.common = (0..<9).map(make)
        }

        func sql(_ count: Int) -> String { count < common.count ? common[count] : make(count) }
    }

    private static let linesUpsert = Repeating(
        "INSERT INTO order_line (order_id, line_no, account_id, sku, delivered_at, on_time) VALUES ", repeating: "(?, ?, ?, ?, ?, ?)", """
             ON CONFLICT(order_id, line_no) DO UPDATE SET account_id = excluded.account_id, sku = excluded.sku,
                delivered_at = excluded.delivered_at, on_time = excluded.on_time
            WHERE (account_id, sku, delivered_at, on_time) IS NOT (excluded.account_id, excluded.sku, excluded.delivered_at, excluded.on_time)
            """)

    private static let installmentsUpsert = Repeating(
        "INSERT INTO installment (order_id, number, account_id, amount_micros, invoiced_at, due_at, paid_micros, paid_at) VALUES ",
        repeating: "(?, ?, ?, ?, ?, ?, ?, ?)", """
             ON CONFLICT(order_id, number) DO UPDATE SET account_id = excluded.account_id, amount_micros = excluded.amount_micros,
                invoiced_at = excluded.invoiced_at, due_at = excluded.due_at, paid_micros = excluded.paid_micros, paid_at = excluded.paid_at
            WHERE (account_id, amount_micros, invoiced_at, due_at, paid_micros, paid_at)
                IS NOT (excluded.account_id, excluded.amount_micros, excluded.invoiced_at, excluded.due_at, excluded.paid_micros, excluded.paid_at)
            """)

    /// The lines of an order other than those kept (`line_no NOT IN ()` keeps none).
    private static let staleLines = Repeating("DELETE FROM order_line WHERE order_id = ? AND line_no NOT IN (", repeating: "?", ")")

    // MARK: pipeline

    static func applyPipeline(_ db: Database, _ event: Forge_Common_V1_Event) throws {
        let opportunity: Forge_Pipeline_V1_Opportunity
        switch event.type {
        case "OpportunityCreated": opportunity = try Forge_Pipeline_V1_OpportunityCreated(serializedBytes: event.payload).opportunity
        case "OpportunityUpdated": opportunity = try Forge_Pipeline_V1_OpportunityUpdated(serializedBytes: event.payload).opportunity
        case "OpportunityStageChanged": opportunity = try Forge_Pipeline_V1_OpportunityStageChanged(serializedBytes: event.payload).opportunity
        case "OpportunityWon": opportunity = try Forge_Pipeline_V1_OpportunityWon(serializedBytes: event.payload).opportunity
        case "OpportunityLost": opportunity = try Forge_Pipeline_V1_OpportunityLost(serializedBytes: event.payload).opportunity
        default: return
        }
        let outcome: Facts.Outcome = opportunity.stage == .won ? .won : opportunity.stage == .lost ? .lost : .open
        try db.execute(cached: """
            INSERT OR REPLACE INTO opportunity (id, account_id, created_at, closed_at, outcome, max_rank) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [opportunity.id, try survivor(db, opportunity.accountID), opportunity.createdAt.timeIntervalSince1970,
                             outcome != .open && opportunity.hasClosedAt ? opportunity.closedAt.timeIntervalSince1970 : nil,
                             outcome.rawValue, maxRank(opportunity)])
    }

    /// The furthest stage an opportunity reached: its stage, and every stage its history
    /// passed through (a lost one keeps how far it got).
    static func maxRank(_ opportunity: Forge_Pipeline_V1_Opportunity) -> Int {
        let rank = { (stage: Forge_Pipeline_V1_Stage) -> Int in stage == .lost ? 0 : stage.rawValue }
        return ([rank(opportunity.stage)] + opportunity.history.flatMap { [rank($0.from), rank($0.to)] }).max() ?? 0
    }

    // MARK: servicedesk

    static func applyServicedesk(_ db: Database, _ event: Forge_Common_V1_Event) throws {
        let ticket: Forge_Servicedesk_V1_Ticket
        switch event.type {
        case "TicketOpened": ticket = try Forge_Servicedesk_V1_TicketOpened(serializedBytes: event.payload).ticket
        case "TicketImported": ticket = try Forge_Servicedesk_V1_TicketImported(serializedBytes: event.payload).ticket
        case "TicketAssigned": ticket = try Forge_Servicedesk_V1_TicketAssigned(serializedBytes: event.payload).ticket
        case "TicketResolved": ticket = try Forge_Servicedesk_V1_TicketResolved(serializedBytes: event.payload).ticket
        case "TicketClosed": ticket = try Forge_Servicedesk_V1_TicketClosed(serializedBytes: event.payload).ticket
        case "ComplaintAdvanced": ticket = try Forge_Servicedesk_V1_ComplaintAdvanced(serializedBytes: event.payload).ticket
        case "SlaWarning": ticket = try Forge_Servicedesk_V1_SlaWarning(serializedBytes: event.payload).ticket
        case "SlaBreached": ticket = try Forge_Servicedesk_V1_SlaBreached(serializedBytes: event.payload).ticket
        default: return
        }
        guard !ticket.accountID.isEmpty else { return }
        let resolved = ticket.hasResolvedAt ? ticket.resolvedAt : ticket.hasClosedAt ? ticket.closedAt : nil
        try db.execute(cached: """
            INSERT OR REPLACE INTO ticket (id, account_id, created_at, resolved_at, first_response, resolution) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [ticket.id, try survivor(db, ticket.accountID), ticket.createdAt.timeIntervalSince1970,
                             resolved?.timeIntervalSince1970, ticket.sla.firstResponse.status.rawValue, ticket.sla.resolution.status.rawValue])
    }

    // MARK: feedback and loyalty

    static func applyFeedback(_ db: Database, _ event: Forge_Common_V1_Event) throws {
        guard event.type == "SurveyAnswered" else { return }
        let survey = try Forge_Feedback_V1_SurveyAnswered(serializedBytes: event.payload).survey
        guard survey.hasScore, [.nps, .csat].contains(survey.kind) else { return }
        try db.execute(cached: """
            INSERT OR REPLACE INTO answer (survey_id, account_id, kind, score, answered_at, region, industry, tier, owner_id, team)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [survey.id, try survivor(db, survey.accountID), survey.kind.rawValue, survey.score,
                             survey.answeredAt.timeIntervalSince1970, survey.region, survey.industry, survey.tier, survey.ownerID, survey.team])
    }

    static func applyLoyalty(_ db: Database, _ event: Forge_Common_V1_Event) throws {
        guard event.type == "TierChanged" else { return }
        let changed = try Forge_Loyalty_V1_TierChanged(serializedBytes: event.payload)
        // The partner tier is the one dimension accounts do not carry: kept on its own row so
        // that it survives an account event arriving later in a replay.
        try db.execute(cached: """
            INSERT INTO customer (account_id, region, industry, created_at, events_applied, partner_tier) VALUES (?, '', '', 0, 0, ?)
            ON CONFLICT(account_id) DO UPDATE SET partner_tier = excluded.partner_tier
            """, arguments: [try survivor(db, changed.accountID), changed.toTier])
    }
}
