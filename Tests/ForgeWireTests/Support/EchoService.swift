import ForgeContracts
import ForgeWire
import Foundation

/// Lets a test hold a handler at a gate and learn when a handler started or saw its task
/// cancelled, without sleeping for a fixed time. Every wait is bounded and gives up when its
/// task is cancelled: a wait for something that never happens (a call whose deadline passed
/// before its handler ran is never started) fails its test instead of holding the run forever.
actor Probe {
    private var gates: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var openGates: Set<String> = []
    private var startedTags: Set<String> = []
    private var cancelledTags: Set<String> = []
    private(set) var echoCount = 0

    /// How long a test waits for a handler to start or be cancelled before it fails.
    static let bound: Duration = .seconds(30)

    func countEcho() { echoCount += 1 }

    /// Suspends until `open(tag)`; the handler's cancellation opens its gate (`markCancelled`),
    /// so a cancelled or expired call never stays here.
    func wait(at tag: String) async {
        markStarted(tag)
        if openGates.contains(tag) { return }
        await withCheckedContinuation { gates[tag, default: []].append($0) }
    }

    func open(_ tag: String) {
        openGates.insert(tag)
        for continuation in gates.removeValue(forKey: tag) ?? [] { continuation.resume() }
    }

    func markStarted(_ tag: String) {
        startedTags.insert(tag)
    }

    func hasStarted(_ tag: String) -> Bool {
        startedTags.contains(tag)
    }

    /// Whether the handler serving `tag` started within the bound.
    func waitUntilStarted(_ tag: String, within bound: Duration = Probe.bound) async -> Bool {
        await until(within: bound) { $0.startedTags.contains(tag) }
    }

    func markCancelled(_ tag: String) {
        cancelledTags.insert(tag)
        open(tag)
    }

    /// Whether the handler serving `tag` saw its task cancelled within the bound.
    func waitUntilCancelled(_ tag: String, within bound: Duration = Probe.bound) async -> Bool {
        await until(within: bound) { $0.cancelledTags.contains(tag) }
    }

    /// Checks `condition` every millisecond until it holds (true), the bound passes or the
    /// task is cancelled (false). The actor is free between checks.
    private func until(within bound: Duration, _ condition: (isolated Probe) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + bound
        while !condition(self) {
            guard ContinuousClock.now < deadline, !Task.isCancelled else { return condition(self) }
            try? await Task.sleep(for: .milliseconds(1))
        }
        return true
    }
}

/// The test service: Echo echoes, Slow waits at a gate (or for delay_ms), Fail fails.
struct EchoService: Forge_Testing_V1_EchoHandler {
    let probe: Probe

    func echo(_ request: Forge_Testing_V1_EchoRequest, context: ServerContext) async throws -> Forge_Testing_V1_EchoResponse {
        await probe.countEcho()
        var response = Forge_Testing_V1_EchoResponse()
        response.payload = request.payload
        response.text = request.text
        response.requestID = context.requestID
        response.subject = context.principal?.subject ?? ""
        response.language = TextLanguage.current.rawValue
        return response
    }

    func slow(_ request: Forge_Testing_V1_SlowRequest, context: ServerContext) async throws -> Forge_Testing_V1_SlowResponse {
        let probe = self.probe
        let tag = request.tag
        await withTaskCancellationHandler {
            if request.delayMs > 0 {
                await probe.markStarted(tag)
                try? await Task.sleep(for: .milliseconds(Int(request.delayMs)))
            } else {
                await probe.wait(at: tag)
            }
        } onCancel: {
            Task { await probe.markCancelled(tag) }
        }
        try Task.checkCancellation()
        var response = Forge_Testing_V1_SlowResponse()
        response.tag = tag
        return response
    }

    func fail(_ request: Forge_Testing_V1_FailRequest, context: ServerContext) async throws -> Forge_Testing_V1_FailResponse {
        throw RPCError(
            StatusCode(rawValue: Int(request.code)) ?? .unknown,
            "failed on request",
            violations: [FieldViolation(field: request.field, description: "is wrong")]
        )
    }
}
