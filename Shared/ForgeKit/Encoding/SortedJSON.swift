import Foundation

/// A flat string map as compact JSON with its keys sorted, so equal maps give equal text: an
/// audit row's changes, an account's tags, a JSON log line.
///
/// JSONEncoder rather than JSONSerialization: JSONSerialization's `.sortedKeys` orders keys
/// with NSString's locale-aware compare, which opens an ICU collator — 1.4 MB of ICU tables
/// and code stayed resident in every process that had audited a change. JSONEncoder sorts in
/// Swift.
public enum SortedJSON {
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
    private static let decoder = JSONDecoder()

    /// The UTF-8 bytes, for writers of bytes (a JSON log line).
    public static func data(_ fields: [String: String]) -> Data {
        // Encoding a [String: String] has no failure case.
        (try? encoder.encode(fields)) ?? Data("{}".utf8)
    }

    public static func encode(_ fields: [String: String]) -> String {
        String(decoding: data(fields), as: UTF8.self)
    }

    /// The map `encode` wrote; nil for text that is not a JSON object of strings.
    public static func decode(_ text: String) -> [String: String]? {
        try? decoder.decode([String: String].self, from: Data(text.utf8))
    }
}
