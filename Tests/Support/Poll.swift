/// Bounded waits in tests that count their polls instead of reading a clock. A wall clock
/// that steps (NTP correcting a virtual machine that was paused or restored) or a machine that
/// stalls mid-test would otherwise end a wait before the processes it waits for ran at all:
/// a fresh-clone CI run lost the journey's NPS e-mail that way, its 40 s wait over after 20.
/// Each poll sleeps `interval`, so the bound is at least `seconds` of time the test's own
/// processes could run in.
public enum Poll {
    /// Polls `probe` until it answers something; nil when it never did within the bound.
    public static func value<T>(seconds: Double, every interval: Duration = .milliseconds(50),
                                _ probe: () async throws -> T?) async rethrows -> T? {
        let polls = max(1, Int(seconds / (Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18)))
        for _ in 0..<polls {
            if let value = try await probe() { return value }
            try? await Task.sleep(for: interval)
        }
        return try await probe()
    }

    /// Polls `condition` until it holds; whether it did within the bound.
    public static func until(seconds: Double, every interval: Duration = .milliseconds(50),
                             _ condition: () async throws -> Bool) async rethrows -> Bool {
        try await value(seconds: seconds, every: interval) { try await condition() ? true : nil } ?? false
    }
}
