import ForgeContracts
@testable import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import SwiftProtobuf

extension ServerContext {
    /// A context for calling a handler directly, as the server would.
    static func test(
        _ method: MethodDescriptor = MethodDescriptor(service: "forge.test.v1.Test", method: "Do"),
        principal: Principal? = Principal(subject: "tester", roles: ["admin"]),
        timeout: Duration = .seconds(60)
    ) -> ServerContext {
        ServerContext(
            method: method,
            metadata: [:],
            principal: principal,
            deadline: .now + timeout,
            requestID: "req-test",
            logger: Logger(label: "test"),
            peer: "test"
        )
    }
}

/// Migrations of a tiny domain used to exercise the kit: notes, and what a consumer applied.
func testMigrations(_ migrator: inout DatabaseMigrator) {
    migrator.registerMigration("test-v1") { db in
        try db.create(table: "note") { t in
            t.primaryKey("id", .text)
            t.column("text", .text).notNull()
        }
        try db.create(table: "applied") { t in
            t.primaryKey("event_id", .text)
            t.column("times", .integer).notNull()
        }
    }
}

/// Writes a note and its event in one transaction, as a handler would.
func writeNote(_ database: DatabasePool, id: String, at date: Date = Date()) async throws {
    try await database.write { db in
        try db.execute(sql: "INSERT INTO note (id, text) VALUES (?, ?)", arguments: [id, "note \(id)"])
        try Outbox.append(db, Forge_Common_V1_Money.with { $0.currencyCode = id }, accountID: "acc_\(id)", at: date)
    }
}
