import ForgeContracts

extension Forge_Accounts_V1_Tier {
    /// Accounts' tier as reports and filters name it ("core", "potential", "regular",
    /// "marginal"; "" when not set): feedback's survey dimensions and analytics' both.
    public var reportName: String {
        switch self {
        case .unspecified, .UNRECOGNIZED: ""
        default: String(describing: self).lowercased()
        }
    }
}
