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

    static func metric(_ text: String) -> String { text.trimmed.lowercased() }

    static func validate(_ point: Forge_Servicedesk_V1_TelemetryPoint, now: Date) -> [Forge_Common_V1_RowViolation] {
        validateNames(serial: point.serialNumber, metric: point.metric) + validateReading(point, now: now)
    }

    /// What a series is named by (checked once per series and batch).
    static func validateNames(serial: String, metric text: String) -> [Forge_Common_V1_RowViolation] {
        var violations: [Forge_Common_V1_RowViolation] = []
        if EquipmentStore.normalSerial(serial).isEmpty { violations.append(violation("serial_number", "is required")) }
        let name = metric(text)
        // Bytes, not Characters: this runs for every series of every batch.
        if name.isEmpty || name.utf8.count > 40
            || !name.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }) {
            violations.append(violation("metric", "must be 1–40 letters, digits, _ or . (temperature, vibration, running_hours)"))
        }
        return violations
    }

    /// A point's time and value (checked for every point).
    static func validateReading(_ point: Forge_Servicedesk_V1_TelemetryPoint, now: Date) -> [Forge_Common_V1_RowViolation] {
        var violations: [Forge_Common_V1_RowViolation] = []
        if !point.hasTime {
            violations.append(violation("time", "is required"))
        } else if Double(point.time.seconds) > now.timeIntervalSince1970 + 3600 {
            violations.append(violation("time", "is more than an hour in the future"))
        } else if point.time.seconds < 946_684_800 {
            violations.append(violation("time", "is before 2000"))
        }
        if !point.value.isFinite { violations.append(violation("value", "must be a finite number")) }
        return violations
    }

    static func violation(_ field: String, _ description: String) -> Forge_Common_V1_RowViolation {
        .with { $0.field = field; $0.description_p = description }
    }

    static func validate(_ rule: Rule) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        func check(_ condition: Bool, _ field: String, _ description: String) {
            if !condition { violations.append(FieldViolation(field: "rule.\(field)", description: description)) }
        }
        check(!rule.model.isBlank, "model", "is required")
        check(!metric(rule.metric).isEmpty, "metric", "is required")
        check(!rule.name.isBlank, "name", "is required")
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

    /// A window's sums, times in seconds after `first`: what a least-squares line needs (the
    /// store has SQLite add them up rather than read every point).
    struct Sums: Equatable, Sendable {
        var count = 0
        /// The origin of the times (the first sample, or the window's start), and the newest sample.
        var first: Int64 = 0
        var last: Int64 = 0
        var x = 0.0, y = 0.0, xx = 0.0, xy = 0.0, yy = 0.0

        init(count: Int, first: Int64, last: Int64, x: Double, y: Double, xx: Double, xy: Double, yy: Double) {
            (self.count, self.first, self.last, self.x, self.y, self.xx, self.xy, self.yy) = (count, first, last, x, y, xx, xy, yy)
        }

        init(_ samples: [Sample]) {
            guard let head = samples.first else { return }
            count = samples.count
            first = head.time
            last = samples[samples.count - 1].time
            for sample in samples {
                let dx = Double(sample.time - head.time)
                x += dx
                y += sample.value
                xx += dx * dx
                xy += dx * sample.value
                yy += sample.value * sample.value
            }
        }
    }

    static func fit(_ samples: [Sample]) -> Fit? { fit(Sums(samples)) }

    static func fit(_ sums: Sums) -> Fit? {
        guard sums.count >= 3, sums.last > sums.first else { return nil }
        let n = Double(sums.count)
        let sxx = sums.xx - sums.x * sums.x / n
        let sxy = sums.xy - sums.x * sums.y / n
        let syy = sums.yy - sums.y * sums.y / n
        guard sxx > 0 else { return nil }
        let slope = sxy / sxx
        let intercept = (sums.y - slope * sums.x) / n
        let residuals = max(syy - slope * sxy, 0)
        let standardError = (residuals / max(n - 2, 1)).squareRoot() / sxx.squareRoot()
        return Fit(slope: slope, valueAtEnd: intercept + slope * Double(sums.last - sums.first), standardError: standardError)
    }

    /// Fires when the slope over the window is signal (not noise), heads towards the limit,
    /// and is at least `slope_per_hour` or reaches the limit within `horizon_days`.
    static func trend(_ samples: [Sample], _ rule: Rule) -> Firing? { trend(Sums(samples), rule) }

    static func trend(_ sums: Sums, _ rule: Rule) -> Firing? {
        guard sums.count >= minimumTrendPoints, let fit = fit(sums) else { return nil }
        let towards = rule.below ? -fit.slope : fit.slope
        guard towards > 0, fit.standardError == 0 || towards / fit.standardError >= signalTStatistic else { return nil }
        let perHour = fit.slope * 3600
        let remaining = rule.below ? fit.valueAtEnd - rule.limit : rule.limit - fit.valueAtEnd
        let secondsToLimit = max(remaining, 0) / towards
        let projected = Date(timeIntervalSince1970: TimeInterval(sums.last) + secondsToLimit)
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
