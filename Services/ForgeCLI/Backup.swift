import ArgumentParser
import ForgeKit
import Foundation
import GRDB

/// `forge backup DIR`: an SQLite online backup of every service database, safe while running.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Back up every service database (while running).")

    @Argument(help: "The directory to write the backup into (created).")
    var directory: String

    @Option(help: "The data directory (default: $FORGE_DATA_DIR or ./data).")
    var dataDir: String?

    func run() async throws {
        let layout = StackLayout(dataDirectory: dataDir)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var copied = 0
        for service in StackLayout.services {
            let source = "\(layout.dataDirectory)/\(service).sqlite"
            guard FileManager.default.fileExists(atPath: source) else { continue }
            let target = "\(directory)/\(service).sqlite"
            try copyDatabase(from: source, to: target)
            print("backed up \(service) → \(target)")
            copied += 1
        }
        guard copied > 0 else { throw ValidationError("no databases under \(layout.dataDirectory)") }
    }
}

/// `forge restore DIR`: puts a backup back; every service must be stopped.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Restore every service database from a backup (stack stopped).")

    @Argument(help: "A directory written by forge backup.")
    var directory: String

    @Option(help: "The data directory (default: $FORGE_DATA_DIR or ./data).")
    var dataDir: String?

    func run() async throws {
        for service in StackLayout.services {
            if case .success = await Health.check(address: StackLayout.address(of: service), timeout: .milliseconds(500)) {
                throw ValidationError("forge-\(service) is running: stop the stack before restoring")
            }
        }
        let layout = StackLayout(dataDirectory: dataDir)
        try FileManager.default.createDirectory(atPath: layout.dataDirectory, withIntermediateDirectories: true)
        for service in StackLayout.services {
            let source = "\(directory)/\(service).sqlite"
            guard FileManager.default.fileExists(atPath: source) else { continue }
            let target = "\(layout.dataDirectory)/\(service).sqlite"
            try copyDatabase(from: source, to: target)
            // Events the service wrote after this copy was taken are gone from it, but its
            // consumers may have seen them: a new outbox incarnation tells them where to resume.
            let database = try DatabaseQueue(path: target)
            try await database.write { db in
                if try db.tableExists("outbox_incarnation") { try Outbox.beginIncarnation(db) }
            }
            try database.close()
            print("restored \(service) ← \(source)")
        }
    }
}

/// Copies one SQLite database with SQLite's online backup API: a consistent snapshot even while
/// the owning service keeps writing. The target's old file, WAL and shared memory go first.
func copyDatabase(from source: String, to target: String) throws {
    for suffix in ["", "-wal", "-shm"] {
        try? FileManager.default.removeItem(atPath: target + suffix)
    }
    let from = try DatabaseQueue(path: source)
    let to = try DatabaseQueue(path: target)
    try from.backup(to: to)
    try from.close()
    try to.close()
}
