import Foundation

/// UTC timestamps as RFC 3339 text — `2026-11-24T08:31:37Z`, or `…37.125Z` with milliseconds
/// — for JSON log lines and webhook bodies, formatted by the C library.
///
/// Not ISO8601DateFormatter: it builds an ICU date formatter (and resolves time zones through
/// ICU's tables), which the log handler did once per line, and which kept ICU's data resident.
public enum RFC3339 {
    public static func string(from date: Date, milliseconds: Bool = false) -> String {
        let interval = date.timeIntervalSince1970
        var seconds = time_t(interval.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var text = padded(Int(parts.tm_year) + 1900, 4) + "-" + padded(Int(parts.tm_mon) + 1, 2) + "-"
            + padded(Int(parts.tm_mday), 2) + "T" + padded(Int(parts.tm_hour), 2) + ":" + padded(Int(parts.tm_min), 2)
            + ":" + padded(Int(parts.tm_sec), 2)
        if milliseconds {
            text += "." + padded(min(999, Int((interval - Double(seconds)) * 1000)), 3)
        }
        return text + "Z"
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
