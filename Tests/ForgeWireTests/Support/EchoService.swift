import ForgeContracts
import ForgeWire
import Foundation

/// Lets a test hold a handler at a gate and learn when a handler's task was cancelled, without
/// sleeping.
actor Probe {
    private var gates: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var openGates: Set<String> = []
    private var started: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var startedTags: Set<String> = []
    private var cancelled: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var cancelledTags: Set<String> = []
    private(set) var echoCount = 0

    func countEcho() { echoCount += 1 }

    /// Suspends until `open(tag)`; returns early when the task is cancelled.
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
        for continuation in started.removeValue(forKey: tag) ?? [] { continuation.resume() }
    }

    func waitUntilStarted(_ tag: String) async {
        if startedTags.contains(tag) { return }
        await withCheckedContinuation { started[tag, default: []].append($0) }
    }

    func markCancelled(_ tag: String) {
        cancelledTags.insert(tag)
        for continuation in cancelled.removeValue(forKey: tag) ?? [] { continuation.resume() }
        open(tag)
    }

    /// Returns once the handler serving `tag` saw its task cancelled.
    func waitUntilCancelled(_ tag: String) async {
        if cancelledTags.contains(tag) { return }
        await withCheckedContinuation { cancelled[tag, default: []].append($0) }
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
