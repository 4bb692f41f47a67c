import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// What an opportunity must carry, and who sees its amounts.
enum OpportunityRules {
    /// An opportunity's amount: not negative, in an ISO 4217 currency (empty: CNY).
    static func validate(amount: Forge_Common_V1_Money, field: String) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        if amount.amountMicros < 0 {
            violations.append(FieldViolation(field: "\(field).amount_micros", description: "must not be negative"))
        }
        let currency = amount.currencyCode
        if !currency.isEmpty, currency.count != 3 || !currency.allSatisfy({ $0.isASCII && $0.isUppercase }) {
            violations.append(FieldViolation(field: "\(field).currency_code", description: "must be an ISO 4217 code such as CNY"))
        }
        return violations
    }

    static func validate(_ opportunity: Forge_Pipeline_V1_Opportunity, field: String = "opportunity", isNew: Bool) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        let name = opportunity.name.trimmed
        if name.isEmpty { violations.append(FieldViolation(field: "\(field).name", description: "is required")) }
        if name.count > 200 { violations.append(FieldViolation(field: "\(field).name", description: "must be at most 200 characters")) }
        if isNew, opportunity.accountID.isEmpty {
            violations.append(FieldViolation(field: "\(field).account_id", description: "is required"))
        }
        if !isNew, opportunity.id.isEmpty {
            violations.append(FieldViolation(field: "\(field).id", description: "is required"))
        }
        if opportunity.hasAmount {
            violations += validate(amount: opportunity.amount, field: "\(field).amount")
        }
        if !(0...100).contains(opportunity.probabilityPercent) {
            violations.append(FieldViolation(field: "\(field).probability_percent", description: "must be between 0 and 100"))
        }
        if opportunity.productLines.count > 20 || opportunity.productLines.contains(where: { $0.count > 100 }) {
            violations.append(FieldViolation(field: "\(field).product_lines", description: "at most 20, each at most 100 characters"))
        }
        if opportunity.competitors.count > 20 || opportunity.competitors.contains(where: { $0.count > 100 }) {
            violations.append(FieldViolation(field: "\(field).competitors", description: "at most 20, each at most 100 characters"))
        }
        if isNew, opportunity.stage != .unspecified, opportunity.stage != .technicalConsultation {
            violations.append(FieldViolation(field: "\(field).stage", description: "a new opportunity starts in STAGE_TECHNICAL_CONSULTATION; move it with AdvanceStage"))
        }
        return violations
    }

    /// Amounts are commercial terms: sales (their own and their team's records), finance,
    /// managers, analysts and admins see them; marketing and the service roles see the
    /// opportunity without them (DESIGN §9's field level).
    static func maySeeAmounts(_ principal: Principal?) -> Bool {
        guard let principal else { return false }
        let allowed: Set<String> = [Role.admin, Role.salesManager, Role.salesRep, Role.finance, Role.analyst, Role.service]
        return !principal.roles.isDisjoint(with: allowed)
    }

    static func view(_ opportunity: Forge_Pipeline_V1_Opportunity, for principal: Principal?) -> Forge_Pipeline_V1_Opportunity {
        guard !maySeeAmounts(principal) else { return opportunity }
        var hidden = opportunity
        hidden.clearAmount()
        return hidden
    }

    static func changes(from old: Forge_Pipeline_V1_Opportunity, to new: Forge_Pipeline_V1_Opportunity) -> [String: String] {
        var changed: [String: String] = [:]
        func compare(_ name: String, _ a: String, _ b: String) { if a != b { changed[name] = b } }
        compare("name", old.name, new.name)
        compare("amount_micros", "\(old.amount.amountMicros)", "\(new.amount.amountMicros)")
        compare("currency", old.amount.currencyCode, new.amount.currencyCode)
        compare("probability_percent", "\(old.probabilityPercent)", "\(new.probabilityPercent)")
        compare("expected_close", old.hasExpectedClose ? RFC3339.string(from: old.expectedClose.date) : "", new.hasExpectedClose ? RFC3339.string(from: new.expectedClose.date) : "")
        compare("product_lines", old.productLines.joined(separator: ","), new.productLines.joined(separator: ","))
        compare("competitors", old.competitors.joined(separator: ","), new.competitors.joined(separator: ","))
        compare("forecast_category", "\(old.forecastCategory.rawValue)", "\(new.forecastCategory.rawValue)")
        compare("primary_contact_id", old.primaryContactID, new.primaryContactID)
        return changed
    }
}
