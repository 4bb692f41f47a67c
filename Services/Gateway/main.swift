import AsyncHTTPClient
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import Logging
import NIOSSL

// forge-gateway: sign-in, users and API keys, the 360° view, the HTTP/JSON API and the web
// pages (DESIGN §2). It holds the token signing key; the services hold only the public key.
ForgeService.main(name: "gateway", migrations: { IdentityStore.migrations(&$0); WebhookStore.migrations(&$0); NotificationStore.migrations(&$0) }) { setup in
    let settings = try GatewaySettings.load(configuration: setup.configuration)
    let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: settings.privateKeyPath))
    let identity = IdentityStore(database: setup.database, hasher: PasswordHasher())
    if try await identity.bootstrapAdmin(password: try settings.adminPassword(), at: setup.clock.now()) {
        setup.logger.notice("created the first user: admin (password in \(settings.adminPasswordPath))")
    }
    let authenticator = GatewayAuthenticator(
        jwt: await JWTAuthenticator(publicKey: try SigningKeys.readPublicKey(path: setup.configuration.jwtPublicKeyPath)),
        identity: identity,
        clock: setup.clock
    )
    setup.authenticator = authenticator

    // Upstream calls carry the caller's identity, never the gateway's own service token.
    var channels: [String: any RPCChannel] = [:]
    for (service, address) in setup.configuration.upstreams where service != "gateway" {
        channels[service] = try WireClient(address: address, interceptors: [ClientMetricsInterceptor()])
    }
    let tokens = CallerTokens(issuer: issuer)
    let webhooks = WebhookStore(database: setup.database)
    GatewayHandler(identity: identity, issuer: issuer, customer360: Customer360(upstreams: channels, callerTokens: tokens), webhooks: webhooks, clock: setup.clock,
                   allowPrivateWebhookTargets: settings.allowPrivateWebhookTargets)
        .register(in: &setup.router)

    // The edge for everything that leaves the company: follow the domain event feeds (each
    // service's as it gets events) and send each matching event to its webhooks, and each
    // NotificationRequested to its customer, through durable, retried jobs.
    let clock = setup.clock
    for upstream in GatewaySettings.eventSources {
        setup.consumers.append(EventConsumer(upstream: upstream, feed: try setup.client(of: upstream), database: setup.database, logger: setup.logger) { db, event in
            try WebhookStore.enqueue(db, event, at: clock.now())
            try NotificationStore.enqueue(db, event, upstream: upstream, at: clock.now())
            try NotificationStore.forget(db, event)
            try WebhookStore.forget(db, event)
        })
    }
    let sender = WebhookSender(database: setup.database, http: HTTPClient.shared, clock: setup.clock)
    setup.jobHandlers[WebhookStore.jobKind] = { payload, job in
        try await sender.send(deliveryID: String(decoding: payload, as: UTF8.self), job: job)
    }
    let notifications = NotificationSender(database: setup.database, accounts: try setup.client(of: "accounts"), smtp: try settings.smtpClient(),
                                           publicURL: settings.publicURL, clock: setup.clock)
    setup.jobHandlers[NotificationStore.jobKind] = { payload, job in
        try await notifications.send(key: String(decoding: payload, as: UTF8.self), job: job)
    }
    GatewayAccess.declare(in: &setup.access)

    // The wire port forwards every domain service's methods to that service.
    let forwarder = WireForwarder(upstreams: channels, callerTokens: tokens)
    for method in forwarder.methods { setup.access.allow(method, .authenticated) }
    setup.router.forwarding = { forwarder.route(for: $0) }

    // The HTTP side calls the gateway's own RPCs in-process, through the interceptors a wire
    // call passes (it took a loopback round trip through the gateway's own wire port).
    channels["gateway"] = setup.inProcessChannel
    let http = HTTPGateway(channels: channels, authenticator: authenticator, callerTokens: tokens,
                           limiter: RateLimiter(rate: settings.rateLimit, burst: settings.rateLimit * 2, clock: setup.clock), logger: setup.logger)
    setup.services.append(http.application(host: setup.configuration.listenHost, port: settings.httpPort))
    setup.logger.info("HTTP API and web pages", metadata: ["http": "\(setup.configuration.listenHost):\(settings.httpPort)"])
}

/// The gateway's own settings (environment; a bad value stops start-up naming it).
struct GatewaySettings {
    var httpPort = 8080
    var privateKeyPath: String
    var adminPasswordPath: String
    /// Requests per second per caller over HTTP.
    var rateLimit = 50.0
    /// Webhooks may target loopback, link-local and private addresses.
    var allowPrivateWebhookTargets = false
    /// The SMTP relay customer e-mails go through (`FORGE_SMTP_URL`), and a CA file to trust
    /// for its certificate besides the system's (`FORGE_SMTP_CA_FILE`).
    var smtpRelay: SMTPClient.Relay?
    var smtpCAFile: String?
    /// The address customers reach the public pages at (`FORGE_PUBLIC_URL`), put before the
    /// path of each link a mail carries (a survey's); the local HTTP address when unset.
    var publicURL = ""

    /// The services whose event feeds the gateway follows for webhooks and notifications.
    static let eventSources = ["accounts", "pipeline", "orders", "servicedesk", "feedback", "loyalty", "analytics"]

    static func load(configuration: ServiceConfiguration, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> GatewaySettings {
        var settings = GatewaySettings(privateKeyPath: environment["FORGE_JWT_PRIVATE_KEY"].flatMap { $0.isEmpty ? nil : $0 }
                                           ?? "\(configuration.dataDirectory)/keys/jwt-ed25519.key",
                                       adminPasswordPath: "\(configuration.dataDirectory)/keys/admin.password")
        if let value = environment["FORGE_GATEWAY_HTTP_PORT"], !value.isEmpty {
            guard let port = Int(value), (1...65535).contains(port) else {
                throw ConfigurationError(setting: "FORGE_GATEWAY_HTTP_PORT", problem: "'\(value)' is not a port (1–65535)")
            }
            settings.httpPort = port
        }
        if let value = environment["FORGE_GATEWAY_RATE_LIMIT"], !value.isEmpty {
            guard let rate = Double(value), rate >= 1 else {
                throw ConfigurationError(setting: "FORGE_GATEWAY_RATE_LIMIT", problem: "'\(value)' is not a number of requests per second (at least 1)")
            }
            settings.rateLimit = rate
        }
        if let value = environment["FORGE_SMTP_URL"], !value.isEmpty {
            do {
                settings.smtpRelay = try SMTPClient.Relay(url: value)
            } catch {
                throw ConfigurationError(setting: "FORGE_SMTP_URL", problem: "\(error)")
            }
        }
        if let value = environment["FORGE_SMTP_CA_FILE"], !value.isEmpty {
            guard FileManager.default.isReadableFile(atPath: value) else {
                throw ConfigurationError(setting: "FORGE_SMTP_CA_FILE", problem: "cannot read \(value)")
            }
            settings.smtpCAFile = value
        }
        if let value = environment["FORGE_PUBLIC_URL"], !value.isEmpty {
            guard let url = URL(string: value), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw ConfigurationError(setting: "FORGE_PUBLIC_URL", problem: "'\(value)' is not an http(s) address")
            }
            settings.publicURL = value.hasSuffix("/") ? String(value.dropLast()) : value
        } else {
            settings.publicURL = "http://localhost:\(settings.httpPort)"
        }
        if let value = environment["FORGE_WEBHOOK_ALLOW_PRIVATE"], !value.isEmpty {
            guard let allow = Bool(value.lowercased()) else {
                throw ConfigurationError(setting: "FORGE_WEBHOOK_ALLOW_PRIVATE", problem: "'\(value)' is not true or false")
            }
            settings.allowPrivateWebhookTargets = allow
        }
        return settings
    }

    func smtpClient() throws -> SMTPClient? {
        guard let smtpRelay else { return nil }
        var client = SMTPClient(relay: smtpRelay)
        if let smtpCAFile { client.trustRoots = .file(smtpCAFile) }
        return client
    }

    /// `FORGE_ADMIN_PASSWORD`, else the one in the data directory, else a new random one
    /// written there (mode 600) for `forge up` to print.
    func adminPassword(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        if let password = environment["FORGE_ADMIN_PASSWORD"], !password.isEmpty { return password }
        if let stored = try? String(contentsOfFile: adminPasswordPath, encoding: .utf8).trimmed, !stored.isEmpty {
            return stored
        }
        let password = String(IdentityStore.randomSecret().prefix(16))
        try password.write(toFile: adminPasswordPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: adminPasswordPath)
        return password
    }
}
