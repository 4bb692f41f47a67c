import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation

/// Spreadsheet import of `forge.accounts.v1.Accounts` (`forge import` streams files in batches).
extension AccountsHandler {
    /// Rows per call: large enough to amortise a transaction, small enough for one frame.
    static let maxImportRows = 2_000

    func importAccounts(_ request: Forge_Common_V1_ImportRequest, context: ServerContext) async throws -> Forge_Common_V1_ImportResponse {
        try Self.validate(request)
        return try await AccountImport(database: store.database, clock: clock, policy: store.policy).run(.accounts, request, context: context)
    }

    func importContacts(_ request: Forge_Common_V1_ImportRequest, context: ServerContext) async throws -> Forge_Common_V1_ImportResponse {
        try Self.validate(request)
        return try await AccountImport(database: store.database, clock: clock, policy: store.policy).run(.contacts, request, context: context)
    }

    static func validate(_ request: Forge_Common_V1_ImportRequest) throws {
        var violations: [FieldViolation] = []
        if request.importID.isEmpty || request.importID.count > 100 {
            violations.append(FieldViolation(field: "import_id", description: "is required, at most 100 characters"))
        }
        if request.header.isEmpty || request.header.count > 100 {
            violations.append(FieldViolation(field: "header", description: "1 to 100 columns"))
        }
        if request.rows.count > maxImportRows {
            violations.append(FieldViolation(field: "rows", description: "at most \(maxImportRows) rows per call; send the file in batches"))
        }
        var lines = Set<Int32>()
        for (index, row) in request.rows.enumerated() {
            if row.line <= 0 || !lines.insert(row.line).inserted {
                violations.append(FieldViolation(field: "rows[\(index)].line", description: "must be a positive line number, once per batch"))
            }
            if row.values.count > 100 || row.values.contains(where: { $0.utf8.count > 4096 }) {
                violations.append(FieldViolation(field: "rows[\(index)].values", description: "at most 100 cells of at most 4 KiB"))
            }
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(Array(violations.prefix(50))) }
    }
}
