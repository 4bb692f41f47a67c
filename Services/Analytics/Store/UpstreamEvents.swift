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
        try OrderRows([event]).write(db)
    }

    /// The orders feed's pull decoded before the transaction (while the consumer's previous
    /// batch is being written) and written as rows in a few statements (see `OrderRows`).
    static func prepareOrders(_ events: [Forge_Common_V1_Event]) throws -> EventConsumer.PreparedWrite {
        let rows = try OrderRows(events)
        return { db in try rows.write(db) }
    }

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
