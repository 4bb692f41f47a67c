import Foundation

/// Folds a company name to the form duplicate detection compares (issue 4): full-width to
/// half-width (NFKC), case folded, spaces and punctuation removed, legal suffixes such as
/// 有限公司 or "Co., Ltd." dropped — so 上海精密机械有限公司, 上海精密机械 有限公司 and
/// ＳＨＡＮＧＨＡＩ… compare equal to their plain forms. Shared: accounts dedupes customers with it,
/// the CLI keeps demo names apart with it, and pipeline dedupes leads against leads and accounts.
public enum NameNormalizer {
    /// Longest first, so 股份有限公司 is removed whole rather than leaving 股份.
    public static let legalSuffixes: [String] = [
        "集团股份有限公司", "集团有限责任公司", "集团有限公司", "股份有限公司", "有限责任公司", "有限公司",
        "集团公司", "集团", "公司", "corporation", "company", "limited", "coltd", "corp", "gmbh", "inc", "llc",
        "ltd", "co", "ag", "sa",
    ]

    public static func normalize(_ name: String) -> String {
        var result = fold(name)
        var stripped = true
        while stripped {
            stripped = false
            for suffix in legalSuffixes where result.hasSuffix(suffix) && result.count > suffix.count {
                result.removeLast(suffix.count)
                stripped = true
                break
            }
        }
        return result
    }

    /// Width, case, spaces and punctuation folded, legal suffixes kept: the form name-prefix
    /// search compares, so "上海精密机械有" still finds 上海精密机械有限公司.
    public static func fold(_ name: String) -> String {
        // Most names are ASCII and common CJK ideographs, which NFKC leaves as they are: fold
        // those without Foundation's normalisation (NSString on Linux, the dearest step of a
        // lead's capture, which folds its name, region and product line).
        if let plain = foldPlain(name) { return plain }
        let folded = name.precomposedStringWithCompatibilityMapping.lowercased()
        var kept = String.UnicodeScalarView()
        for scalar in folded.unicodeScalars where CharacterSet.alphanumerics.contains(scalar) {
            kept.append(scalar)
        }
        return String(kept)
    }

    /// `fold` for text of ASCII and CJK Unified Ideographs (U+4E00–U+9FEF) only, nil for
    /// anything else: letters lower-cased, digits and ideographs kept, the rest dropped.
    static func foldPlain(_ name: String) -> String? {
        var kept = String.UnicodeScalarView()
        for scalar in name.unicodeScalars {
            switch scalar.value {
            case 0x30...0x39, 0x61...0x7A, 0x4E00...0x9FEF: kept.append(scalar)
            case 0x41...0x5A: kept.append(Unicode.Scalar(scalar.value + 0x20)!)
            case 0...0x7F: continue
            default: return nil
            }
        }
        return String(kept)
    }
}
