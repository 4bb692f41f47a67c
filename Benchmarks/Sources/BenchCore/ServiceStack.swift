import ForgeKit
import ForgeWire
import Foundation

/// Forge's real service executables started on their own ports over a benchmark's data set:
/// wire ports from `portBase` in the standard order, admin ports 100 above; logs kept to errors.
public final class ServiceStack: Sendable {
    public let processes: [Process]
    public let portBase: Int
    public let services: [String]

    /// - Parameter environment: further settings (the gateway's HTTP port, its rate limit).
    public init(binaries: String, data: String, portBase: Int, durability: String, services: [String], environment extra: [String: String] = [:]) throws {
        self.portBase = portBase
        self.services = services
        var environment = ProcessInfo.processInfo.environment
        environment["FORGE_DATA_DIR"] = data
        environment["FORGE_DURABILITY"] = durability
        environment["FORGE_LOG_LEVEL"] = "error"
        for (index, name) in ServiceConfiguration.defaultPorts.map(\.name).enumerated() {
            environment["FORGE_\(name.uppercased())_ADDR"] = "127.0.0.1:\(portBase + index)"
            environment["FORGE_\(name.uppercased())_ADMIN_PORT"] = "\(portBase + 100 + index)"
        }
        environment.merge(extra) { $1 }
        processes = try services.map { name in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "\(binaries)/forge-\(name)")
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
    }

    public func port(_ service: String) -> Int {
        portBase + ServiceConfiguration.defaultPorts.firstIndex { $0.name == service }!
    }

    /// A client channel to `service` carrying a day's token for `subject` with `roles` (and `team`).
    public func channel(_ service: String, issuer: TokenIssuer, subject: String, roles: [String], team: String? = nil, connections: Int = 4) async throws -> WireClient {
        let token = try await issuer.issue(subject: subject, roles: roles, team: team, ttl: 86_400)
        var configuration = ClientConfiguration()
        configuration.connections = connections
        return try WireClient(host: "127.0.0.1", port: port(service), configuration: configuration, interceptors: [BearerTokenInterceptor(token: token)])
    }

    public func waitUntilServing() async throws {
        for service in services { try await BenchCore.waitUntilServing(port: port(service)) }
    }

    public func stop() {
        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

extension ServiceStack {
    /// CPU seconds (user and system) the stack's running processes have used so far, from
    /// /proc: with the machine's speed drifting by ±15 % between runs, CPU spent per call is
    /// the steadier figure to compare two builds by.
    public func cpuSeconds() -> Double {
        cpuSecondsByService().values.reduce(0, +)
    }

    /// The same, each running service's own.
    public func cpuSecondsByService() -> [String: Double] {
        var seconds: [String: Double] = [:]
        for (service, process) in zip(services, processes) where process.isRunning {
            seconds[service] = Self.cpuSeconds(pid: process.processIdentifier)
        }
        return seconds
    }

    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command's closing parenthesis: state is the 3rd, utime the 14th, stime the 15th.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
