@testable import ForgePipeline
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import SwiftProtobuf

/// The pipeline handler over a real database file, called as the server calls it; accounts'
/// events are applied as the consumer applies them.
struct PipelineFixture {
    let handler: PipelineHandler
    let database: DatabasePool
    let clock = ManualClock()

    init(accounts: (any RPCChannel)? = nil) throws {
        database = try ForgeDatabase.temporary(migrations: PipelineStore.migrations)
        handler = PipelineHandler(database: database, clock: clock, accounts: accounts)
    }

    static func context(_ subject: String, _ roles: Set<String> = ["sales_rep"], team: String = "", method: String = "CaptureLead") -> ServerContext {
        ServerContext(
            method: MethodDescriptor(service: "forge.pipeline.v1.Pipeline", method: method),
            metadata: [:],
            principal: Principal(subject: subject, roles: roles, team: team),
            deadline: .now + .seconds(30),
            requestID: "req",
            logger: Logger(label: "test"),
            peer: "test"
        )
    }

    static let admin = context("admin", ["admin"])
    static let marketing = context("mkt", ["marketing"])

    var scheduler: JobScheduler {
        JobScheduler(database: database, clock: clock, handlers: handler.jobHandlers)
    }

    @discardableResult
    func capture(_ company: String, region: String = "华东", productLine: String = "数控机床", phone: String = "", email: String = "",
                 need: String = "", source: Forge_Pipeline_V1_LeadSource = .tradeShow, as context: ServerContext = Self.marketing) async throws -> Forge_Pipeline_V1_CaptureLeadResponse {
        try await handler.captureLead(.with {
            $0.lead = .with {
                $0.companyName = company
                $0.contactName = "张工"
                $0.region = region
                $0.productLine = productLine
                $0.phone = phone
                $0.email = email
                $0.need = need
                $0.source = source
            }
        }, context: context)
    }

    /// Two teams: east (manager boss-east; reps a, b, c, d) for 华东, west (boss-west; rep w) for 西南 and
    /// as the default; hydraulic lines in 华东 go to the key-account owner ka-1.
    func configureTeams(weights: [Int32] = [1, 1, 1, 1]) async throws {
        var settings = try await handler.getPipelineSettings(.init(), context: Self.admin).settings
        settings.teams = [
            .with {
                $0.name = "east"
                $0.managerID = "boss-east"
                $0.members = zip(["rep-a", "rep-b", "rep-c", "rep-d"], weights).map { id, weight in .with { $0.userID = id; $0.weight = weight } }
            },
            .with {
                $0.name = "west"
                $0.managerID = "boss-west"
                $0.members = [.with { $0.userID = "rep-w" }]
            },
        ]
        settings.rules = [
            .with { $0.region = "华东"; $0.team = "east" },
            .with { $0.region = "华东"; $0.productLine = "液压件"; $0.team = "east"; $0.keyAccountOwnerID = "ka-1" },
            .with { $0.region = "西南"; $0.team = "west" },
        ]
        settings.defaultTeam = "west"
        _ = try await handler.updatePipelineSettings(.with { $0.settings = settings }, context: Self.admin)
    }

    /// Applies an accounts event as pipeline's consumer does.
    func apply(_ message: some SwiftProtobuf.Message, accountID: String = "") async throws {
        let event = Forge_Common_V1_Event.with {
            $0.type = String(type(of: message).protoMessageName.split(separator: ".").last!)
            $0.accountID = accountID
            $0.payload = try! message.serializedData()
        }
        let clock = self.clock
        try await database.write { db in try AccountsFeed.apply(db, event, clock: clock) }
    }

    func account(_ id: String, _ name: String, owner: String = "rep-a", team: String = "east") async throws {
        try await apply(Forge_Accounts_V1_AccountCreated.with {
            $0.account = .with {
                $0.id = id
                $0.name = name
                $0.ownerID = owner
                $0.team = team
            }
        }, accountID: id)
    }

    /// An opportunity stored as conversion stores it (the account is accounts' business).
    func opportunity(name: String = "数控车床 20 台", owner: String = "rep-a", team: String = "east",
                     amount: Int64? = 2_000_000, close: Date? = nil, lines: [String] = ["数控机床"]) async throws -> Forge_Pipeline_V1_Opportunity {
        let now = clock.now()
        return try await database.write { db in
            var opportunity = Forge_Pipeline_V1_Opportunity.with {
                $0.id = EventID.make(prefix: "opp", at: now)
                $0.accountID = "acc_1"
                $0.name = name
                $0.ownerID = owner
                $0.team = team
                $0.productLines = lines
                if let amount { $0.amount = .with { $0.amountMicros = amount * 1_000_000 } }
                if let close { $0.expectedClose = .init(date: close) }
            }
            try OpportunityStore.insert(db, &opportunity, now: now)
            return opportunity
        }
    }

    func eventTypes() async throws -> [String] {
        try await database.read { db in try Outbox.events(db, after: 0, limit: 10_000).map(\.type) }
    }

    func tasks(of owner: String) async throws -> [Forge_Pipeline_V1_Task] {
        try await handler.listMyTasks(.with { $0.includeDone = true }, context: Self.context(owner)).tasks
    }
}
