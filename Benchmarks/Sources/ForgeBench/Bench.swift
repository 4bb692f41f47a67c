import ArgumentParser
import BenchCore
import Logging

/// Measures unary calls on loopback: Forge's wire runtime, grpc-swift-2 and a bare NIO echo,
/// side by side in one run, and prints throughput, percentiles and the ratios.
@main
struct Bench: AsyncParsableCommand {
    @OptionGroup var options: BenchOptions

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        try await runTargets(options.targetList, load: options.load(), pinned: options.pinned)
    }
}
