import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// What analytics raised on its own: one churn-risk episode per account (ChurnRiskRaised when
/// it opens, ChurnRiskCleared when it ends) and one reminder per purchase cycle
/// (RepurchaseWindowApproaching). A rebuild keeps these, so a replay never alerts twice.
enum AlertStore {
    struct Alerts {
        var riskOpenedAt: Double?
        /// "product line|last purchase" of the cycles already reminded.
        var reminded: Set<String> = []
    }

    static func alerts(_ db: Database, accountID: String) throws -> Alerts {
        Alerts(
            riskOpenedAt: try Double.fetchOne(db.cachedStatement(sql: "SELECT opened_at FROM risk_episode WHERE account_id = ?"), arguments: [accountID]),
            reminded: Set(try Row.fetchAll(db.cachedStatement(sql: "SELECT product_line, last_purchase FROM repurchase_reminder WHERE account_id = ?"), arguments: [accountID])
                .map { "\($0[0] as String)|\($0[1] as Double)" })
        )
    }

    /// Opens or closes the account's episode by its risk now; returns whether it raised one.
    @discardableResult
    static func track(_ db: Database, account: Facts.Account, risk: Forge_Analytics_V1_ChurnRisk, now: Date) throws -> Bool {
        let open = try Double.fetchOne(db, sql: "SELECT opened_at FROM risk_episode WHERE account_id = ?", arguments: [account.id]) != nil
        if !open, risk.score >= HealthRules.highRisk {
            try db.execute(sql: "INSERT INTO risk_episode (account_id, opened_at, score) VALUES (?, ?, ?)",
                           arguments: [account.id, now.timeIntervalSince1970, risk.score])
            var alerted = risk
            alerted.alerted = true
            alerted.alertedAt = .init(date: now)
            try Outbox.append(db, Forge_Analytics_V1_ChurnRiskRaised.with {
                $0.accountID = account.id
                $0.accountName = account.name
                $0.ownerID = account.ownerID
                $0.team = account.team
                $0.risk = alerted
            }, accountID: account.id, at: now)
            return true
        }
        if open, risk.score < HealthRules.mediumRisk {
            try db.execute(sql: "DELETE FROM risk_episode WHERE account_id = ?", arguments: [account.id])
            try Outbox.append(db, Forge_Analytics_V1_ChurnRiskCleared.with { $0.accountID = account.id; $0.score = risk.score }, accountID: account.id, at: now)
        }
        return false
    }

    /// Reminds the owner of a cycle once (per its last purchase); returns whether it did.
    @discardableResult
    static func remind(_ db: Database, account: Facts.Account, cycle: Forge_Analytics_V1_RepurchaseCycle, now: Date) throws -> Bool {
        try db.execute(sql: """
            INSERT OR IGNORE INTO repurchase_reminder (account_id, product_line, last_purchase, reminded_at) VALUES (?, ?, ?, ?)
            """, arguments: [account.id, cycle.productLine, cycle.lastPurchase.timeIntervalSince1970, now.timeIntervalSince1970])
        guard db.changesCount > 0 else { return false }
        var reminded = cycle
        reminded.reminded = true
        try Outbox.append(db, Forge_Analytics_V1_RepurchaseWindowApproaching.with {
            $0.accountID = account.id
            $0.accountName = account.name
            $0.ownerID = account.ownerID
            $0.team = account.team
            $0.cycle = reminded
        }, accountID: account.id, at: now)
        return true
    }
}
