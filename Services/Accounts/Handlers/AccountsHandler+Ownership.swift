import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// Ownership of `forge.accounts.v1.Accounts`: assign, reassign a portfolio, history.
extension AccountsHandler {
    var ownership: OwnershipStore { OwnershipStore(database: store.database) }

    func assignOwner(_ request: Forge_Accounts_V1_AssignOwnerRequest, context: ServerContext) async throws -> Forge_Accounts_V1_AssignOwnerResponse {
        var violations = OwnershipRules.validate(owner: request.ownerID, reason: request.reason, ownerField: "owner_id")
        if request.accountID.isBlank { violations.insert(FieldViolation(field: "account_id", description: "is required"), at: 0) }
        if request.version <= 0 { violations.append(FieldViolation(field: "version", description: "is required: the version you read")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        return try await ownership.assign(request, context: context, at: clock.now())
    }

    func reassignPortfolio(_ request: Forge_Accounts_V1_ReassignPortfolioRequest, context: ServerContext) async throws -> Forge_Accounts_V1_ReassignPortfolioResponse {
        var violations = OwnershipRules.validate(owner: request.toOwnerID, reason: request.reason, ownerField: "to_owner_id")
        if request.fromOwnerID.isBlank { violations.insert(FieldViolation(field: "from_owner_id", description: "is required"), at: 0) }
        if !request.fromOwnerID.isEmpty, request.fromOwnerID == request.toOwnerID {
            violations.append(FieldViolation(field: "to_owner_id", description: "must differ from from_owner_id"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        return try await ownership.reassign(request, context: context, at: clock.now())
    }

    func listOwnerHistory(_ request: Forge_Accounts_V1_ListOwnerHistoryRequest, context: ServerContext) async throws -> Forge_Accounts_V1_ListOwnerHistoryResponse {
        guard !request.accountID.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "account_id", description: "is required")]) }
        let changes = try await ownership.history(accountID: request.accountID, principal: try context.caller())
        return .with { $0.changes = changes }
    }
}

/// Duplicate detection across the database.
extension AccountsHandler {
    func findDuplicates(_ request: Forge_Accounts_V1_FindDuplicatesRequest, context: ServerContext) async throws -> Forge_Accounts_V1_FindDuplicatesResponse {
        guard (0...500).contains(request.limit) else {
            throw RPCError.invalidArgument([FieldViolation(field: "limit", description: "must be between 0 and 500")])
        }
        let pairs = try await DuplicateFinder(database: store.database).pairs(limit: request.limit == 0 ? 100 : Int(request.limit), principal: try context.caller())
        return .with { $0.pairs = pairs }
    }
}

/// Hand-over tasks of `forge.accounts.v1.Accounts`.
extension AccountsHandler {
    var handovers: HandoverTasks { HandoverTasks(database: store.database) }

    func listHandoverTasks(_ request: Forge_Accounts_V1_ListHandoverTasksRequest, context: ServerContext) async throws -> Forge_Accounts_V1_ListHandoverTasksResponse {
        let page = try Page(request.page) { $0.hasPrefix("hot_") }
        let tasks = try await handovers.list(team: request.team, includeCompleted: request.includeCompleted, page: page, principal: try context.caller())
        return .with {
            $0.tasks = tasks
            $0.page = page.response(next: tasks.last?.id, count: tasks.count)
        }
    }

    func completeHandoverTask(_ request: Forge_Accounts_V1_CompleteHandoverTaskRequest, context: ServerContext) async throws -> Forge_Accounts_V1_CompleteHandoverTaskResponse {
        var violations: [FieldViolation] = []
        if request.id.isBlank { violations.append(FieldViolation(field: "id", description: "is required")) }
        let resolution = request.resolution.trimmed
        if resolution.isEmpty || resolution.count > 500 { violations.append(FieldViolation(field: "resolution", description: "is required, at most 500 characters")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let task = try await handovers.complete(id: request.id, resolution: resolution, context: context, at: clock.now())
        return .with { $0.task = task }
    }
}

/// Merging duplicates of `forge.accounts.v1.Accounts`.
extension AccountsHandler {
    func mergeAccounts(_ request: Forge_Accounts_V1_MergeAccountsRequest, context: ServerContext) async throws -> Forge_Accounts_V1_MergeAccountsResponse {
        var violations: [FieldViolation] = []
        if request.survivorID.isBlank { violations.append(FieldViolation(field: "survivor_id", description: "is required")) }
        if request.mergedIds.isEmpty || request.mergedIds.count > 20 {
            violations.append(FieldViolation(field: "merged_ids", description: "1 to 20 accounts to fold into the survivor"))
        }
        for (index, id) in request.mergedIds.enumerated() {
            if id.isEmpty { violations.append(FieldViolation(field: "merged_ids[\(index)]", description: "is empty")) }
            if id == request.survivorID { violations.append(FieldViolation(field: "merged_ids[\(index)]", description: "is the survivor")) }
            if request.mergedIds[..<index].contains(id) { violations.append(FieldViolation(field: "merged_ids[\(index)]", description: "is listed twice")) }
        }
        if request.reason.isBlank || request.reason.count > 500 {
            violations.append(FieldViolation(field: "reason", description: "is required, at most 500 characters"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        return try await AccountMerge(database: store.database, policy: store.policy)
            .merge(survivorID: request.survivorID, mergedIDs: request.mergedIds, reason: request.reason, context: context, at: clock.now())
    }
}
