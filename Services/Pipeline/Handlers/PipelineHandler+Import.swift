import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

extension PipelineHandler {
    /// A batch of spreadsheet rows, each captured as `CaptureLead` would capture it, with a
    /// per-row report. Rows run one by one in their own transactions (a row's capture is also
    /// its record for retries); a failure of forge-accounts on an existing customer's row stops
    /// the batch there, and the retry continues after the rows already done.
    func importLeads(_ request: Forge_Accounts_V1_ImportRequest, context: ServerContext) async throws -> Forge_Accounts_V1_ImportResponse {
        var violations: [FieldViolation] = []
        if request.importID.isEmpty || request.importID.count > 100 {
            violations.append(FieldViolation(field: "import_id", description: "is required (at most 100 characters), the same for every batch of one file"))
        }
        if request.rows.isEmpty || request.rows.count > 2_000 {
            violations.append(FieldViolation(field: "rows", description: "must hold 1 to 2,000 rows"))
        }
        let (columns, ignored) = ImportColumns.columns(request.header, aliases: LeadImportMapping.aliases)
        if !columns.values.contains(.company) && !columns.values.contains(.contact) {
            violations.append(FieldViolation(field: "header", description: "needs a company column (公司名称/company) or a contact column (联系人/contact)"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let principal = try principal(context)
        // The batch's idempotency key belongs to the batch; each row keeps its own record.
        var rowContext = context
        rowContext.metadata[MetadataKey.idempotencyKey] = nil
        var response = Forge_Accounts_V1_ImportResponse()
        response.ignoredColumns = ignored
        var preview = DryRunKeys()
        for row in request.rows {
            let record = LeadImports.Row(importID: request.importID, line: row.line)
            if !request.dryRun, let done = try await database.read({ db in try LeadImports.recorded(db, record) }) {
                response.results.append(LeadImports.result(done, line: row.line))
                continue
            }
            let now = clock.now()
            let (mapped, cellViolations) = LeadImportMapping.lead(ImportColumns.cells(row.values, columns: columns))
            let rowViolations = cellViolations + LeadRules.validate(capture: mapped, now: now).map { violation in
                Forge_Accounts_V1_RowViolation.with {
                    $0.field = String(violation.field.dropFirst("lead.".count))
                    $0.description_p = violation.description
                }
            }
            guard rowViolations.isEmpty else {
                response.results.append(.with {
                    $0.line = row.line
                    $0.status = .rejected
                    $0.violations = rowViolations
                    $0.reason = rowViolations.map { "\($0.field) \($0.description_p)" }.joined(separator: "; ")
                })
                continue
            }
            let lead = LeadRules.normalizedCapture(mapped, now: now)
            if request.dryRun {
                let snapshot = preview
                let (result, next) = try await database.read { db in
                    var keys = snapshot
                    return (try keys.result(db, lead, line: row.line), keys)
                }
                preview = next
                response.results.append(result)
            } else {
                let captured = try await capture(lead, receivedAtGiven: mapped.hasReceivedAt, context: rowContext, principal: principal, importRow: record)
                response.results.append(LeadImports.result(captured, line: row.line))
            }
        }
        return response
    }
}

/// A dry run's view of what each row would come to, without writing: an existing customer, an
/// open lead, or an earlier row of the same batch with one of its keys.
struct DryRunKeys: Sendable {
    private var seen: [String: Int32] = [:]

    mutating func result(_ db: Database, _ lead: Forge_Pipeline_V1_Lead, line: Int32) throws -> Forge_Accounts_V1_ImportRowResult {
        let keys = LeadRules.Keys(lead)
        var result = Forge_Accounts_V1_ImportRowResult.with { $0.line = line }
        if let match = try AccountDirectory.match(db, keys: keys) {
            result.status = .duplicate
            result.duplicateOf = match.accountID
            result.reason = "existing customer (\(match.reason)): would be logged on its timeline for \(match.ownerID)"
        } else if let (id, reason) = try LeadStore.openDuplicate(db, keys: keys) {
            result.status = .duplicate
            result.duplicateOf = id
            result.reason = "repeat inquiry on an open lead (\(reason))"
        } else if let earlier = [keys.email, keys.phone, keys.name, keys.domain].filter({ !$0.isEmpty }).compactMap({ seen[$0] }).first {
            result.status = .duplicate
            result.duplicateOf = "line \(earlier)"
            result.reason = "repeat inquiry on an earlier row"
        } else {
            result.status = .created
        }
        for key in [keys.email, keys.phone, keys.name, keys.domain] where !key.isEmpty && seen[key] == nil { seen[key] = line }
        return result
    }
}
