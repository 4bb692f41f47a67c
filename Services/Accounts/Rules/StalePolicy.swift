import ForgeContracts
import ForgeKit
import Foundation

/// The stale-account rules (issue 4): no activity for 7 days → warning; 14 → hand-over to the
/// owner's manager; 60 → the revisit pool. Each level fires once per quiet spell.
struct StalePolicy: Sendable {
    var warningDays = 7
    var handoverDays = 14
    var revisitDays = 60

    /// `FORGE_STALE_DAYS` as "warning,hand-over,revisit" days (default "7,14,60"): increasing
    /// whole numbers; anything else stops start-up naming the setting.
    static func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> StalePolicy {
        guard let value = environment["FORGE_STALE_DAYS"], !value.isEmpty else { return StalePolicy() }
        let days = value.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard days.count == 3, let warning = days[0], let handover = days[1], let revisit = days[2],
              0 < warning, warning < handover, handover < revisit
        else {
            throw ConfigurationError(setting: "FORGE_STALE_DAYS", problem: "'\(value)' is not three increasing day counts, e.g. 7,14,60")
        }
        return StalePolicy(warningDays: warning, handoverDays: handover, revisitDays: revisit)
    }

    /// The level an account has reached after `days` without activity.
    func level(daysSilent days: Int) -> Forge_Accounts_V1_Staleness {
        if days >= revisitDays { return .revisitPool }
        if days >= handoverDays { return .handover }
        if days >= warningDays { return .warning }
        return .none
    }

    /// When the next check is due after `lastTouch`, given the level already reached.
    func nextCheck(after lastTouch: Date, reached: Forge_Accounts_V1_Staleness) -> Date? {
        let days: Int? = switch reached {
        case .unspecified, .none: warningDays
        case .warning: handoverDays
        case .handover: revisitDays
        default: nil
        }
        return days.map { lastTouch.addingTimeInterval(Double($0) * 86400) }
    }
}
