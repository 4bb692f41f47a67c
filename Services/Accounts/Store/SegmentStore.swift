import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Segments: saved account filters, shared across the company, evaluated on demand.
struct SegmentStore: Sendable {
    let database: DatabasePool

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("accounts-v8-segments") { db in
            try db.create(table: "segment") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull().unique()
                t.column("payload", .blob).notNull()
                t.column("version", .integer).notNull()
            }
        }
    }

    func create(_ segment: Forge_Accounts_V1_Segment, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_Segment {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            try Self.checkNameFree(db, segment)
            try db.execute(sql: "INSERT INTO segment (id, name, payload, version) VALUES (?, ?, ?, ?)",
                           arguments: [segment.id, segment.name, try segment.serializedData(), segment.version])
            try AuditLog.record(db, context: context, recordID: segment.id, changes: ["name": segment.name], at: now)
            return segment
        }
    }

    func update(_ edit: Forge_Accounts_V1_Segment, context: ServerContext, at now: Date) async throws -> Forge_Accounts_V1_Segment {
        try await database.write(recordingIdempotencyOf: context, at: now) { db in
            guard let current = try Self.segment(db, id: edit.id) else { throw RPCError(.notFound, "segment \(edit.id) not found") }
            guard current.version == edit.version else {
                throw RPCError(.aborted, "segment \(edit.id) changed since version \(edit.version) (now \(current.version)); read it again")
            }
            var updated = current
            updated.name = edit.name
            updated.description_p = edit.description_p
            updated.filter = edit.filter
            updated.version += 1
            updated.updatedAt = .init(date: now)
            try Self.checkNameFree(db, updated)
            try db.execute(sql: "UPDATE segment SET name = ?, payload = ?, version = ? WHERE id = ?",
                           arguments: [updated.name, try updated.serializedData(), updated.version, updated.id])
            try AuditLog.record(db, context: context, recordID: updated.id, changes: ["name": updated.name, "filter": try updated.filter.jsonString()], at: now)
            return updated
        }
    }

    func delete(id: String, context: ServerContext, at now: Date) async throws {
        _ = try await database.write(recordingIdempotencyOf: context, at: now) { db in
            try db.execute(sql: "DELETE FROM segment WHERE id = ?", arguments: [id])
            guard db.changesCount > 0 else { throw RPCError(.notFound, "segment \(id) not found") }
            try AuditLog.record(db, context: context, recordID: id, changes: ["deleted": "true"], at: now)
            return Forge_Accounts_V1_DeleteSegmentResponse()
        }
    }

    func segment(id: String) async throws -> Forge_Accounts_V1_Segment? {
        try await database.read { db in try Self.segment(db, id: id) }
    }

    func list(page: Page) async throws -> [Forge_Accounts_V1_Segment] {
        try await database.read { db in
            try Data.fetchAll(db, sql: "SELECT payload FROM segment WHERE id > ? ORDER BY id LIMIT ?", arguments: [page.after, page.size])
                .map { try Forge_Accounts_V1_Segment(serializedBytes: $0) }
        }
    }

    static func segment(_ db: Database, id: String) throws -> Forge_Accounts_V1_Segment? {
        try Data.fetchOne(db, sql: "SELECT payload FROM segment WHERE id = ?", arguments: [id]).map {
            try Forge_Accounts_V1_Segment(serializedBytes: $0)
        }
    }

    private static func checkNameFree(_ db: Database, _ segment: Forge_Accounts_V1_Segment) throws {
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM segment WHERE name = ? AND id != ?", arguments: [segment.name, segment.id]) == true {
            throw RPCError(.alreadyExists, "a segment named \(segment.name) exists",
                           violations: [FieldViolation(field: "segment.name", description: "is taken")])
        }
    }
}

/// Segment rules with no I/O.
enum SegmentRules {
    static func validate(_ segment: Forge_Accounts_V1_Segment, isNew: Bool) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        if isNew, !segment.id.isEmpty { violations.append(FieldViolation(field: "segment.id", description: "is assigned by the server")) }
        if !isNew, segment.id.isBlank { violations.append(FieldViolation(field: "segment.id", description: "is required")) }
        if !isNew, segment.version <= 0 { violations.append(FieldViolation(field: "segment.version", description: "is required: the version you read")) }
        let name = segment.name.trimmed
        if name.isEmpty || name.count > 100 { violations.append(FieldViolation(field: "segment.name", description: "is required, at most 100 characters")) }
        if segment.description_p.count > 1000 { violations.append(FieldViolation(field: "segment.description", description: "must be at most 1000 characters")) }
        let filter = segment.filter
        for (field, values) in [("industries", filter.industries), ("regions", filter.regions), ("tags", filter.tags)] where values.count > 50 {
            violations.append(FieldViolation(field: "segment.filter.\(field)", description: "at most 50 values"))
        }
        for (index, tag) in filter.tags.enumerated() where tag.isBlank || tag.hasPrefix(":") || tag.count > 251 {
            violations.append(FieldViolation(field: "segment.filter.tags[\(index)]", description: "must be key:value or key"))
        }
        if filter.grades.contains(.unspecified) || filter.tiers.contains(.unspecified) || filter.stages.contains(.unspecified) {
            violations.append(FieldViolation(field: "segment.filter", description: "UNSPECIFIED is not a value to filter by"))
        }
        return violations
    }
}
