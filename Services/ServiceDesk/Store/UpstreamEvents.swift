import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// What the service desk takes from other services' feeds, inside the consumer's transaction:
/// account names and owners (and merges, which re-point machines, tickets, work orders and
/// predictions to the surviving account), erased contacts (removed from tickets), delivered
/// machines (the installed base), a detractor's survey answer (a follow-up complaint), a
/// partner tier (its machines' service level).
enum UpstreamEvents {
    static let accountsTypes = AccountDirectory.eventTypes + ["ContactErased"]
    static let ordersTypes = ["OrderDelivered"]
    static let feedbackTypes = ["SurveyAnswered"]
    static let loyaltyTypes = ["TierChanged"]

    static func applyAccounts(_ db: Database, _ event: Forge_Common_V1_Event, now: Date) throws {
        try AccountDirectory.apply(db, event)
        switch event.type {
        case "AccountMerged":
            let merged = try Forge_Accounts_V1_AccountMerged(serializedBytes: event.payload)
            try repoint(db, from: merged.mergedIds, to: merged.survivorID)
        case "ContactErased":
            let erased = try Forge_Accounts_V1_ContactErased(serializedBytes: event.payload)
            try IdempotencyInterceptor.forgetResponses(db, containing: erased.contactID)
            try rewriteTickets(db, where: "account_id = ?", [erased.accountID]) { ticket in
                guard ticket.contactID == erased.contactID else { return false }
                ticket.contactID = ""
                return true
            }
        default:
            break
        }
    }

    static func applyOrders(_ db: Database, _ event: Forge_Common_V1_Event, now: Date) throws {
        guard event.type == "OrderDelivered" else { return }
        try EquipmentStore.registerDelivered(db, try Forge_Orders_V1_OrderDelivered(serializedBytes: event.payload), now: now)
    }

    static func applyFeedback(_ db: Database, _ event: Forge_Common_V1_Event, now: Date) throws {
        guard event.type == "SurveyAnswered" else { return }
        try TicketStore.openDetractorFollowUp(db, try Forge_Feedback_V1_SurveyAnswered(serializedBytes: event.payload).survey, now: now)
    }

    /// A partner tier sets the service level of the account's machines (the programme's level
    /// for the tier: gold → gold targets, silver → silver, bronze → standard); their next
    /// tickets get its SLA targets.
    static func applyLoyalty(_ db: Database, _ event: Forge_Common_V1_Event, now: Date) throws {
        guard event.type == "TierChanged" else { return }
        let changed = try Forge_Loyalty_V1_TierChanged(serializedBytes: event.payload)
        // The programme names each tier's level; an event without one falls back to the tier.
        let level = changed.serviceLevel.isEmpty ? TicketRules.serviceLevel(for: changed.to) : changed.serviceLevel
        try db.execute(sql: "INSERT OR REPLACE INTO account_service_level (account_id, level) VALUES (?, ?)", arguments: [changed.accountID, level])
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM equipment WHERE account_id = ?", arguments: [changed.accountID]) {
            let equipment = try Forge_Servicedesk_V1_Equipment(serializedBytes: payload)
            guard equipment.serviceLevel != level else { continue }
            _ = try EquipmentStore.register(db, .with { $0.serialNumber = equipment.serialNumber; $0.serviceLevel = level }, now: now)
        }
    }

    static func repoint(_ db: Database, from merged: [String], to survivor: String) throws {
        guard !merged.isEmpty else { return }
        let account = try AccountDirectory.entry(db, accountID: survivor)
        let marks = databaseQuestionMarks(count: merged.count)
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM equipment WHERE account_id IN (\(marks))", arguments: StatementArguments(merged)) {
            var equipment = try Forge_Servicedesk_V1_Equipment(serializedBytes: payload)
            equipment.accountID = survivor
            if let account { equipment.accountName = account.name }
            equipment.version += 1
            try db.execute(sql: "UPDATE equipment SET account_id = ?, version = ?, payload = ? WHERE id = ?",
                           arguments: [survivor, equipment.version, try equipment.serializedData(), equipment.id])
        }
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM work_order WHERE account_id IN (\(marks))", arguments: StatementArguments(merged)) {
            var order = try Forge_Servicedesk_V1_WorkOrder(serializedBytes: payload)
            order.accountID = survivor
            if let account { order.accountName = account.name }
            order.version += 1
            try db.execute(sql: "UPDATE work_order SET account_id = ?, version = ?, payload = ? WHERE id = ?",
                           arguments: [survivor, order.version, try order.serializedData(), order.id])
        }
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM prediction WHERE account_id IN (\(marks))", arguments: StatementArguments(merged)) {
            var prediction = try Forge_Servicedesk_V1_Prediction(serializedBytes: payload)
            prediction.accountID = survivor
            try TelemetryStore.savePrediction(db, prediction)
        }
        try rewriteTickets(db, where: "account_id IN (\(marks))", StatementArguments(merged)) { ticket in
            ticket.accountID = survivor
            if let account {
                ticket.accountName = account.name
                ticket.ownerID = account.ownerID
                ticket.team = account.team
            }
            return true
        }
    }

    /// Rewrites the tickets `change` says changed (columns and payload; the SLA is untouched).
    private static func rewriteTickets(_ db: Database, where clause: String, _ arguments: StatementArguments,
                                       _ change: (inout Forge_Servicedesk_V1_Ticket) -> Bool) throws {
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM ticket WHERE \(clause)", arguments: arguments) {
            var ticket = try Forge_Servicedesk_V1_Ticket(serializedBytes: payload)
            guard change(&ticket) else { continue }
            ticket.version += 1
            try db.execute(sql: "UPDATE ticket SET account_id = ?, owner_id = ?, team = ?, version = ?, payload = ? WHERE id = ?",
                           arguments: [ticket.accountID, ticket.ownerID, ticket.team, ticket.version, try ticket.serializedData(), ticket.id])
        }
    }
}
