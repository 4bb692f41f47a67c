import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf
import Synchronization

/// The 360° view: one request fanned out concurrently to every domain service, each with the
/// caller's identity (so each service decides what this caller may see) and what is left of
/// one overall deadline. Every section carries its own status; a slow or dead service costs
/// only its own section, never the view, and never time beyond the deadline. An account the
/// caller may not see is NOT_FOUND for the whole view.
struct Customer360: Sendable {
    /// The upstream channel of each service, by name.
    let upstreams: [String: any RPCChannel]
    let callerTokens: CallerTokens

    static let defaultDeadline: Duration = .milliseconds(300)
    /// The longest deadline a caller may ask for (`deadline_ms`).
    static let maxDeadlineMilliseconds: Int32 = 5_000

    /// One call to a service and the sections it fills, in the view's order: the call answers
    /// one message per name. Accounts fills three with one call (`GetAccountOverview`).
    struct SectionSource: Sendable {
        let names: [String]
        let service: String
        let fetch: @Sendable (any RPCChannel, String, CallOptions) async throws -> [any SwiftProtobuf.Message]
    }

    static let sources: [SectionSource] = [
        .init(names: ["account", "contacts", "activities"], service: "accounts") { channel, id, options in
            let overview = try await Forge_Accounts_V1_AccountsClient(channel: channel).getAccountOverview(.with {
                $0.accountID = id
                $0.contactsPage.pageSize = 200
                $0.activitiesPage.pageSize = 20
            }, options: options)
            return [overview.account, overview.contacts, overview.activities]
        },
        .init(name: "pipeline", service: "pipeline") { channel, id, options in
            try await Forge_Pipeline_V1_PipelineClient(channel: channel).getAccountPipeline(.with { $0.accountID = id }, options: options)
        },
        .init(name: "orders", service: "orders") { channel, id, options in
            try await Forge_Orders_V1_OrdersClient(channel: channel).getAccountOrders(.with { $0.accountID = id }, options: options)
        },
        .init(name: "service", service: "servicedesk") { channel, id, options in
            try await Forge_Servicedesk_V1_ServiceDeskClient(channel: channel).getAccountService(.with { $0.accountID = id }, options: options)
        },
        .init(name: "feedback", service: "feedback") { channel, id, options in
            try await Forge_Feedback_V1_FeedbackClient(channel: channel).getAccountFeedback(.with { $0.accountID = id }, options: options)
        },
        .init(name: "loyalty", service: "loyalty") { channel, id, options in
            try await Forge_Loyalty_V1_LoyaltyClient(channel: channel).getMembership(.with { $0.accountID = id }, options: options)
        },
        .init(name: "analytics", service: "analytics") { channel, id, options in
            try await Forge_Analytics_V1_AnalyticsClient(channel: channel).getAccountHealth(.with { $0.accountID = id }, options: options)
        },
    ]

    /// What one section's call came to.
    struct Outcome: Sendable {
        var section: Forge_Gateway_V1_Section
        var failure: RPCError?
        /// The account section's account id (the survivor's when the asked id was merged).
        var accountID: String?
    }

    /// - Parameter protobuf: sections carry the services' messages serialized instead of JSON
    ///   (SECTION_ENCODING_PROTOBUF).
    func view(accountID: String, deadline: Duration, protobuf: Bool = false, context: ServerContext) async throws -> Forge_Gateway_V1_GetCustomer360Response {
        let token = try await callerTokens.upstreamToken(for: context)
        let metadata = [MetadataKey.authorization: "Bearer \(token)", MetadataKey.requestID: context.requestID]
        let end = ContinuousClock.now + deadline
        let outcomes = await withTaskGroup(of: (Int, [Outcome]).self) { group in
            for (index, source) in Self.sources.enumerated() {
                group.addTask { (index, await fetch(source, accountID: accountID, until: end, metadata: metadata, protobuf: protobuf)) }
            }
            var outcomes = [[Outcome]](repeating: [], count: Self.sources.count)
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes.flatMap { $0 }
        }
        // The account decides whether the caller may see this customer at all.
        let account = outcomes.first { $0.section.name == "account" }
        if account?.failure?.code == .notFound {
            throw RPCError(.notFound, "account \(accountID) not found")
        }
        return .with {
            $0.accountID = account?.accountID ?? accountID
            $0.sections = outcomes.map(\.section)
        }
    }

    /// One source's sections: its call with what is left of the deadline, their status and time.
    private func fetch(_ source: SectionSource, accountID: String, until end: ContinuousClock.Instant, metadata: [String: String], protobuf: Bool) async -> [Outcome] {
        let started = ContinuousClock.now
        var outcomes = source.names.map { name in Outcome(section: .with { $0.name = name }) }
        if let channel = upstreams[source.service] {
            do {
                let responses = try await source.fetch(channel, accountID, CallOptions(timeout: end - started, metadata: metadata))
                for (index, response) in zip(outcomes.indices, responses) {
                    outcomes[index].section.status = .ok
                    if protobuf {
                        outcomes[index].section.protobuf = try response.serializedData()
                        outcomes[index].section.type = Swift.type(of: response).protoMessageName
                    } else {
                        outcomes[index].section.json = try response.jsonString()
                    }
                    outcomes[index].accountID = (response as? Forge_Accounts_V1_GetAccountResponse)?.account.id
                }
            } catch {
                let failure = (error as? RPCError) ?? RPCError(.unavailable, "\(error)")
                let (status, detail) = Self.status(of: failure, service: source.service)
                for index in outcomes.indices {
                    outcomes[index] = Outcome(section: .with {
                        $0.name = source.names[index]
                        $0.status = status
                        $0.detail = detail
                    }, failure: failure)
                }
            }
        } else {
            for index in outcomes.indices {
                (outcomes[index].section.status, outcomes[index].section.detail) = (.unavailable, "\(source.service) is not configured")
            }
        }
        let elapsed = (ContinuousClock.now - started).components
        let milliseconds = Int32(clamping: elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000)
        for index in outcomes.indices { outcomes[index].section.elapsedMs = milliseconds }
        return outcomes
    }

    /// How a failed call shows in its section.
    static func status(of error: RPCError, service: String) -> (Forge_Gateway_V1_SectionStatus, String) {
        switch error.code {
        case .deadlineExceeded, .cancelled: (.timedOut, "\(service) did not answer within the deadline")
        case .permissionDenied, .unauthenticated: (.forbidden, "not available to you")
        case .unimplemented: (.unavailable, "\(service) does not offer this yet")
        case .unavailable: (.unavailable, "\(service) is unavailable")
        default: (.unavailable, "\(service): \(error.code) \(error.message)")
        }
    }
}

extension Customer360.SectionSource {
    /// A call that fills one section.
    init(name: String, service: String, fetch: @escaping @Sendable (any RPCChannel, String, CallOptions) async throws -> any SwiftProtobuf.Message) {
        self.init(names: [name], service: service) { channel, id, options in [try await fetch(channel, id, options)] }
    }
}

/// The token a call to a service carries for the caller: a person's own JWT as it came, or
/// for an API key a JWT minted for the key's principal that lives two minutes — reused for the
/// key's next calls while more than one minute of it is left (the edge still checks the key
/// itself on every call, so a revoked key stops at once; signing a token per call cost a
/// connector two thirds of its calls through the gateway).
struct CallerTokens: Sendable {
    let issuer: TokenIssuer
    private let minted = MintedTokens()

    /// Shared by every copy of the value (the HTTP side and the wire forwarding).
    private final class MintedTokens: Sendable {
        let tokens = Mutex<[String: (token: String, reuseUntil: ContinuousClock.Instant)]>([:])
    }

    static let lifetime = 120
    static let reuseFor: Duration = .seconds(60)

    init(issuer: TokenIssuer) {
        self.issuer = issuer
    }

    func upstreamToken(for context: ServerContext) async throws -> String {
        let header = context.metadata[MetadataKey.authorization] ?? ""
        let presented = header.hasPrefix("Bearer ") ? String(header.dropFirst(7)) : ""
        guard presented.hasPrefix("fk_") || presented.isEmpty else { return presented }
        guard let principal = context.principal else { throw RPCError(.unauthenticated, "no caller") }
        return try await mint(for: principal)
    }

    func mint(for principal: Principal) async throws -> String {
        let key = "\(principal.subject)|\(principal.roles.sorted().joined(separator: ","))|\(principal.team)"
        let now = ContinuousClock.now
        if let cached = minted.tokens.withLock({ $0[key] }), cached.reuseUntil > now { return cached.token }
        let token = try await issuer.issue(subject: principal.subject, roles: principal.roles.sorted(),
                                           team: principal.team.isEmpty ? nil : principal.team, ttl: TimeInterval(Self.lifetime))
        minted.tokens.withLock { tokens in
            // A bounded cache: principals are API keys, a few dozen in practice.
            if tokens.count > 10_000 { tokens.removeAll() }
            tokens[key] = (token, now + Self.reuseFor)
        }
        return token
    }
}
