import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// `forge import equipment FILE`: the installed base from a spreadsheet, matched by serial
/// number (a second run changes nothing), each row answered; and the previous helpdesk's
/// ticket history.
extension ServiceDeskHandler {
    func importTickets(_ request: Forge_Servicedesk_V1_ImportTicketsRequest, context: ServerContext) async throws -> Forge_Servicedesk_V1_ImportTicketsResponse {
        guard request.tickets.count <= EquipmentImport.maxBatch else {
            throw RPCError.invalidArgument([FieldViolation(field: "tickets", description: "must be at most \(EquipmentImport.maxBatch) per call")])
        }
        let principal = try context.caller()
        let now = clock.now()
        return try await database.write(recordingIdempotencyOf: context, at: now) { db in
            var results: [Forge_Common_V1_ImportRowResult] = []
            for (index, ticket) in request.tickets.enumerated() {
                var result = Forge_Common_V1_ImportRowResult.with { $0.line = Int32(index + 1) }
                var violations = TicketRules.validateHistory(ticket, now: now)
                if violations.isEmpty {
                    do {
                        let (saved, created) = try TicketStore.importHistory(db, ticket, principal: principal, now: now)
                        result.id = saved.id
                        result.status = created ? .created : .unchanged
                    } catch let error as RPCError where error.code == .invalidArgument {
                        violations = error.violations
                    }
                }
                if !violations.isEmpty {
                    result.status = .rejected
                    result.violations = violations.map {
                        ImportColumns.rowViolation(FieldViolation(field: "tickets[\(index)]." + $0.field.replacingOccurrences(of: "ticket.", with: ""), description: $0.description),
                                                   keepingPath: true)
                    }
                }
                results.append(result)
            }
            try AuditLog.record(db, context: context, recordID: "ticket-history", changes: ["created": "\(results.filter { $0.status == .created }.count)"], at: now)
            return .with { $0.results = results }
        }
    }

    func importEquipment(_ request: Forge_Common_V1_ImportRequest, context: ServerContext) async throws -> Forge_Common_V1_ImportResponse {
        var violations = Self.required(request.importID, "import_id")
        if request.rows.count > EquipmentImport.maxBatch { violations.append(FieldViolation(field: "rows", description: "must be at most \(EquipmentImport.maxBatch) rows per call")) }
        let (columns, ignored) = ImportColumns.columns(request.header, aliases: EquipmentImport.aliases)
        for (column, name) in [(EquipmentImport.Column.serialNumber, "serial number (序列号)"), (.model, "model (型号)"), (.account, "account (客户)")]
            where !columns.values.contains(column) {
            violations.append(FieldViolation(field: "header", description: "needs a \(name) column"))
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let now = clock.now()
        let results: [Forge_Common_V1_ImportRowResult] = try await database.write { db in
            var results: [Forge_Common_V1_ImportRowResult] = []
            try db.inSavepoint {
                var seen: [String: Int32] = [:]
                for row in request.rows {
                    var (equipment, accountName, problems) = EquipmentImport.equipment(ImportColumns.cells(row.values, columns: columns))
                    let serial = EquipmentStore.normalSerial(equipment.serialNumber)
                    var result = Forge_Common_V1_ImportRowResult.with { $0.line = row.line; $0.id = serial }
                    if problems.isEmpty, !accountName.isEmpty {
                        if let account = try AccountDirectory.entry(db, accountID: accountName) {
                            equipment.accountID = account.accountID
                        } else {
                            let named = try AccountDirectory.entries(db, named: accountName)
                            if named.count == 1 {
                                equipment.accountID = named[0].accountID
                            } else {
                                problems.append(.with {
                                    $0.field = EquipmentImport.Column.account.rawValue
                                    $0.description_p = named.isEmpty ? "no account is named \(accountName)" : "\(named.count) accounts are named \(accountName): give the account id"
                                })
                            }
                        }
                    }
                    if problems.isEmpty {
                        problems = EquipmentStore.validate(equipment).map { ImportColumns.rowViolation($0) }
                    }
                    if !problems.isEmpty {
                        result.status = .rejected
                        result.violations = problems
                    } else if let first = seen[serial] {
                        result.status = .duplicate
                        result.duplicateOf = "line \(first)"
                    } else {
                        seen[serial] = row.line
                        let before = try EquipmentStore.bySerial(db, serial)
                        let (saved, created) = try EquipmentStore.register(db, equipment, now: now)
                        result.id = saved.id
                        result.status = created ? .created : saved.version != before?.version ? .updated : .unchanged
                    }
                    results.append(result)
                }
                if !request.dryRun {
                    try AuditLog.record(db, context: context, recordID: request.importID, changes: ["rows": "\(request.rows.count)",
                                                                                                    "created": "\(results.filter { $0.status == .created }.count)"], at: now)
                }
                return request.dryRun ? .rollback : .commit
            }
            return results
        }
        return .with {
            $0.results = results
            $0.ignoredColumns = ignored
        }
    }
}
