import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// `forge.accounts.v1.Accounts`: translates RPCs into store calls and rules.
struct AccountsHandler: Forge_Accounts_V1_AccountsHandler {
    let store: AccountStore
    let clock: any WallClock
    var timeline: TimelineStore { TimelineStore(database: store.database, policy: store.policy) }

    func createAccount(_ request: Forge_Accounts_V1_CreateAccountRequest, context: ServerContext) async throws -> Forge_Accounts_V1_CreateAccountResponse {
        var violations = AccountRules.validate(new: request.account) + AccountRules.validateCredit(request.account, principal: context.principal)
        if request.contacts.count > 50 {
            violations.append(FieldViolation(field: "contacts", description: "at most 50 with the account; add more with CreateContact"))
        }
        for (index, contact) in request.contacts.enumerated() {
            violations += ContactRules.validate(contact, isNew: true).filter { $0.field != "contact.account_id" }.map {
                FieldViolation(field: $0.field.replacingOccurrences(of: "contact.", with: "contacts[\(index)]."), description: $0.description)
            }
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        var account = request.account
        let now = clock.now()
        account.id = EventID.make(prefix: "acc", at: now)
        account.name = account.name.trimmed
        account.taxID = TaxID.normalize(account.taxID)
        if account.ownerID.isEmpty { account.ownerID = context.principal?.subject ?? "" }
        if account.team.isEmpty { account.team = context.principal?.team ?? "" }
        if account.stage == .unspecified { account.stage = .prospect }
        account.version = 1
        account.createdAt = .init(date: now)
        account.updatedAt = .init(date: now)
        let contacts = request.contacts.map { requested in
            var contact = requested
            contact.id = EventID.make(prefix: "con", at: now)
            contact.accountID = account.id
            contact.name = contact.name.trimmed
            contact.version = 1
            return contact
        }
        return try await store.create(account, contacts: contacts, allowDuplicate: request.allowDuplicate, context: context, at: now)
    }

    func getAccount(_ request: Forge_Accounts_V1_GetAccountRequest, context: ServerContext) async throws -> Forge_Accounts_V1_GetAccountResponse {
        guard !request.id.isEmpty else {
            throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")])
        }
        let account = try await store.visibleAccount(id: request.id, principal: context.principal)
        return .with { $0.account = account }
    }

    /// GetAccount, ListContacts and ListActivities in one call and one read, each part answered
    /// as that method answers it (an account the caller may not see is NOT_FOUND, as for each).
    func getAccountOverview(_ request: Forge_Accounts_V1_GetAccountOverviewRequest, context: ServerContext) async throws -> Forge_Accounts_V1_GetAccountOverviewResponse {
        var violations = request.accountID.isBlank ? [FieldViolation(field: "account_id", description: "is required")] : []
        var contactsPage: Page?
        var activitiesPage: Page?
        do { contactsPage = try Page.contacts(request.contactsPage, field: "contacts_page") } catch let error as RPCError { violations += error.violations }
        do { activitiesPage = try Page.timeline(request.activitiesPage, field: "activities_page") } catch let error as RPCError { violations += error.violations }
        guard violations.isEmpty, let contactsPage, let activitiesPage else { throw RPCError.invalidArgument(violations) }
        let principal = try context.caller()
        let found = try timeline.overview(accountID: request.accountID, contacts: contactsPage, activities: activitiesPage, principal: principal)
        return .with {
            $0.account.account = AccountRules.view(found.account, for: principal)
            $0.contacts = Self.contactsResponse(found.contacts, page: contactsPage, principal: principal)
            $0.activities = Self.activitiesResponse(found.activities, page: activitiesPage)
        }
    }

    func updateAccount(_ request: Forge_Accounts_V1_UpdateAccountRequest, context: ServerContext) async throws -> Forge_Accounts_V1_UpdateAccountResponse {
        let violations = AccountRules.validate(update: request.account)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        var account = request.account
        account.name = account.name.trimmed
        account.taxID = TaxID.normalize(account.taxID)
        return try await store.update(account, context: context, at: clock.now())
    }

    func listAccounts(_ request: Forge_Accounts_V1_ListAccountsRequest, context: ServerContext) async throws -> Forge_Accounts_V1_ListAccountsResponse {
        let page = try Page(request.page)
        let accounts = try await store.list(request, page: page, principal: try context.caller())
        return .with {
            $0.accounts = accounts
            $0.page = page.response(next: accounts.last?.id, count: accounts.count)
        }
    }

    func searchAccounts(_ request: Forge_Accounts_V1_SearchAccountsRequest, context: ServerContext) async throws -> Forge_Accounts_V1_SearchAccountsResponse {
        let prefix = request.namePrefix.trimmed
        var violations: [FieldViolation] = []
        if prefix.isEmpty { violations.append(FieldViolation(field: "name_prefix", description: "is required")) }
        if prefix.count > 200 { violations.append(FieldViolation(field: "name_prefix", description: "must be at most 200 characters")) }
        let page: Page
        do {
            page = try Page.nameSearch(request.page)
        } catch let error as RPCError {
            throw RPCError.invalidArgument(violations + error.violations)
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let (accounts, last) = try await store.search(prefix: prefix, page: page, principal: try context.caller())
        return .with {
            $0.accounts = accounts
            $0.page = page.response(next: last, count: accounts.count)
        }
    }
}

/// The roles of each accounts method (DESIGN §9).
enum AccountsAccess {
    static func declare(in access: inout AccessTable) {
        let method = Forge_Accounts_V1_AccountsService.Method.self
        let sales: Set<String> = [Role.salesManager, Role.salesRep]
        let readers: Set<String> = sales.union([Role.analyst, Role.finance, Role.marketing, Role.serviceManager, Role.serviceEngineer, Role.service])
        access.allow(method.createAccount, .roles(sales.union([Role.marketing])))
        access.allow(method.getAccount, .roles(readers))
        access.allow(method.getAccountOverview, .roles(readers))
        // Finance keeps the credit fields current.
        access.allow(method.updateAccount, .roles(sales.union([Role.finance])))
        access.allow(method.listAccounts, .roles(readers))
        access.allow(method.searchAccounts, .roles(readers))
        access.allow(method.findDuplicates, .roles(sales))
        access.allow(method.assignOwner, .roles([Role.salesManager]))
        access.allow(method.reassignPortfolio, .roles([Role.salesManager]))
        access.allow(method.listOwnerHistory, .roles(readers))
        access.allow(method.createContact, .roles(sales))
        access.allow(method.getContact, .roles(readers))
        access.allow(method.updateContact, .roles(sales))
        access.allow(method.listContacts, .roles(readers))
        access.allow(method.deleteContact, .roles(sales))
        // Privacy requests are handled by managers (and admins), who answer to the data subject.
        access.allow(method.exportContactData, .roles([Role.salesManager]))
        access.allow(method.eraseContact, .roles([Role.salesManager]))
        // Pipeline logs an existing customer's inquiry on the timeline as the service.
        access.allow(method.logActivity, .roles(sales.union([Role.serviceEngineer, Role.serviceManager, Role.service])))
        access.allow(method.logActivities, .roles(sales.union([Role.serviceEngineer, Role.serviceManager])))
        access.allow(method.listActivities, .roles(readers))
        access.allow(method.searchActivities, .roles(readers))
        access.allow(method.mergeAccounts, .roles([Role.salesManager]))
        access.allow(method.createSegment, .roles([Role.salesManager, Role.marketing]))
        access.allow(method.updateSegment, .roles([Role.salesManager, Role.marketing]))
        access.allow(method.deleteSegment, .roles([Role.salesManager, Role.marketing]))
        access.allow(method.getSegment, .roles(readers))
        access.allow(method.listSegments, .roles(readers))
        access.allow(method.listSegmentAccounts, .roles(readers))
        access.allow(method.listHandoverTasks, .roles([Role.salesManager]))
        access.allow(method.completeHandoverTask, .roles([Role.salesManager]))
        access.allow(method.importAccounts, .roles(sales.union([Role.marketing])))
        access.allow(method.importContacts, .roles(sales.union([Role.marketing])))
    }
}
