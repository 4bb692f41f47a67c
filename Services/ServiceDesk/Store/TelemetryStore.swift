import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Telemetry: storing a batch of points, running the models' rules on what arrived, the
/// predictions they open (each with its work order), the chart's series and the daily
/// downsampling. Functions run inside the caller's transaction.
enum TelemetryStore {
    typealias Rule = Forge_Servicedesk_V1_TelemetryRule
    typealias Prediction = Forge_Servicedesk_V1_Prediction
    typealias Sample = TelemetryRules.Sample

    /// A trend rule looks again once its series has moved on this far (the window is hours
    /// long; re-fitting it on every minute's point would read it a thousand times a day).
    static let trendEvery: Int64 = 600

    struct RejectedSeries: Error {
        var violations: [Forge_Common_V1_RowViolation]
    }

    struct Outcome {
        var accepted = 0
        var rejected: [Forge_Servicedesk_V1_RejectedPoint] = []
        var predictions: [Prediction] = []
    }

    /// Stores the valid points (a second point in the same second replaces the first; points
    /// older than the raw retention go straight into the hourly aggregates), keeps each
    /// machine's hour meter, and runs the rules of the models that reported.
    static func ingest(_ db: Database, _ points: [Forge_Servicedesk_V1_TelemetryPoint], now: Date) throws -> Outcome {
        var outcome = Outcome()
        let settings = try ServiceDeskStore.settings(db)
        let rawCutoff = Int64(now.timeIntervalSince1970) - Int64(ServiceDeskStore.retention(settings).rawDays) * 86_400
        /// The machines that reported, as far as ingest needs them (the whole record only when a
        /// rule fires: decoding 50 records a batch cost 6 %).
        struct Machine { let id: String; let model: String }
        var machines: [String: Machine?] = [:]
        /// A series as the points name it (serial and metric as sent): its id, or why not.
        struct Named: Hashable { let serial: String; let metric: String }
        var series: [Named: Result<Int64, RejectedSeries>] = [:]
        /// Per series: its machine, metric, the batch's newest time and value, the newest stored before.
        struct Touched { var equipmentID: String; var metric: String; var newest: Int64; var newestValue: Double; var before: Int64? }
        var touched: [Int64: Touched] = [:]
        var hours: [String: Double] = [:]
        /// (series, t, value) of the points kept raw, inserted together after the loop.
        var rawRows: [DatabaseValue] = []
        rawRows.reserveCapacity(points.count * 3)
        for (index, point) in points.enumerated() {
            let named = Named(serial: point.serialNumber, metric: point.metric)
            if series[named] == nil {
                var violations = TelemetryRules.validateNames(serial: point.serialNumber, metric: point.metric)
                let serial = EquipmentStore.normalSerial(point.serialNumber)
                if violations.isEmpty {
                    if machines[serial] == nil {
                        let found = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, model FROM equipment WHERE serial_number = ?"), arguments: [serial])
                        machines[serial] = .some(found.map { Machine(id: $0[0], model: $0[1]) })
                    }
                    if let equipment = machines[serial] ?? nil {
                        let metric = TelemetryRules.metric(point.metric)
                        let (id, before) = try seriesAndNewest(db, equipmentID: equipment.id, metric: metric)
                        if touched[id] == nil {
                            touched[id] = Touched(equipmentID: equipment.id, metric: metric, newest: 0, newestValue: 0, before: before)
                        }
                        series[named] = .success(id)
                    } else {
                        violations.append(TelemetryRules.violation("serial_number", "\(serial) is not in the installed base"))
                    }
                }
                if !violations.isEmpty { series[named] = .failure(RejectedSeries(violations: violations)) }
            }
            var violations: [Forge_Common_V1_RowViolation]
            let id: Int64
            switch series[named]! {
            case .success(let known):
                id = known
                violations = []
            case .failure(let rejected):
                id = 0
                violations = rejected.violations
            }
            violations += TelemetryRules.validateReading(point, now: now)
            guard violations.isEmpty else {
                outcome.rejected.append(.with { $0.index = Int32(index); $0.violations = violations })
                continue
            }
            let equipmentID = touched[id]!.equipmentID
            let metric = touched[id]!.metric
            let t = point.time.seconds
            if t < rawCutoff {
                try db.execute(cached: """
                    INSERT INTO telemetry_hourly (series, hour, count, sum, min, max) VALUES (?1, ?2, 1, ?3, ?3, ?3)
                    ON CONFLICT(series, hour) DO UPDATE SET count = count + 1, sum = sum + ?3, min = min(min, ?3), max = max(max, ?3)
                    """, arguments: [id, t - t % 3600, point.value])
            } else {
                rawRows.append(id.databaseValue)
                rawRows.append(t.databaseValue)
                rawRows.append(point.value.databaseValue)
                if t >= touched[id]!.newest {
                    touched[id]!.newest = t
                    touched[id]!.newestValue = point.value
                }
            }
            if metric == "running_hours" { hours[equipmentID] = max(hours[equipmentID] ?? 0, point.value) }
            outcome.accepted += 1
        }
        try insertRaw(db, rawRows)
        for (equipmentID, meter) in hours { try updateRunningHours(db, equipmentID: equipmentID, hours: meter) }
        let byID = Dictionary(machines.values.compactMap { $0 }.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var records: [String: Forge_Servicedesk_V1_Equipment] = [:]
        let rules = try rules(db, models: Set(byID.values.map(\.model)))
        guard !rules.isEmpty else { return outcome }
        // Late points (older than what the series had) change no verdict about now.
        for (id, seen) in touched where seen.newest > (seen.before ?? 0) {
            guard let equipment = byID[seen.equipmentID] else { continue }
            for rule in rules where rule.active && rule.model == equipment.model && TelemetryRules.metric(rule.metric) == seen.metric {
                let from = seen.newest - TelemetryRules.window(rule)
                let firing: TelemetryRules.Firing?
                if rule.kind == .trend {
                    if let before = seen.before, seen.newest / trendEvery == before / trendEvery { continue }
                    firing = TelemetryRules.trend(try sums(db, series: id, from: from, to: seen.newest), rule)
                } else {
                    // A threshold fires only with the newest point beyond the limit.
                    guard TelemetryRules.beyond(seen.newestValue, rule) else { continue }
                    firing = TelemetryRules.threshold(try window(db, series: id, from: from, to: seen.newest), rule)
                }
                guard let firing else { continue }
                if records[equipment.id] == nil { records[equipment.id] = try EquipmentStore.byID(db, equipment.id) }
                guard let record = records[equipment.id], let prediction = try predict(db, equipment: record, rule: rule, firing: firing, now: now) else { continue }
                outcome.predictions.append(prediction)
            }
        }
        return outcome
    }

    /// Inserts (series, t, value) triples in order, so that of two points in the same second the
    /// later replaces the earlier.
    static func insertRaw(_ db: Database, _ values: [DatabaseValue]) throws {
        try db.executeRows("INSERT INTO telemetry_raw (series, t, value) VALUES ", row: "(?, ?, ?)",
                           " ON CONFLICT(series, t) DO UPDATE SET value = excluded.value", values: values, columns: 3)
    }

    /// A machine's series of one metric (made on its first point) and the time of its newest
    /// raw point, in one statement.
    static func seriesAndNewest(_ db: Database, equipmentID: String, metric: String) throws -> (id: Int64, newest: Int64?) {
        if let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT id, (SELECT max(t) FROM telemetry_raw WHERE series = telemetry_series.id) FROM telemetry_series WHERE equipment_id = ? AND metric = ?
            """), arguments: [equipmentID, metric]) {
            return (row[0], row[1])
        }
        try db.execute(cached: "INSERT INTO telemetry_series (equipment_id, metric) VALUES (?, ?)", arguments: [equipmentID, metric])
        return (db.lastInsertedRowID, nil)
    }

    /// The hour meter only moves forward. Not an event: a machine's hours change every few
    /// minutes, and the record's other fields did not change.
    static func updateRunningHours(_ db: Database, equipmentID: String, hours: Double) throws {
        guard var equipment = try EquipmentStore.byID(db, equipmentID), hours > equipment.runningHours else { return }
        equipment.runningHours = hours
        try db.execute(sql: "UPDATE equipment SET payload = ? WHERE id = ?", arguments: [try equipment.serializedData(), equipmentID])
    }

    static func window(_ db: Database, series: Int64, from: Int64, to: Int64) throws -> [Sample] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT t, value FROM telemetry_raw WHERE series = ? AND t >= ? AND t <= ? ORDER BY t"),
                         arguments: [series, from, to]).map { Sample(time: $0[0], value: $0[1]) }
    }

    /// The least-squares sums of a series' window, added up by SQLite (a day of minutes is
    /// 1,440 points: one row back instead of 1,440).
    static func sums(_ db: Database, series: Int64, from: Int64, to: Int64) throws -> TelemetryRules.Sums {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT count(*), max(t), total(t - ?1), total(value), total((t - ?1) * (t - ?1)), total((t - ?1) * value), total(value * value)
            FROM telemetry_raw WHERE series = ?2 AND t >= ?1 AND t <= ?3
            """), arguments: [from, series, to]), let count = row[0] as Int?, count > 0 else {
            return TelemetryRules.Sums([])
        }
        return .init(count: count, first: from, last: row[1], x: row[2], y: row[3], xx: row[4], xy: row[5], yy: row[6])
    }

    /// A firing rule opens a prediction, unless one is open for this machine and rule: the
    /// prediction, its predictive work order and `EquipmentFailurePredicted`, together.
    static func predict(_ db: Database, equipment: Forge_Servicedesk_V1_Equipment, rule: Rule, firing: TelemetryRules.Firing, now: Date) throws -> Prediction? {
        let open = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM prediction WHERE equipment_id = ? AND rule_id = ? AND state = 1"),
                                     arguments: [equipment.id, rule.id]) ?? false
        guard !open else { return nil }
        var prediction = Prediction.with {
            $0.id = EventID.make(prefix: "prd", at: now)
            $0.equipmentID = equipment.id
            $0.serialNumber = equipment.serialNumber
            $0.model = equipment.model
            $0.accountID = equipment.accountID
            $0.ruleID = rule.id
            $0.ruleName = rule.name
            $0.metric = rule.metric
            $0.value = firing.value
            $0.slopePerHour = firing.slopePerHour
            if let projected = firing.projectedFailure { $0.projectedFailureAt = Google_Protobuf_Timestamp(date: projected) }
            $0.reason = firing.reason
            $0.state = .open
            $0.parts = rule.parts
            $0.createdAt = Google_Protobuf_Timestamp(date: now)
        }
        let (order, _) = try WorkOrderStore.create(db, .with {
            $0.kind = .predictive
            $0.equipmentID = equipment.id
            $0.predictionID = prediction.id
            if prediction.hasProjectedFailureAt { $0.dueAt = prediction.projectedFailureAt }
            $0.description_p = [rule.name + ": " + firing.reason, rule.advice].filter { !$0.isEmpty }.joined(separator: "\n")
        }, actor: "forge", sourceKey: "prediction|\(prediction.id)", now: now)
        prediction.workOrderID = order.id
        try db.execute(sql: "INSERT INTO prediction (id, equipment_id, account_id, rule_id, state, created_at, payload) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       arguments: [prediction.id, prediction.equipmentID, prediction.accountID, prediction.ruleID, prediction.state.rawValue,
                                   now.timeIntervalSince1970, try prediction.serializedData()])
        let fired = prediction
        try Outbox.append(db, Forge_Servicedesk_V1_EquipmentFailurePredicted.with {
            $0.equipmentID = equipment.id
            $0.accountID = equipment.accountID
            $0.reason = firing.reason
            $0.prediction = fired
            $0.equipment = equipment
        }, accountID: equipment.accountID, at: now)
        return prediction
    }

    static func prediction(_ db: Database, id: String) throws -> Prediction? {
        try Data.fetchOne(db, sql: "SELECT payload FROM prediction WHERE id = ?", arguments: [id]).map { try .init(serializedBytes: $0) }
    }

    static func savePrediction(_ db: Database, _ prediction: Prediction) throws {
        try db.execute(sql: "UPDATE prediction SET account_id = ?, state = ?, payload = ? WHERE id = ?",
                       arguments: [prediction.accountID, prediction.state.rawValue, try prediction.serializedData(), prediction.id])
    }

    static func predictions(_ db: Database, equipmentID: String = "", accountID: String = "", openOnly: Bool = false, limit: Int = 50) throws -> [Prediction] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if !equipmentID.isEmpty { clauses.append("equipment_id = ?"); arguments += [equipmentID] }
        if !accountID.isEmpty { clauses.append("account_id = ?"); arguments += [accountID] }
        if openOnly { clauses.append("state = 1") }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        return try Data.fetchAll(db.cachedStatement(sql: "SELECT payload FROM prediction \(filter) ORDER BY created_at DESC, id DESC LIMIT ?"), arguments: arguments + [limit])
            .map { try .init(serializedBytes: $0) }
    }

    // MARK: Rules

    static func rules(_ db: Database, models: Set<String>) throws -> [Rule] {
        guard !models.isEmpty else { return [] }
        return try Data.fetchAll(db, sql: "SELECT payload FROM telemetry_rule WHERE model IN (\(databaseQuestionMarks(count: models.count)))",
                                 arguments: StatementArguments(models.sorted())).map { try .init(serializedBytes: $0) }
    }

    static func allRules(_ db: Database, model: String) throws -> [Rule] {
        let sql = model.isEmpty ? "SELECT payload FROM telemetry_rule ORDER BY model, id" : "SELECT payload FROM telemetry_rule WHERE model = ? ORDER BY id"
        return try Data.fetchAll(db, sql: sql, arguments: model.isEmpty ? [] : [model]).map { try .init(serializedBytes: $0) }
    }

    static func saveRule(_ db: Database, _ requested: Rule, now: Date) throws -> Rule {
        var rule = requested
        rule.model = rule.model.trimmingCharacters(in: .whitespaces)
        rule.metric = TelemetryRules.metric(rule.metric)
        if rule.id.isEmpty { rule.id = EventID.make(prefix: "rul", at: now) }
        let current = try Data.fetchOne(db, sql: "SELECT payload FROM telemetry_rule WHERE id = ?", arguments: [rule.id]).map { try Rule(serializedBytes: $0) }
        rule.version = (current?.version ?? 0) + 1
        try db.execute(sql: "INSERT INTO telemetry_rule (id, model, payload) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET model = excluded.model, payload = excluded.payload",
                       arguments: [rule.id, rule.model, try rule.serializedData()])
        let saved = rule
        try Outbox.append(db, Forge_Servicedesk_V1_TelemetryRuleChanged.with { $0.rule = saved }, at: now)
        return rule
    }

    // MARK: Reading and downsampling

    static func metrics(_ db: Database, equipmentID: String) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT metric FROM telemetry_series WHERE equipment_id = ? ORDER BY metric", arguments: [equipmentID])
    }

    /// The series in [from, to): hourly aggregates where only they are left (or `hourly` asks
    /// for them), raw points where they are kept.
    static func values(_ db: Database, equipmentID: String, metric: String, from: Date, to: Date, hourly: Bool) throws -> [Forge_Servicedesk_V1_TelemetryValue] {
        guard let series = try Int64.fetchOne(db, sql: "SELECT id FROM telemetry_series WHERE equipment_id = ? AND metric = ?",
                                              arguments: [equipmentID, TelemetryRules.metric(metric)]) else { return [] }
        let start = Int64(from.timeIntervalSince1970.rounded(.down)), end = Int64(to.timeIntervalSince1970.rounded(.up))
        func aggregate(_ row: Row) -> Forge_Servicedesk_V1_TelemetryValue {
            .with {
                $0.time = Google_Protobuf_Timestamp(seconds: row["hour"], nanos: 0)
                $0.count = Int32(row["count"] as Int64)
                $0.value = (row["sum"] as Double) / Double(max(row["count"] as Int64, 1))
                $0.min = row["min"]
                $0.max = row["max"]
            }
        }
        var values = try Row.fetchAll(db, sql: "SELECT hour, count, sum, min, max FROM telemetry_hourly WHERE series = ? AND hour >= ? AND hour < ? ORDER BY hour",
                                      arguments: [series, start - start % 3600, end]).map(aggregate)
        if hourly {
            values += try Row.fetchAll(db, sql: """
                SELECT t - t % 3600 AS hour, count(*) AS count, sum(value) AS sum, min(value) AS min, max(value) AS max
                FROM telemetry_raw WHERE series = ? AND t >= ? AND t < ? GROUP BY hour ORDER BY hour
                """, arguments: [series, start, end]).map(aggregate)
        } else {
            values += try Row.fetchAll(db, sql: "SELECT t, value FROM telemetry_raw WHERE series = ? AND t >= ? AND t < ? ORDER BY t LIMIT 20000",
                                       arguments: [series, start, end]).map { row in
                .with {
                    $0.time = Google_Protobuf_Timestamp(seconds: row[0], nanos: 0)
                    $0.value = row[1]
                    $0.min = row[1]
                    $0.max = row[1]
                    $0.count = 1
                }
            }
        }
        return values.sorted { $0.time.seconds < $1.time.seconds }
    }

    /// Raw points older than the raw retention become hourly aggregates; aggregates older than
    /// theirs go. Returns the raw points folded.
    @discardableResult
    static func downsample(_ db: Database, now: Date) throws -> Int {
        let (rawDays, hourlyDays) = ServiceDeskStore.retention(try ServiceDeskStore.settings(db))
        let current = Int64(now.timeIntervalSince1970)
        let rawCutoff = current - Int64(rawDays) * 86_400
        let cutoff = rawCutoff - rawCutoff % 3600
        try db.execute(sql: """
            INSERT INTO telemetry_hourly (series, hour, count, sum, min, max)
            SELECT series, t - t % 3600, count(*), sum(value), min(value), max(value) FROM telemetry_raw WHERE t < ? GROUP BY series, t - t % 3600
            ON CONFLICT(series, hour) DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum,
                min = min(min, excluded.min), max = max(max, excluded.max)
            """, arguments: [cutoff])
        try db.execute(sql: "DELETE FROM telemetry_raw WHERE t < ?", arguments: [cutoff])
        let folded = db.changesCount
        try db.execute(sql: "DELETE FROM telemetry_hourly WHERE hour < ?", arguments: [current - Int64(hourlyDays) * 86_400])
        return folded
    }
}
