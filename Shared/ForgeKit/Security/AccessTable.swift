import ForgeContracts
import ForgeWire

/// The roles each method allows (DESIGN §9), declared once per service; methods absent from
/// the table are denied to everyone.
public struct AccessTable: Sendable {
    private var rules: [String: MethodAccess] = [:]

    public init() {
        // Every process: health is open; the event feed is for services and admins; the job
        // scheduler's administration for admins.
        allow(Forge_Common_V1_HealthService.Method.check, .open)
        allow(Forge_Common_V1_EventFeedService.Method.pull, .roles([Role.service, Role.admin]))
        allow(Forge_Common_V1_JobsService.Method.listJobs, .roles([Role.admin]))
        allow(Forge_Common_V1_JobsService.Method.retryJob, .roles([Role.admin]))
    }

    public mutating func allow(_ method: MethodDescriptor, _ access: MethodAccess) {
        rules[method.path] = access
    }

    /// Admins may call every method the table lists with roles.
    public func access(for method: MethodDescriptor) -> MethodAccess? {
        guard let rule = rules[method.path] else { return nil }
        if case .roles(let roles) = rule {
            return .roles(roles.union([Role.admin]))
        }
        return rule
    }
}
