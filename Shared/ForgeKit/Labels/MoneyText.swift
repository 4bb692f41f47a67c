/// Money as people read it in messages, tasks and explanations: "CNY 1,234.50". Integer
/// arithmetic on micros, whole cents, so a figure in an error matches the ledger's exactly.
public enum MoneyText {
    public static let microsPerCent: Int64 = 10_000

    public static func display(_ micros: Int64, _ currency: String) -> String {
        let cents = micros / microsPerCent
        let sign = cents < 0 ? "-" : ""
        let whole = abs(cents) / 100
        var digits = String(whole)
        var grouped = ""
        while digits.count > 3 {
            grouped = "," + digits.suffix(3) + grouped
            digits = String(digits.dropLast(3))
        }
        let fraction = abs(cents) % 100
        return "\(sign)\(currency) \(digits)\(grouped).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
