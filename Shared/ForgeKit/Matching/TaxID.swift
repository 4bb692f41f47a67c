/// Tax ids as every path stores and compares them (create, update, import, dedupe), so an
/// API-created `91310115ma1fl4xq0x` and an imported `91310115 MA1FL4XQ0X` are one customer.
/// Shared: accounts validates with it, and data generators (benchmarks) make valid codes with it.
public enum TaxID {
    /// Trimmed, spaces (half- and full-width) removed, full-width letters and digits made
    /// half-width, upper-cased.
    public static func normalize(_ raw: String) -> String {
        var kept = String.UnicodeScalarView()
        for scalar in raw.unicodeScalars where !scalar.properties.isWhitespace {
            // Full-width ASCII (U+FF01…U+FF5E) as a Chinese input method types it.
            if (0xFF01...0xFF5E).contains(scalar.value), let ascii = Unicode.Scalar(scalar.value - 0xFEE0) {
                kept.append(ascii)
            } else {
                kept.append(scalar)
            }
        }
        return String(kept).uppercased()
    }

    /// What is wrong with a normalised tax id, or nil: an 18-character value is a unified
    /// social credit code and must carry its GB 32100-2015 check character; anything else is
    /// another country's tax id of 5–20 letters, digits and dashes.
    public static func problem(_ taxID: String, checkingCheckCharacter: Bool = true) -> String? {
        let scalars = Array(taxID.unicodeScalars)
        if scalars.count == 18, !taxID.contains("-") {
            let values = scalars.map { codeCharacters.firstIndex(of: Character($0)) }
            if let bad = zip(scalars, values).first(where: { $0.1 == nil }) {
                return "a unified social credit code has digits and the capitals of \(String(codeCharacters)) only, not '\(bad.0)'"
            }
            guard checkingCheckCharacter else { return nil }
            let expected = checkCharacter(of: values.prefix(17).map { $0! })
            if Character(scalars[17]) != expected {
                return "the check character of this unified social credit code is wrong: it should be '\(expected)', not '\(scalars[17])' (GB 32100-2015)"
            }
            return nil
        }
        let allowed = scalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard allowed, (5...20).contains(scalars.count) else {
            return "must be an 18-character unified social credit code or a 5–20 character tax id of letters, digits and dashes"
        }
        return nil
    }

    /// The 31 characters of a unified social credit code (I, O, S, V and Z are never used).
    public static let codeCharacters = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")

    /// The weights of the first 17 positions: 3^i mod 31.
    public static let weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

    /// The 18th character: 31 − (Σ value × weight mod 31), where 31 stands for 0.
    public static func checkCharacter(of values: [Int]) -> Character {
        let sum = zip(values, weights).reduce(0) { $0 + $1.0 * $1.1 }
        return codeCharacters[(31 - sum % 31) % 31]
    }
}
