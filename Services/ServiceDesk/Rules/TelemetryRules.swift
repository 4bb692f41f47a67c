import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// What a telemetry point and a rule may hold, and when a rule fires on a series. No I/O.
enum TelemetryRules {
    typealias Rule = Forge_Servicedesk_V1_TelemetryRule

    /// Points per IngestTelemetry call.
    static let maxBatch = 10_000
    static let defaultRawDays = 30
    static let defaultHourlyDays = 730
    /// A trend needs this many points before its slope means anything.
    static let minimumTrendPoints = 12
    /// A slope counts as signal when it is this many standard errors away from zero: a noisy
    /// but level signal has a slope of a standard error or two, a real drift tens of them.
    static let signalTStatistic = 4.0

    /// One point of a series: seconds since 1970 and the value.
    struct Sample: Equatable, Sendable {
        var time: Int64
        var value: Double
    }

    /// Why a rule fired, for the prediction and its work order (in Chinese, as the people who
    /// read it; the metric by its code).
    struct Firing: Equatable, Sendable {
        var value: Double
        var slopePerHour: Double = 0
        var projectedFailure: Date?
        var reason: String
    }

    static func metric(_ text: String) -> String { text.trimmingCharacters(in: .whitespaces).lowercased() }

    static func validate(_ point: Forge_Servicedesk_V1_TelemetryPoint, now: Date) -> [Forge_Common_V1_RowViolation] {
        var violations: [Forge_Common_V1_RowViolation] = []
        func bad(_ field: String, _ description: String) {
            violations.append(.with { $0.field = field; $0.description_p = description })
        }
        if EquipmentStore.normalSerial(point.serialNumber).isEmpty { bad("serial_number", "is required") }
        let name = metric(point.metric)
        if name.isEmpty || name.count > 40 || !name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") }) {
            bad("metric", "must be 1–40 letters, digits, _ or . (temperature, vibration, running_hours)")
        }
        if !point.hasTime {
            bad("time", "is required")
        } else if point.time.date > now.addingTimeInterval(3600) {
            bad("time", "is more than an hour in the future")
        } else if point.time.seconds < 946_684_800 {
            bad("time", "is before 2000")
        }
        if !point.value.isFinite { bad("value", "must be a finite number") }
        return violations
    }

    static func validate(_ rule: Rule) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func check(_ condition: Bool, _ field: String, _ description: String) {
            if !condition { violations.append(FieldViolation(field: "rule.\(field)", description: description)) }
        }
        check(!rule.model.trimmingCharacters(in: .whitespaces).isEmpty, "model", "is required")
        check(!metric(rule.metric).isEmpty, "metric", "is required")
        check(!rule.name.trimmingCharacters(in: .whitespaces).isEmpty, "name", "is required")
        check(rule.limit.isFinite, "limit", "must be a finite number")
        switch rule.kind {
        case .threshold:
            check((1...10_080).contains(rule.forMinutes), "for_minutes", "must be 1 to 10,080 (a week)")
        case .trend:
            check((1...720).contains(rule.windowHours), "window_hours", "must be 1 to 720 (30 days)")
            check(rule.slopePerHour >= 0 && rule.slopePerHour.isFinite, "slope_per_hour", "must be zero or more (the rate towards the limit)")
            check(rule.horizonDays >= 0 && rule.horizonDays <= 365, "horizon_days", "must be 0 to 365")
            check(rule.slopePerHour > 0 || rule.horizonDays > 0, "horizon_days", "or slope_per_hour must be set: when should the trend fire")
        default:
            check(false, "kind", "is required: threshold or trend")
        }
        return violations
    }

    /// Whether `value` is beyond the rule's limit (above a ceiling, below a floor).
    static func beyond(_ value: Double, _ rule: Rule) -> Bool { rule.below ? value < rule.limit : value > rule.limit }

    /// The samples (by time) the rule looks at, ending with the newest: the threshold's
    /// minutes plus an hour (to find where the excursion began), the trend's window.
    static func window(_ rule: Rule) -> Int64 {
        rule.kind == .threshold ? Int64(rule.forMinutes) * 60 + 3600 : Int64(rule.windowHours) * 3600
    }

    /// Fires when the samples up to the newest have been beyond the limit, without a break, for
    /// at least `for_minutes`.
    static func threshold(_ samples: [Sample], _ rule: Rule) -> Firing? {
        guard let newest = samples.last, beyond(newest.value, rule) else { return nil }
        var start = newest.time
        for sample in samples.reversed() {
            guard beyond(sample.value, rule) else { break }
            start = sample.time
        }
        guard newest.time - start >= Int64(rule.forMinutes) * 60 else { return nil }
        let minutes = (newest.time - start) / 60
        return Firing(value: newest.value,
                      reason: "\(rule.metric) \(format(newest.value)) \(rule.below ? "低于" : "超过") \(format(rule.limit)) 已 \(minutes) 分钟")
    }

    /// A least-squares line through the samples: slope per second, the value it gives at the
    /// newest sample, and the slope's standard error.
    struct Fit: Equatable {
        var slope: Double
        var valueAtEnd: Double
        var standardError: Double
    }

    static func fit(_ samples: [Sample]) -> Fit? {
        guard samples.count >= 3, let first = samples.first, let last = samples.last, last.time > first.time else { return nil }
        let n = Double(samples.count)
        // Times relative to the first sample keep the sums well conditioned.
        let xs = samples.map { Double($0.time - first.time) }
        let meanX = xs.reduce(0, +) / n
        let meanY = samples.reduce(0) { $0 + $1.value } / n
        var sxx = 0.0, sxy = 0.0
        for (x, sample) in zip(xs, samples) {
            sxx += (x - meanX) * (x - meanX)
            sxy += (x - meanX) * (sample.value - meanY)
        }
        guard sxx > 0 else { return nil }
        let slope = sxy / sxx
        let intercept = meanY - slope * meanX
        var residuals = 0.0
        for (x, sample) in zip(xs, samples) {
            let r = sample.value - (intercept + slope * x)
            residuals += r * r
        }
        let standardError = (residuals / max(n - 2, 1)).squareRoot() / sxx.squareRoot()
        return Fit(slope: slope, valueAtEnd: intercept + slope * xs[xs.count - 1], standardError: standardError)
    }

    /// Fires when the slope over the window is signal (not noise), heads towards the limit,
    /// and is at least `slope_per_hour` or reaches the limit within `horizon_days`.
    static func trend(_ samples: [Sample], _ rule: Rule) -> Firing? {
        guard samples.count >= minimumTrendPoints, let newest = samples.last, let fit = fit(samples) else { return nil }
        let towards = rule.below ? -fit.slope : fit.slope
        guard towards > 0, fit.standardError == 0 || towards / fit.standardError >= signalTStatistic else { return nil }
        let perHour = fit.slope * 3600
        let remaining = rule.below ? fit.valueAtEnd - rule.limit : rule.limit - fit.valueAtEnd
        let secondsToLimit = max(remaining, 0) / towards
        let projected = Date(timeIntervalSince1970: TimeInterval(newest.time) + secondsToLimit)
        let bySlope = rule.slopePerHour > 0 && abs(perHour) >= rule.slopePerHour
        let byHorizon = rule.horizonDays > 0 && secondsToLimit <= rule.horizonDays * 86_400
        guard bySlope || byHorizon else { return nil }
        let days = secondsToLimit / 86_400
        return Firing(value: fit.valueAtEnd, slopePerHour: perHour, projectedFailure: projected,
                      reason: "\(rule.metric) 近 \(rule.windowHours) 小时每小时 \(perHour >= 0 ? "+" : "")\(format(perHour))，"
                          + (remaining <= 0 ? "已越过 \(format(rule.limit))" : "约 \(format(days)) 天后达到 \(format(rule.limit))"))
    }

    static func evaluate(_ samples: [Sample], _ rule: Rule) -> Firing? {
        rule.kind == .threshold ? threshold(samples, rule) : trend(samples, rule)
    }

    static func format(_ value: Double) -> String {
        abs(value) >= 100 ? String(format: "%.0f", value) : abs(value) >= 1 ? String(format: "%.1f", value) : String(format: "%.3f", value)
    }
}
