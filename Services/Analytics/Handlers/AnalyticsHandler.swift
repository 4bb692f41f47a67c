import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// `forge.analytics.v1.Analytics`: loads the facts a question needs and hands them to the
/// rules. The report is in AnalyticsHandler+Report.swift, the daily scan in AnalyticsJobs.swift.
struct AnalyticsHandler: Forge_Analytics_V1_AnalyticsHandler {
    let database: DatabasePool
    let clock: any WallClock
    let cache: FactsCache

    init(database: DatabasePool, clock: any WallClock) {
        self.database = database
        self.clock = clock
        cache = FactsCache(database: database)
    }

    /// Margins and receivables (LTV, CLV, receivables, DSO): finance, managers and admin (DESIGN §9).
    static let marginKeys: Set<String> = ["ltv", "clv", "receivables", "dso"]
    /// Revenue figures: whoever may see orders' prices.
    static let priceKeys: Set<String> = ["revenue", "aov"]

    static func seesMargins(_ principal: Principal) -> Bool {
        !principal.roles.isDisjoint(with: [Role.finance, Role.salesManager, Role.serviceManager, Role.admin])
    }

    static func seesPrices(_ principal: Principal) -> Bool {
        !principal.roles.isDisjoint(with: [Role.finance, Role.salesManager, Role.salesRep, Role.serviceManager, Role.admin, Role.analyst])
    }

    /// The KPI keys `principal` may read.
    static func visibleKeys(_ principal: Principal, asked: [String]) -> [String] {
        (asked.isEmpty ? KpiRules.keys : asked).filter {
            (!marginKeys.contains($0) || seesMargins(principal)) && (!priceKeys.contains($0) || seesPrices(principal))
        }
    }

    static func scope(_ filter: Forge_Analytics_V1_KpiFilter, principal: Principal) -> Scope {
        var scope = Scope(region: filter.region, industry: filter.industry, tier: filter.tier.lowercased(), ownerID: filter.ownerID,
                          team: filter.team, partnerTier: filter.partnerTier.lowercased())
        if OwnerScope.isScoped(principal) { scope.portfolio = (principal.subject, principal.team) }
        return scope
    }

    /// [from, to). Neither given: this month so far and the eleven before it, China time (a
    /// dashboard's "last twelve months" includes what happened today); only `from`: up to now;
    /// only `to`: the twelve months up to it.
    static func period(from: Google_Protobuf_Timestamp?, to: Google_Protobuf_Timestamp?, now: Date) throws -> (Double, Double) {
        let end = to?.date ?? now
        let start = from?.date ?? (to == nil ? ChinaCalendar.monthStart(now, adding: -11) : ChinaCalendar.monthStart(end, adding: -11))
        guard start < end else {
            throw RPCError.invalidArgument([FieldViolation(field: to == nil ? "from" : "to", description: to == nil ? "must be before now" : "must be after from")])
        }
        return (start.timeIntervalSince1970, end.timeIntervalSince1970)
    }

    func getKpis(_ request: Forge_Analytics_V1_GetKpisRequest, context: ServerContext) async throws -> Forge_Analytics_V1_GetKpisResponse {
        let principal = try context.caller()
        var violations = request.keys.enumerated().filter { !KpiRules.keys.contains($0.element) }
            .map { FieldViolation(field: "keys[\($0.offset)]", description: "is not a KPI (one of \(KpiRules.keys.joined(separator: ", ")))") }
        if case .UNRECOGNIZED = request.groupBy { violations.append(FieldViolation(field: "group_by", description: "is not a dimension")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let (from, to) = try Self.period(from: request.hasFrom ? request.from : nil, to: request.hasTo ? request.to : nil, now: clock.now())
        let keys = Self.visibleKeys(principal, asked: request.keys)
        let scope = Self.scope(request.filter, principal: principal)
        let facts = try await cache.facts().facts
        return .with {
            $0.from = Facts.stamp(from)
            $0.to = Facts.stamp(to)
            let slice = KpiRules.Slice(facts, scope)
            let kpis = KpiRules.compute(slice, from: from, to: to, keys: keys)
            $0.kpis = kpis
            if request.withCharts {
                // Charts to the end of the month `to` falls in (this month so far included); the
                // ageing chart is the receivables figure just worked out (at `to`).
                let end = ChinaCalendar.monthStart(Date(timeIntervalSince1970: to - 1), adding: 1).timeIntervalSince1970
                $0.charts = Self.charts(slice, keys: Set(keys), from: from, to: end, ageingAt: to,
                                        receivables: kpis.first { $0.key == "receivables" })
            }
            $0.groups = Self.groups(facts, scope: scope, by: request.groupBy).map { key, groupScope in
                .with {
                    $0.key = key
                    $0.kpis = KpiRules.compute(facts, scope: groupScope, from: from, to: to, keys: keys)
                }
            }
        }
    }

    /// The values a dimension takes among the accounts (and answers) in scope, each with the
    /// scope narrowed to it.
    static func groups(_ facts: Facts, scope: Scope, by dimension: Forge_Analytics_V1_Dimension) -> [(String, Scope)] {
        let path: (WritableKeyPath<Scope, String>, KeyPath<Facts.Account, String>, KeyPath<Facts.Answer, String>?)
        switch dimension {
        case .region: path = (\.region, \.region, \.region)
        case .industry: path = (\.industry, \.industry, \.industry)
        case .tier: path = (\.tier, \.tier, \.tier)
        case .owner: path = (\.ownerID, \.ownerID, \.ownerID)
        case .team: path = (\.team, \.team, \.team)
        case .partnerTier: path = (\.partnerTier, \.partnerTier, nil)
        default: return []
        }
        var values = Set(facts.accounts.filter(scope.admits).map { $0[keyPath: path.1] })
        if let answerPath = path.2 {
            let partnerTiers = Dictionary(facts.accounts.map { ($0.id, $0.partnerTier) }, uniquingKeysWith: { $1 })
            values.formUnion(facts.answers.filter { scope.admits($0, partnerTier: partnerTiers[$0.accountID]) }.map { $0[keyPath: answerPath] })
        }
        return values.filter { !$0.isEmpty }.sorted().map { value in
            var narrowed = scope
            narrowed[keyPath: path.0] = value
            return (value, narrowed)
        }
    }

    func getAdoption(_ request: Forge_Analytics_V1_GetAdoptionRequest, context: ServerContext) async throws -> Forge_Analytics_V1_GetAdoptionResponse {
        let principal = try context.caller()
        let (from, to) = try Self.period(from: request.hasFrom ? request.from : nil, to: request.hasTo ? request.to : nil, now: clock.now())
        var scope = Scope(team: request.team)
        if OwnerScope.isScoped(principal) { scope.portfolio = (principal.subject, principal.team) }
        let facts = try await cache.facts().facts
        return .with {
            $0.reps = AdoptionRules.reps(facts, scope: scope, from: from, to: to)
            $0.kpis = KpiRules.compute(facts, scope: scope, from: from, to: to, keys: ["active_users", "activities_per_rep_week", "stale_share"])
        }
    }

    // MARK: Per customer

    /// The customer as `principal` may see it; NOT_FOUND otherwise (no existence leak).
    static func visibleAccount(_ facts: Facts, _ accountID: String, principal: Principal) throws -> Facts.Account {
        guard let account = facts.accounts.first(where: { $0.id == accountID }),
              OwnerScope.canSee(owner: account.ownerID, team: account.team, principal: principal) else {
            throw RPCError(.notFound, "account \(accountID) not found")
        }
        return account
    }

    func getAccountHealth(_ request: Forge_Analytics_V1_GetAccountHealthRequest, context: ServerContext) async throws -> Forge_Analytics_V1_GetAccountHealthResponse {
        let principal = try context.caller()
        guard !request.accountID.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "account_id", description: "is required")]) }
        let now = clock.now()
        let (facts, alerts) = try database.pointRead { db in
            let id = try UpstreamEvents.survivor(db, request.accountID)
            return (try AnalyticsStore.facts(db, accountID: id), try AlertStore.alerts(db, accountID: id))
        }
        guard let account = facts.accounts.first else { throw RPCError(.notFound, "account \(request.accountID) not found") }
        _ = try Self.visibleAccount(facts, account.id, principal: principal)
        return .with { $0.health = Self.health(facts, account: account, alerts: alerts, at: now) }
    }

    static func health(_ facts: Facts, account: Facts.Account, alerts: AlertStore.Alerts, at now: Date) -> Forge_Analytics_V1_AccountHealth {
        let moment = now.timeIntervalSince1970
        let customer = HealthRules.Customer(facts, accountID: account.id)
        var health = HealthRules.health(customer, at: moment)
        health.accountID = account.id
        health.accountName = account.name
        health.ownerID = account.ownerID
        health.region = account.region
        health.asOf = .init(date: now)
        health.churn = HealthRules.churn(customer, at: moment)
        if let opened = alerts.riskOpenedAt {
            health.churn.alerted = true
            health.churn.alertedAt = Facts.stamp(opened)
        }
        health.cycles = RepurchaseRules.cycles(facts.lines, accountID: account.id, before: moment).map { cycle in
            var cycle = cycle
            cycle.reminded = alerts.reminded.contains("\(cycle.productLine)|\(cycle.lastPurchase.timeIntervalSince1970)")
            return cycle
        }
        if let next = health.cycles.filter({ $0.windowCloses.timeIntervalSince1970 > moment }).min(by: { $0.windowOpens.timeIntervalSince1970 < $1.windowOpens.timeIntervalSince1970 }) {
            health.nextExpectedPurchase = next.windowOpens
        }
        return health
    }

    func listRisks(_ request: Forge_Analytics_V1_ListRisksRequest, context: ServerContext) async throws -> Forge_Analytics_V1_ListRisksResponse {
        let principal = try context.caller()
        var violations: [FieldViolation] = []
        if !request.minLevel.isEmpty, !["low", "medium", "high"].contains(request.minLevel) {
            violations.append(FieldViolation(field: "min_level", description: "must be low, medium or high"))
        }
        if request.limit < 0 || request.limit > 500 { violations.append(FieldViolation(field: "limit", description: "must be between 0 and 500")) }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let scope = Self.scope(request.filter, principal: principal)
        let now = clock.now()
        let (facts, split) = try await cache.facts()
        let risks = Self.risks(facts, split: split, scope: scope, at: now, minLevel: request.minLevel.isEmpty ? "medium" : request.minLevel)
        return .with {
            $0.total = Int32(risks.count)
            $0.risks = Array(risks.prefix(request.limit == 0 ? 50 : Int(request.limit)))
        }
    }

    /// The accounts in scope at or above `minLevel`, highest risk first (then lowest health).
    static func risks(_ facts: Facts, split: [String: Facts], scope: Scope, at now: Date, minLevel: String) -> [Forge_Analytics_V1_RiskEntry] {
        let moment = now.timeIntervalSince1970
        return facts.accounts.filter(scope.admits).compactMap { account -> Forge_Analytics_V1_RiskEntry? in
            let customer = HealthRules.Customer(split[account.id] ?? Facts(), accountID: account.id)
            let churn = HealthRules.churn(customer, at: moment)
            guard HealthRules.rank(churn.level) >= HealthRules.rank(minLevel) else { return nil }
            return .with {
                $0.accountID = account.id
                $0.accountName = account.name
                $0.ownerID = account.ownerID
                $0.team = account.team
                $0.region = account.region
                $0.health = HealthRules.components(customer, at: moment).reduce(0) { $0 + $1.points }.rounded()
                $0.churn = churn
            }
        }.sorted { ($0.churn.score, -$0.health, $1.accountID) > ($1.churn.score, -$1.health, $0.accountID) }
    }

    func rebuild(_ request: Forge_Analytics_V1_RebuildRequest, context: ServerContext) async throws -> Forge_Analytics_V1_RebuildResponse {
        _ = try context.caller()
        let now = clock.now()
        let cache = self.cache
        let feeds = try await database.write { db in
            let feeds = try AnalyticsStore.rebuild(db)
            cache.changed(db)
            try AuditLog.record(db, context: context, recordID: "read-model", changes: ["feeds_reset": "\(feeds)"], at: now)
            return feeds
        }
        return .with { $0.feedsReset = Int32(feeds) }
    }
}

enum AnalyticsAccess {
    static func declare(in access: inout AccessTable) {
        let method = Forge_Analytics_V1_AnalyticsService.Method.self
        // Analysts, managers, finance and admin see the company's figures; reps their own
        // portfolio's (the handler narrows them).
        let readers: Set<String> = [Role.analyst, Role.salesManager, Role.serviceManager, Role.finance, Role.salesRep]
        access.allow(method.getKpis, .roles(readers))
        access.allow(method.getAdoption, .roles([Role.analyst, Role.salesManager, Role.salesRep]))
        access.allow(method.getAccountHealth, .roles(readers.union([Role.serviceEngineer, Role.marketing, Role.service])))
        access.allow(method.listRisks, .roles(readers.union([Role.serviceManager])))
        access.allow(method.getReport, .roles(readers))
        access.allow(method.rebuild, .roles([Role.admin]))
    }
}
