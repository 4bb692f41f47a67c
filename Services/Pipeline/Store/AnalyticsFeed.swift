import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// What the pipeline takes from analytics' feed, inside the consumer's transaction: a customer
/// at risk of churning and a purchase window coming up are tasks for the account's owner —
/// once per alert (the task's id comes from the event's), due in three days for a risk and on
/// the day the window opens for a repurchase.
enum AnalyticsFeed {
    static let eventTypes = ["ChurnRiskRaised", "RepurchaseWindowApproaching"]

    static func apply(_ db: Database, _ event: Forge_Common_V1_Event, clock: any WallClock) throws {
        let now = clock.now()
        switch event.type {
        case "ChurnRiskRaised":
            let raised = try Forge_Analytics_V1_ChurnRiskRaised(serializedBytes: event.payload)
            guard let owner = try owner(db, raised.accountID, fallback: raised.ownerID) else { return }
            try PipelineStore.createTask(db, .with {
                $0.id = "tsk_" + event.eventID
                $0.ownerID = owner
                $0.kind = "churn_risk"
                $0.accountID = raised.accountID
                $0.title = "流失风险：\(raised.accountName)（\(raised.risk.signals.map(\.label).joined(separator: "、"))）— 联系客户了解情况"
                $0.dueAt = .init(date: now.addingTimeInterval(3 * 86_400))
                $0.createdAt = .init(date: now)
            }, at: now)
        case "RepurchaseWindowApproaching":
            let approaching = try Forge_Analytics_V1_RepurchaseWindowApproaching(serializedBytes: event.payload)
            guard let owner = try owner(db, approaching.accountID, fallback: approaching.ownerID) else { return }
            let cycle = approaching.cycle
            try PipelineStore.createTask(db, .with {
                $0.id = "tsk_" + event.eventID
                $0.ownerID = owner
                $0.kind = "repurchase"
                $0.accountID = approaching.accountID
                $0.title = "复购提醒：\(approaching.accountName) 的\(cycle.productLine)预计 \(ChinaCalendar.day(cycle.windowOpens.date)) 起需要补货（约每 \(Int(cycle.meanIntervalDays)) 天一次）"
                $0.dueAt = cycle.windowOpens
                $0.createdAt = .init(date: now)
            }, at: now)
        default:
            break
        }
    }

    /// The account's owner now (the directory follows hand-overs); the event's when the
    /// directory does not know the account.
    static func owner(_ db: Database, _ accountID: String, fallback: String) throws -> String? {
        let owner = try AccountDirectory.entry(db, accountID: accountID)?.ownerID ?? fallback
        return owner.isEmpty ? nil : owner
    }
}
