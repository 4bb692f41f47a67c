#if canImport(Glibc)
import Glibc
#endif
import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Synchronization

/// Gives memory back once a service has gone quiet after a burst of work.
///
/// A burst (the demo data `forge up` loads, a nightly import, a busy hour) leaves SQLite's page
/// cache full on every pooled connection and malloc's arenas holding freed blocks: an idle
/// accounts service sat at 38 MB after the demo load against 28 MB after a restart. When the
/// process has used almost no CPU for `quietPeriod`, this releases SQLite's caches
/// (`DatabasePool.releaseMemory`) and returns malloc's free pages to the system
/// (`malloc_trim`) — once per quiet spell; the next burst re-arms it. A busy service is never
/// touched, so its caches stay warm.
///
/// The rule (`check()`) reads an injectable wall clock and CPU-time source, so tests move both
/// instead of sleeping; `run()` only calls it every `checkInterval`.
public final class IdleMemoryRelease: Service, Sendable {
    /// Below this share of one core between two checks, the process counts as quiet
    /// (health checks, metric scrapes and job polls stay far below it).
    static let quietCPUShare = 0.01

    private struct State {
        var lastCheck: Date?
        var lastCPU: Duration = .zero
        var quietSince: Date?
        var released = true  // a freshly started process has nothing to give back
    }

    private let wallClock: any WallClock
    private let cpuTime: @Sendable () -> Duration
    private let release: @Sendable () -> Void
    private let quietPeriod: TimeInterval
    private let checkInterval: Duration
    private let logger: Logger
    private let state = Mutex(State())

    public convenience init(database: DatabasePool, clock: any WallClock, logger: Logger) {
        self.init(
            clock: clock,
            cpuTime: IdleMemoryRelease.processCPUTime,
            release: { IdleMemoryRelease.releaseMemory(of: database) },
            logger: logger
        )
    }

    init(
        clock: any WallClock,
        cpuTime: @escaping @Sendable () -> Duration,
        quietPeriod: TimeInterval = 30,
        checkInterval: Duration = .seconds(5),
        release: @escaping @Sendable () -> Void,
        logger: Logger
    ) {
        self.wallClock = clock
        self.cpuTime = cpuTime
        self.quietPeriod = quietPeriod
        self.checkInterval = checkInterval
        self.release = release
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                self.check()
                try? await Task.sleep(for: self.checkInterval)
            }
        }
    }

    /// Looks at the CPU used since the last check; releases memory when the process has been
    /// quiet for `quietPeriod` after working. Returns whether it released.
    @discardableResult
    func check() -> Bool {
        let now = wallClock.now()
        let cpu = cpuTime()
        let shouldRelease = state.withLock { state -> Bool in
            defer {
                state.lastCheck = now
                state.lastCPU = cpu
            }
            guard let lastCheck = state.lastCheck else { return false }
            let wall = now.timeIntervalSince(lastCheck)
            guard wall > 0 else { return false }
            if cpu - state.lastCPU >= .seconds(wall * Self.quietCPUShare) {
                // Working: caches are in use; release again once this burst is over.
                state.quietSince = nil
                state.released = false
                return false
            }
            let quietSince = state.quietSince ?? lastCheck
            state.quietSince = quietSince
            guard !state.released, now.timeIntervalSince(quietSince) >= quietPeriod else { return false }
            state.released = true
            return true
        }
        if shouldRelease {
            release()
            logger.debug("quiet: released database caches and free heap pages")
        }
        return shouldRelease
    }

    /// Empties SQLite's page cache on every pooled connection and returns malloc's free pages.
    static func releaseMemory(of database: DatabasePool) {
        database.releaseMemory()
        _ = mallocTrim?(0)
    }

    /// glibc's `malloc_trim` (malloc.h is not in the Glibc module map); nil on other C libraries.
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(nil /* RTLD_DEFAULT */, "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
        #else
        return nil
        #endif
    }()

    /// CPU time the whole process has used (all threads): C's `clock()`, in microseconds
    /// (XSI fixes CLOCKS_PER_SEC at 1,000,000; the macro does not import into Swift).
    @Sendable static func processCPUTime() -> Duration {
        .microseconds(clock())
    }
}
