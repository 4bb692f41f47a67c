import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// What a captured lead must carry, and the keys it is de-duplicated by.
enum LeadRules {
    static func validate(capture lead: Forge_Pipeline_V1_Lead, now: Date) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func limit(_ field: String, _ value: String, _ maximum: Int) {
            if value.count > maximum {
                violations.append(FieldViolation(field: "lead.\(field)", description: "must be at most \(maximum) characters"))
            }
        }
        let company = lead.companyName.trimmed
        let person = lead.contactName.trimmed
        if company.isEmpty && person.isEmpty {
            violations.append(FieldViolation(field: "lead.company_name", description: "is required (or a contact_name)"))
        }
        limit("company_name", lead.companyName, 200)
        limit("contact_name", lead.contactName, 100)
        limit("wechat_id", lead.wechatID, 100)
        limit("region", lead.region, 50)
        limit("product_line", lead.productLine, 100)
        limit("industry", lead.industry, 100)
        limit("campaign", lead.campaign, 200)
        limit("need", lead.need, 4000)
        if !lead.phone.isEmpty, !(5...20).contains(ContactKeys.phone(lead.phone).count) {
            violations.append(FieldViolation(field: "lead.phone", description: "must have 5 to 20 digits"))
        }
        if !lead.email.isEmpty, ContactKeys.emailDomain(lead.email).isEmpty {
            violations.append(FieldViolation(field: "lead.email", description: "is not an email address"))
        }
        if lead.source == .revisitPool {
            violations.append(FieldViolation(field: "lead.source", description: "LEAD_SOURCE_REVISIT_POOL leads come from accounts' revisit pool, not by hand"))
        } else if case .UNRECOGNIZED = lead.source {
            violations.append(FieldViolation(field: "lead.source", description: "is not a lead source"))
        }
        if lead.hasReceivedAt, lead.receivedAt.date > now.addingTimeInterval(300) {
            violations.append(FieldViolation(field: "lead.received_at", description: "is in the future"))
        }
        return violations
    }

    /// The lead as it is stored: trimmed, with the fields the service sets cleared.
    static func normalizedCapture(_ requested: Forge_Pipeline_V1_Lead, now: Date) -> Forge_Pipeline_V1_Lead {
        var lead = Forge_Pipeline_V1_Lead()
        lead.companyName = requested.companyName.trimmed
        lead.contactName = requested.contactName.trimmed
        lead.phone = requested.phone.trimmed
        lead.email = requested.email.trimmed
        lead.wechatID = requested.wechatID.trimmed
        lead.region = requested.region.trimmed
        lead.productLine = requested.productLine.trimmed
        lead.industry = requested.industry.trimmed
        lead.companySize = requested.companySize
        lead.need = requested.need.trimmed
        lead.source = requested.source == .unspecified ? .manual : requested.source
        lead.campaign = requested.campaign.trimmed
        lead.receivedAt = requested.hasReceivedAt ? requested.receivedAt : .init(date: now)
        lead.inquiryCount = 1
        return lead
    }

    /// The identifying keys of a lead (empty when absent): the normalised company name, the
    /// phone digits (at least 7), the whole email address and its company domain.
    struct Keys: Equatable {
        var name: String
        var phone: String
        var email: String
        var domain: String

        init(_ lead: Forge_Pipeline_V1_Lead) {
            name = NameNormalizer.normalize(lead.companyName)
            let digits = ContactKeys.phone(lead.phone)
            phone = digits.count >= 7 ? digits : ""
            email = ContactKeys.emailDomain(lead.email).isEmpty ? "" : lead.email.trimmingCharacters(in: .whitespaces).lowercased()
            domain = ContactKeys.companyEmailDomain(lead.email)
        }
    }

    static let openStatuses: [Forge_Pipeline_V1_LeadStatus] = [.new, .working]
}
