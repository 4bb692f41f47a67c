import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf
import GRDB

extension PipelineHandler {
    /// Converts a lead in three steps, each idempotent and remembered on the lead as it
    /// completes: the account (created in forge-accounts as the caller, with an idempotency
    /// key made from the lead, or the one named), the contact, then the opportunity with the
    /// lead closed in one local transaction. A retry — after a timeout, a crash, or
    /// forge-accounts being down half-way — continues where the last attempt stopped and
    /// creates nothing twice; until the last step the lead stays open and convertible.
    func convertLead(_ request: Forge_Pipeline_V1_ConvertLeadRequest, context: ServerContext) async throws -> Forge_Pipeline_V1_ConvertLeadResponse {
        var violations: [FieldViolation] = []
        if request.leadID.isBlank { violations.append(FieldViolation(field: "lead_id", description: "is required")) }
        if request.opportunityName.count > 200 { violations.append(FieldViolation(field: "opportunity_name", description: "must be at most 200 characters")) }
        if request.hasAmount { violations += OpportunityRules.validate(amount: request.amount, field: "amount") }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        var lead = try await leads.visibleLead(id: request.leadID, principal: principal)
        if lead.status == .converted {
            return try await converted(lead, principal: principal)
        }
        guard LeadRules.openStatuses.contains(lead.status) else {
            throw RPCError(.failedPrecondition, "lead \(lead.id) is disqualified (\(lead.disqualifiedReason)); it cannot be converted")
        }

        // 1. The account.
        var accountCreated = false
        if !request.accountID.isEmpty {
            let account = try await accountsCall("read the account to link") { client in
                try await client.getAccount(.with { $0.id = request.accountID }, options: asCaller(context)).account
            }
            lead = try await remember(lead, context: context) { $0.accountID = account.id }
        } else if lead.accountID.isEmpty {
            let account = try await accountsCall("create the account") { client in
                try await client.createAccount(.with {
                    $0.account = .with {
                        $0.name = lead.companyName.isEmpty ? lead.contactName : lead.companyName
                        $0.region = lead.region
                        $0.industry = lead.industry
                        $0.size = lead.companySize
                        $0.ownerID = lead.ownerID
                        $0.team = lead.team
                    }
                }, options: asCaller(context, key: "convert-\(lead.id)-account")).account
            }
            accountCreated = true
            lead = try await remember(lead, context: context) { $0.accountID = account.id }
        } else {
            // A revisit lead names its account; a checkpoint from an earlier attempt likewise.
            accountCreated = lead.source != .revisitPool
        }

        // 2. The contact, when the lead names a person.
        if lead.contactID.isEmpty, !lead.contactName.isEmpty {
            let accountID = lead.accountID
            let contact = try await accountsCall("create the contact") { client in
                try await client.createContact(.with {
                    $0.contact = .with {
                        $0.accountID = accountID
                        $0.name = lead.contactName
                        $0.phone = lead.phone
                        $0.email = lead.email
                        $0.wechatID = lead.wechatID
                    }
                }, options: asCaller(context, key: "convert-\(lead.id)-contact")).contact
            }
            lead = try await remember(lead, context: context) { $0.contactID = contact.id }
        }

        // 3. The opportunity, and the lead closed, in one transaction.
        let now = clock.now()
        let name = request.opportunityName.trimmed
        let leadID = lead.id
        let created = accountCreated
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            guard var lead = try LeadStore.lead(db, id: leadID) else { throw RPCError(.notFound, "lead \(leadID) not found") }
            func response(_ opportunity: Forge_Pipeline_V1_Opportunity?) -> Forge_Pipeline_V1_ConvertLeadResponse {
                .with {
                    $0.lead = lead
                    if let opportunity { $0.opportunity = OpportunityRules.view(opportunity, for: principal) }
                    $0.accountID = lead.accountID
                    $0.contactID = lead.contactID
                    $0.accountCreated = created
                }
            }
            if lead.status == .converted {
                return response(try OpportunityStore.opportunity(db, id: lead.opportunityID))
            }
            var opportunity = Forge_Pipeline_V1_Opportunity.with {
                $0.id = EventID.make(prefix: "opp", at: now)
                $0.accountID = lead.accountID
                // Unnamed: the company (or, for a lead that names only a person, the person) and the product line.
                let who = lead.companyName.isBlank ? lead.contactName : lead.companyName
                $0.name = name.isEmpty ? [who, lead.productLine].filter { !$0.isBlank }.joined(separator: " - ") : name
                $0.ownerID = lead.ownerID
                $0.team = lead.team
                $0.productLines = lead.productLine.isEmpty ? [] : [lead.productLine]
                $0.primaryContactID = lead.contactID
                $0.leadID = lead.id
                if request.hasAmount { $0.amount = request.amount }
                if request.hasExpectedClose { $0.expectedClose = request.expectedClose }
            }
            try OpportunityStore.insert(db, &opportunity, now: now)
            try LeadStore.close(db, &lead, as: .converted, now: now)
            lead.opportunityID = opportunity.id
            lead.updatedAt = .init(date: now)
            lead.version += 1
            try LeadStore.write(db, lead)
            try Outbox.append(db, Forge_Pipeline_V1_LeadConverted.with {
                $0.lead = lead
                $0.opportunityID = opportunity.id
            }, accountID: lead.accountID, at: now)
            try AuditLog.record(db, context: context, recordID: lead.id, changes: ["status": "CONVERTED", "opportunity_id": opportunity.id], at: now)
            return response(opportunity)
        }
    }

    /// The answer for a lead converted before: the same opportunity, nothing new.
    private func converted(_ lead: Forge_Pipeline_V1_Lead, principal: Principal) async throws -> Forge_Pipeline_V1_ConvertLeadResponse {
        let opportunity = try await database.read { db in try OpportunityStore.opportunity(db, id: lead.opportunityID) }
        return .with {
            $0.lead = lead
            if let opportunity { $0.opportunity = OpportunityRules.view(opportunity, for: principal) }
            $0.accountID = lead.accountID
            $0.contactID = lead.contactID
            $0.accountCreated = false
        }
    }

    /// Records a finished conversion step on the lead (no event: the conversion's own comes
    /// at the end).
    private func remember(_ lead: Forge_Pipeline_V1_Lead, context: ServerContext, _ step: @escaping @Sendable (inout Forge_Pipeline_V1_Lead) -> Void) async throws -> Forge_Pipeline_V1_Lead {
        let now = clock.now()
        return try await database.write { db in
            guard var stored = try LeadStore.lead(db, id: lead.id) else { throw RPCError(.notFound, "lead \(lead.id) not found") }
            step(&stored)
            stored.updatedAt = .init(date: now)
            stored.version += 1
            try LeadStore.write(db, stored)
            try AuditLog.record(db, context: context, recordID: stored.id, changes: ["account_id": stored.accountID, "contact_id": stored.contactID], at: now)
            return stored
        }
    }
}
