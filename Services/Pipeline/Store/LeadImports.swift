import ForgeContracts
import ForgeKit
import Foundation
import GRDB
import SwiftProtobuf

/// What each row of a lead import came to, kept with the row's capture in one transaction:
/// a retried batch (after a timeout, or forge-accounts being down half-way) answers the rows
/// already done as before and captures only the rest.
enum LeadImports {
    struct Row: Sendable {
        let importID: String
        let line: Int32
    }

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("pipeline-v3-lead-import") { db in
            try db.create(table: "lead_import_row") { t in
                t.column("import_id", .text).notNull()
                t.column("line", .integer).notNull()
                t.column("response", .blob).notNull()
                t.column("at", .double).notNull()
                t.primaryKey(["import_id", "line"])
            }
        }
    }

    static func record(_ db: Database, _ row: Row, _ response: Forge_Pipeline_V1_CaptureLeadResponse) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO lead_import_row (import_id, line, response, at) VALUES (?, ?, ?, ?)",
                       arguments: [row.importID, row.line, try response.serializedData(), Date().timeIntervalSince1970])
    }

    static func recorded(_ db: Database, _ row: Row) throws -> Forge_Pipeline_V1_CaptureLeadResponse? {
        try Data.fetchOne(db, sql: "SELECT response FROM lead_import_row WHERE import_id = ? AND line = ?", arguments: [row.importID, row.line])
            .map { try Forge_Pipeline_V1_CaptureLeadResponse(serializedBytes: $0) }
    }

    /// The rows whose answer carried `lead` answer with it as it is now (anonymised after an
    /// erasure), so a retried import reports the lead without the person's details.
    static func replace(_ db: Database, lead: Forge_Pipeline_V1_Lead) throws {
        for row in try GRDB.Row.fetchAll(db, sql: "SELECT import_id, line, response FROM lead_import_row WHERE instr(response, CAST(? AS BLOB)) > 0", arguments: [lead.id]) {
            var response = try Forge_Pipeline_V1_CaptureLeadResponse(serializedBytes: row["response"] as Data)
            guard response.lead.id == lead.id else { continue }
            response.lead = lead
            try db.execute(sql: "UPDATE lead_import_row SET response = ? WHERE import_id = ? AND line = ?",
                           arguments: [try response.serializedData(), row["import_id"] as String, row["line"] as Int64])
        }
    }

    /// A capture as one row of the import's report.
    static func result(_ response: Forge_Pipeline_V1_CaptureLeadResponse, line: Int32) -> Forge_Common_V1_ImportRowResult {
        .with {
            $0.line = line
            switch response.outcome {
            case .created:
                $0.status = .created
                $0.id = response.lead.id
            case .repeatInquiry:
                $0.status = .duplicate
                $0.id = response.lead.id
                $0.duplicateOf = response.lead.id
                $0.reason = "repeat inquiry on an open lead (\(response.matchReason))"
            default:
                $0.status = .duplicate
                $0.id = response.activityID
                $0.duplicateOf = response.accountID
                $0.reason = "existing customer (\(response.matchReason)): logged on its timeline for \(response.accountOwnerID)"
            }
        }
    }
}
