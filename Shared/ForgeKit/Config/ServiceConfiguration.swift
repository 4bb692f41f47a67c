import Foundation
import Logging

/// One service's configuration: flags, then `FORGE_*` environment variables, then defaults that
/// run locally with nothing set (DESIGN §2 ports, `./data`).
public struct ServiceConfiguration: Sendable, Equatable {
    public enum LogFormat: String, Sendable { case text, json }
    public enum Durability: String, Sendable { case full, normal }

    /// The service's short name, e.g. `accounts`.
    public var name: String
    /// Address the wire server binds.
    public var listenHost = "127.0.0.1"
    public var wirePort: Int
    public var adminPort: Int
    public var dataDirectory = "./data"
    public var logLevel = Logger.Level.info
    public var logFormat = LogFormat.text
    public var durability = Durability.full
    /// File with the Ed25519 public key that verifies tokens (base64 raw key or PEM).
    public var jwtPublicKeyPath: String
    /// Where every other service lives, by short name (`FORGE_<SERVICE>_ADDR`).
    public var upstreams: [String: String]
    /// TLS for the wire server; mutual TLS when a CA is set.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    public var tlsCAPath: String?
    public var shutdownGraceSeconds = 10
    /// How long a day of the business rules' delays lasts, in seconds (`FORGE_DAY_SECONDS`):
    /// 86,400, except where a test or a staging demo runs a week of surveys, reminders and
    /// follow-ups in seconds. Calendar arithmetic (business hours, months) is not scaled.
    public var daySeconds: Double = 86_400

    /// The process name, e.g. `forge-accounts`.
    public var processName: String { "forge-\(name)" }

    /// The database file of this service.
    public var databasePath: String { "\(dataDirectory)/\(name).sqlite" }

    /// Every Forge service with its default wire and admin ports (DESIGN §2).
    public static let defaultPorts: [(name: String, wire: Int, admin: Int)] = [
        ("gateway", 7100, 9100), ("accounts", 7101, 9101), ("pipeline", 7102, 9102),
        ("orders", 7103, 9103), ("servicedesk", 7104, 9104), ("feedback", 7105, 9105),
        ("loyalty", 7106, 9106), ("analytics", 7107, 9107),
    ]

    /// Reads the configuration of service `name`.
    ///
    /// Flags: `--listen-host`, `--wire-port`, `--admin-port`, `--data-dir`, `--log-level`,
    /// `--log-format`, `--durability`. Environment: `FORGE_LISTEN_HOST`, `FORGE_<NAME>_ADDR`
    /// (its port), `FORGE_<NAME>_ADMIN_PORT`, `FORGE_DATA_DIR`, `FORGE_LOG_LEVEL`,
    /// `FORGE_LOG_FORMAT`, `FORGE_DURABILITY`, `FORGE_JWT_PUBLIC_KEY`, `FORGE_TLS_CERT`,
    /// `FORGE_TLS_KEY`, `FORGE_TLS_CA`, `FORGE_SHUTDOWN_GRACE_SECONDS`, `FORGE_DAY_SECONDS`.
    public static func load(
        name: String,
        arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError) -> ServiceConfiguration {
        guard let ports = defaultPorts.first(where: { $0.name == name }) else {
            throw ConfigurationError(setting: "service", problem: "unknown service '\(name)'")
        }
        let flags = try parseFlags(arguments)
        let upper = name.uppercased()
        func value(_ flag: String, _ variable: String) -> (setting: String, value: String)? {
            if let value = flags[flag] { return ("--\(flag)", value) }
            if let value = environment[variable], !value.isEmpty { return (variable, value) }
            return nil
        }

        var upstreams: [String: String] = [:]
        for service in defaultPorts {
            let variable = "FORGE_\(service.name.uppercased())_ADDR"
            let address = environment[variable].flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1:\(service.wire)"
            guard parsePort(ofAddress: address) != nil else {
                throw ConfigurationError(setting: variable, problem: "'\(address)' is not host:port")
            }
            upstreams[service.name] = address
        }

        var configuration = ServiceConfiguration(
            name: name,
            wirePort: ports.wire,
            adminPort: ports.admin,
            jwtPublicKeyPath: "",
            upstreams: upstreams
        )
        if let (setting, raw) = value("listen-host", "FORGE_LISTEN_HOST") {
            guard !raw.contains(" ") else { throw ConfigurationError(setting: setting, problem: "'\(raw)' is not a host") }
            configuration.listenHost = raw
        }
        if let raw = flags["wire-port"] {
            configuration.wirePort = try port(raw, setting: "--wire-port")
        } else if let address = environment["FORGE_\(upper)_ADDR"], !address.isEmpty {
            configuration.wirePort = parsePort(ofAddress: address)!
        }
        if let (setting, raw) = value("admin-port", "FORGE_\(upper)_ADMIN_PORT") {
            configuration.adminPort = try port(raw, setting: setting)
        }
        if let (_, raw) = value("data-dir", "FORGE_DATA_DIR") {
            configuration.dataDirectory = raw
        }
        if let (setting, raw) = value("log-level", "FORGE_LOG_LEVEL") {
            guard let level = Logger.Level(rawValue: raw.lowercased()) else {
                throw ConfigurationError(setting: setting, problem: "'\(raw)' is not one of trace, debug, info, notice, warning, error, critical")
            }
            configuration.logLevel = level
        }
        if let (setting, raw) = value("log-format", "FORGE_LOG_FORMAT") {
            guard let format = LogFormat(rawValue: raw.lowercased()) else {
                throw ConfigurationError(setting: setting, problem: "'\(raw)' is not text or json")
            }
            configuration.logFormat = format
        }
        if let (setting, raw) = value("durability", "FORGE_DURABILITY") {
            guard let durability = Durability(rawValue: raw.lowercased()) else {
                throw ConfigurationError(setting: setting, problem: "'\(raw)' is not full or normal")
            }
            configuration.durability = durability
        }
        configuration.jwtPublicKeyPath = value("jwt-public-key", "FORGE_JWT_PUBLIC_KEY")?.value
            ?? "\(configuration.dataDirectory)/keys/jwt-ed25519.pub"
        configuration.tlsCertificatePath = value("tls-cert", "FORGE_TLS_CERT")?.value
        configuration.tlsKeyPath = value("tls-key", "FORGE_TLS_KEY")?.value
        configuration.tlsCAPath = value("tls-ca", "FORGE_TLS_CA")?.value
        if (configuration.tlsCertificatePath == nil) != (configuration.tlsKeyPath == nil) {
            throw ConfigurationError(setting: "FORGE_TLS_CERT", problem: "FORGE_TLS_CERT and FORGE_TLS_KEY must be set together")
        }
        if let (setting, raw) = value("shutdown-grace-seconds", "FORGE_SHUTDOWN_GRACE_SECONDS") {
            guard let seconds = Int(raw), (0...600).contains(seconds) else {
                throw ConfigurationError(setting: setting, problem: "'\(raw)' is not a number of seconds (0–600)")
            }
            configuration.shutdownGraceSeconds = seconds
        }
        if let (setting, raw) = value("day-seconds", "FORGE_DAY_SECONDS") {
            guard let seconds = Double(raw), seconds >= 1, seconds <= 86_400 else {
                throw ConfigurationError(setting: setting, problem: "'\(raw)' is not a number of seconds (1–86400)")
            }
            configuration.daySeconds = seconds
        }
        return configuration
    }

    private static func parseFlags(_ arguments: [String]) throws(ConfigurationError) -> [String: String] {
        var flags: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else {
                throw ConfigurationError(setting: argument, problem: "unexpected argument")
            }
            let body = argument.dropFirst(2)
            if let equals = body.firstIndex(of: "=") {
                flags[String(body[..<equals])] = String(body[body.index(after: equals)...])
                index += 1
            } else {
                guard index + 1 < arguments.count else {
                    throw ConfigurationError(setting: argument, problem: "needs a value")
                }
                flags[String(body)] = arguments[index + 1]
                index += 2
            }
        }
        let known: Set<String> = [
            "listen-host", "wire-port", "admin-port", "data-dir", "log-level", "log-format", "durability",
            "jwt-public-key", "tls-cert", "tls-key", "tls-ca", "shutdown-grace-seconds",
        ]
        for flag in flags.keys where !known.contains(flag) {
            throw ConfigurationError(setting: "--\(flag)", problem: "unknown flag")
        }
        return flags
    }

    private static func port(_ raw: String, setting: String) throws(ConfigurationError) -> Int {
        guard let port = Int(raw), (0...65535).contains(port) else {
            throw ConfigurationError(setting: setting, problem: "'\(raw)' is not a port (0–65535)")
        }
        return port
    }

    static func parsePort(ofAddress address: String) -> Int? {
        guard let colon = address.lastIndex(of: ":"), colon != address.startIndex,
              let port = Int(address[address.index(after: colon)...]), (1...65535).contains(port)
        else { return nil }
        return port
    }
}
