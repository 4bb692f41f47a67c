import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

extension PipelineHandler {
    /// A batch of spreadsheet rows, each captured as `CaptureLead` would capture it, with a
    /// per-row report. A row's capture and its record for retries commit together; a failure
    /// of forge-accounts on an existing customer's row stops the batch there, and the retry
    /// continues after the rows already done.
    func importLeads(_ request: Forge_Common_V1_ImportRequest, context: ServerContext) async throws -> Forge_Common_V1_ImportResponse {
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
        let principal = try context.caller()
        // The batch's idempotency key belongs to the batch; each row keeps its own record.
        var writable = context
        writable.metadata[MetadataKey.idempotencyKey] = nil
        let rowContext = writable
        var response = Forge_Common_V1_ImportResponse()
        response.ignoredColumns = ignored
        // Read and check every row first; then the rows already done in an earlier attempt
        // answer as before, an existing customer's row goes through accounts one by one, and
        // the new leads are captured a few hundred to a transaction, in the file's order.
        let now = clock.now()
        var results = [Forge_Common_V1_ImportRowResult?](repeating: nil, count: request.rows.count)
        var valid: [(index: Int, lead: Forge_Pipeline_V1_Lead, receivedAtGiven: Bool)] = []
        for (index, row) in request.rows.enumerated() {
            let (mapped, cellViolations) = LeadImportMapping.lead(ImportColumns.cells(row.values, columns: columns))
            let rowViolations = cellViolations + LeadRules.validate(capture: mapped, now: now).map { ImportColumns.rowViolation($0) }
            if rowViolations.isEmpty {
                valid.append((index, LeadRules.normalizedCapture(mapped, now: now), mapped.hasReceivedAt))
            } else {
                results[index] = .with {
                    $0.line = row.line
                    $0.status = .rejected
                    $0.violations = rowViolations
                    $0.reason = rowViolations.map { "\($0.field) \($0.description_p)" }.joined(separator: "; ")
                }
            }
        }
        if request.dryRun {
            var preview = DryRunKeys()
            for item in valid {
                let snapshot = preview
                let (result, next) = try await database.read { db in
                    var keys = snapshot
                    return (try keys.result(db, item.lead, line: request.rows[item.index].line), keys)
                }
                preview = next
                results[item.index] = result
            }
            response.results = results.compactMap { $0 }
            return response
        }
        let importID = request.importID
        let lines = request.rows.map(\.line)
        let checked = valid
        let (done, matches) = try await database.read { db in
            var done: [Int: Forge_Pipeline_V1_CaptureLeadResponse] = [:]
            var matches: [Int: AccountsFeed.Match] = [:]
            for item in checked {
                if let recorded = try LeadImports.recorded(db, LeadImports.Row(importID: importID, line: lines[item.index])) {
                    done[item.index] = recorded
                } else if let match = try AccountsFeed.match(db, keys: LeadRules.Keys(item.lead)) {
                    matches[item.index] = match
                }
            }
            return (done, matches)
        }
        var pending: [(lead: Forge_Pipeline_V1_Lead, row: LeadImports.Row, index: Int)] = []
        func flush() async throws {
            guard !pending.isEmpty else { return }
            let captured = try await leads.captureImported(pending.map { ($0.lead, $0.row) }, context: rowContext, principal: principal)
            for (item, result) in zip(pending, captured) { results[item.index] = LeadImports.result(result, line: item.row.line) }
            pending = []
        }
        for item in valid {
            let row = LeadImports.Row(importID: importID, line: lines[item.index])
            if let recorded = done[item.index] {
                results[item.index] = LeadImports.result(recorded, line: row.line)
            } else if let match = matches[item.index] {
                try await flush()
                let captured = try await existingCustomerInquiry(item.lead, receivedAtGiven: item.receivedAtGiven, match: match,
                                                                 context: rowContext, principal: principal, importRow: row)
                results[item.index] = LeadImports.result(captured, line: row.line)
            } else {
                pending.append((item.lead, row, item.index))
                if pending.count == 250 { try await flush() }
            }
        }
        try await flush()
        response.results = results.compactMap { $0 }
        return response
    }
}

/// A dry run's view of what each row would come to, without writing: an existing customer, an
/// open lead, or an earlier row of the same batch with one of its keys.
struct DryRunKeys: Sendable {
    private var seen: [String: Int32] = [:]

    mutating func result(_ db: Database, _ lead: Forge_Pipeline_V1_Lead, line: Int32) throws -> Forge_Common_V1_ImportRowResult {
        let keys = LeadRules.Keys(lead)
        var result = Forge_Common_V1_ImportRowResult.with { $0.line = line }
        if let match = try AccountsFeed.match(db, keys: keys) {
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
