import ForgeContracts
import Foundation
import GRDB
import SwiftProtobuf

/// The transactional outbox: a state change and its event are written in one transaction, so
/// an event exists exactly when its change committed.
public enum Outbox {
    /// Appends `event` (its type is the message's name) inside the caller's write transaction.
    @discardableResult
    public static func append(
        _ db: Database,
        _ event: some SwiftProtobuf.Message,
        accountID: String = "",
        at date: Date
    ) throws -> Int64 {
        try db.execute(
            cached: insertOne,
            arguments: [EventID.make(), typeName(type(of: event)), accountID, date.timeIntervalSince1970, try event.serializedData()]
        )
        return db.lastInsertedRowID
    }

    private static let insertHead = "INSERT INTO outbox (event_id, type, account_id, occurred_at, payload) VALUES "
    private static let insertRow = "(?, ?, ?, ?, ?)"
    private static let insertOne = insertHead + insertRow

    /// An event's type: its message's name without the package.
    static func typeName(_ message: any SwiftProtobuf.Message.Type) -> String {
        String(message.protoMessageName.split(separator: ".").last ?? "")
    }

    /// Appends events of one type, in order, with a few multi-row statements (a batch's
    /// events: a statement per event costs more than storing it).
    public static func append<Event: SwiftProtobuf.Message>(_ db: Database, _ events: [(event: Event, accountID: String)], at date: Date) throws {
        guard !events.isEmpty else { return }
        let type = typeName(Event.self)
        var values: [DatabaseValue] = []
        values.reserveCapacity(events.count * 5)
        for (event, accountID) in events {
            values += [EventID.make().databaseValue, type.databaseValue, accountID.databaseValue, date.timeIntervalSince1970.databaseValue,
                       try event.serializedData().databaseValue]
        }
        try db.executeRows(insertHead, row: insertRow, values: values, columns: 5)
    }

    /// Rewrites past events of `types` whose payload mentions `key` (an erasure: the history
    /// consumers replay from the start must not bring the person back). `change` decodes the
    /// payload, removes what must go and answers the new one, or nil to keep the event as it
    /// is. The events keep their seq, id and time; consumers that read them already anonymise
    /// on the erasure's own event.
    @discardableResult
    public static func redact(_ db: Database, types: [String], mentioning key: String, _ change: (String, Data) throws -> Data?) throws -> Int {
        guard !key.isEmpty, !types.isEmpty else { return 0 }
        var rewritten = 0
        for row in try Row.fetchAll(db, sql: """
            SELECT seq, type, payload FROM outbox WHERE type IN (\(databaseQuestionMarks(count: types.count))) AND instr(payload, CAST(? AS BLOB)) > 0
            """, arguments: StatementArguments(types) + [key]) {
            guard let payload = try change(row["type"], row["payload"]) else { continue }
            try db.execute(sql: "UPDATE outbox SET payload = ? WHERE seq = ?", arguments: [payload, row["seq"] as Int64])
            rewritten += 1
        }
        return rewritten
    }

    /// Events after `seq`, oldest first.
    public static func events(
        _ db: Database,
        after seq: UInt64,
        limit: Int,
        types: [String] = []
    ) throws -> [Forge_Common_V1_Event] {
        var sql = "SELECT seq, event_id, type, account_id, occurred_at, payload FROM outbox WHERE seq > ?"
        var arguments: StatementArguments = [Int64(clamping: seq)]
        if !types.isEmpty {
            sql += " AND type IN (\(databaseQuestionMarks(count: types.count)))"
            arguments += StatementArguments(types)
        }
        sql += " ORDER BY seq LIMIT ?"
        arguments += [limit]
        // A consumer asks with the same types every time: the statement is prepared once.
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map { row in
            var event = Forge_Common_V1_Event()
            event.seq = UInt64(row["seq"] as Int64)
            event.eventID = row["event_id"]
            event.type = row["type"]
            event.accountID = row["account_id"]
            event.occurredAt = Google_Protobuf_Timestamp(date: Date(timeIntervalSince1970: row["occurred_at"]))
            event.payload = row["payload"]
            return event
        }
    }

    /// The highest seq written so far (0 when empty).
    public static func headSeq(_ db: Database) throws -> UInt64 {
        UInt64(try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(seq), 0) FROM outbox")) ?? 0)
    }

    /// The outbox's incarnation and the last seq before it began.
    public static func incarnation(_ db: Database) throws -> (id: String, startsAfterSeq: UInt64) {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, starts_after_seq FROM outbox_incarnation")) else { return ("", 0) }
        return (row["id"], UInt64(row["starts_after_seq"] as Int64))
    }

    /// Starts a new incarnation after the outbox was restored from a backup: the events up to
    /// the current head are the backup's, the next ones are new to every consumer.
    public static func beginIncarnation(_ db: Database) throws {
        try db.execute(sql: "UPDATE outbox_incarnation SET id = ?, starts_after_seq = ?", arguments: [UUID().uuidString, Int64(try headSeq(db))])
    }
}

/// Opaque, sortable, prefixed ids (DESIGN §5): prefix, 12 hex digits of milliseconds, 16 random hex.
public enum EventID {
    public static func make(prefix: String = "evt", at date: Date = Date()) -> String {
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var random = SystemRandomNumberGenerator()
        let time = String(millis, radix: 16)
        let tail = String(random.next() as UInt64, radix: 16)
        return prefix + "_" + String(repeating: "0", count: max(0, 12 - time.count)) + time
            + String(repeating: "0", count: 16 - tail.count) + tail
    }
}
