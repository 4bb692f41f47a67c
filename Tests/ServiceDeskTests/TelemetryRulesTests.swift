@testable import ForgeServiceDesk
import ForgeContracts
import ForgeWire
import Foundation
import SwiftProtobuf
import Testing

@Suite("Telemetry rules on synthetic signals")
struct TelemetryRulesTests {
    typealias Sample = TelemetryRules.Sample

    /// A seeded generator: the same "noise" on every run.
    struct Noise {
        var state: UInt64
        mutating func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) - 0.5
        }
    }

    static let start: Int64 = 1_796_000_000

    /// One point a minute for `hours`: `base + drift·h + noise·amplitude`.
    static func signal(hours: Int, base: Double, driftPerHour: Double, amplitude: Double, seed: UInt64 = 7) -> [Sample] {
        var noise = Noise(state: seed)
        return (0..<(hours * 60)).map { minute in
            Sample(time: start + Int64(minute) * 60, value: base + driftPerHour * Double(minute) / 60 + amplitude * noise.next())
        }
    }

    static let trendRule = Forge_Servicedesk_V1_TelemetryRule.with {
        $0.id = "r1"; $0.model = "VMC850"; $0.metric = "vibration"; $0.name = "主轴轴承磨损"; $0.kind = .trend
        $0.limit = 7.1; $0.windowHours = 24; $0.horizonDays = 14; $0.active = true
    }

    @Test("a trend rule fires on a slow drift buried in noise and projects when the limit is reached; it does not fire on noise alone, nor on a drift away from the limit")
    func trend() throws {
        // 2.8 mm/s rising 0.02 mm/s per hour with ±0.5 noise: 7.1 in (7.1 − 3.26) / 0.02 h ≈ 8 days.
        let drifting = Self.signal(hours: 24, base: 2.8, driftPerHour: 0.02, amplitude: 1.0)
        let firing = try #require(TelemetryRules.trend(drifting, Self.trendRule))
        #expect(abs(firing.slopePerHour - 0.02) < 0.004)
        let days = try #require(firing.projectedFailure).timeIntervalSince(Date(timeIntervalSince1970: TimeInterval(drifting.last!.time))) / 86_400
        #expect((6...10).contains(days), "projected \(days) days")
        #expect(firing.reason.contains("天后达到 7.1"))
        for seed in UInt64(1)...20 {
            #expect(TelemetryRules.trend(Self.signal(hours: 24, base: 5.5, driftPerHour: 0, amplitude: 2.0, seed: seed), Self.trendRule) == nil, "noise, seed \(seed)")
        }
        #expect(TelemetryRules.trend(Self.signal(hours: 24, base: 5, driftPerHour: -0.05, amplitude: 0.5), Self.trendRule) == nil, "falling away from a ceiling")
        // The same slow drift far from the limit: beyond the 14-day horizon.
        #expect(TelemetryRules.trend(Self.signal(hours: 24, base: 0.5, driftPerHour: 0.01, amplitude: 0.2), Self.trendRule) == nil)
        // A floor (pressure dropping towards 4 bar) fires on a falling signal.
        var floor = Self.trendRule
        floor.below = true
        floor.limit = 4
        #expect(TelemetryRules.trend(Self.signal(hours: 24, base: 6, driftPerHour: -0.01, amplitude: 0.1), floor) != nil)
        // Too few points mean nothing.
        #expect(TelemetryRules.trend(Array(drifting.prefix(5)), Self.trendRule) == nil)
    }

    @Test("a threshold rule fires when the value stays beyond the limit for the minutes it asks, not on a spike")
    func threshold() {
        let rule = Forge_Servicedesk_V1_TelemetryRule.with {
            $0.id = "r2"; $0.metric = "temperature"; $0.name = "主轴过热"; $0.kind = .threshold; $0.limit = 75; $0.forMinutes = 10
        }
        func series(_ values: [Double]) -> [Sample] { values.enumerated().map { Sample(time: Self.start + Int64($0.offset) * 60, value: $0.element) } }
        #expect(TelemetryRules.threshold(series([60, 61, 80, 62, 60, 61, 60, 60, 61, 60, 60, 61]), rule) == nil, "a spike")
        #expect(TelemetryRules.threshold(series([60] + Array(repeating: 78, count: 10)), rule) == nil, "9 minutes above")
        let fired = TelemetryRules.threshold(series([60] + Array(repeating: 78, count: 11)), rule)
        #expect(fired?.value == 78 && fired?.reason == "temperature 78.0 超过 75.0 已 10 分钟")
        #expect(TelemetryRules.threshold(series(Array(repeating: 78, count: 11) + [70]), rule) == nil, "back below the limit now")
    }

    @Test("rules and points are validated field by field")
    func validation() {
        let bad = TelemetryRules.validate(Forge_Servicedesk_V1_TelemetryRule.with { $0.kind = .trend; $0.windowHours = 0 })
        #expect(Set(bad.map(\.field)) == ["rule.model", "rule.metric", "rule.name", "rule.window_hours", "rule.horizon_days"])
        let now = Date(timeIntervalSince1970: TimeInterval(Self.start))
        let point = TelemetryRules.validate(.with { $0.metric = "温度"; $0.value = .nan; $0.time = .init(date: now.addingTimeInterval(7200)) }, now: now)
        #expect(point.map(\.field) == ["serial_number", "metric", "time", "value"])
    }
}
