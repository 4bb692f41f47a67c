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
        if request.accountID.isEmpty { violations.insert(FieldViolation(field: "account_id", description: "is required"), at: 0) }
        if request.version <= 0 { violations.append(FieldViolation(field: "version", description: "is required: the version you read")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        return try await ownership.assign(request, context: context, at: clock.now())
    }

    func reassignPortfolio(_ request: Forge_Accounts_V1_ReassignPortfolioRequest, context: ServerContext) async throws -> Forge_Accounts_V1_ReassignPortfolioResponse {
        var violations = OwnershipRules.validate(owner: request.toOwnerID, reason: request.reason, ownerField: "to_owner_id")
        if request.fromOwnerID.isEmpty { violations.insert(FieldViolation(field: "from_owner_id", description: "is required"), at: 0) }
        if !request.fromOwnerID.isEmpty, request.fromOwnerID == request.toOwnerID {
            violations.append(FieldViolation(field: "to_owner_id", description: "must differ from from_owner_id"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        return try await ownership.reassign(request, context: context, at: clock.now())
    }

    func listOwnerHistory(_ request: Forge_Accounts_V1_ListOwnerHistoryRequest, context: ServerContext) async throws -> Forge_Accounts_V1_ListOwnerHistoryResponse {
        guard !request.accountID.isEmpty else { throw RPCError.invalidArgument([FieldViolation(field: "account_id", description: "is required")]) }
        let changes = try await ownership.history(accountID: request.accountID, principal: try principal(context))
        return .with { $0.changes = changes }
    }
}

/// Duplicate detection across the database.
extension AccountsHandler {
    func findDuplicates(_ request: Forge_Accounts_V1_FindDuplicatesRequest, context: ServerContext) async throws -> Forge_Accounts_V1_FindDuplicatesResponse {
        guard (0...500).contains(request.limit) else {
            throw RPCError.invalidArgument([FieldViolation(field: "limit", description: "must be between 0 and 500")])
        }
        let pairs = try await DuplicateFinder(database: store.database).pairs(limit: request.limit == 0 ? 100 : Int(request.limit), principal: try principal(context))
        return .with { $0.pairs = pairs }
    }
}
