import ForgeWire
import Foundation
import GRDB
import Logging
import ServiceLifecycle

/// What a service's `main` fills in: its handlers, the roles of its methods, its job handlers
/// and its event consumers. Everything else (config, storage, auth, health, metrics, shutdown)
/// the kit does the same way for every service.
public struct ServiceSetup: Sendable {
    public let configuration: ServiceConfiguration
    public let database: DatabasePool
    public let clock: any WallClock
    public let logger: Logger
    public var router = RPCRouter()
    public var access = AccessTable()
    public var jobHandlers: [String: JobScheduler.Handler] = [:]
    public var consumers: [EventConsumer] = []
    /// Replaces the JWT check (the gateway also accepts its API keys); nil keeps it.
    public var authenticator: (any Authenticator)?
    /// Further long-running parts started and stopped with the process (the gateway's HTTP server).
    public var services: [any Service] = []
    /// Calls this service's own methods in-process, through every interceptor a wire call
    /// passes (the gateway's HTTP side); usable once the service runs.
    public let inProcessChannel: InProcessChannel
    let serviceToken: String?

    init(configuration: ServiceConfiguration, database: DatabasePool, clock: any WallClock, logger: Logger, serviceToken: String?) {
        self.configuration = configuration
        self.database = database
        self.clock = clock
        self.logger = logger
        self.serviceToken = serviceToken
        self.inProcessChannel = InProcessChannel(logger: logger)
    }

    /// A client of another Forge service (`FORGE_<SERVICE>_ADDR`), calling as this service.
    public func client(of upstream: String) throws -> WireClient {
        guard let address = configuration.upstreams[upstream] else {
            throw ConfigurationError(setting: "FORGE_\(upstream.uppercased())_ADDR", problem: "unknown service '\(upstream)'")
        }
        var interceptors: [any ClientInterceptor] = [ClientMetricsInterceptor()]
        if let serviceToken {
            interceptors.insert(BearerTokenInterceptor(token: serviceToken), at: 0)
        }
        return try WireClient(address: address, interceptors: interceptors)
    }
}
