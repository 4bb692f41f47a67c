/// The language of the person a request serves, for the text a service writes for people
/// (page labels, KPI names, explanations): Chinese by default, English when asked. It travels
/// with the request like its trace: the gateway sets it from the browser, every call made
/// while it is set carries it as `accept-language` metadata, and the server that receives
/// such a call runs its handler with it set — so a 360° page in English gets English from
/// every service behind it. Codes, stored data and logs are not translated.
public enum TextLanguage: String, Sendable {
    case zh
    case en

    /// The language of the request being served.
    @TaskLocal public static var current: TextLanguage = .zh

    /// "en", "en-GB", "zh", "zh-CN", "zh-Hans-CN" …; nil for a language Forge does not write.
    public static func parse(_ tag: some StringProtocol) -> TextLanguage? {
        switch tag.lowercased().split(separator: "-").first {
        case "zh": .zh
        case "en": .en
        default: nil
        }
    }

    /// Runs `body` in the language a call's metadata asks for (Chinese when it names none).
    static func serving<T>(_ metadata: [String: String], _ body: () async throws -> T) async rethrows -> T {
        guard let tag = metadata[MetadataKey.acceptLanguage], let language = parse(tag), language != current else {
            return try await body()
        }
        return try await $current.withValue(language) { try await body() }
    }
}
