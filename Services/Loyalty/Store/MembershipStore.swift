import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf

/// Memberships: an evaluation applied (upgrades at once; a downgrade warned, then taken after
/// the grace unless the member qualifies again), overrides, the history of every change, and a
/// membership as a reader sees it (with its entitlements left and, for finance and managers,
/// its rebates' progress).
enum MembershipStore {
    typealias Membership = Forge_Loyalty_V1_Membership
    typealias Programme = Forge_Loyalty_V1_Programme

    static let graceJob = "loyalty.grace"
    static let overrideJob = "loyalty.override-expiry"

    struct Stored {
        var membership: Membership
        /// The evaluated tier (after grace), under any override.
        var baseTier: String
    }

    static func stored(_ db: Database, accountID: String) throws -> Stored? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT base_tier, payload FROM membership WHERE account_id = ?"), arguments: [accountID]) else { return nil }
        return Stored(membership: try Membership(serializedBytes: row["payload"] as Data), baseTier: row["base_tier"])
    }

    /// The tier in force and the day the account became a member, without the rest.
    static func tierAndSince(_ db: Database, accountID: String) throws -> (tier: String, since: Date?)? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT tier, member_since FROM membership WHERE account_id = ?"), arguments: [accountID]).map {
            ($0["tier"], ($0["member_since"] as Double?).map(Date.init(timeIntervalSince1970:)))
        }
    }

    /// - Parameter nearNext: within reach of the next tier (from an evaluation's criteria); nil
    ///   keeps what the last evaluation said.
    static func save(_ db: Database, _ membership: Membership, baseTier: String, nearNext: Bool? = nil) throws {
        let near = try nearNext ?? Bool.fetchOne(db.cachedStatement(sql: "SELECT near_next FROM membership WHERE account_id = ?"), arguments: [membership.accountID]) ?? false
        try db.execute(cached: """
            INSERT INTO membership (account_id, tier, base_tier, qualified_tier, rank, pending_until, near_next, member_since, version, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(account_id) DO UPDATE SET tier = excluded.tier, base_tier = excluded.base_tier, qualified_tier = excluded.qualified_tier,
                rank = excluded.rank, pending_until = excluded.pending_until, near_next = excluded.near_next, member_since = excluded.member_since,
                version = excluded.version, payload = excluded.payload
            """, arguments: [membership.accountID, membership.tier, baseTier, membership.evaluation.qualifiedTier, membership.rank,
                             membership.hasPendingDowngrade ? membership.pendingDowngrade.effectiveAt.date.timeIntervalSince1970 : nil,
                             near, membership.hasMemberSince ? membership.memberSince.date.timeIntervalSince1970 : nil,
                             membership.version, try membership.serializedData()])
    }

    /// Measures one account now and applies the result.
    @discardableResult
    static func evaluate(_ db: Database, accountID: String, programme: Programme, now: Date, trigger: String, day: TimeInterval) throws -> Membership {
        let facts = try LoyaltyStore.facts(db, accountID: accountID, now: now)
        // Applied and kept in the history: in the stored language (the member page measures
        // the criteria afresh in its reader's).
        let evaluation = storedText { TierRules.evaluate(accountID: accountID, facts, programme: programme, now: now, trigger: trigger, explained: false) }
        return try apply(db, evaluation, programme: programme, now: now, day: day)
    }

    static func apply(_ db: Database, _ evaluation: Forge_Loyalty_V1_Evaluation, programme: Programme, now: Date, day: TimeInterval) throws -> Membership {
        // Stored everywhere with its figures only; the words come back when it is read.
        let explained = evaluation
        let evaluation = TierRules.compact(evaluation)
        let accountID = evaluation.accountID
        let existing = try stored(db, accountID: accountID)
        var membership = existing?.membership ?? .with { $0.accountID = accountID }
        // A tier the programme no longer has counts as none: the member starts from what it qualifies for.
        var base = ProgrammeRules.tier(programme, code: existing?.baseTier ?? "") == nil ? "" : existing?.baseTier ?? ""
        let before = membership.tier
        let previousQualified = existing?.membership.evaluation.qualifiedTier
        var changed = existing == nil
        /// Whether this evaluation is in the history already (a warning, a cancellation).
        var recorded = false
        let qualified = evaluation.qualifiedTier
        let pending = membership.hasPendingDowngrade ? (to: membership.pendingDowngrade.toTier, effective: membership.pendingDowngrade.effectiveAt.date) : nil
        let decision = TierRules.decide(current: (base, ProgrammeRules.rank(programme, code: base)), pending: pending,
                                        qualified: (qualified, ProgrammeRules.rank(programme, code: qualified)),
                                        now: now, graceDays: programme.downgradeGraceDays, day: day)
        switch decision {
        case .unchanged:
            break
        case .upgrade(let to), .downgrade(let to):
            base = to
            if membership.hasPendingDowngrade {
                membership.clearPendingDowngrade()
                try JobScheduler.cancelPending(db, kind: graceJob, idPrefix: "\(graceJob)|\(accountID)")
            }
            changed = true
        case .warn(let to, let effective):
            membership.pendingDowngrade = .with {
                $0.toTier = to
                $0.toTierName = ProgrammeRules.tier(programme, code: to)?.name ?? "无等级"
                $0.warnedAt = .init(date: now)
                $0.effectiveAt = .init(date: effective)
            }
            try JobScheduler.schedule(db, kind: graceJob, payload: Data(accountID.utf8), dueAt: effective, id: "\(graceJob)|\(accountID)", now: now)
            try history(db, accountID: accountID, at: now, .with {
                $0.kind = "downgrade_warned"
                $0.fromTier = base
                $0.toTier = to
                $0.by = "system"
                $0.reason = "降级宽限至 \(TierRules.day(effective))"
                $0.evaluation = evaluation
            })
            recorded = true
            try Outbox.append(db, Forge_Loyalty_V1_TierDowngradePending.with {
                $0.accountID = accountID
                $0.ownerID = membership.ownerID
                $0.pending = membership.pendingDowngrade
                $0.missing = storedText { explained.checks.first { $0.tier == base }.map(TierRules.missing) ?? [] }
            }, accountID: accountID, at: now)
            changed = true
        case .keepWaiting(let to):
            membership.pendingDowngrade.toTier = to
            membership.pendingDowngrade.toTierName = ProgrammeRules.tier(programme, code: to)?.name ?? "无等级"
            changed = true
        case .cancelPending:
            membership.clearPendingDowngrade()
            try JobScheduler.cancelPending(db, kind: graceJob, idPrefix: "\(graceJob)|\(accountID)")
            try history(db, accountID: accountID, at: now, .with {
                $0.kind = "downgrade_cancelled"
                $0.fromTier = base
                $0.toTier = base
                $0.by = "system"
                $0.reason = "重新达到等级条件"
                $0.evaluation = evaluation
            })
            recorded = true
            try Outbox.append(db, Forge_Loyalty_V1_TierDowngradeCancelled.with { $0.accountID = accountID; $0.tier = base }, accountID: accountID, at: now)
            changed = true
        }
        if membership.hasOverride, membership.override.expiresAt.date <= now {
            try history(db, accountID: accountID, at: now, .with {
                $0.kind = "override_expired"
                $0.fromTier = membership.override.tier
                $0.toTier = base
                $0.by = "system"
                $0.reason = membership.override.reason
            })
            membership.clearOverride()
            changed = true
        }
        // The membership keeps the evaluation's outcome; its criteria are measured afresh when
        // the membership is read (and kept in the history when something changed).
        membership.evaluation = evaluation
        membership.evaluation.checks = []
        // A new membership takes the account's name and owner from the directory; afterwards
        // accounts' events keep them current (UpstreamEvents.refreshNames).
        if membership.accountName.isEmpty, let entry = try AccountDirectory.entry(db, accountID: accountID) {
            membership.accountName = entry.name
            membership.ownerID = entry.ownerID
            membership.team = entry.team
        }
        let effective = membership.hasOverride ? membership.override.tier : base
        describe(&membership, tier: effective, programme: programme)
        if effective != before {
            membership.tierSince = .init(date: now)
            if !effective.isEmpty && !membership.hasMemberSince { membership.memberSince = .init(date: now) }
            let reason = reason(from: before, to: effective, programme: programme, overridden: membership.hasOverride, trigger: evaluation.trigger)
            try history(db, accountID: accountID, at: now, .with {
                $0.kind = "tier_changed"
                $0.fromTier = before
                $0.toTier = effective
                $0.by = "system"
                $0.reason = reason
                $0.evaluation = evaluation
            })
            try Outbox.append(db, tierChanged(accountID: accountID, from: before, to: effective, membership: membership, reason: reason, evaluation: evaluation),
                              accountID: accountID, at: now)
            changed = true
        } else if !recorded, previousQualified != nil, previousQualified != qualified {
            try history(db, accountID: accountID, at: now, .with {
                $0.kind = "evaluated"
                $0.fromTier = previousQualified ?? ""
                $0.toTier = qualified
                $0.by = "system"
                $0.reason = "达标等级变化 qualified tier changed"
                $0.evaluation = evaluation
            })
        }
        // The version guards what people change (overrides); a plain re-evaluation keeps it.
        if changed { membership.version += 1 }
        try save(db, membership, baseTier: base, nearNext: TierRules.isNearNext(evaluation))
        return membership
    }

    static func reason(from: String, to: String, programme: Programme, overridden: Bool, trigger: String) -> String {
        if overridden { return "override" }
        if trigger == "override_expired" || trigger == "override_cleared" { return trigger }
        if trigger == "programme_change" { return "programme_change" }
        return ProgrammeRules.rank(programme, code: to) > ProgrammeRules.rank(programme, code: from) ? "upgrade" : "downgrade"
    }

    static func tierChanged(accountID: String, from: String, to: String, membership: Membership, reason: String,
                            evaluation: Forge_Loyalty_V1_Evaluation) -> Forge_Loyalty_V1_TierChanged {
        .with {
            $0.accountID = accountID
            $0.from = TierRules.level(from)
            $0.to = TierRules.level(to)
            $0.fromTier = from
            $0.toTier = to
            $0.toTierName = membership.tierName
            $0.serviceLevel = membership.serviceLevel.isEmpty ? "standard" : membership.serviceLevel
            $0.reason = reason
            $0.evaluation = evaluation
        }
    }

    /// The tier's name, rank and service level on the membership.
    static func describe(_ membership: inout Membership, tier: String, programme: Programme) {
        let definition = ProgrammeRules.tier(programme, code: tier)
        membership.tier = tier
        membership.tierName = definition?.name ?? ""
        membership.rank = definition?.rank ?? 0
        membership.serviceLevel = definition?.serviceLevel ?? ""
    }

    static func history(_ db: Database, accountID: String, at now: Date, _ entry: Forge_Loyalty_V1_TierHistoryEntry) throws {
        var entry = entry
        entry.at = .init(date: now)
        try db.execute(cached: "INSERT INTO tier_history (account_id, at, kind, payload) VALUES (?, ?, ?, ?)",
                       arguments: [accountID, now.timeIntervalSince1970, entry.kind, try entry.serializedData()])
    }

    static func historyEntries(_ db: Database, accountID: String, limit: Int) throws -> [Forge_Loyalty_V1_TierHistoryEntry] {
        try Data.fetchAll(db.cachedStatement(sql: "SELECT payload FROM tier_history WHERE account_id = ? ORDER BY id DESC LIMIT ?"), arguments: [accountID, limit])
            .map { payload in
                var entry = try Forge_Loyalty_V1_TierHistoryEntry(serializedBytes: payload)
                if entry.hasEvaluation { entry.evaluation = TierRules.render(entry.evaluation) }
                return entry
            }
    }

    // MARK: Overrides

    /// Sets (or with nil clears) a manager's override, and applies the tier in force.
    @discardableResult
    static func setOverride(_ db: Database, accountID: String, override: Forge_Loyalty_V1_TierOverride?, programme: Programme,
                            now: Date, day: TimeInterval, by: String, reason: String) throws -> Membership {
        var stored = try stored(db, accountID: accountID) ?? Stored(membership: .with { $0.accountID = accountID }, baseTier: "")
        let previous = stored.membership.hasOverride ? stored.membership.override : nil
        if let override {
            stored.membership.override = override
            try JobScheduler.schedule(db, kind: overrideJob, payload: Data(accountID.utf8), dueAt: override.expiresAt.date, id: "\(overrideJob)|\(accountID)", now: now)
        } else {
            stored.membership.clearOverride()
            try JobScheduler.cancelPending(db, kind: overrideJob, idPrefix: "\(overrideJob)|\(accountID)")
        }
        stored.membership.version += 1
        try history(db, accountID: accountID, at: now, .with {
            $0.kind = override == nil ? "override_cleared" : "override_set"
            $0.fromTier = previous?.tier ?? stored.membership.tier
            $0.toTier = override?.tier ?? stored.baseTier
            $0.by = by
            $0.reason = reason
        })
        try save(db, stored.membership, baseTier: stored.baseTier)
        return try evaluate(db, accountID: accountID, programme: programme, now: now, trigger: override == nil ? "override_cleared" : "override", day: day)
    }

    // MARK: Reading

    /// A membership as `principal` sees it: the tier in force with its criteria measured now
    /// (why it has this tier, what the next needs), its entitlements left this membership year
    /// and, for finance and managers, its rebates' progress. An account without a row yet (no
    /// event about it has changed anything) is measured on the spot, read-only.
    static func view(_ db: Database, accountID: String, programme: Programme, now: Date, seesMoney: Bool) throws -> Membership {
        var membership = try stored(db, accountID: accountID)?.membership ?? .with { $0.accountID = accountID }
        let facts = try LoyaltyStore.facts(db, accountID: accountID, now: now)
        membership.evaluation = TierRules.evaluate(accountID: accountID, facts, programme: programme, now: now, trigger: "read")
        if membership.accountName.isEmpty, let entry = try AccountDirectory.entry(db, accountID: accountID) {
            membership.accountName = entry.name
            membership.ownerID = entry.ownerID
            membership.team = entry.team
        }
        describe(&membership, tier: membership.tier, programme: programme)
        membership.entitlements = try EntitlementStore.balances(db, membership: membership, programme: programme, now: now, seesMoney: seesMoney)
        if seesMoney {
            membership.rebates = try RebateStore.progress(db, accountID: accountID, now: now)
        }
        return membership
    }

    static func list(_ db: Database, tier: String?, pendingOnly: Bool, principal: Principal, after: String, limit: Int) throws -> [Membership] {
        var clauses = ["m.account_id > ?"]
        var arguments: StatementArguments = [after]
        if let tier {
            clauses.append("m.tier = ?")
            arguments += [tier == "none" ? "" : tier]
        }
        if pendingOnly { clauses.append("m.pending_until IS NOT NULL") }
        OwnerScope.restrict(principal, table: "d", clauses: &clauses, arguments: &arguments)
        arguments += [limit]
        return try Data.fetchAll(db, sql: """
            SELECT m.payload FROM membership m JOIN account_directory d ON d.account_id = m.account_id
            WHERE \(clauses.joined(separator: " AND ")) ORDER BY m.account_id LIMIT ?
            """, arguments: arguments).map { try Membership(serializedBytes: $0) }
    }
}
