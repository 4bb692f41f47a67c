import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// What the pipeline takes from the service desk's feed, inside the consumer's transaction: a
/// machine predicted to fail is a spare-parts sale in the making — an opportunity for the
/// account's owner, once per prediction, with a task to call the customer before the machine
/// stops (due two days on, or by the projected failure when that is sooner).
enum ServiceFeed {
    static let eventTypes = ["EquipmentFailurePredicted"]

    static func apply(_ db: Database, _ event: Forge_Common_V1_Event, clock: any WallClock) throws {
        guard event.type == "EquipmentFailurePredicted" else { return }
        try openSparePartsOpportunity(db, try Forge_Servicedesk_V1_EquipmentFailurePredicted(serializedBytes: event.payload), now: clock.now())
    }

    /// The opportunity's id comes from the prediction's, so a redelivered event opens nothing twice.
    static func openSparePartsOpportunity(_ db: Database, _ predicted: Forge_Servicedesk_V1_EquipmentFailurePredicted, now: Date) throws {
        let prediction = predicted.prediction
        let id = "opp_" + (prediction.id.isEmpty ? predicted.equipmentID : prediction.id)
        guard try OpportunityStore.opportunity(db, id: id) == nil, let account = try AccountDirectory.entry(db, accountID: predicted.accountID) else { return }
        let serial = predicted.equipment.serialNumber.isEmpty ? prediction.serialNumber : predicted.equipment.serialNumber
        var opportunity = Forge_Pipeline_V1_Opportunity.with {
            $0.id = id
            $0.accountID = account.accountID
            $0.name = "备件：\(serial) \(prediction.ruleName)" + (prediction.parts.isEmpty ? "" : "（\(prediction.parts.joined(separator: "，"))）")
            $0.ownerID = account.ownerID
            $0.team = account.team
            $0.productLines = ["备件"]
            if prediction.hasProjectedFailureAt { $0.expectedClose = prediction.projectedFailureAt }
        }
        try OpportunityStore.insert(db, &opportunity, now: now)
        let twoDays = now.addingTimeInterval(2 * 86_400)
        try PipelineStore.createTask(db, .with {
            $0.id = "tsk_" + id
            $0.ownerID = account.ownerID
            $0.kind = "spare_parts"
            $0.accountID = account.accountID
            $0.opportunityID = id
            $0.title = "预测性维护：\(account.name) 的 \(serial) \(prediction.ruleName)，联系客户安排检修并报价备件"
                + (prediction.parts.isEmpty ? "" : "（\(prediction.parts.joined(separator: "，"))）")
            $0.dueAt = .init(date: prediction.hasProjectedFailureAt ? min(twoDays, prediction.projectedFailureAt.date) : twoDays)
            $0.createdAt = .init(date: now)
        }, at: now)
    }
}
