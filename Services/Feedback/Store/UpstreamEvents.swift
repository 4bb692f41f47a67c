import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// What feedback takes from other services' feeds, inside the consumer's transaction: accounts
/// (names, owners, the report dimensions, contacts; merges re-point every record, an erased
/// contact is anonymised while their answers stay in the statistics; the revisit pool asks for
/// an NPS survey), orders (a delivery asks for an NPS survey after the configured days) and the
/// service desk (a closed ticket asks for a CSAT survey).
enum UpstreamEvents {
    static let accountsTypes = AccountDirectory.eventTypes + ["ContactCreated", "ContactUpdated", "ContactDeleted", "ContactErased", "AccountEnteredRevisitPool"]
    static let ordersTypes = ["OrderDelivered"]
    static let serviceDeskTypes = ["TicketClosed"]
    static let system = "forge-feedback"

    static func applyAccounts(_ db: Database, _ event: Forge_Common_V1_Event, now: Date) throws {
        try AccountDirectory.apply(db, event)
        switch event.type {
        case "AccountCreated":
            try FeedbackStore.upsertProfile(db, try Forge_Accounts_V1_AccountCreated(serializedBytes: event.payload).account)
        case "AccountUpdated":
            let account = try Forge_Accounts_V1_AccountUpdated(serializedBytes: event.payload).account
            try FeedbackStore.upsertProfile(db, account)
            try reown(db, accountID: account.id)
        case "AccountOwnerChanged":
            try reown(db, accountID: try Forge_Accounts_V1_AccountOwnerChanged(serializedBytes: event.payload).change.accountID)
        case "AccountMerged":
            let merged = try Forge_Accounts_V1_AccountMerged(serializedBytes: event.payload)
            try repoint(db, from: merged.mergedIds, to: merged.survivorID)
        case "ContactCreated":
            try FeedbackStore.upsertContact(db, try Forge_Accounts_V1_ContactCreated(serializedBytes: event.payload).contact, seq: Int64(event.seq))
        case "ContactUpdated":
            try FeedbackStore.upsertContact(db, try Forge_Accounts_V1_ContactUpdated(serializedBytes: event.payload).contact, seq: Int64(event.seq))
        case "ContactDeleted":
            try db.execute(sql: "DELETE FROM contact WHERE id = ?", arguments: [try Forge_Accounts_V1_ContactDeleted(serializedBytes: event.payload).contactID])
        case "ContactErased":
            let erased = try Forge_Accounts_V1_ContactErased(serializedBytes: event.payload)
            try anonymise(db, contactID: erased.contactID)
            try IdempotencyInterceptor.forgetResponses(db, containing: erased.contactID)
        case "AccountEnteredRevisitPool":
            let pooled = try Forge_Accounts_V1_AccountEnteredRevisitPool(serializedBytes: event.payload)
            guard try FeedbackStore.settings(db).surveyRevisitPool else { return }
            let contact = try FeedbackStore.mainContact(db, accountID: pooled.accountID)
            try SurveyStore.schedule(db, .with {
                $0.accountID = pooled.accountID
                $0.contactID = contact?.id ?? ""
                $0.kind = .nps
                $0.reference = "revisit pool (\(pooled.daysSilent) days silent)"
            }, trigger: .revisitPool, sourceKey: "revisit|\(pooled.accountID)|\(SurveyRules.day(event.occurredAt.date))", createdBy: system, now: now)
        default:
            break
        }
    }

    /// An NPS survey to the order's contact (else the account's main contact) the configured
    /// days after delivery; once per order. A delivery whose survey time passed longer ago than
    /// a link stays open is history (orders' feed followed from its start, old orders
    /// imported): asking about it now would puzzle the customer, so it asks nothing.
    /// - Parameter day: a day's length (FORGE_DAY_SECONDS).
    static func applyOrders(_ db: Database, _ event: Forge_Common_V1_Event, now: Date, day: TimeInterval = 86_400) throws {
        guard event.type == "OrderDelivered" else { return }
        let delivered = try Forge_Orders_V1_OrderDelivered(serializedBytes: event.payload)
        let settings = try FeedbackStore.settings(db)
        let days = settings.deliveryDelayDays
        guard days > 0, try FeedbackStore.account(db, delivered.order.accountID) != nil else { return }
        let order = delivered.order
        let contactID = order.contactID.isEmpty ? try FeedbackStore.mainContact(db, accountID: order.accountID)?.id ?? "" : order.contactID
        let deliveredAt = delivered.hasDeliveredAt ? delivered.deliveredAt.date : now
        guard deliveredAt.addingTimeInterval(Double(days) * day) > now.addingTimeInterval(-Double(settings.linkValidDays) * day) else { return }
        try SurveyStore.schedule(db, .with {
            $0.accountID = order.accountID
            $0.contactID = contactID
            $0.kind = .nps
            $0.reference = order.orderNumber.isEmpty ? order.id : order.orderNumber
            $0.sendAt = .init(date: max(now, deliveredAt.addingTimeInterval(Double(days) * day)))
        }, trigger: .orderDelivered, sourceKey: "order|\(order.id)", createdBy: system, now: now)
    }

    /// A CSAT survey to the ticket's contact when it closes; once per ticket.
    static func applyServiceDesk(_ db: Database, _ event: Forge_Common_V1_Event, now: Date) throws {
        guard event.type == "TicketClosed" else { return }
        let ticket = try Forge_Servicedesk_V1_TicketClosed(serializedBytes: event.payload).ticket
        guard try FeedbackStore.settings(db).surveyClosedTickets, try FeedbackStore.account(db, ticket.accountID) != nil else { return }
        let contactID = ticket.contactID.isEmpty ? try FeedbackStore.mainContact(db, accountID: ticket.accountID)?.id ?? "" : ticket.contactID
        try SurveyStore.schedule(db, .with {
            $0.accountID = ticket.accountID
            $0.contactID = contactID
            $0.kind = .csat
            $0.reference = ticket.number
            $0.productLine = ticket.productLine
        }, trigger: .ticketClosed, sourceKey: "ticket|\(ticket.id)", createdBy: system, now: now)
    }

    // MARK: Re-pointing and anonymising

    /// Records of an account follow its current owner and team (who sees them, who follows up).
    static func reown(_ db: Database, accountID: String) throws {
        guard let entry = try AccountDirectory.entry(db, accountID: accountID) else { return }
        try rewrite(db, where: "account_id = ? AND (owner_id != ? OR team != ?)", [accountID, entry.ownerID, entry.team]) { record in
            record.owner = entry.ownerID
            record.team = entry.team
            record.accountName = entry.name
        }
    }

    static func repoint(_ db: Database, from merged: [String], to survivor: String) throws {
        guard !merged.isEmpty else { return }
        let entry = try AccountDirectory.entry(db, accountID: survivor)
        try rewrite(db, where: "account_id IN (\(databaseQuestionMarks(count: merged.count)))", StatementArguments(merged), ideas: true) { record in
            record.accountID = survivor
            if let entry {
                record.accountName = entry.name
                record.owner = entry.ownerID
                record.team = entry.team
            }
        }
        let marks = databaseQuestionMarks(count: merged.count)
        try db.execute(sql: "UPDATE contact SET account_id = ? WHERE account_id IN (\(marks))", arguments: [survivor] + StatementArguments(merged))
        try db.execute(sql: "DELETE FROM account_profile WHERE account_id IN (\(marks))", arguments: StatementArguments(merged))
        // Votes: the survivor's, once.
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM idea") {
            var idea = try Forge_Feedback_V1_Idea(serializedBytes: payload)
            let voters = idea.voterAccountIds.map { merged.contains($0) ? survivor : $0 }
            var unique: [String] = []
            for voter in voters where !unique.contains(voter) { unique.append(voter) }
            guard unique != idea.voterAccountIds else { continue }
            idea.voterAccountIds = unique
            idea.votes = Int32(unique.count)
            try IdeaStore.save(db, idea)
        }
    }

    /// The person goes; their answers stay in the statistics without them.
    static func anonymise(_ db: Database, contactID: String) throws {
        guard !contactID.isEmpty else { return }
        try db.execute(sql: "DELETE FROM contact WHERE id = ?", arguments: [contactID])
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM survey WHERE contact_id = ?", arguments: [contactID]) {
            var survey = try Forge_Feedback_V1_Survey(serializedBytes: payload)
            survey.contactID = ""
            survey.contactName = ""
            try SurveyStore.save(db, survey)
        }
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM follow_up") {
            var followUp = try Forge_Feedback_V1_FollowUp(serializedBytes: payload)
            guard followUp.contactID == contactID else { continue }
            followUp.contactID = ""
            followUp.contactName = ""
            try LoopStore.save(db, followUp)
        }
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM advocacy") {
            var advocacy = try Forge_Feedback_V1_Advocacy(serializedBytes: payload)
            guard advocacy.contactID == contactID else { continue }
            advocacy.contactID = ""
            try db.execute(sql: "UPDATE advocacy SET payload = ? WHERE id = ?", arguments: [try advocacy.serializedData(), advocacy.id])
        }
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM idea") {
            var idea = try Forge_Feedback_V1_Idea(serializedBytes: payload)
            guard idea.contactID == contactID else { continue }
            idea.contactID = ""
            try IdeaStore.save(db, idea)
        }
    }

    /// The fields a re-point or re-own changes, the same on every kind of record.
    struct Ownership {
        var accountID: String
        var accountName: String
        var owner: String
        var team: String
    }

    /// - Parameter ideas: ideas too (they have no owner: only a merge moves them).
    private static func rewrite(_ db: Database, where clause: String, _ arguments: StatementArguments, ideas: Bool = false,
                                _ change: (inout Ownership) -> Void) throws {
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM survey WHERE \(clause)", arguments: arguments) {
            var survey = try Forge_Feedback_V1_Survey(serializedBytes: payload)
            var record = Ownership(accountID: survey.accountID, accountName: survey.accountName, owner: survey.ownerID, team: survey.team)
            change(&record)
            (survey.accountID, survey.accountName, survey.ownerID, survey.team) = (record.accountID, record.accountName, record.owner, record.team)
            try SurveyStore.save(db, survey)
        }
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM follow_up WHERE \(clause)", arguments: arguments) {
            var followUp = try Forge_Feedback_V1_FollowUp(serializedBytes: payload)
            var record = Ownership(accountID: followUp.accountID, accountName: followUp.accountName, owner: followUp.ownerID, team: followUp.team)
            change(&record)
            (followUp.accountID, followUp.accountName, followUp.ownerID, followUp.team) = (record.accountID, record.accountName, record.owner, record.team)
            try LoopStore.save(db, followUp)
        }
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM advocacy WHERE \(clause)", arguments: arguments) {
            var advocacy = try Forge_Feedback_V1_Advocacy(serializedBytes: payload)
            var record = Ownership(accountID: advocacy.accountID, accountName: advocacy.accountName, owner: advocacy.ownerID, team: advocacy.team)
            change(&record)
            (advocacy.accountID, advocacy.accountName, advocacy.ownerID, advocacy.team) = (record.accountID, record.accountName, record.owner, record.team)
            try db.execute(sql: "UPDATE advocacy SET account_id = ?, owner_id = ?, team = ?, payload = ? WHERE id = ?",
                           arguments: [advocacy.accountID, advocacy.ownerID, advocacy.team, try advocacy.serializedData(), advocacy.id])
        }
        if ideas {
            for payload in try Data.fetchAll(db, sql: "SELECT payload FROM idea WHERE \(clause)", arguments: arguments) {
                var idea = try Forge_Feedback_V1_Idea(serializedBytes: payload)
                var record = Ownership(accountID: idea.accountID, accountName: idea.accountName, owner: "", team: "")
                change(&record)
                (idea.accountID, idea.accountName) = (record.accountID, record.accountName)
                try IdeaStore.save(db, idea)
            }
        }
    }
}
