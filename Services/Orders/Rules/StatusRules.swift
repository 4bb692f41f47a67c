import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// Production and shipment reports from ERP and MES. Connectors repeat reports (a retried
/// batch) and deliver them out of order (two systems, queues, a nightly file): a repeated event
/// id changes nothing, and a line only ever moves forward. A report behind the line's status,
/// or at the same status but observed earlier than the applied one, is kept in the history
/// only; one at the same status observed later updates the details (progress, tracking). A
/// rework after inspection therefore shows in the history while the line stays at its furthest
/// point, which is what the customer was told.
enum StatusRules {
    static let maxBatch = 500

    static func validate(_ report: Forge_Orders_V1_StatusReport, field: String = "report") -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func check(_ condition: Bool, _ name: String, _ description: String) {
            if !condition { violations.append(FieldViolation(field: "\(field).\(name)", description: description)) }
        }
        check(!report.eventID.isBlank && report.eventID.count <= 128, "event_id", "is required, at most 128 characters")
        check(!report.orderID.isBlank || !report.erpOrderNumber.isBlank, "order_id", "is required (or erp_order_number)")
        check(report.lineNo >= 0, "line_no", "must not be negative")
        check((1...7).contains(report.status.rawValue), "status", "is required: SCHEDULED … DELIVERED")
        check(report.hasSourceTime, "source_time", "is required (when ERP or MES observed it)")
        check(report.percent >= 0 && report.percent <= 100, "percent", "must be between 0 and 100")
        check(report.source.count <= 64, "source", "must be at most 64 characters")
        check(report.workCentre.count <= 100, "work_centre", "must be at most 100 characters")
        check(report.carrier.count <= 100, "carrier", "must be at most 100 characters")
        check(report.trackingNumber.count <= 100, "tracking_number", "must be at most 100 characters")
        check(report.signedBy.count <= 100, "signed_by", "must be at most 100 characters")
        check(report.note.count <= 1000, "note", "must be at most 1,000 characters")
        check(report.serialNumbers.count <= 1000 && report.serialNumbers.allSatisfy { !$0.isEmpty && $0.count <= 64 }, "serial_numbers",
              "at most 1,000, each 1–64 characters")
        return violations
    }

    /// What a report does to a line whose applied state is `current`.
    static func outcome(current: Forge_Orders_V1_ProductionState, report: Forge_Orders_V1_StatusReport) -> Forge_Orders_V1_ReportOutcome {
        guard current.status != .unspecified else { return .applied }
        if report.status.rawValue > current.status.rawValue { return .applied }
        if report.status == current.status, report.sourceTime.date > current.sourceTime.date { return .applied }
        return .historyOnly
    }

    /// The line's state after an applied report: the status and what the report tells of it;
    /// a tracking number or signer already known is kept when the report leaves it out.
    static func applied(_ report: Forge_Orders_V1_StatusReport, over current: Forge_Orders_V1_ProductionState) -> Forge_Orders_V1_ProductionState {
        var state = current
        state.status = report.status
        state.sourceTime = report.sourceTime
        state.eventID = report.eventID
        switch report.status {
        case .inProduction:
            state.percent = report.percent
            if !report.workCentre.isEmpty { state.workCentre = report.workCentre }
        case .shipped, .delivered:
            if !report.carrier.isEmpty { state.carrier = report.carrier }
            if !report.trackingNumber.isEmpty { state.trackingNumber = report.trackingNumber }
            if report.status == .delivered {
                if !report.signedBy.isEmpty { state.signedBy = report.signedBy }
                state.deliveredAt = report.sourceTime
            }
            state.percent = 100
        default:
            if report.status.rawValue > Forge_Orders_V1_ProductionStatus.inProduction.rawValue { state.percent = 100 }
        }
        return state
    }

    /// Delivered no later than the promised day, counted in China Standard Time (the day a
    /// promise is made in); a line without a promised date is on time.
    static func onTime(promised: Google_Protobuf_Timestamp?, delivered: Date) -> Bool {
        guard let promised else { return true }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        let promisedDay = calendar.startOfDay(for: promised.date)
        let deliveredDay = calendar.startOfDay(for: delivered)
        return deliveredDay <= promisedDay
    }

    /// The history line's details.
    static func details(_ report: Forge_Orders_V1_StatusReport) -> String {
        var parts: [String] = []
        if report.status == .inProduction { parts.append("\(report.percent)%") }
        if !report.workCentre.isEmpty { parts.append(report.workCentre) }
        if !report.carrier.isEmpty { parts.append(report.carrier) }
        if !report.trackingNumber.isEmpty { parts.append("运单号 \(report.trackingNumber)") }
        if !report.signedBy.isEmpty { parts.append("签收人 \(report.signedBy)") }
        if !report.serialNumbers.isEmpty { parts.append("序列号 " + report.serialNumbers.joined(separator: ", ")) }
        if !report.note.isEmpty { parts.append(report.note) }
        return parts.joined(separator: " · ")
    }
}
