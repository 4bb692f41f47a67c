@testable import ForgeKit
import Logging
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    @Test("with nothing set, a service runs locally on its DESIGN §2 ports under ./data")
    func defaults() throws {
        let configuration = try ServiceConfiguration.load(name: "accounts", arguments: [], environment: [:])
        #expect(configuration.wirePort == 7101)
        #expect(configuration.adminPort == 9101)
        #expect(configuration.dataDirectory == "./data")
        #expect(configuration.databasePath == "./data/accounts.sqlite")
        #expect(configuration.durability == .full)
        #expect(configuration.upstreams["orders"] == "127.0.0.1:7103")
    }

    @Test("flags win over FORGE_* variables, which win over defaults")
    func precedence() throws {
        let environment = ["FORGE_LOG_LEVEL": "debug", "FORGE_DATA_DIR": "/var/forge", "FORGE_ACCOUNTS_ADDR": "accounts:7201"]
        let fromEnvironment = try ServiceConfiguration.load(name: "accounts", arguments: [], environment: environment)
        #expect(fromEnvironment.logLevel == .debug)
        #expect(fromEnvironment.dataDirectory == "/var/forge")
        #expect(fromEnvironment.wirePort == 7201)
        let fromFlags = try ServiceConfiguration.load(name: "accounts", arguments: ["--log-level", "error", "--wire-port=7301"], environment: environment)
        #expect(fromFlags.logLevel == .error)
        #expect(fromFlags.wirePort == 7301)
    }

    @Test(
        "a bad value stops start-up with one line naming the setting",
        arguments: [
            ([:], ["--wire-port", "seventy"], "--wire-port"),
            (["FORGE_LOG_LEVEL": "loud"], [], "FORGE_LOG_LEVEL"),
            (["FORGE_LOG_FORMAT": "xml"], [], "FORGE_LOG_FORMAT"),
            (["FORGE_DURABILITY": "sometimes"], [], "FORGE_DURABILITY"),
            (["FORGE_ORDERS_ADDR": "orders"], [], "FORGE_ORDERS_ADDR"),
            (["FORGE_ACCOUNTS_ADMIN_PORT": "70000"], [], "FORGE_ACCOUNTS_ADMIN_PORT"),
            (["FORGE_TLS_CERT": "/x.pem"], [], "FORGE_TLS_CERT"),
            ([:], ["--colour", "red"], "--colour"),
        ] as [([String: String], [String], String)]
    )
    func badValues(environment: [String: String], arguments: [String], setting: String) {
        #expect {
            _ = try ServiceConfiguration.load(name: "accounts", arguments: arguments, environment: environment)
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.setting == setting && !error.description.contains("\n")
        }
    }
}
