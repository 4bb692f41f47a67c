import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Synchronization

/// The pipeline database: migrations, and what its stores share. Each record is kept whole
/// as its protobuf (`payload`) next to the columns that queries filter and sort by, which are
/// written from it in the same statement. Shipped migrations are never edited.
struct PipelineStore: Sendable {
    let database: DatabasePool
    let clock: any WallClock

    static func migrations(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("pipeline-v1") { db in
            try db.create(table: "lead") { t in
                t.primaryKey("id", .text)
                t.column("owner_id", .text).notNull()
                t.column("team", .text).notNull()
                t.column("status", .integer).notNull()
                t.column("score", .integer).notNull()
                t.column("normalized_name", .text).notNull()
                t.column("phone_key", .text).notNull()
                t.column("email_key", .text).notNull()
                t.column("email_domain", .text).notNull()
                t.column("account_id", .text).notNull().defaults(to: "")
                t.column("contact_id", .text).notNull().defaults(to: "")
                t.column("received_at", .double).notNull()
                t.column("updated_at", .double).notNull()
                t.column("version", .integer).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "lead_by_score", on: "lead", columns: ["status", "score", "id"])
            try db.create(index: "lead_by_owner", on: "lead", columns: ["owner_id", "status"])
            try db.create(index: "lead_by_team", on: "lead", columns: ["team", "status"])
            try db.create(index: "lead_by_account", on: "lead", columns: ["account_id"])
            try db.create(index: "lead_by_contact", on: "lead", columns: ["contact_id"])
            // De-duplication looks only at open leads, by each key.
            for key in ["normalized_name", "phone_key", "email_key", "email_domain"] {
                try db.execute(sql: "CREATE INDEX lead_open_\(key) ON lead(\(key)) WHERE status IN (1, 2) AND \(key) != ''")
            }
            try db.create(table: "lead_assignment") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("lead_id", .text).notNull().indexed()
                t.column("owner_id", .text).notNull()
                t.column("team", .text).notNull()
                t.column("how", .text).notNull()
                t.column("by", .text).notNull()
                t.column("reason", .text).notNull()
                t.column("at", .double).notNull()
            }
            // Open leads per owner and when each last got one: the round robin reads this
            // instead of counting leads.
            try db.create(table: "owner_load") { t in
                t.primaryKey("owner_id", .text)
                t.column("open_leads", .integer).notNull()
                t.column("last_assigned", .integer).notNull()
            }
            try db.create(table: "pipeline_settings") { t in
                t.primaryKey("id", .integer).check { $0 == 1 }
                t.column("payload", .blob).notNull()
                t.column("version", .integer).notNull()
            }
            // Who the customers are, from accounts' event feed: lead de-duplication reads it
            // without a call per lead.
            try db.create(table: "account_directory") { t in
                t.primaryKey("account_id", .text)
                t.column("name", .text).notNull()
                t.column("normalized_name", .text).notNull().indexed()
                t.column("owner_id", .text).notNull()
                t.column("team", .text).notNull()
            }
            try db.create(table: "account_contact_key") { t in
                t.primaryKey("contact_id", .text)
                t.column("account_id", .text).notNull().indexed()
                t.column("phone_key", .text).notNull().indexed()
                t.column("email_key", .text).notNull().indexed()
                t.column("email_domain", .text).notNull().indexed()
            }
            try db.create(table: "opportunity") { t in
                t.primaryKey("id", .text)
                t.column("account_id", .text).notNull()
                t.column("owner_id", .text).notNull()
                t.column("team", .text).notNull()
                t.column("stage", .integer).notNull()
                t.column("amount_micros", .integer).notNull()
                t.column("currency", .text).notNull()
                t.column("probability", .integer).notNull()
                t.column("expected_close", .double)
                t.column("forecast_category", .integer).notNull()
                t.column("lead_id", .text).notNull()
                t.column("stage_entered_at", .double).notNull()
                t.column("created_at", .double).notNull()
                t.column("closed_at", .double)
                t.column("version", .integer).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "opportunity_by_account", on: "opportunity", columns: ["account_id", "stage"])
            try db.create(index: "opportunity_by_owner", on: "opportunity", columns: ["owner_id", "stage"])
            try db.create(index: "opportunity_by_team", on: "opportunity", columns: ["team", "stage"])
            try db.create(index: "opportunity_by_close", on: "opportunity", columns: ["expected_close"])
            try db.create(index: "opportunity_by_closed", on: "opportunity", columns: ["closed_at"])
            try db.create(table: "opportunity_product_line") { t in
                t.column("opportunity_id", .text).notNull().references("opportunity", onDelete: .cascade)
                t.column("product_line", .text).notNull()
                t.primaryKey(["opportunity_id", "product_line"])
            }
            try db.create(table: "stage_change") { t in
                t.autoIncrementedPrimaryKey("seq")
                t.column("opportunity_id", .text).notNull().indexed()
                t.column("from_stage", .integer).notNull()
                t.column("to_stage", .integer).notNull()
                t.column("at", .double).notNull()
                t.column("by", .text).notNull()
                t.column("days_in_from", .double).notNull()
            }
            try db.create(index: "stage_change_by_from", on: "stage_change", columns: ["from_stage", "at"])
            try db.create(table: "task") { t in
                t.primaryKey("id", .text)
                t.column("owner_id", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("done", .boolean).notNull()
                t.column("due_at", .double).notNull()
                t.column("lead_id", .text).notNull()
                t.column("opportunity_id", .text).notNull()
                t.column("account_id", .text).notNull()
                t.column("payload", .blob).notNull()
            }
            try db.create(index: "task_by_owner", on: "task", columns: ["owner_id", "done", "due_at"])
            try db.create(index: "task_by_lead", on: "task", columns: ["lead_id"])
            try db.create(index: "task_by_opportunity", on: "task", columns: ["opportunity_id"])
            try db.create(index: "task_by_account", on: "task", columns: ["account_id"])
        }
        QuoteStore.migrations(&migrator)
        LeadImports.migrations(&migrator)
        // The forecast reads a team's (or everyone's) opportunities by close date: indexes that
        // hold every column it sums, so it never visits the rows (PipelineBench: a team's
        // forecast over 100,000 opportunities).
        migrator.registerMigration("pipeline-v4-forecast-indexes") { db in
            try db.execute(sql: """
                CREATE INDEX opportunity_forecast_by_team ON opportunity(team, expected_close, stage, owner_id, currency, amount_micros, probability, forecast_category);
                CREATE INDEX opportunity_forecast ON opportunity(expected_close, stage, team, owner_id, currency, amount_micros, probability, forecast_category);
                CREATE INDEX opportunity_closed_by_team ON opportunity(team, closed_at, stage, owner_id, created_at);
                """)
        }
        // The days per stage are read by team or owner too: the stage change carries them, so
        // the forecast does not join every change to its opportunity.
        migrator.registerMigration("pipeline-v5-stage-change-owner") { db in
            try db.alter(table: "stage_change") { t in
                t.add(column: "owner_id", .text).notNull().defaults(to: "")
                t.add(column: "team", .text).notNull().defaults(to: "")
            }
            try db.execute(sql: """
                UPDATE stage_change SET owner_id = (SELECT owner_id FROM opportunity WHERE id = opportunity_id),
                                        team = (SELECT team FROM opportunity WHERE id = opportunity_id);
                CREATE INDEX stage_change_by_team ON stage_change(team, at, from_stage, days_in_from, owner_id);
                CREATE INDEX stage_change_by_at ON stage_change(at, from_stage, days_in_from, owner_id, team);
                """)
        }
        // The board reads each stage's deals closing soonest and adds up the stage, by owner, team
        // or all: the owner and team indexes gain the close date and the summed columns (their
        // old columns stay a prefix), and one by stage — so neither reads a row (PipelineBench:
        // a team's totals 8.6 → 2.7 ms, its 25 soonest of a stage 38 → 0.02 ms).
        migrator.registerMigration("pipeline-v6-board") { db in
            try db.execute(sql: """
                DROP INDEX IF EXISTS opportunity_by_owner;
                DROP INDEX IF EXISTS opportunity_by_team;
                DROP INDEX IF EXISTS opportunity_by_stage;
                CREATE INDEX opportunity_by_owner ON opportunity(owner_id, stage, expected_close, currency, amount_micros, probability);
                CREATE INDEX opportunity_by_team ON opportunity(team, stage, expected_close, currency, amount_micros, probability);
                CREATE INDEX opportunity_by_stage ON opportunity(stage, expected_close, currency, amount_micros, probability);
                """)
        }
        // A NEW lead is its owner's first-touch reminder (LeadStore.firstTouchTask) instead of a
        // task row: the lead carries the reminder's due time, the owner index orders by it, and
        // the open reminder rows of NEW leads go (their done rows stay as history).
        migrator.registerMigration("pipeline-v7-first-touch-derived") { db in
            try db.alter(table: "lead") { t in t.add(column: "first_touch_due", .double).notNull().defaults(to: 0) }
            let due = try Row.fetchAll(db, sql: "SELECT id, payload FROM lead WHERE status = 1").map { row in
                (row[0] as String, try Forge_Pipeline_V1_Lead(serializedBytes: row[1] as Data).firstTouchDueAt.date.timeIntervalSince1970)
            }
            let update = try db.makeStatement(sql: "UPDATE lead SET first_touch_due = ? WHERE id = ?")
            for (id, at) in due { try update.execute(arguments: [at, id]) }
            try db.execute(sql: """
                DROP INDEX IF EXISTS lead_by_owner;
                CREATE INDEX lead_by_owner ON lead(owner_id, status, first_touch_due);
                DELETE FROM task WHERE kind = 'lead_first_touch' AND done = 0 AND lead_id IN (SELECT id FROM lead WHERE status = 1);
                """)
        }
    }

    // MARK: Settings

    static func settings(_ db: Database) throws -> Forge_Pipeline_V1_PipelineSettings {
        guard let row = try Row.fetchOne(db, sql: "SELECT payload, version FROM pipeline_settings WHERE id = 1") else {
            return PipelineDefaults.settings
        }
        var settings = try Forge_Pipeline_V1_PipelineSettings(serializedBytes: row["payload"] as Data)
        settings.version = row["version"]
        return settings
    }

    /// The settings with the folding that assignment and scoring need done once.
    struct Prepared: Sendable {
        let settings: Forge_Pipeline_V1_PipelineSettings
        let rules: [LeadAssignment.PreparedRule]
        let scoring: LeadScoring.Prepared
        /// Each team's query for its members' loads (a capture reads one team's).
        let loadQueries: [String: LoadQuery]

        /// The SQL and arguments that read one team's loads.
        struct LoadQuery: Sendable {
            let sql: String
            let members: StatementArguments
        }

        init(_ settings: Forge_Pipeline_V1_PipelineSettings) {
            self.settings = settings
            rules = settings.rules.map(LeadAssignment.PreparedRule.init)
            scoring = LeadScoring.Prepared(settings.scoring)
            var loadQueries: [String: LoadQuery] = [:]
            for team in settings.teams where loadQueries[team.name] == nil && !team.members.isEmpty {
                loadQueries[team.name] = LoadQuery(
                    sql: "SELECT owner_id, open_leads, last_assigned FROM owner_load WHERE owner_id IN (\(databaseQuestionMarks(count: team.members.count)))",
                    members: StatementArguments(team.members.map(\.userID)))
            }
            self.loadQueries = loadQueries
        }
    }

    /// The prepared settings of one database, kept until their version changes (every
    /// capture needs them; folding the tables each time cost more than the capture's SQL).
    final class SettingsCache: Sendable {
        private let current = Mutex<Prepared?>(nil)

        init() {}

        func prepared(_ db: Database) throws -> Prepared {
            let version = try Int64.fetchOne(db.cachedStatement(sql: "SELECT version FROM pipeline_settings WHERE id = 1")) ?? 0
            if let cached = current.withLock({ $0 }), cached.settings.version == version { return cached }
            let prepared = Prepared(try PipelineStore.settings(db))
            current.withLock { $0 = prepared }
            return prepared
        }
    }

    func settings() async throws -> Forge_Pipeline_V1_PipelineSettings {
        try await database.read { db in try Self.settings(db) }
    }

    func updateSettings(_ settings: Forge_Pipeline_V1_PipelineSettings, context: ServerContext) async throws -> Forge_Pipeline_V1_PipelineSettings {
        let now = clock.now()
        return try await database.write { db in
            let current = try Self.settings(db)
            guard settings.version == current.version else {
                throw RPCError(.aborted, "the settings changed since version \(settings.version) (now \(current.version)): read them again")
            }
            var stored = settings
            stored.version = current.version + 1
            try db.execute(sql: """
                INSERT INTO pipeline_settings (id, payload, version) VALUES (1, ?, ?)
                ON CONFLICT(id) DO UPDATE SET payload = excluded.payload, version = excluded.version
                """, arguments: [try stored.serializedData(), stored.version])
            try AuditLog.record(db, context: context, recordID: "pipeline_settings", changes: ["settings": try stored.jsonString()], at: now)
            return stored
        }
    }

    // MARK: Tasks

    /// Creates a task (once per id: a job that runs twice, or a retried call, adds nothing).
    @discardableResult
    static func createTask(_ db: Database, _ task: Forge_Pipeline_V1_Task, at now: Date) throws -> Bool {
        guard try insertTask(db, task) else { return false }
        try Outbox.append(db, Forge_Pipeline_V1_TaskCreated.with { $0.task = task }, accountID: task.accountID, at: now)
        return true
    }

    /// The task's row, unless one with its id exists; whether it was written.
    @discardableResult
    static func insertTask(_ db: Database, _ task: Forge_Pipeline_V1_Task) throws -> Bool {
        try db.execute(cached: """
            INSERT OR IGNORE INTO task (id, owner_id, kind, done, due_at, lead_id, opportunity_id, account_id, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [task.id, task.ownerID, task.kind, task.done, task.dueAt.date.timeIntervalSince1970, task.leadID,
                             task.opportunityID, task.accountID, try task.serializedData()])
        return db.changesCount > 0
    }

    /// Changes the tasks a filter selects (`WHERE` text and its arguments), keeping the
    /// columns queries use in step with the stored task. Returns the tasks as changed.
    @discardableResult
    static func updateTasks(_ db: Database, where filter: String, _ arguments: StatementArguments,
                            _ change: (inout Forge_Pipeline_V1_Task) -> Void) throws -> [Forge_Pipeline_V1_Task] {
        try Data.fetchAll(db, sql: "SELECT payload FROM task WHERE \(filter)", arguments: arguments).map { payload in
            var task = try Forge_Pipeline_V1_Task(serializedBytes: payload)
            change(&task)
            try db.execute(cached: "UPDATE task SET owner_id = ?, done = ?, account_id = ?, payload = ? WHERE id = ?",
                           arguments: [task.ownerID, task.done, task.accountID, try task.serializedData(), task.id])
            return task
        }
    }

    /// Marks open tasks of a lead or opportunity of one kind done (the first touch closes the
    /// reminder to make it).
    static func completeTasks(_ db: Database, kind: String, leadID: String = "", opportunityID: String = "", at now: Date) throws {
        try updateTasks(db, where: "done = 0 AND kind = ? AND (lead_id = ? AND ? != '' OR opportunity_id = ? AND ? != '')",
                        [kind, leadID, leadID, opportunityID, opportunityID]) { $0.markDone(at: now) }
    }

    static func task(id: String, owner: String, title: String, kind: String, due: Date, now: Date,
                     leadID: String = "", opportunityID: String = "", accountID: String = "") -> Forge_Pipeline_V1_Task {
        .with {
            $0.id = id
            $0.ownerID = owner
            $0.title = title
            $0.kind = kind
            $0.dueAt = .init(date: due)
            $0.createdAt = .init(date: now)
            $0.leadID = leadID
            $0.opportunityID = opportunityID
            $0.accountID = accountID
        }
    }
}

extension Forge_Pipeline_V1_Task {
    mutating func markDone(at date: Date) {
        done = true
        doneAt = .init(date: date)
    }
}
