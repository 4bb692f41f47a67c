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
    ///
    /// The answer comes back as bytes. Sections as protobuf carry those bytes as they came (the
    /// overview's three parts cut out of it, `ProtobufFields`): decoding each service's answer
    /// and encoding it again was a quarter of the gateway's time per view (perf). Sections as
    /// JSON decode it to write the JSON.
    struct SectionSource: Sendable {
        /// A section the answer fills: its name, its message type, and the field of the answer
        /// that holds it (nil: the whole answer).
        struct Part: Sendable {
            let name: String
            let type: any SwiftProtobuf.Message.Type
            var field: Int?
        }

        let parts: [Part]
        let service: String
        let method: MethodDescriptor
        let request: @Sendable (String) -> any SwiftProtobuf.Message

        /// The answer's section messages, decoded.
        func messages(_ answer: Data) throws -> [any SwiftProtobuf.Message] {
            try zip(parts, sectionBytes(answer)).map { part, bytes in try part.type.init(serializedBytes: bytes) }
        }

        /// The answer's sections as the service serialized them.
        func sectionBytes(_ answer: Data) throws -> [Data] {
            let fields = parts.compactMap(\.field)
            guard !fields.isEmpty else { return [answer] }
            let cut = try ProtobufFields.cut(answer, fields: fields)
            return fields.map { cut[$0] ?? Data() }
        }
    }

    static let sources: [SectionSource] = [
        .init(parts: [.init(name: "account", type: Forge_Accounts_V1_GetAccountResponse.self, field: 1),
                      .init(name: "contacts", type: Forge_Accounts_V1_ListContactsResponse.self, field: 2),
                      .init(name: "activities", type: Forge_Accounts_V1_ListActivitiesResponse.self, field: 3)],
              service: "accounts", method: Forge_Accounts_V1_AccountsService.Method.getAccountOverview) { id in
            Forge_Accounts_V1_GetAccountOverviewRequest.with {
                $0.accountID = id
                $0.contactsPage.pageSize = 200
                $0.activitiesPage.pageSize = 20
            }
        },
        .single("pipeline", "pipeline", Forge_Pipeline_V1_PipelineService.Method.getAccountPipeline, Forge_Pipeline_V1_GetAccountPipelineResponse.self) { id in
            Forge_Pipeline_V1_GetAccountPipelineRequest.with { $0.accountID = id }
        },
        .single("orders", "orders", Forge_Orders_V1_OrdersService.Method.getAccountOrders, Forge_Orders_V1_GetAccountOrdersResponse.self) { id in
            Forge_Orders_V1_GetAccountOrdersRequest.with { $0.accountID = id }
        },
        .single("service", "servicedesk", Forge_Servicedesk_V1_ServiceDeskService.Method.getAccountService, Forge_Servicedesk_V1_GetAccountServiceResponse.self) { id in
            Forge_Servicedesk_V1_GetAccountServiceRequest.with { $0.accountID = id }
        },
        .single("feedback", "feedback", Forge_Feedback_V1_FeedbackService.Method.getAccountFeedback, Forge_Feedback_V1_GetAccountFeedbackResponse.self) { id in
            Forge_Feedback_V1_GetAccountFeedbackRequest.with { $0.accountID = id }
        },
        .single("loyalty", "loyalty", Forge_Loyalty_V1_LoyaltyService.Method.getMembership, Forge_Loyalty_V1_GetMembershipResponse.self) { id in
            Forge_Loyalty_V1_GetMembershipRequest.with { $0.accountID = id }
        },
        .single("analytics", "analytics", Forge_Analytics_V1_AnalyticsService.Method.getAccountHealth, Forge_Analytics_V1_GetAccountHealthResponse.self) { id in
            Forge_Analytics_V1_GetAccountHealthRequest.with { $0.accountID = id }
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
        var outcomes = source.parts.map { part in Outcome(section: .with { $0.name = part.name }) }
        if let channel = upstreams[source.service] {
            do {
                let answer = try await channel.unary(source.method, payload: try source.request(accountID).serializedData(),
                                                     options: CallOptions(timeout: end - started, metadata: metadata))
                do {
                    if protobuf {
                        for (index, bytes) in zip(outcomes.indices, try source.sectionBytes(answer)) {
                            outcomes[index].section.protobuf = bytes
                            outcomes[index].section.type = source.parts[index].type.protoMessageName
                        }
                        // The account's own id (the survivor's when the asked id was merged).
                        if source.parts.first?.type == Forge_Accounts_V1_GetAccountResponse.self, let bytes = outcomes.first?.section.protobuf {
                            outcomes[0].accountID = try Forge_Accounts_V1_GetAccountResponse(serializedBytes: bytes).account.id
                        }
                    } else {
                        for (index, message) in zip(outcomes.indices, try source.messages(answer)) {
                            outcomes[index].section.json = try message.jsonString()
                            outcomes[index].accountID = (message as? Forge_Accounts_V1_GetAccountResponse)?.account.id
                        }
                    }
                } catch {
                    throw RPCError(.internal, "\(source.service)'s answer does not decode: \(error)")
                }
                for index in outcomes.indices { outcomes[index].section.status = .ok }
            } catch {
                let failure = (error as? RPCError) ?? RPCError(.unavailable, "\(error)")
                let (status, detail) = Self.status(of: failure, service: source.service)
                for index in outcomes.indices {
                    outcomes[index] = Outcome(section: .with {
                        $0.name = source.parts[index].name
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
    /// A call whose whole answer is one section.
    static func single<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>(
        _ name: String, _ service: String, _ method: MethodDescriptor, _ response: Response.Type,
        request: @escaping @Sendable (String) -> Request
    ) -> Self {
        .init(parts: [.init(name: name, type: response)], service: service, method: method, request: request)
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
