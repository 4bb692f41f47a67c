import ArgumentParser
import ForgeKit
import Foundation

/// `forge keys init`: the signing key pair and the service token, without starting anything —
/// what a container deployment runs once before the services (docker-compose.yml's `keys`).
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage the token signing keys.", subcommands: [Init.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create the signing key pair (unless present) and the service token under keys/.")

        @Option(help: "The data directory (default: $FORGE_DATA_DIR or ./data).")
        var dataDir: String?

        func run() async throws {
            let layout = StackLayout(dataDirectory: dataDir)
            let created = try layout.createSigningKeyIfMissing()
            _ = try await layout.writeServiceToken()
            print("[forge] \(created ? "created" : "kept") the signing key and wrote the service token in \(layout.keysDirectory)")
        }
    }
}
