import ArgumentParser
import BenchCore
import Logging
import MallocInterposerSwift

/// The same load with every heap allocation of the process counted over the measured window
/// (client and server together), reported per call. Linking the interposer replaces malloc
/// process-wide and slows every allocation: take throughput from ForgeBench, not from here.
@main
struct AllocationBench: AsyncParsableCommand {
    @OptionGroup var options: BenchOptions

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        let counter = AllocationCounter(
            start: {
                MallocInterposerSwift.reset()
                MallocInterposerSwift.hook()
            },
            stop: {
                MallocInterposerSwift.unhook()
                return MallocInterposerSwift.getStatistics().mallocCount
            }
        )
        try await runTargets(options.targetList, load: options.load(allocationCounter: counter), pinned: options.pinned)
    }
}
