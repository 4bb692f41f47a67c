/// A bad configuration value: start-up stops with one line naming the setting.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The flag or environment variable, e.g. `FORGE_LOG_LEVEL`.
    public let setting: String
    public let problem: String

    public init(setting: String, problem: String) {
        self.setting = setting
        self.problem = problem
    }

    public var description: String { "configuration error: \(setting): \(problem)" }
}
