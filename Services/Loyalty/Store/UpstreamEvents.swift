import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// What loyalty takes from other services' feeds, inside the consumer's transaction, and the
/// re-evaluation each fact sets off: accounts' names, owners and strategic flags (and merges
/// and erasures), orders' product lines, deliveries (purchases, ERP's imported history too)
/// and overdue instalments, feedback's NPS answers.
enum UpstreamEvents {
    static let accountsTypes = AccountDirectory.eventTypes + ["ContactErased"]
    static let ordersTypes = ["ProductUpserted", "OrderDelivered", "OrderImported", "PaymentOverdue"]
    static let feedbackTypes = ["SurveyAnswered"]

    static func applyAccounts(_ db: Database, _ event: Forge_Common_V1_Event, now: Date, day: TimeInterval) throws {
        try AccountDirectory.apply(db, event)
        switch event.type {
        case "AccountCreated", "AccountUpdated":
            let account = event.type == "AccountCreated"
                ? try Forge_Accounts_V1_AccountCreated(serializedBytes: event.payload).account
                : try Forge_Accounts_V1_AccountUpdated(serializedBytes: event.payload).account
            let before = try Row.fetchOne(db, sql: "SELECT industry_showcase, brings_partners FROM account_profile WHERE account_id = ?", arguments: [account.id])
            try db.execute(sql: "INSERT OR REPLACE INTO account_profile (account_id, industry_showcase, brings_partners) VALUES (?, ?, ?)",
                           arguments: [account.id, account.industryShowcase, account.bringsPartners])
            let flagsChanged = before.map { ($0["industry_showcase"] as Bool) != account.industryShowcase || ($0["brings_partners"] as Bool) != account.bringsPartners }
                ?? (account.industryShowcase || account.bringsPartners)
            try refreshNames(db, accountID: account.id)
            if flagsChanged { try reevaluate(db, account.id, now: now, trigger: "account_updated", day: day) }
        case "AccountOwnerChanged":
            let change = try Forge_Accounts_V1_AccountOwnerChanged(serializedBytes: event.payload).change
            try refreshNames(db, accountID: change.accountID)
        case "AccountMerged":
            let merged = try Forge_Accounts_V1_AccountMerged(serializedBytes: event.payload)
            try merge(db, merged.mergedIds, into: merged.survivorID, now: now, day: day)
        case "ContactErased":
            let erased = try Forge_Accounts_V1_ContactErased(serializedBytes: event.payload)
            try IdempotencyInterceptor.forgetResponses(db, containing: erased.contactID)
            for payload in try Data.fetchAll(db, sql: "SELECT payload FROM consumption WHERE contact_id = ?", arguments: [erased.contactID]) {
                var consumption = try Forge_Loyalty_V1_Consumption(serializedBytes: payload)
                consumption.contactID = ""
                // A training seat's note names the attendee.
                consumption.note = ""
                try EntitlementStore.save(db, consumption)
            }
        default:
            break
        }
    }

    static func applyOrders(_ db: Database, _ event: Forge_Common_V1_Event, now: Date, day: TimeInterval) throws {
        switch event.type {
        case "ProductUpserted":
            let product = try Forge_Orders_V1_ProductUpserted(serializedBytes: event.payload).product
            try db.execute(sql: "INSERT OR REPLACE INTO product (sku, product_line) VALUES (?, ?)", arguments: [product.sku, product.productLine])
        case "OrderDelivered":
            let delivered = try Forge_Orders_V1_OrderDelivered(serializedBytes: event.payload)
            try recordDelivered(db, delivered.order, at: delivered.hasDeliveredAt ? delivered.deliveredAt.date : event.occurredAt.date, now: now, day: day)
        case "OrderImported":
            // ERP's history: a delivered order counts as a purchase on its delivery day.
            let order = try Forge_Orders_V1_OrderImported(serializedBytes: event.payload).order
            if order.hasDeliveredAt, order.status != .cancelled {
                try recordDelivered(db, order, at: order.deliveredAt.date, now: now, day: day)
            }
        case "PaymentOverdue":
            let overdue = try Forge_Orders_V1_PaymentOverdue(serializedBytes: event.payload)
            try db.execute(sql: "INSERT OR IGNORE INTO overdue (key, account_id, occurred_at) VALUES (?, ?, ?)",
                           arguments: ["\(overdue.orderID)|\(overdue.installment.number)", overdue.accountID, event.occurredAt.date.timeIntervalSince1970])
            if db.changesCount > 0 { try reevaluate(db, overdue.accountID, now: now, trigger: "payment_overdue", day: day) }
        default:
            break
        }
    }

    /// Each line of a delivered order is a purchase in the line's product line.
    static func recordDelivered(_ db: Database, _ order: Forge_Orders_V1_Order, at delivered: Date, now: Date, day: TimeInterval) throws {
        let programme = try LoyaltyStore.programme(db, at: now)
        var recorded = false
        for line in order.lines where line.lineTotal.amountMicros != 0 {
            let productLine = try String.fetchOne(db, sql: "SELECT product_line FROM product WHERE sku = ?", arguments: [line.sku]) ?? ""
            recorded = try LoyaltyStore.recordPurchase(db, .with {
                $0.key = "order|\(order.id)|\(line.lineNo)"
                $0.accountID = order.accountID
                $0.occurredAt = .init(date: delivered)
                $0.productLine = productLine
                $0.amount = .with { $0.currencyCode = order.currencyCode.isEmpty ? "CNY" : order.currencyCode; $0.amountMicros = line.lineTotal.amountMicros }
                $0.reference = order.orderNumber
            }, programme: programme, at: now) || recorded
        }
        if recorded { try MembershipStore.evaluate(db, accountID: order.accountID, programme: programme, now: now, trigger: "order_delivered", day: day) }
    }

    static func applyFeedback(_ db: Database, _ event: Forge_Common_V1_Event, now: Date, day: TimeInterval) throws {
        guard event.type == "SurveyAnswered" else { return }
        let survey = try Forge_Feedback_V1_SurveyAnswered(serializedBytes: event.payload).survey
        guard survey.kind == .nps, survey.hasScore else { return }
        try db.execute(sql: "INSERT OR REPLACE INTO nps_answer (survey_id, account_id, score, answered_at) VALUES (?, ?, ?, ?)",
                       arguments: [survey.id, survey.accountID, survey.score, survey.answeredAt.date.timeIntervalSince1970])
        try reevaluate(db, survey.accountID, now: now, trigger: "survey_answered", day: day)
    }

    static func reevaluate(_ db: Database, _ accountID: String, now: Date, trigger: String, day: TimeInterval) throws {
        try MembershipStore.evaluate(db, accountID: accountID, programme: try LoyaltyStore.programme(db, at: now), now: now, trigger: trigger, day: day)
    }

    /// The account's name, owner and team on its membership and rebate agreements.
    static func refreshNames(_ db: Database, accountID: String) throws {
        guard let entry = try AccountDirectory.entry(db, accountID: accountID) else { return }
        if let stored = try MembershipStore.stored(db, accountID: accountID),
           (stored.membership.accountName, stored.membership.ownerID, stored.membership.team) != (entry.name, entry.ownerID, entry.team) {
            var membership = stored.membership
            membership.accountName = entry.name
            membership.ownerID = entry.ownerID
            membership.team = entry.team
            try MembershipStore.save(db, membership, baseTier: stored.baseTier)
        }
        for agreement in try RebateStore.list(db, accountID: accountID, state: .unspecified, after: "", limit: 1000) where agreement.accountName != entry.name {
            var renamed = agreement
            renamed.accountName = entry.name
            try RebateStore.save(db, renamed)
        }
    }

    /// A merge (the programme's rule): the merged accounts' purchases, answers, overdue
    /// instalments, consumptions, rebate agreements and history move to the survivor, whose
    /// membership dates from the earliest of theirs and keeps its own override (the merged
    /// ones' end); the survivor is then measured on the combined facts. Consumptions of this
    /// membership year add up, so the survivor's quota counts what either used.
    static func merge(_ db: Database, _ mergedIDs: [String], into survivor: String, now: Date, day: TimeInterval) throws {
        guard !mergedIDs.isEmpty else { return }
        let marks = databaseQuestionMarks(count: mergedIDs.count)
        let ids = StatementArguments(mergedIDs)
        for table in ["purchase", "nps_answer", "overdue", "tier_history"] {
            try db.execute(sql: "UPDATE \(table) SET account_id = ? WHERE account_id IN (\(marks))", arguments: [survivor] + ids)
        }
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM consumption WHERE account_id IN (\(marks))", arguments: ids) {
            var consumption = try Forge_Loyalty_V1_Consumption(serializedBytes: payload)
            try db.execute(sql: "DELETE FROM consumption WHERE id = ?", arguments: [consumption.id])
            consumption.accountID = survivor
            // The survivor's own consumption for the same reference wins.
            if try EntitlementStore.consumption(db, accountID: survivor, code: consumption.code, reference: consumption.reference) == nil {
                try EntitlementStore.save(db, consumption)
            }
        }
        let survivorName = try AccountDirectory.entry(db, accountID: survivor)?.name ?? ""
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM rebate_agreement WHERE account_id IN (\(marks))", arguments: ids) {
            var agreement = try Forge_Loyalty_V1_RebateAgreement(serializedBytes: payload)
            agreement.accountID = survivor
            agreement.accountName = survivorName
            agreement.version += 1
            try RebateStore.save(db, agreement)
        }
        var earliest: Date?
        for payload in try Data.fetchAll(db, sql: "SELECT payload FROM membership WHERE account_id IN (\(marks))", arguments: ids) {
            let membership = try Forge_Loyalty_V1_Membership(serializedBytes: payload)
            if membership.hasMemberSince { earliest = min(earliest ?? membership.memberSince.date, membership.memberSince.date) }
            try JobScheduler.cancelPending(db, kind: MembershipStore.graceJob, idPrefix: "\(MembershipStore.graceJob)|\(membership.accountID)")
            try JobScheduler.cancelPending(db, kind: MembershipStore.overrideJob, idPrefix: "\(MembershipStore.overrideJob)|\(membership.accountID)")
        }
        try db.execute(sql: "DELETE FROM membership WHERE account_id IN (\(marks))", arguments: ids)
        try db.execute(sql: "DELETE FROM account_profile WHERE account_id IN (\(marks))", arguments: ids)
        if let earliest, var stored = try MembershipStore.stored(db, accountID: survivor) {
            if !stored.membership.hasMemberSince || stored.membership.memberSince.date > earliest {
                stored.membership.memberSince = .init(date: earliest)
                try MembershipStore.save(db, stored.membership, baseTier: stored.baseTier)
            }
        } else if let earliest {
            // The survivor had no membership yet: it starts with the earliest anniversary.
            try MembershipStore.save(db, .with { $0.accountID = survivor; $0.memberSince = .init(date: earliest) }, baseTier: "")
        }
        try reevaluate(db, survivor, now: now, trigger: "account_merged", day: day)
    }
}
