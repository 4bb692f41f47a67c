@testable import ForgePipeline
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf
import Testing

@Suite("Pipeline rules (no I/O)")
struct PipelineRulesTests {
    @Test("the most specific assignment rule wins: region and product line, then region, then product line, then catch-all; folded for width and case")
    func ruleSpecificity() {
        let rules: [Forge_Pipeline_V1_AssignmentRule] = [
            .with { $0.team = "all" },
            .with { $0.productLine = "液压件"; $0.team = "hydraulics" },
            .with { $0.region = "华东"; $0.team = "east" },
            .with { $0.region = "华东"; $0.productLine = "液压件"; $0.team = "east-hydraulics" },
        ]
        #expect(LeadAssignment.rule(for: "华东", productLine: "液压件", in: rules)?.team == "east-hydraulics")
        #expect(LeadAssignment.rule(for: "华东", productLine: "数控机床", in: rules)?.team == "east")
        #expect(LeadAssignment.rule(for: "西南", productLine: "液压件", in: rules)?.team == "hydraulics")
        #expect(LeadAssignment.rule(for: "西南", productLine: "", in: rules)?.team == "all")
        #expect(LeadAssignment.rule(for: "Ｅａｓｔ", productLine: "", in: [.with { $0.region = "east"; $0.team = "e" }])?.team == "e")
    }

    @Test("a team without members gives its leads to its manager; no team at all: to whoever captured the lead")
    func fallbacks() {
        var settings = Forge_Pipeline_V1_PipelineSettings()
        settings.teams = [.with { $0.name = "solo"; $0.managerID = "boss" }]
        settings.defaultTeam = "solo"
        #expect(LeadAssignment.decide(region: "", productLine: "", settings: settings, loads: [:], capturer: "me") == .init(ownerID: "boss", team: "solo", how: "manager"))
        #expect(LeadAssignment.decide(region: "", productLine: "", settings: .init(), loads: [:], capturer: "me") == .init(ownerID: "me", team: "", how: "capturer"))
    }

    @Test("settings name each bad field: unknown team, duplicate team or member, weights and points out of range, a closed stage's limit")
    func settingsValidation() {
        let settings = Forge_Pipeline_V1_PipelineSettings.with {
            $0.teams = [
                .with { $0.name = "east"; $0.members = [.with { $0.userID = "a" }, .with { $0.userID = "a"; $0.weight = 101 }] },
                .with { $0.name = "east" },
            ]
            $0.rules = [.with { $0.region = "华东"; $0.team = "nowhere" }]
            $0.defaultTeam = "ghost"
            $0.scoring.industryPoints = ["汽车": 500]
            $0.stageLimits = [.with { $0.stage = .won; $0.days = 0 }]
        }
        let fields = Set(SettingsRules.validate(settings).map(\.field))
        #expect(fields == [
            "settings.teams[1].name", "settings.teams[0].members[1].user_id", "settings.teams[0].members[1].weight",
            "settings.rules[0].team", "settings.default_team", "settings.scoring.industry_points",
            "settings.stage_limits[0].stage", "settings.stage_limits[0].days",
        ])
        #expect(SettingsRules.validate(PipelineDefaults.settings).isEmpty)
    }

    @Test("forecast months are China time, at most 24, and in order")
    func months() throws {
        let window = try ForecastRules.window(from: "2026-01", to: "2026-02", now: Date())
        #expect(window.start == Date(timeIntervalSince1970: 1_767_196_800))  // 2025-12-31T16:00Z
        #expect(window.end.timeIntervalSince(window.start) == 59 * 86400)
        #expect(throws: RPCError.self) { try ForecastRules.window(from: "2026-03", to: "2026-01", now: Date()) }
        #expect(throws: RPCError.self) { try ForecastRules.window(from: "2024-01", to: "2026-12", now: Date()) }
    }

    @Test("an amount is not negative and in an ISO 4217 currency, for an opportunity and for a conversion alike (a conversion once stored any currency text)")
    func amounts() {
        #expect(OpportunityRules.validate(amount: .with { $0.amountMicros = 5_000_000; $0.currencyCode = "CNY" }, field: "amount").isEmpty)
        #expect(OpportunityRules.validate(amount: .with { $0.amountMicros = 5_000_000 }, field: "amount").isEmpty, "empty: CNY")
        let bad = OpportunityRules.validate(amount: .with { $0.amountMicros = -1; $0.currencyCode = "\u{1D}E;R" }, field: "amount")
        #expect(bad.map(\.field) == ["amount.amount_micros", "amount.currency_code"])
    }

}
