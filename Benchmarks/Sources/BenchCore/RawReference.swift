import Foundation
import GRDB

/// The raw SQLite reference an ingest target is measured against (issues 13 and 15: "≥ 40 % of
/// a raw SQLite batched insert of the same rows in the same run"): a new file at `path`, WAL,
/// synchronous=FULL, with the one table `schema` creates.
public enum RawReference {
    public static func open(_ path: String, schema: String) async throws -> DatabaseQueue {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        let raw = try DatabaseQueue(path: path, configuration: configuration)
        try await raw.write { db in try db.execute(sql: schema) }
        return raw
    }
}
