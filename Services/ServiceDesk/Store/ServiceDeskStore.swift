import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// The service desk's database: migrations, ticket numbers, engineers and the settings (the
/// business calendar and SLA targets). As in every service, each record is kept whole as its
/// protobuf (`payload`) next to the columns queries filter and sort by. Shipped migrations are
/// never edited.
enum ServiceDeskStore {
    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("servicedesk-v1") { db in
            try AccountDirectory.createTable(db)
            try db.create(table: "equipment") { t in
                t.primaryKey("id", .text)
                t.column("serial_number", .text).notNull().unique()
                t.column("account_id", .text).notNull()
                t.column("model", .text).notNull()
                t.column("created_at", .double).notNull()
                t.column("version", .integer).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "equipment_by_account", on: "equipment", columns: ["account_id", "serial_number"])
            try db.create(index: "equipment_by_model", on: "equipment", columns: ["model", "serial_number"])
            try db.create(table: "ticket") { t in
                t.primaryKey("id", .text)
                t.column("number", .text).notNull().unique()
                t.column("account_id", .text).notNull()
                t.column("equipment_id", .text).notNull()
                t.column("assignee_id", .text).notNull()
                t.column("region", .text).notNull()
                t.column("owner_id", .text).notNull()
                t.column("team", .text).notNull()
                t.column("state", .integer).notNull()
                t.column("category", .integer).notNull()
                // When the running SLA clock falls due (the queue's order); far in the future
                // while paused or when no clock runs.
                t.column("sla_rank", .double).notNull()
                t.column("created_at", .double).notNull()
                t.column("version", .integer).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "ticket_queue", on: "ticket", columns: ["state", "sla_rank", "id"])
            try db.create(index: "ticket_by_assignee", on: "ticket", columns: ["assignee_id", "state"])
            try db.create(index: "ticket_by_account", on: "ticket", columns: ["account_id", "created_at"])
            try db.create(index: "ticket_by_equipment", on: "ticket", columns: ["equipment_id", "created_at"])
            try db.create(index: "ticket_by_region", on: "ticket", columns: ["region", "state", "sla_rank"])
            try db.create(table: "engineer") { t in
                t.primaryKey("id", .text)
                t.column("payload", .blob).notNull()
            }
            try db.create(table: "settings") { t in
                t.primaryKey("name", .text)
                t.column("payload", .blob).notNull()
            }
            try Counters.createTable(db)
        }
        migrator.registerMigration("servicedesk-v2") { db in
            try db.create(table: "work_order") { t in
                t.primaryKey("id", .text)
                t.column("number", .text).notNull().unique()
                t.column("account_id", .text).notNull()
                t.column("equipment_id", .text).notNull()
                t.column("engineer_id", .text).notNull()
                t.column("region", .text).notNull()
                t.column("kind", .integer).notNull()
                t.column("state", .integer).notNull()
                t.column("plan_id", .text).notNull()
                // One work order per plan cycle ("plan|<plan>|<equipment>|<anchor>") and per
                // prediction ("prediction|<id>"); NULL for the rest.
                t.column("source_key", .text).unique()
                t.column("created_at", .double).notNull()
                t.column("completed_at", .double)
                t.column("version", .integer).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "work_order_by_equipment", on: "work_order", columns: ["equipment_id", "created_at"])
            try db.create(index: "work_order_by_account", on: "work_order", columns: ["account_id", "created_at"])
            try db.create(index: "work_order_by_engineer", on: "work_order", columns: ["engineer_id", "state"])
            try db.create(index: "work_order_by_state", on: "work_order", columns: ["state", "created_at"])
            try db.create(index: "work_order_by_plan", on: "work_order", columns: ["plan_id", "equipment_id", "created_at"])
            for table in ["maintenance_plan", "telemetry_rule"] {
                try db.create(table: table) { t in
                    t.primaryKey("id", .text)
                    t.column("model", .text).notNull()
                    t.column("payload", .blob).notNull()
                }
                try db.create(index: "\(table)_by_model", on: table, columns: ["model"])
            }
            // Telemetry, compactly: a series is one machine's metric (an integer key); raw points
            // and hourly aggregates are keyed by (series, second) in tables without rowids.
            try db.execute(sql: """
                CREATE TABLE telemetry_series (id INTEGER PRIMARY KEY, equipment_id TEXT NOT NULL, metric TEXT NOT NULL, UNIQUE (equipment_id, metric));
                CREATE TABLE telemetry_raw (series INTEGER NOT NULL, t INTEGER NOT NULL, value REAL NOT NULL, PRIMARY KEY (series, t)) WITHOUT ROWID;
                CREATE TABLE telemetry_hourly (series INTEGER NOT NULL, hour INTEGER NOT NULL, count INTEGER NOT NULL, sum REAL NOT NULL,
                    min REAL NOT NULL, max REAL NOT NULL, PRIMARY KEY (series, hour)) WITHOUT ROWID;
                """)
            try db.create(table: "prediction") { t in
                t.primaryKey("id", .text)
                t.column("equipment_id", .text).notNull()
                t.column("account_id", .text).notNull()
                t.column("rule_id", .text).notNull()
                t.column("state", .integer).notNull()
                t.column("created_at", .double).notNull()
                t.column("payload", .blob).notNull()
            }
            // At most one open prediction per machine and rule.
            try db.execute(sql: "CREATE UNIQUE INDEX prediction_open ON prediction (equipment_id, rule_id) WHERE state = 1")
            try db.create(index: "prediction_by_account", on: "prediction", columns: ["account_id", "created_at"])
            try db.create(index: "prediction_by_equipment", on: "prediction", columns: ["equipment_id", "created_at"])
            // The daily sweep (maintenance due, telemetry downsampling) starts at the first poll,
            // whatever the clock says, and schedules its next run itself.
            try JobScheduler.schedule(db, kind: DailySweep.job, dueAt: Date(timeIntervalSince1970: 0), id: DailySweep.jobID(Date(timeIntervalSince1970: 0)),
                                      now: Date(timeIntervalSince1970: 0))
        }
        migrator.registerMigration("servicedesk-v3") { db in
            // A detractor's survey answered once opens one follow-up ticket, however often the
            // event arrives.
            try db.create(table: "survey_follow_up") { t in
                t.primaryKey("survey_id", .text)
                t.column("ticket_id", .text).notNull()
            }
        }
        migrator.registerMigration("servicedesk-v4") { db in
            // The queue of every open ticket in SLA order, read 200 at a time without sorting
            // the open ones (ticket_queue serves one state at a time).
            try db.execute(sql: "CREATE INDEX ticket_open_queue ON ticket (sla_rank, id) WHERE state IN (1, 2, 3)")
        }
        migrator.registerMigration("servicedesk-v5") { db in
            // The service level loyalty's partner tier gives each account (TierChanged): a
            // machine registered after the tier changed gets it too.
            try db.create(table: "account_service_level") { t in
                t.primaryKey("account_id", .text)
                t.column("level", .text).notNull()
            }
        }
    }

    // MARK: Settings

    static let defaultSettings = Forge_Servicedesk_V1_ServiceSettings.with {
        $0.calendar = calendarMessage(.standard)
        $0.targets = SlaRules.defaultTargets
    }

    static func settings(_ db: Database) throws -> Forge_Servicedesk_V1_ServiceSettings {
        guard let payload = try Data.fetchOne(db.cachedStatement(sql: "SELECT payload FROM settings WHERE name = 'service'")) else { return defaultSettings }
        return try Forge_Servicedesk_V1_ServiceSettings(serializedBytes: payload)
    }

    static func saveSettings(_ db: Database, _ settings: Forge_Servicedesk_V1_ServiceSettings) throws {
        try db.execute(sql: "INSERT INTO settings (name, payload) VALUES ('service', ?) ON CONFLICT(name) DO UPDATE SET payload = excluded.payload",
                       arguments: [try settings.serializedData()])
    }

    static func retention(_ settings: Forge_Servicedesk_V1_ServiceSettings) -> (rawDays: Int, hourlyDays: Int) {
        (settings.telemetryRawDays > 0 ? Int(settings.telemetryRawDays) : TelemetryRules.defaultRawDays,
         settings.telemetryHourlyDays > 0 ? Int(settings.telemetryHourlyDays) : TelemetryRules.defaultHourlyDays)
    }

    static func calendar(_ message: Forge_Servicedesk_V1_ServiceCalendar) -> BusinessCalendar {
        BusinessCalendar(timeZone: TimeZone(identifier: message.timeZone) ?? BusinessCalendar.standard.timeZone,
                         workingDays: Set(message.workingDays.map(Int.init)),
                         opens: Int(message.opensAtMinute), closes: Int(message.closesAtMinute),
                         holidays: Set(message.holidays), extraWorkingDays: Set(message.extraWorkingDays))
    }

    static func calendarMessage(_ calendar: BusinessCalendar) -> Forge_Servicedesk_V1_ServiceCalendar {
        .with {
            $0.timeZone = calendar.timeZone.identifier
            $0.workingDays = calendar.workingDays.sorted().map(Int32.init)
            $0.opensAtMinute = Int32(calendar.opens)
            $0.closesAtMinute = Int32(calendar.closes)
            $0.holidays = calendar.holidays.sorted()
            $0.extraWorkingDays = calendar.extraWorkingDays.sorted()
        }
    }

    /// The settings' problems, one violation per bad field.
    static func validate(_ settings: Forge_Servicedesk_V1_ServiceSettings) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        let calendar = settings.calendar
        if !calendar.timeZone.isEmpty, TimeZone(identifier: calendar.timeZone) == nil {
            violations.append(FieldViolation(field: "settings.calendar.time_zone", description: "is not a time zone name like Asia/Shanghai"))
        }
        if calendar.workingDays.isEmpty || calendar.workingDays.contains(where: { !(1...7).contains($0) }) {
            violations.append(FieldViolation(field: "settings.calendar.working_days", description: "must list weekdays 1 (Monday) … 7 (Sunday)"))
        }
        if !(0..<1440).contains(calendar.opensAtMinute) || !(1...1440).contains(calendar.closesAtMinute) || calendar.closesAtMinute <= calendar.opensAtMinute {
            violations.append(FieldViolation(field: "settings.calendar.closes_at_minute", description: "must be after opens_at_minute, both within the day (0–1440)"))
        }
        for (name, days) in [("holidays", calendar.holidays), ("extra_working_days", calendar.extraWorkingDays)] {
            for (index, day) in days.enumerated() where day.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) == nil {
                violations.append(FieldViolation(field: "settings.calendar.\(name)[\(index)]", description: "must be a date like 2026-10-01"))
            }
        }
        if !(0...3650).contains(settings.telemetryRawDays) {
            violations.append(FieldViolation(field: "settings.telemetry_raw_days", description: "must be 0 (30 days) to 3,650"))
        }
        if !(0...7300).contains(settings.telemetryHourlyDays) || (settings.telemetryHourlyDays > 0 && settings.telemetryHourlyDays < settings.telemetryRawDays) {
            violations.append(FieldViolation(field: "settings.telemetry_hourly_days", description: "must be 0 (730 days) to 7,300, and not shorter than the raw retention"))
        }
        var seen = Set<String>()
        for (index, target) in settings.targets.enumerated() {
            let field = "settings.targets[\(index)]"
            if target.serviceLevel.isEmpty { violations.append(FieldViolation(field: "\(field).service_level", description: "is required")) }
            if !(1...4).contains(target.priority.rawValue) { violations.append(FieldViolation(field: "\(field).priority", description: "must be P1 … P4")) }
            if target.firstResponseMinutes <= 0 { violations.append(FieldViolation(field: "\(field).first_response_minutes", description: "must be positive")) }
            if target.resolutionMinutes < target.firstResponseMinutes {
                violations.append(FieldViolation(field: "\(field).resolution_minutes", description: "must be at least the first response's minutes"))
            }
            if !seen.insert("\(target.serviceLevel)|\(target.priority.rawValue)").inserted {
                violations.append(FieldViolation(field: "\(field)", description: "repeats \(target.serviceLevel) \(target.priority)"))
            }
        }
        return violations
    }

    // MARK: Engineers

    /// Every engineer with their open tickets counted.
    static func engineers(_ db: Database) throws -> [Forge_Servicedesk_V1_Engineer] {
        try counted(db, try uncountedEngineers(db))
    }

    /// The engineers with their open tickets counted: a range of the (assignee, state) index
    /// each, so opening a ticket costs the candidates' open tickets, not every ticket's.
    static func counted(_ db: Database, _ engineers: [Forge_Servicedesk_V1_Engineer]) throws -> [Forge_Servicedesk_V1_Engineer] {
        try engineers.map { engineer in
            var engineer = engineer
            engineer.openTickets = Int32(try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM ticket WHERE assignee_id = ? AND state IN (1, 2, 3)"),
                                                          arguments: [engineer.id]) ?? 0)
            return engineer
        }
    }

    static func uncountedEngineers(_ db: Database) throws -> [Forge_Servicedesk_V1_Engineer] {
        try Data.fetchAll(db, sql: "SELECT payload FROM engineer ORDER BY id").map { try .init(serializedBytes: $0) }
    }

    static func engineer(_ db: Database, id: String) throws -> Forge_Servicedesk_V1_Engineer? {
        try Data.fetchOne(db, sql: "SELECT payload FROM engineer WHERE id = ?", arguments: [id]).map { try .init(serializedBytes: $0) }
    }

    static func saveEngineer(_ db: Database, _ engineer: Forge_Servicedesk_V1_Engineer) throws {
        var stored = engineer
        stored.openTickets = 0
        try db.execute(sql: "INSERT INTO engineer (id, payload) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET payload = excluded.payload",
                       arguments: [engineer.id, try stored.serializedData()])
    }

    /// The regions an engineer covers (their tickets' visibility).
    static func regions(_ db: Database, engineer id: String) throws -> Set<String> {
        Set(try engineer(db, id: id)?.regions ?? [])
    }
}
