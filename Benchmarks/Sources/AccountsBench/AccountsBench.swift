import ArgumentParser
import BenchCore
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import Logging
import SwiftProtobuf
import Synchronization

/// The accounts service at the size of issue 4 (100,000 accounts, 300,000 contacts, 2,000,000
/// activities), measured through the wire protocol against the real `forge-accounts` process
/// and its database file. The data set is loaded through the service's own RPCs (ImportAccounts,
/// ImportContacts, LogActivity) once and kept in `--data` for later runs.
@main
struct AccountsBench: AsyncParsableCommand {
    @Option(help: "The forge-accounts executable (a release build).")
    var binary = "../.build/release/forge-accounts"

    @Option(help: "Where the seeded data set lives between runs.")
    var data = "/var/tmp/forge-accounts-bench"

    @Option(help: "Accounts to seed (cities × two-word names; at most 100,000).")
    var accounts = 100_000

    @Option(help: "Contacts per account.")
    var contactsPerAccount = 3

    @Option(help: "Activities per account.")
    var activitiesPerAccount = 20

    @Option(help: "Seconds per measurement.")
    var duration = 10.0

    @Option(help: "Wire port for the service under test.")
    var port = 7_951

    @Flag(help: "Throw the data set away and seed it again.")
    var reseed = false

    @Flag(help: "Measure only the import into the full database.")
    var importOnly = false

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores shared by forge-accounts and this load generator")
        let marker = "\(data)/seeded-\(accounts)-\(contactsPerAccount)-\(activitiesPerAccount)"
        if reseed || !FileManager.default.fileExists(atPath: marker) {
            try? FileManager.default.removeItem(atPath: data)
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            let (privateKey, _) = try SigningKeys.generate()
            try SigningKeys.write(privateKey: privateKey, to: "\(data)/keys")
            // Seeding writes with synchronous=NORMAL; measurements run the default, FULL.
            let service = try ServiceProcess(binary: binary, data: data, port: port, durability: "normal")
            defer { service.stop() }
            try await service.waitUntilServing()
            try await seed(service)
            _ = FileManager.default.createFile(atPath: marker, contents: nil)
        }
        let service = try ServiceProcess(binary: binary, data: data, port: port, durability: "full")
        defer { service.stop() }
        try await service.waitUntilServing()
        try await measure(service)
    }

    // MARK: Seeding

    func seed(_ service: ServiceProcess) async throws {
        let admin = try await service.client(subject: "seeder", roles: ["admin"])
        let ids = try await AccountsDataSet.seed(admin: admin, accounts: accounts, contactsPerAccount: contactsPerAccount, activitiesPerAccount: activitiesPerAccount)
        try ids.joined(separator: "\n").write(toFile: "\(data)/account-ids.txt", atomically: true, encoding: .utf8)
    }

    // MARK: Measuring

    func measure(_ service: ServiceProcess) async throws {
        let ids = try String(contentsOfFile: "\(data)/account-ids.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        let names = AccountsDataSet.accountNames(count: accounts)
        let admin = try await service.client(subject: "bench-admin", roles: ["admin"])
        // rep-007 owns 1/200 of the accounts and shares team-07 with 1/20.
        let rep = try await service.client(subject: "rep-007", roles: ["sales_rep"], team: "team-07")
        print("data set: \(ids.count) accounts, \(ids.count * contactsPerAccount) contacts, \(ids.count * activitiesPerAccount) activities; \(service.databaseSize)")
        print("each line: K=4 connections, C calls in flight, \(duration) s after 2 s warm-up, FULL durability")

        for concurrency in importOnly ? [] : [1, 16] {
            let load = LoadShape(connections: 4, concurrency: concurrency, duration: duration, warmup: 2, payloadBytes: 0)
            func report(_ name: String, _ result: LoadResult) { print(result.line(name: "C=\(concurrency)") + "   " + name) }

            report("GetAccount (random id, admin)", await drive(load) { _ in
                _ = try await admin.getAccount(.with { $0.id = ids.randomElement()! })
            })
            report("SearchAccounts name prefix (city + first word, admin)", await drive(load) { _ in
                let name = names.randomElement()!
                _ = try await admin.searchAccounts(.with { $0.namePrefix = String(name.prefix(4)) })
            })
            report("SearchAccounts name prefix (city only, rep: team filter)", await drive(load) { _ in
                _ = try await rep.searchAccounts(.with { $0.namePrefix = String(AccountsDataSet.cities.randomElement()!) })
            })
            report("SearchActivities 耐高温材料 (1% of notes, admin)", await drive(load) { _ in
                _ = try await admin.searchActivities(.with { $0.query = "耐高温材料" })
            })
            report("SearchActivities 耐高温材料 (rep: own team's notes)", await drive(load) { _ in
                _ = try await rep.searchActivities(.with { $0.query = "耐高温材料" })
            })
            report("SearchActivities 报价单 (20% of notes, admin)", await drive(load) { _ in
                _ = try await admin.searchActivities(.with { $0.query = "报价单" })
            })
            report("ListActivities timeline page of 50 (random account)", await drive(load) { _ in
                _ = try await admin.listActivities(.with { $0.accountID = ids.randomElement()! })
            })
        }

        // Import into the full database: 20,000 rows, one in ten a duplicate of an existing
        // account, batches of 1,000 as `forge import` sends them, one caller.
        let rows = 20_000
        let batch = AccountsDataSet.importRows(count: rows, existing: names)
        let started = ContinuousClock.now
        var created = 0
        var duplicates = 0
        let importID = "bench-\(UUID().uuidString)"
        for start in stride(from: 0, to: rows, by: 1000) {
            let response = try await admin.importAccounts(.with {
                $0.importID = importID
                $0.header = AccountsDataSet.accountHeader
                $0.rows = Array(batch[start..<min(start + 1000, rows)])
            }, options: CallOptions(timeout: .seconds(120)))
            created += response.results.count { $0.status == .created }
            duplicates += response.results.count { $0.status == .duplicate }
        }
        let seconds = (ContinuousClock.now - started).seconds
        print(String(format: "ImportAccounts into the full database: %d rows (%d created, %d duplicates) in %.2f s = %.0f rows/s, FULL durability",
                     rows, created, duplicates, seconds, Double(rows) / seconds))
    }
}


/// forge-accounts as a child process on its own data directory.
final class ServiceProcess: Sendable {
    let process: Process
    let data: String
    let port: Int

    init(binary: String, data: String, port: Int, durability: String) throws {
        self.data = data
        self.port = port
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        var environment = ProcessInfo.processInfo.environment
        environment["FORGE_DATA_DIR"] = data
        environment["FORGE_DURABILITY"] = durability
        environment["FORGE_ACCOUNTS_ADDR"] = "127.0.0.1:\(port)"
        environment["FORGE_ACCOUNTS_ADMIN_PORT"] = "\(port + 100)"
        environment["FORGE_LOG_LEVEL"] = "warning"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    func waitUntilServing() async throws {
        try await BenchCore.waitUntilServing(port: port)
    }

    func client(subject: String, roles: [String], team: String = "") async throws -> Forge_Accounts_V1_AccountsClient {
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(data)/keys/jwt-ed25519.key"))
        let token = try await issuer.issue(subject: subject, roles: roles, team: team, ttl: 86_400)
        var configuration = ClientConfiguration()
        configuration.connections = 4
        let wire = try WireClient(host: "127.0.0.1", port: port, configuration: configuration, interceptors: [BearerTokenInterceptor(token: token)])
        return Forge_Accounts_V1_AccountsClient(channel: wire)
    }

    var databaseSize: String {
        let bytes = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: "\(data)/accounts.sqlite\($0)")[.size] as? Int }.reduce(0, +)
        return String(format: "database %.2f GB", Double(bytes) / 1e9)
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
