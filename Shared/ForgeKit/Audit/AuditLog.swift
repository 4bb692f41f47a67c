import ForgeWire
import Foundation
import GRDB

/// The audit trail (DESIGN §6): every mutation records who, when, which method, which record
/// and what changed — written in the mutation's own transaction.
public enum AuditLog {
    /// Records a mutation of `recordID` made while serving `context`.
    /// - Parameter changes: field name → new value (old values stay in earlier rows).
    public static func record(
        _ db: Database,
        context: ServerContext,
        recordID: String,
        changes: [String: String],
        at date: Date
    ) throws {
        try db.execute(
            cached: "INSERT INTO audit_log (at, actor, method, record_id, changes, request_id) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [date.timeIntervalSince1970, context.principal?.subject ?? "anonymous", context.method.path,
                        recordID, SortedJSON.encode(changes), context.requestID]
        )
    }

    /// Records a change a service made on its own, following another's event (`actor` is the
    /// upstream service; the method names the event).
    public static func record(_ db: Database, actor: String, event: String, recordID: String, changes: [String: String], at date: Date) throws {
        try db.execute(
            cached: "INSERT INTO audit_log (at, actor, method, record_id, changes, request_id) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [date.timeIntervalSince1970, actor, "event:\(event)", recordID, SortedJSON.encode(changes), ""]
        )
    }

    /// The audit rows of one record, oldest first.
    public static func entries(_ db: Database, recordID: String) throws -> [AuditEntry] {
        try Row.fetchAll(db, sql: "SELECT * FROM audit_log WHERE record_id = ? ORDER BY id", arguments: [recordID]).map { row in
            AuditEntry(
                at: Date(timeIntervalSince1970: row["at"]),
                actor: row["actor"],
                method: row["method"],
                recordID: row["record_id"],
                changes: SortedJSON.decode(row["changes"]) ?? [:]
            )
        }
    }
}

public struct AuditEntry: Sendable, Equatable {
    public var at: Date
    public var actor: String
    public var method: String
    public var recordID: String
    public var changes: [String: String]
}
