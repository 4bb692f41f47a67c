import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwiftProtobuf

/// Loyalty's pages: the programme overview (members per tier, this quarter's movements,
/// downgrades waiting, members near the next tier, the tiers' criteria and benefits), a member
/// page (why the account has its tier, what the next one needs, entitlements left, rebates,
/// history; a manager's override) and the 360° page's loyalty card.
struct LoyaltyPages: Sendable {
    let pages: WebPages

    typealias Method = Forge_Loyalty_V1_LoyaltyService.Method

    func register(in router: Router<GatewayRequestContext>) {
        router.get("/loyalty") { request, _ in
            await pages.page(request) { token in try await overviewPage(token: token) }
        }
        router.get("/loyalty/members/{id}") { request, context in
            await pages.page(request) { token in try await memberPage(accountID: context.parameters.get("id") ?? "", token: token) }
        }
        router.post("/loyalty/members/{id}/evaluate") { request, context in
            await pages.action(request) { token, _ in
                let id = context.parameters.get("id") ?? ""
                _ = try await call(Method.evaluateTier, Forge_Loyalty_V1_EvaluateTierRequest.with { $0.accountID = id }, token: token,
                                   as: Forge_Loyalty_V1_EvaluateTierResponse.self)
                return "/loyalty/members/\(id)"
            }
        }
        router.post("/loyalty/members/{id}/override") { request, context in
            await pages.action(request) { token, fields in
                let id = context.parameters.get("id") ?? ""
                let version = Int64(fields["version"] ?? "") ?? 0
                if fields["clear"] != nil {
                    _ = try await call(Method.clearOverride, Forge_Loyalty_V1_ClearOverrideRequest.with {
                        $0.accountID = id
                        $0.version = version
                        $0.reason = fields["reason"] ?? ""
                    }, token: token, as: Forge_Loyalty_V1_ClearOverrideResponse.self)
                } else {
                    _ = try await call(Method.overrideTier, Forge_Loyalty_V1_OverrideTierRequest.with {
                        $0.accountID = id
                        $0.version = version
                        $0.tier = fields["tier"] ?? ""
                        $0.reason = fields["reason"] ?? ""
                        if let expiry = Self.day(fields["expires_on"] ?? "") { $0.expiresAt = .init(date: expiry) }
                    }, token: token, as: Forge_Loyalty_V1_OverrideTierResponse.self)
                }
                return "/loyalty/members/\(id)"
            }
        }
    }

    func call<Response: SwiftProtobuf.Message>(_ method: MethodDescriptor, _ request: some SwiftProtobuf.Message, token: String, as type: Response.Type) async throws -> Response {
        try await pages.call("loyalty", method, request, token: token, as: type)
    }

    /// "2027-03-31" as the end of that day, China time.
    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1...12).contains(parts[1]), (1...31).contains(parts[2]) else { return nil }
        let day = ChinaCalendar.days(year: parts[0], month: parts[1], day: parts[2])
        return Date(timeIntervalSince1970: Double(day) * 86_400 + (23 * 60 + 59) * 60 - ChinaCalendar.offset)
    }

    static func tierBadge(_ code: String, _ name: String) -> String {
        code.isEmpty ? "<span class=\"tier none\">\(L("未入级", "No tier"))</span>" : "<span class=\"tier \(HTML.escape(code))\">\(HTML.escape(name))</span>"
    }

    static func tierName(_ code: String, in programme: Forge_Loyalty_V1_Programme) -> String {
        code.isEmpty ? L("未入级", "No tier") : programme.tiers.first { $0.code == code }?.name ?? code
    }

    // MARK: The overview

    private func overviewPage(token: String) async throws -> String {
        let overview = try await call(Method.getProgrammeOverview, Forge_Loyalty_V1_GetProgrammeOverviewRequest(), token: token,
                                      as: Forge_Loyalty_V1_GetProgrammeOverviewResponse.self)
        let programme = overview.programme
        let total = max(overview.tiers.reduce(0) { $0 + Int($1.members) }, 1)
        let counts = overview.tiers.map { tier in
            """
            <section class="card tier-count" data-tier="\(HTML.escape(tier.tier))"><h2>\(Self.tierBadge(tier.tier, tier.tierName))</h2>
            <p style="font-size:2rem;margin:.2rem 0" class="members">\(tier.members)</p><p class="muted">\(Int((Double(tier.members) / Double(total) * 100).rounded()))% \(L("的客户", "accounts"))</p>
            <p><a href="/api/v1/loyalty/members?tier=\(tier.tier.isEmpty ? "none" : HTML.escape(tier.tier))">\(L("名单（JSON）", "List (JSON)"))</a></p></section>
            """
        }.joined()
        let movements = overview.movements.map { move in
            let up = (programme.tiers.first { $0.code == move.toTier }?.rank ?? 0) > (programme.tiers.first { $0.code == move.fromTier }?.rank ?? 0)
            return """
                <tr data-account="\(HTML.escape(move.accountID))"><td><a href="/loyalty/members/\(HTML.escape(move.accountID))">\(HTML.escape(move.accountName))</a></td>
                <td>\(HTML.escape(Self.tierName(move.fromTier, in: programme))) → <strong>\(HTML.escape(Self.tierName(move.toTier, in: programme)))</strong> <span class="\(up ? "sla met" : "sla breached")">\(up ? L("升级", "Upgrade") : L("降级", "Downgrade"))</span></td>
                <td>\(HTML.escape(Self.reason(move.reason)))</td><td>\(WebPages.date(move.at))</td></tr>
                """
        }.joined()
        let pending = overview.pendingDowngrades.map { member in
            """
            <li class="pending" data-account="\(HTML.escape(member.accountID))"><a href="/loyalty/members/\(HTML.escape(member.accountID))">\(HTML.escape(member.accountName))</a>
            \(HTML.escape(member.tierName)) → \(HTML.escape(member.pendingDowngrade.toTierName))\(L("，", ", effective "))\(WebPages.date(member.pendingDowngrade.effectiveAt)) \(L("生效 · 负责人", "· owner")) \(HTML.escape(member.ownerID))</li>
            """
        }.joined()
        let near = overview.nearNextTier.map { member in
            """
            <li class="near" data-account="\(HTML.escape(member.accountID))"><a href="/loyalty/members/\(HTML.escape(member.accountID))">\(HTML.escape(member.accountName))</a>
            \(Self.tierBadge(member.tier, member.tierName)) · \(HTML.escape(member.evaluation.missingForNext.first ?? ""))</li>
            """
        }.joined()
        let tiers = ProgrammeTable.rows(programme)
        return HTML.page(title: L("会员计划", "Partner programme"), user: WebPages.subject(token), body: """
            <h1>\(L("合作伙伴计划", "Partner programme"))</h1>
            <p class="muted">\(L("方案第 \(programme.version) 版，\(WebPages.date(programme.effectiveAt)) 起生效 · 降级宽限 \(programme.downgradeGraceDays) 天 ·", "Programme version \(programme.version), effective from \(WebPages.date(programme.effectiveAt)) · downgrade grace \(programme.downgradeGraceDays) days ·")) \(HTML.escape(programme.changeNote))</p>
            <div class="grid" id="tier-counts">\(counts)</div>
            <h2>\(L("本季度等级变动（\(WebPages.date(overview.quarterStart)) 起）", "Tier changes this quarter (from \(WebPages.date(overview.quarterStart)))"))</h2>
            \(movements.isEmpty ? "<p class=\"muted\" id=\"no-movements\">\(L("本季度没有变动", "No changes this quarter"))</p>" : "<table id=\"movements\"><thead><tr><th>\(L("客户", "Account"))</th><th>\(L("变动", "Change"))</th><th>\(L("原因", "Reason"))</th><th>\(L("日期", "Date"))</th></tr></thead><tbody>\(movements)</tbody></table>")
            <div class="grid">
            <section class="card" id="pending-downgrades"><h2>\(L("待降级（宽限期内）", "Pending downgrades (in the grace period)"))</h2>\(pending.isEmpty ? "<p class=\"muted\">\(L("没有", "No"))</p>" : "<ul class=\"timeline\">\(pending)</ul>")</section>
            <section class="card" id="near-next"><h2>\(L("接近升级", "Close to an upgrade"))</h2>\(near.isEmpty ? "<p class=\"muted\">\(L("没有", "No"))</p>" : "<ul class=\"timeline\">\(near)</ul>")</section>
            </div>
            <h2>\(L("等级与权益", "Tiers and benefits"))</h2>
            <table id="programme-tiers"><thead><tr><th>\(L("等级", "Tier"))</th><th>\(L("条件", "Criteria"))</th><th>\(L("权益", "Benefits"))</th><th>\(L("服务等级", "Service level"))</th></tr></thead><tbody>\(tiers)</tbody></table>
            """)
    }

    static func reason(_ reason: String) -> String {
        switch reason {
        case "upgrade": L("达标升级", "Upgraded on criteria")
        case "downgrade": L("宽限期满降级", "Downgraded after the grace period")
        case "override": L("经理调整", "Manager override")
        case "override_expired": L("调整到期", "Override expired")
        case "override_cleared": L("取消调整", "Override cancelled")
        case "programme_change": L("方案变更", "Programme changed")
        default: reason
        }
    }

    // MARK: A member

    private func memberPage(accountID: String, token: String) async throws -> String {
        async let found = call(Method.getMembership, Forge_Loyalty_V1_GetMembershipRequest.with { $0.accountID = accountID }, token: token,
                               as: Forge_Loyalty_V1_GetMembershipResponse.self)
        async let history = call(Method.getTierHistory, Forge_Loyalty_V1_GetTierHistoryRequest.with { $0.accountID = accountID; $0.limit = 20 }, token: token,
                                 as: Forge_Loyalty_V1_GetTierHistoryResponse.self)
        async let read = call(Method.getProgramme, Forge_Loyalty_V1_GetProgrammeRequest(), token: token, as: Forge_Loyalty_V1_GetProgrammeResponse.self)
        let (membership, entries, programme) = try await (found.membership, history.entries, read.programme)
        let evaluation = membership.evaluation
        // The highest tier first: what is missing reads before what is met.
        let checks = evaluation.checks.sorted { $0.rank > $1.rank }.map { check in
            let rows = check.criteria.map { criterion in
                """
                <tr class="criterion \(criterion.met ? "met" : "unmet")" data-kind="\(criterion.kind.rawValue)"><td>\(HTML.escape(criterion.label))\(criterion.mandatory ? " <span class=\"muted\">\(L("必需", "mandatory"))</span>" : "")</td>
                <td class="value">\(HTML.escape(criterion.valueText))</td><td>\(HTML.escape(criterion.thresholdText))</td>
                <td class="\(criterion.met ? "sla met" : "sla breached")">\(criterion.met ? "✓ \(L("达标", "Met"))" : "✗ " + HTML.escape(criterion.missing))</td></tr>
                """
            }.joined()
            return """
                <section class="card tier-check" style="margin-bottom:1rem" id="check-\(HTML.escape(check.tier))" data-reached="\(check.reached)"><h2>\(Self.tierBadge(check.tier, check.tierName)) <span class="\(check.reached ? "sla met" : "muted")">\(check.reached ? L("已达到", "reached") : L("未达到", "not reached"))</span></h2>
                <p class="muted">\(L("必需条件全部满足，可选条件满足 \(check.optionalRequired) 项（已满足 \(check.optionalMet) 项）", "all mandatory criteria and \(check.optionalRequired) optional ones (\(check.optionalMet) met)"))</p>
                <table><thead><tr><th>\(L("条件", "Criteria"))</th><th>\(L("当前", "Value"))</th><th>\(L("要求", "Required"))</th><th>\(L("结果", "Result"))</th></tr></thead><tbody>\(rows)</tbody></table></section>
                """
        }.joined()
        let next = evaluation.nextTier.isEmpty ? "<p id=\"next-tier\">\(L("已是最高等级。", "Already the highest tier."))</p>" : """
            <section class="card" id="next-tier"><h2>\(L("升至", "To reach")) \(HTML.escape(Self.tierName(evaluation.nextTier, in: programme))) \(L("还需要", "— still needed:"))</h2>
            <ul>\(evaluation.missingForNext.map { "<li>\(HTML.escape($0))</li>" }.joined())</ul></section>
            """
        let entitlements = membership.entitlements.map { balance in
            """
            <tr data-code="\(HTML.escape(balance.code))"><td>\(HTML.escape(balance.name))</td>
            <td>\(balance.yearlyQuota == 0 ? HTML.escape(balance.value.isEmpty ? L("享有", "Included") : balance.value) : "\(balance.remaining) / \(balance.yearlyQuota)")</td>
            <td>\(balance.yearlyQuota == 0 ? "—" : WebPages.date(balance.renewsAt))</td></tr>
            """
        }.joined()
        let rebates = membership.rebates.map { progress in
            "<li class=\"rebate\"><strong>\(HTML.escape(progress.name))</strong>\(L("：期内采购", ": purchases in the period")) \(WebPages.money(progress.purchases)) · \(HTML.escape(progress.statement))\(L("（至", " (until")) \(WebPages.date(progress.endAt))\(L("）", ")"))</li>"
        }.joined()
        let log = entries.filter { $0.kind != "evaluated" }.map { entry in
            "<li><span class=\"muted\">\(WebPages.date(entry.at))</span> \(HTML.escape(Self.historyKind(entry.kind))) \(HTML.escape(Self.tierName(entry.fromTier, in: programme))) → \(HTML.escape(Self.tierName(entry.toTier, in: programme)))\(entry.reason.isEmpty ? "" : " · " + HTML.escape(Self.reason(entry.reason)))\(entry.by == "system" ? "" : L("（\(HTML.escape(entry.by))）", " (\(HTML.escape(entry.by)))"))</li>"
        }.joined()
        let status = [
            membership.hasOverride ? "<p class=\"warning\" id=\"override\">\(L("经理调整为", "Set by a manager to")) \(HTML.escape(Self.tierName(membership.override.tier, in: programme)))\(L("（", " ("))\(HTML.escape(membership.override.setBy))\(L("：", ": "))\(HTML.escape(membership.override.reason))\(L("），", "), until "))\(WebPages.date(membership.override.expiresAt))\(L(" 到期", ""))</p>" : "",
            membership.hasPendingDowngrade ? "<p class=\"warning\" id=\"pending-downgrade\">\(L("未达到当前等级条件：宽限期至", "Below this tier's criteria: grace period until")) \(WebPages.date(membership.pendingDowngrade.effectiveAt))\(L("，届时降为", ", then down to")) \(HTML.escape(membership.pendingDowngrade.toTierName))</p>" : "",
        ].joined()
        let options = programme.tiers.sorted { $0.rank < $1.rank }.map { "<option value=\"\(HTML.escape($0.code))\">\(HTML.escape($0.name))</option>" }.joined()
        let overrideForm = membership.hasOverride ? """
            <form method="post" action="/loyalty/members/\(HTML.escape(accountID))/override" class="stack" id="clear-override-form">
            <input type="hidden" name="version" value="\(membership.version)"><input type="hidden" name="clear" value="1">
            <label>\(L("原因", "Reason")) <input name="reason" required></label><button type="submit">\(L("取消调整", "Override cancelled"))</button></form>
            """ : """
            <form method="post" action="/loyalty/members/\(HTML.escape(accountID))/override" class="stack" id="override-form">
            <input type="hidden" name="version" value="\(membership.version)">
            <label>\(L("等级", "Tier")) <select name="tier">\(options)</select></label>
            <label>\(L("原因", "Reason")) <input name="reason" required></label>
            <label>\(L("到期日", "Expires on")) <input type="date" name="expires_on" required></label>
            <button type="submit">\(L("经理调整等级", "Override the tier"))</button></form>
            """
        return HTML.page(title: "\(L("会员", "Partners")) \(membership.accountName)", user: WebPages.subject(token), body: """
            <h1><a href="/accounts/\(HTML.escape(accountID))">\(HTML.escape(membership.accountName.isEmpty ? accountID : membership.accountName))</a> \(Self.tierBadge(membership.tier, membership.tierName))</h1>
            <p class="muted" id="member-summary">\(L("近 12 个月采购", "Purchases in the last 12 months")) \(WebPages.money(evaluation.purchases12M))\(membership.hasMemberSince ? " \(L("· 入会", "· member since")) \(WebPages.date(membership.memberSince))" : "") \(L("· 服务等级", "· service level")) \(HTML.escape(membership.serviceLevel.isEmpty ? "standard" : membership.serviceLevel)) \(L("· 评估于", "· evaluated")) \(WebPages.dateTime(evaluation.evaluatedAt))\(L("（方案第 \(evaluation.programmeVersion) 版）", " (programme version \(evaluation.programmeVersion))"))</p>
            \(status)
            \(next)
            <h2>\(L("为什么是这个等级", "Why this tier"))</h2>
            <div class="checks">\(checks)</div>
            <div class="grid">
            <section class="card" id="entitlements"><h2>\(L("本会员年度权益", "This membership year's benefits"))</h2>\(entitlements.isEmpty ? "<p class=\"muted\">\(L("未入级，暂无权益", "No tier, no benefits yet"))</p>" : "<table><thead><tr><th>\(L("权益", "Benefits"))</th><th>\(L("剩余", "left"))</th><th>\(L("续期", "renews"))</th></tr></thead><tbody>\(entitlements)</tbody></table>")</section>
            \(membership.rebates.isEmpty ? "" : "<section class=\"card\" id=\"rebates\"><h2>\(L("返利进度", "Rebate progress"))</h2><ul class=\"timeline\">\(rebates)</ul></section>")
            <section class="card" id="history"><h2>\(L("等级记录", "Tier history"))</h2>\(log.isEmpty ? "<p class=\"muted\">\(L("暂无", "None yet"))</p>" : "<ul class=\"timeline\">\(log)</ul>")</section>
            <section class="card"><h2>\(L("操作", "Actions"))</h2>
            <form method="post" action="/loyalty/members/\(HTML.escape(accountID))/evaluate"><button type="submit" id="evaluate">\(L("立即重新评估", "Re-evaluate now"))</button></form>
            \(overrideForm)</section>
            </div>
            <p><a href="/loyalty">\(L("返回会员计划", "Back to the partner programme"))</a></p>
            """)
    }

    /// A history entry's kind; the override's end shares its words with the tier-change reasons.
    static func historyKind(_ kind: String) -> String {
        switch kind {
        case "tier_changed": L("等级变动", "Tier change")
        case "downgrade_warned": L("降级预警", "Downgrade warning")
        case "downgrade_cancelled": L("取消降级", "Downgrade cancelled")
        case "override_set": reason("override")
        default: reason(kind)
        }
    }

    // MARK: The 360° card

    static func card(_ section: Forge_Gateway_V1_Section?) -> String {
        guard let section, section.status == .ok, let found = try? Forge_Loyalty_V1_GetMembershipResponse(jsonString: section.json) else {
            return "<p class=\"muted\">\(HTML.escape(section?.detail ?? ""))</p>"
        }
        let membership = found.membership
        let left = membership.entitlements.filter { $0.yearlyQuota > 0 }.map { "\(HTML.escape($0.name)) \(L("剩", "left")) \($0.remaining)/\($0.yearlyQuota)" }.joined(separator: L("；", "; "))
        let standing = membership.entitlements.filter { $0.yearlyQuota == 0 && !$0.value.isEmpty }.map { "\(HTML.escape($0.name)) \(HTML.escape($0.value))" }.joined(separator: L("；", "; "))
        return """
            <p class="member-tier">\(tierBadge(membership.tier, membership.tierName))\(membership.hasOverride ? " <span class=\"muted\">\(L("（经理调整）", " (manager override)"))</span>" : "")\(membership.hasPendingDowngrade ? " <span class=\"sla at-risk\">\(L("宽限期至", "grace period until")) \(WebPages.date(membership.pendingDowngrade.effectiveAt))</span>" : "")</p>
            <dl><dt>\(L("近 12 个月采购", "Purchases in the last 12 months"))</dt><dd>\(WebPages.money(membership.evaluation.purchases12M))</dd>
            \(membership.evaluation.nextTier.isEmpty ? "" : "<dt>\(L("升级还需", "For the next tier:"))</dt><dd class=\"missing\">\(membership.evaluation.missingForNext.map(HTML.escape).joined(separator: L("；", "; ")))</dd>")
            \(left.isEmpty ? "" : "<dt>\(L("权益剩余", "Benefits left"))</dt><dd class=\"entitlements\">\(left)</dd>")
            \(standing.isEmpty ? "" : "<dt>\(L("服务权益", "Service benefits"))</dt><dd>\(standing)</dd>")
            \(membership.rebates.map { "<dt>\(L("返利", "Rebates"))</dt><dd class=\"rebate\">\(HTML.escape($0.statement))</dd>" }.joined())</dl>
            <p><a href="/loyalty/members/\(HTML.escape(membership.accountID))">\(L("为什么是这个等级 →", "Why this tier →"))</a></p>
            """
    }
}

/// The programme's tiers as table rows: each criterion in words, the benefits.
enum ProgrammeTable {
    static func rows(_ programme: Forge_Loyalty_V1_Programme) -> String {
        programme.tiers.sorted { $0.rank < $1.rank }.map { tier in
            let criteria = tier.criteria.map { criterion in
                "\(criterion.mandatory ? "<strong>" : "")\(HTML.escape(Self.criterion(criterion)))\(criterion.mandatory ? "</strong>" : "")"
            }.joined(separator: "<br>")
            let benefits = tier.entitlements.map { "\(HTML.escape($0.name))\($0.yearlyQuota > 0 ? " ×\($0.yearlyQuota)/\(L("年", "year"))" : $0.value.isEmpty ? "" : " " + HTML.escape($0.value))" }.joined(separator: "<br>")
            return """
                <tr data-tier="\(HTML.escape(tier.code))"><td>\(LoyaltyPages.tierBadge(tier.code, tier.name))</td><td>\(criteria)\(tier.optionalRequired > 0 ? "<br><span class=\"muted\">\(L("可选条件至少", "at least")) \(tier.optionalRequired) \(L("项（加粗为必需）", "optional criteria (mandatory in bold)"))</span>" : "")</td><td>\(benefits)</td><td>\(HTML.escape(tier.serviceLevel))</td></tr>
                """
        }.joined()
    }

    static func criterion(_ criterion: Forge_Loyalty_V1_Criterion) -> String {
        switch criterion.kind {
        case .purchases12M: "\(L("近 12 个月采购 ≥", "Purchases in the last 12 months ≥")) \(WebPages.money(.with { $0.amountMicros = criterion.threshold }))"
        case .yearsOfCooperation: "\(L("合作 ≥", "Cooperation ≥")) \(criterion.threshold) \(L("年", "years"))"
        case .productLines: "\(L("采购产品线 ≥", "Product lines bought ≥")) \(criterion.threshold)\(L(" 条", ""))"
        case .industryShowcase: L("行业标杆客户", "Industry showcase")
        case .bringsPartners: L("引荐合作伙伴", "Brings partners")
        case .nps: "\(L("最近 NPS ≥", "Latest NPS ≥")) \(criterion.threshold)"
        case .paymentBehaviour: "\(L("近 12 个月逾期回款 ≤", "Late payments in the last 12 months ≤")) \(criterion.threshold)\(L(" 次", " times"))"
        default: "—"
        }
    }
}
