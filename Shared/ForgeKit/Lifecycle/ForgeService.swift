import ForgeContracts
import ForgeWire
import Foundation
import GRDB
import JWTKit
import Logging
import Metrics
import NIOSSL
import Prometheus
import ServiceLifecycle
import UnixSignals

/// The entry point every Forge executable runs: `ForgeService.main(name: "accounts")`.
///
/// Loads the configuration (a bad value stops start-up with one line naming the setting),
/// sets up logging and metrics, opens and migrates the database, verifies tokens with the
/// public key, serves the wire protocol and the admin port, runs jobs and consumers, and on
/// SIGTERM/SIGINT drains RPCs, stops consumers and jobs, closes the database and exits 0.
public enum ForgeService {
    /// Runs the service on Swift's global executor and parks the main thread until the service
    /// calls `exit`. A `main.swift` with top-level `await` would instead hand its thread to
    /// `dispatch_main()`, which leaves it through `pthread_exit` — a forced unwind that reads
    /// the unwind tables for every frame and kept ~700 KB of `.eh_frame_hdr` and `.eh_frame`
    /// resident in every process for nothing.
    public static func main(
        name: String,
        migrations: @escaping @Sendable (inout DatabaseMigrator) -> Void = { _ in },
        setup: @escaping @Sendable (inout ServiceSetup) async throws -> Void = { _ in }
    ) -> Never {
        Task {
            await serve(name: name, migrations: migrations, setup: setup)
        }
        let parked = DispatchSemaphore(value: 0)
        while true {
            parked.wait()
        }
    }

    static func serve(
        name: String,
        migrations: @escaping @Sendable (inout DatabaseMigrator) -> Void,
        setup: (inout ServiceSetup) async throws -> Void
    ) async -> Never {
        let configuration: ServiceConfiguration
        do {
            configuration = try ServiceConfiguration.load(name: name)
        } catch {
            FileHandle.standardError.write(Data("forge-\(name): \(error)\n".utf8))
            exit(2)
        }
        LogSetup.bootstrap(format: configuration.logFormat, level: configuration.logLevel)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var logger = Logger(label: configuration.processName)
        logger.logLevel = configuration.logLevel
        do {
            try await run(configuration: configuration, registry: registry, logger: logger, migrations: migrations, setup: setup)
            logger.info("stopped")
            exit(0)
        } catch let error as ConfigurationError {
            logger.critical("\(error)")
            FileHandle.standardError.write(Data("\(configuration.processName): \(error)\n".utf8))
            exit(2)
        } catch {
            logger.critical("failed", metadata: ["error": "\(error)"])
            exit(1)
        }
    }

    static func run(
        configuration: ServiceConfiguration,
        registry: PrometheusCollectorRegistry,
        logger: Logger,
        migrations: @escaping (inout DatabaseMigrator) -> Void,
        setup: (inout ServiceSetup) async throws -> Void
    ) async throws {
        let publicKey: JWTKitPublicKey
        do {
            publicKey = try SigningKeys.readPublicKey(path: configuration.jwtPublicKeyPath)
        } catch {
            throw ConfigurationError(setting: "FORGE_JWT_PUBLIC_KEY", problem: "cannot read the token public key at \(configuration.jwtPublicKeyPath) (run 'forge up' once, or set it): \(error)")
        }
        let database = try ForgeDatabase.open(path: configuration.databasePath, durability: configuration.durability, migrations: migrations)
        let signal = CommitSignal()
        let observation = try signal.observe(table: "outbox", in: database)
        defer { observation.cancel() }

        var serviceSetup = ServiceSetup(
            configuration: configuration,
            database: database,
            clock: SystemClock(),
            logger: logger,
            serviceToken: ServiceToken.load(dataDirectory: configuration.dataDirectory)
        )
        try await setup(&serviceSetup)

        serviceSetup.jobHandlers[IdempotencySweep.kind] = IdempotencySweep.handler(database: database, clock: serviceSetup.clock)
        try await IdempotencySweep.scheduleIfAbsent(database, now: serviceSetup.clock.now())
        let scheduler = JobScheduler(database: database, clock: serviceSetup.clock, handlers: serviceSetup.jobHandlers, logger: logger)
        let readiness = Readiness(database: database, consumers: serviceSetup.consumers)
        var router = serviceSetup.router
        HealthService(processName: configuration.processName, readiness: readiness).register(in: &router)
        EventFeedService(database: database, signal: signal).register(in: &router)
        JobsService(scheduler: scheduler).register(in: &router)

        let access = serviceSetup.access
        let authenticator: any Authenticator
        if let custom = serviceSetup.authenticator {
            authenticator = custom
        } else {
            authenticator = await JWTAuthenticator(publicKey: publicKey)
        }
        let interceptors: [any ServerInterceptor] = [
            LoggingInterceptor(),
            MetricsInterceptor(),
            AuthenticationInterceptor(authenticator: authenticator) { access.access(for: $0) },
            IdempotencyInterceptor(database: database, clock: serviceSetup.clock),
        ]
        var wireConfiguration = ServerConfiguration(host: configuration.listenHost, port: configuration.wirePort)
        wireConfiguration.shutdownGracePeriod = .seconds(configuration.shutdownGraceSeconds)
        wireConfiguration.tls = try configuration.serverTLS()
        let wire = WireServer(configuration: wireConfiguration, router: router, interceptors: interceptors, logger: logger,
                              inProcess: serviceSetup.inProcessChannel)
        let admin = AdminServer.make(host: configuration.listenHost, port: configuration.adminPort, readiness: readiness, registry: registry, logger: logger)

        let idle = IdleMemoryRelease(database: database, clock: serviceSetup.clock, logger: logger)
        var services: [any Service] = [wire, admin, scheduler, idle, try WALCheckpointer(database: database, logger: logger)]
        services += serviceSetup.consumers.map { $0 as any Service }
        services += serviceSetup.services
        services.append(LongPollRelease(signal: signal))
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        logger.info("starting", metadata: [
            "wire": "\(configuration.listenHost):\(configuration.wirePort)",
            "admin": "\(configuration.adminPort)",
            "database": "\(configuration.databasePath)",
        ])
        try await group.run()
        try database.close()
    }
}

typealias JWTKitPublicKey = EdDSA.PublicKey

/// The token a service presents to other services (role `service`): `FORGE_SERVICE_TOKEN`, or
/// the file `forge up` writes under the data directory.
public enum ServiceToken {
    public static func path(dataDirectory: String) -> String { "\(dataDirectory)/keys/service.token" }

    static func load(dataDirectory: String) -> String? {
        if let token = ProcessInfo.processInfo.environment["FORGE_SERVICE_TOKEN"], !token.isEmpty { return token }
        return (try? String(contentsOfFile: path(dataDirectory: dataDirectory), encoding: .utf8))?
            .trimmed
    }
}

extension ServiceConfiguration {
    func serverTLS() throws -> TLSConfiguration? {
        guard let certificatePath = tlsCertificatePath, let keyPath = tlsKeyPath else { return nil }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
        )
        if let tlsCAPath {
            tls.trustRoots = .file(tlsCAPath)
            tls.certificateVerification = .noHostnameVerification
        }
        return tls
    }
}
