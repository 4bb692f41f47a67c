import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// Contacts and activities of `forge.accounts.v1.Accounts`.
extension AccountsHandler {
    func createContact(_ request: Forge_Accounts_V1_CreateContactRequest, context: ServerContext) async throws -> Forge_Accounts_V1_CreateContactResponse {
        var violations = ContactRules.validate(request.contact, isNew: true)
        if !request.contact.id.isEmpty { violations.append(FieldViolation(field: "contact.id", description: "is assigned by the server")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        var contact = request.contact
        let now = clock.now()
        contact.id = EventID.make(prefix: "con", at: now)
        contact.name = contact.name.trimmed
        contact.version = 1
        return try await timeline.createContact(contact, context: context, at: now)
    }

    func getContact(_ request: Forge_Accounts_V1_GetContactRequest, context: ServerContext) async throws -> Forge_Accounts_V1_GetContactResponse {
        let principal = try context.caller()
        guard let contact = try await timeline.contact(id: request.id, principal: principal),
              let visible = ContactRules.view(contact, for: principal)
        else { throw RPCError(.notFound, "contact \(request.id) not found") }
        return .with { $0.contact = visible }
    }

    func updateContact(_ request: Forge_Accounts_V1_UpdateContactRequest, context: ServerContext) async throws -> Forge_Accounts_V1_UpdateContactResponse {
        let violations = ContactRules.validate(request.contact, isNew: false)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        var contact = request.contact
        contact.name = contact.name.trimmed
        return try await timeline.updateContact(contact, context: context, at: clock.now())
    }

    func listContacts(_ request: Forge_Accounts_V1_ListContactsRequest, context: ServerContext) async throws -> Forge_Accounts_V1_ListContactsResponse {
        guard !request.accountID.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "account_id", description: "is required")]) }
        let page = try Page.contacts(request.page)
        let principal = try context.caller()
        return Self.contactsResponse(try await timeline.contacts(accountID: request.accountID, page: page, principal: principal), page: page, principal: principal)
    }

    /// A page of contacts as ListContacts (and GetAccountOverview) answer it.
    static func contactsResponse(_ contacts: [Forge_Accounts_V1_Contact], page: Page, principal: Principal) -> Forge_Accounts_V1_ListContactsResponse {
        .with {
            $0.contacts = contacts.compactMap { ContactRules.view($0, for: principal) }
            $0.page = page.response(next: contacts.last?.id, count: contacts.count)
        }
    }

    func deleteContact(_ request: Forge_Accounts_V1_DeleteContactRequest, context: ServerContext) async throws -> Forge_Accounts_V1_DeleteContactResponse {
        var violations: [FieldViolation] = []
        if request.id.isBlank { violations.append(FieldViolation(field: "id", description: "is required")) }
        if request.version <= 0 { violations.append(FieldViolation(field: "version", description: "is required: the version you read")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        try await timeline.deleteContact(id: request.id, version: request.version, context: context, at: clock.now())
        return .init()
    }

    func logActivity(_ request: Forge_Accounts_V1_LogActivityRequest, context: ServerContext) async throws -> Forge_Accounts_V1_LogActivityResponse {
        let violations = ActivityRules.validate(request.activity)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let now = clock.now()
        return try await timeline.log([prepared(request.activity, context: context, at: now)], context: context, at: now) { logged in
            .with { $0.activity = logged[0] }
        }
    }

    func logActivities(_ request: Forge_Accounts_V1_LogActivitiesRequest, context: ServerContext) async throws -> Forge_Accounts_V1_LogActivitiesResponse {
        var violations: [FieldViolation] = []
        if request.activities.isEmpty || request.activities.count > 1_000 {
            violations.append(FieldViolation(field: "activities", description: "must hold 1 to 1,000 activities"))
        }
        for (index, activity) in request.activities.prefix(1_000).enumerated() {
            violations += ActivityRules.validate(activity, field: "activities[\(index)]")
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let now = clock.now()
        return try await timeline.log(request.activities.map { prepared($0, context: context, at: now) }, context: context, at: now) { logged in
            .with { $0.activityIds = logged.map(\.id) }
        }
    }

    /// A validated activity with its id, author and time.
    private func prepared(_ requested: Forge_Accounts_V1_Activity, context: ServerContext, at now: Date) -> Forge_Accounts_V1_Activity {
        var activity = requested
        activity.id = EventID.make(prefix: "act", at: now)
        activity.authorID = context.principal?.subject ?? ""
        if !activity.hasOccurredAt { activity.occurredAt = .init(date: now) }
        return activity
    }

    func listActivities(_ request: Forge_Accounts_V1_ListActivitiesRequest, context: ServerContext) async throws -> Forge_Accounts_V1_ListActivitiesResponse {
        guard !request.accountID.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "account_id", description: "is required")]) }
        let page = try Page.timeline(request.page)
        let rows = try await timeline.timeline(accountID: request.accountID, size: page.size, before: page.beforePosition, principal: try context.caller())
        return Self.activitiesResponse(rows, page: page)
    }

    /// A page of the timeline as ListActivities (and GetAccountOverview) answer it.
    static func activitiesResponse(_ rows: [(rowid: Int64, activity: Forge_Accounts_V1_Activity)], page: Page) -> Forge_Accounts_V1_ListActivitiesResponse {
        .with {
            $0.activities = rows.map(\.activity)
            $0.page = page.response(lastPosition: rows.last.map { ($0.activity.occurredAt.timeIntervalSince1970, $0.rowid) }, count: rows.count)
        }
    }

    func searchActivities(_ request: Forge_Accounts_V1_SearchActivitiesRequest, context: ServerContext) async throws -> Forge_Accounts_V1_SearchActivitiesResponse {
        let query = request.query.trimmed
        guard query.count >= 3, query.count <= 200 else {
            throw RPCError.invalidArgument([FieldViolation(field: "query", description: "must be 3 to 200 characters")])
        }
        let page = try Page.search(request.page)
        let rows = try await timeline.search(query: query, size: page.size, before: page.beforeRow, principal: try context.caller())
        return .with {
            $0.activities = rows.map(\.activity)
            $0.page = page.response(lastRow: rows.last?.rowid, count: rows.count)
        }
    }
}

/// Privacy requests of `forge.accounts.v1.Accounts`.
extension AccountsHandler {
    var privacy: PrivacyStore { PrivacyStore(database: store.database) }

    func exportContactData(_ request: Forge_Accounts_V1_ExportContactDataRequest, context: ServerContext) async throws -> Forge_Accounts_V1_ExportContactDataResponse {
        guard !request.contactID.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "contact_id", description: "is required")]) }
        return try await privacy.export(contactID: request.contactID, principal: try context.caller())
    }

    func eraseContact(_ request: Forge_Accounts_V1_EraseContactRequest, context: ServerContext) async throws -> Forge_Accounts_V1_EraseContactResponse {
        var violations: [FieldViolation] = []
        if request.contactID.isBlank { violations.append(FieldViolation(field: "contact_id", description: "is required")) }
        if request.reason.isBlank { violations.append(FieldViolation(field: "reason", description: "is required")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        return try await privacy.erase(contactID: request.contactID, reason: request.reason, context: context, at: clock.now())
    }
}
