import ForgeWire
import Foundation
import SwiftProtobuf

/// What the rules measure: the read model's rows as plain values (times in seconds since 1970,
/// money in CNY yuan). The store loads them; every KPI, health score, churn signal and purchase
/// cycle is a pure function of these, so a test can write them down by hand.
struct Facts: Sendable {
    struct Account: Sendable {
        var id: String
        var name = ""
        var region = ""
        var industry = ""
        /// Accounts' tier, lower case ("core", "potential", …).
        var tier = ""
        /// Loyalty's tier code ("bronze", …); "" before loyalty placed it.
        var partnerTier = ""
        var ownerID = ""
        var team = ""
    }

    struct Order: Sendable {
        /// The account's position in `accounts` (or after them, for an account not yet known); set by `indexed()`.
        var account: Int32 = -1
        var id: String
        var accountID: String
        var orderedAt: Double
        /// Approved, released, delivered or completed: a sale (drafts, credit holds and
        /// cancellations are not).
        var booked: Bool
        var revenue: Double
        var margin: Double
    }

    struct Line: Sendable {
        /// The account's position in `accounts` (or after them, for an account not yet known); set by `indexed()`.
        var account: Int32 = -1
        var orderID: String
        var accountID: String
        var productLine: String
        var orderedAt: Double
        var booked: Bool
        var deliveredAt: Double?
        var onTime: Bool
    }

    struct Installment: Sendable {
        /// The account's position in `accounts` (or after them, for an account not yet known); set by `indexed()`.
        var account: Int32 = -1
        var accountID: String
        var amount: Double
        var invoicedAt: Double?
        var dueAt: Double?
        var paid: Double
        var paidAt: Double?
    }

    enum Outcome: Int, Sendable { case open = 0, won = 1, lost = 2 }

    struct Opportunity: Sendable {
        /// The account's position in `accounts` (or after them, for an account not yet known); set by `indexed()`.
        var account: Int32 = -1
        var id: String
        var accountID: String
        var createdAt: Double
        var closedAt: Double?
        var outcome: Outcome
        /// The furthest stage reached (StageRank), whatever happened after.
        var maxRank: Int
    }

    struct Ticket: Sendable {
        /// The account's position in `accounts` (or after them, for an account not yet known); set by `indexed()`.
        var account: Int32 = -1
        var accountID: String
        var createdAt: Double
        var resolvedAt: Double?
        /// SlaStatus raw values of the two targets.
        var firstResponse: Int
        var resolution: Int
    }

    struct Answer: Sendable {
        /// The account's position in `accounts` (or after them, for an account not yet known); set by `indexed()`.
        var account: Int32 = -1
        var accountID: String
        /// 1 NPS, 2 CSAT (feedback's SurveyKind).
        var kind: Int
        var score: Int
        var answeredAt: Double
        var region = ""
        var industry = ""
        var tier = ""
        var ownerID = ""
        var team = ""
    }

    struct Activity: Sendable {
        /// The account's position in `accounts` (or after them, for an account not yet known); set by `indexed()`.
        var account: Int32 = -1
        var accountID: String
        var authorID: String
        var at: Double
    }

    var accounts: [Account] = []
    /// How many account positions `indexed()` handed out (known accounts first).
    var accountSlots = 0
    var isIndexed = false
    var orders: [Order] = []
    var lines: [Line] = []
    var installments: [Installment] = []
    var opportunities: [Opportunity] = []
    var tickets: [Ticket] = []
    var answers: [Answer] = []
    var activities: [Activity] = []

    static let day: Double = 86_400
    /// SlaStatus: met in time; met late; passed unmet.
    static let slaMet = 4, slaMissed = 5, slaBreached = 3
}

/// Which facts a question covers: the filter's dimensions and, for a sales rep or a team's
/// manager, their portfolio (DESIGN §9: reps see their own figures).
struct Scope: Sendable {
    var region = ""
    var industry = ""
    var tier = ""
    var ownerID = ""
    var team = ""
    var partnerTier = ""
    /// The portfolio a scoped caller reaches: owner or team (OwnerScope's rule).
    var portfolio: (subject: String, team: String)?

    static let all = Scope()

    func admits(_ account: Facts.Account) -> Bool {
        (region.isEmpty || account.region == region)
            && (industry.isEmpty || account.industry == industry)
            && (tier.isEmpty || account.tier == tier)
            && (ownerID.isEmpty || account.ownerID == ownerID)
            && (team.isEmpty || account.team == team)
            && (partnerTier.isEmpty || account.partnerTier == partnerTier || (partnerTier == "none" && account.partnerTier.isEmpty))
            && inPortfolio(owner: account.ownerID, team: account.team)
    }

    /// An answer by the account's dimensions when the survey went out (as feedback counts it);
    /// the partner tier by the account's current one.
    func admits(_ answer: Facts.Answer, partnerTier current: String?) -> Bool {
        (region.isEmpty || answer.region == region)
            && (industry.isEmpty || answer.industry == industry)
            && (tier.isEmpty || answer.tier == tier)
            && (ownerID.isEmpty || answer.ownerID == ownerID)
            && (team.isEmpty || answer.team == team)
            && (partnerTier.isEmpty || (current ?? "") == partnerTier || (partnerTier == "none" && (current ?? "").isEmpty))
            && inPortfolio(owner: answer.ownerID, team: answer.team)
    }

    private func inPortfolio(owner: String, team: String) -> Bool {
        guard let portfolio else { return true }
        return owner == portfolio.subject || (!portfolio.team.isEmpty && team == portfolio.team)
    }

    /// Whether any dimension narrows it (facts of an account analytics has not heard of yet
    /// count only in unfiltered figures).
    var isUnfiltered: Bool {
        [region, industry, tier, ownerID, team, partnerTier].allSatisfy(\.isEmpty) && portfolio == nil
    }
}

extension Facts {
    /// The facts with every fact's account as a position (known accounts in `accounts`' order,
    /// then any other ids the facts name): the KPIs count per account in arrays, not in
    /// dictionaries of ids.
    func indexed() -> Facts {
        guard !isIndexed else { return self }
        var copy = self
        var positions = [String: Int32](minimumCapacity: accounts.count)
        for (position, account) in accounts.enumerated() { positions[account.id] = Int32(position) }
        func position(_ id: String) -> Int32 {
            if let known = positions[id] { return known }
            let next = Int32(positions.count)
            positions[id] = next
            return next
        }
        for i in copy.orders.indices { copy.orders[i].account = position(copy.orders[i].accountID) }
        for i in copy.lines.indices { copy.lines[i].account = position(copy.lines[i].accountID) }
        for i in copy.installments.indices { copy.installments[i].account = position(copy.installments[i].accountID) }
        for i in copy.opportunities.indices { copy.opportunities[i].account = position(copy.opportunities[i].accountID) }
        for i in copy.tickets.indices { copy.tickets[i].account = position(copy.tickets[i].accountID) }
        for i in copy.answers.indices { copy.answers[i].account = position(copy.answers[i].accountID) }
        for i in copy.activities.indices { copy.activities[i].account = position(copy.activities[i].accountID) }
        copy.accountSlots = positions.count
        copy.isIndexed = true
        return copy
    }

    /// Each account's own facts, in one pass (a risk list or the daily scan measures every
    /// customer; filtering the whole set per customer would be quadratic).
    func byAccount() -> [String: Facts] {
        var split: [String: Facts] = [:]
        for account in accounts { split[account.id, default: Facts()].accounts.append(account) }
        for order in orders { split[order.accountID, default: Facts()].orders.append(order) }
        for line in lines { split[line.accountID, default: Facts()].lines.append(line) }
        for installment in installments { split[installment.accountID, default: Facts()].installments.append(installment) }
        for opportunity in opportunities { split[opportunity.accountID, default: Facts()].opportunities.append(opportunity) }
        for ticket in tickets { split[ticket.accountID, default: Facts()].tickets.append(ticket) }
        for answer in answers { split[answer.accountID, default: Facts()].answers.append(answer) }
        for activity in activities { split[activity.accountID, default: Facts()].activities.append(activity) }
        return split
    }
}

extension Facts {
    static func stamp(_ seconds: Double) -> SwiftProtobuf.Google_Protobuf_Timestamp { .init(date: Date(timeIntervalSince1970: seconds)) }
}
