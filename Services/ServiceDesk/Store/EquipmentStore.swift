import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// The installed base: one record per serial number.
enum EquipmentStore {
    typealias Equipment = Forge_Servicedesk_V1_Equipment

    static func normalSerial(_ serial: String) -> String {
        serial.trimmed.uppercased()
    }

    static func validate(_ equipment: Equipment) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        if normalSerial(equipment.serialNumber).isEmpty {
            violations.append(FieldViolation(field: "equipment.serial_number", description: "is required"))
        } else if equipment.serialNumber.count > 64 {
            violations.append(FieldViolation(field: "equipment.serial_number", description: "must be at most 64 characters"))
        }
        if equipment.model.isBlank {
            violations.append(FieldViolation(field: "equipment.model", description: "is required"))
        }
        if equipment.accountID.isBlank { violations.append(FieldViolation(field: "equipment.account_id", description: "is required")) }
        if equipment.runningHours < 0 || !equipment.runningHours.isFinite {
            violations.append(FieldViolation(field: "equipment.running_hours", description: "must be zero or more"))
        }
        if equipment.status.rawValue < 0 || equipment.status.rawValue > 4 {
            violations.append(FieldViolation(field: "equipment.status", description: "is not an equipment status"))
        }
        return violations
    }

    static func bySerial(_ db: Database, _ serial: String) throws -> Equipment? {
        try Data.fetchOne(db, sql: "SELECT payload FROM equipment WHERE serial_number = ?", arguments: [normalSerial(serial)]).map { try .init(serializedBytes: $0) }
    }

    static func byID(_ db: Database, _ id: String) throws -> Equipment? {
        try Data.fetchOne(db, sql: "SELECT payload FROM equipment WHERE id = ?", arguments: [id]).map { try .init(serializedBytes: $0) }
    }

    /// Creates the machine, or updates the one with its serial number (what the caller left
    /// empty keeps its value). An event when something changed.
    static func register(_ db: Database, _ requested: Equipment, now: Date) throws -> (equipment: Equipment, created: Bool) {
        let serial = normalSerial(requested.serialNumber)
        let existing = try bySerial(db, serial)
        var equipment = existing ?? Equipment.with {
            $0.id = EventID.make(prefix: "eqp", at: now)
            $0.serialNumber = serial
            $0.createdAt = Google_Protobuf_Timestamp(date: now)
            $0.status = .inService
        }
        let before = equipment
        func take(_ value: String, _ keyPath: WritableKeyPath<Equipment, String>) {
            if !value.isEmpty { equipment[keyPath: keyPath] = value.trimmingCharacters(in: .whitespaces) }
        }
        take(requested.model, \.model)
        take(requested.productLine, \.productLine)
        take(requested.accountID, \.accountID)
        take(requested.site, \.site)
        take(requested.address, \.address)
        take(requested.region, \.region)
        take(requested.serviceContract, \.serviceContract)
        take(requested.serviceLevel, \.serviceLevel)
        if existing == nil, requested.serviceLevel.isEmpty,
           let level = try String.fetchOne(db, sql: "SELECT level FROM account_service_level WHERE account_id = ?", arguments: [equipment.accountID]) {
            equipment.serviceLevel = level
        }
        take(requested.orderID, \.orderID)
        take(requested.sku, \.sku)
        if requested.orderLineNo != 0 { equipment.orderLineNo = requested.orderLineNo }
        if requested.hasInstalledAt { equipment.installedAt = requested.installedAt }
        if requested.hasAcceptedAt { equipment.acceptedAt = requested.acceptedAt }
        if requested.hasWarrantyUntil { equipment.warrantyUntil = requested.warrantyUntil }
        if requested.runningHours > 0 { equipment.runningHours = requested.runningHours }
        if requested.status != .unspecified { equipment.status = requested.status }
        if let account = try AccountDirectory.entry(db, accountID: equipment.accountID) { equipment.accountName = account.name }
        guard existing == nil || equipment != before else { return (equipment, false) }
        equipment.version += 1
        try db.execute(sql: """
            INSERT INTO equipment (id, serial_number, account_id, model, created_at, version, payload) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET account_id = excluded.account_id, model = excluded.model, version = excluded.version, payload = excluded.payload
            """, arguments: [equipment.id, equipment.serialNumber, equipment.accountID, equipment.model, equipment.createdAt.date.timeIntervalSince1970,
                             equipment.version, try equipment.serializedData()])
        try Outbox.append(db, Forge_Servicedesk_V1_EquipmentRegistered.with { $0.equipment = equipment }, accountID: equipment.accountID, at: now)
        return (equipment, existing == nil)
    }

    static func list(_ db: Database, accountID: String, model: String, after: String, limit: Int) throws -> [Equipment] {
        var clauses = ["serial_number > ?"]
        var arguments: StatementArguments = [after]
        if !accountID.isEmpty { clauses.append("account_id = ?"); arguments += [accountID] }
        if !model.isEmpty { clauses.append("model = ?"); arguments += [model] }
        return try Data.fetchAll(db.cachedStatement(sql: "SELECT payload FROM equipment WHERE \(clauses.joined(separator: " AND ")) ORDER BY serial_number LIMIT ?"),
                                 arguments: arguments + [limit]).map { try .init(serializedBytes: $0) }
    }

    /// Every delivered order line with serial numbers becomes installed equipment: installed
    /// (and its warranty, a year, counted from) the delivery.
    static func registerDelivered(_ db: Database, _ delivered: Forge_Orders_V1_OrderDelivered, now: Date) throws {
        let deliveredAt = delivered.hasDeliveredAt ? delivered.deliveredAt.date : now
        let order = delivered.order
        for line in order.lines {
            for serial in line.serialNumbers where !normalSerial(serial).isEmpty {
                _ = try register(db, .with {
                    $0.serialNumber = serial
                    // The SKU is the model code (VMC-850) that plans and rules name.
                    $0.model = line.sku.isEmpty ? line.name : line.sku
                    $0.sku = line.sku
                    $0.accountID = order.accountID
                    $0.address = order.deliveryAddress
                    $0.orderID = order.id
                    $0.orderLineNo = line.lineNo
                    $0.installedAt = Google_Protobuf_Timestamp(date: deliveredAt)
                    $0.warrantyUntil = Google_Protobuf_Timestamp(date: deliveredAt.addingTimeInterval(365 * 86_400))
                }, now: now)
            }
        }
    }
}
