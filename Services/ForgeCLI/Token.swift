import ArgumentParser
import ForgeKit
import Foundation

/// `forge token issue`: signs a token with the stack's private key.
struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Issue tokens.", subcommands: [Issue.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a signed token.")

        @Option(help: "The subject (user or integration id).")
        var sub: String

        @Option(help: "A role (repeatable): \(Role.all.sorted().joined(separator: ", ")).")
        var role: [String] = []

        @Option(help: "The team.")
        var team: String?

        @Option(help: "Lifetime, e.g. 30m, 8h, 30d.")
        var ttl: String = "8h"

        @Option(help: "The data directory holding keys/ (default: $FORGE_DATA_DIR or ./data).")
        var dataDir: String?

        func run() async throws {
            let unknown = role.filter { !Role.all.contains($0) }
            guard unknown.isEmpty else { throw ValidationError("unknown role \(unknown.joined(separator: ", "))") }
            guard !role.isEmpty else { throw ValidationError("give at least one --role") }
            guard let seconds = Self.parseDuration(ttl) else { throw ValidationError("--ttl '\(ttl)' is not like 30m, 8h or 30d") }
            let layout = StackLayout(dataDirectory: dataDir)
            let key = try SigningKeys.readPrivateKey(path: layout.privateKeyPath)
            let token = try await TokenIssuer(privateKey: key).issue(subject: sub, roles: role, team: team, ttl: seconds)
            print(token)
        }

        static func parseDuration(_ text: String) -> TimeInterval? {
            guard let unit = text.last, let value = Double(text.dropLast()), value > 0 else { return nil }
            switch unit {
            case "s": return value
            case "m": return value * 60
            case "h": return value * 3600
            case "d": return value * 86400
            default: return nil
            }
        }
    }
}
