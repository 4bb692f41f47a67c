import ForgeWire
import Foundation
import HTTPTypes
import Hummingbird

/// The language the pages are written in: Chinese (zh-CN) by default, as the sales floor
/// speaks; English for a person who asks for it — `?lang=en` (the switch in every page's
/// header, remembered in a cookie for a year), else that cookie, else the first of zh/en in the
/// browser's Accept-Language. A page says each text once per language with `L(zh, en)`; the
/// data (names, regions, comments) shows as it was entered. The JSON API is not translated:
/// its values are codes.
extension TextLanguage {
    static let cookie = "forge_lang"

    /// The HTML `lang` attribute.
    var tag: String { self == .en ? "en" : "zh-CN" }

    /// The language a request asks for, and whether it chose it explicitly (`?lang=`), in
    /// which case the response remembers it.
    static func requested(by request: Request) -> (language: TextLanguage, chosen: Bool) {
        if let asked = request.uri.queryParameters["lang"], let language = parse(asked) {
            return (language, true)
        }
        if let remembered = request.cookies[cookie]?.value, let language = parse(remembered) {
            return (language, false)
        }
        return (request.headers[.acceptLanguage].flatMap(fromAcceptLanguage) ?? .zh, false)
    }

    /// The preferred of zh and en by quality ("fr;q=1, en;q=0.8, zh;q=0.5" → en); nil when
    /// the browser names neither.
    static func fromAcceptLanguage(_ header: String) -> TextLanguage? {
        let ranked = header.split(separator: ",").enumerated().compactMap { index, item -> (TextLanguage, Double, Int)? in
            let fields = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = fields.first, let language = parse(first) else { return nil }
            let quality = fields.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return quality > 0 ? (language, quality, index) : nil
        }
        return ranked.min { $0.1 != $1.1 ? $0.1 > $1.1 : $0.2 < $1.2 }?.0
    }
}

/// Renders every page in the language its request asks for (and the services it calls write
/// their text in it: `TextLanguage` travels with the calls), and remembers a `?lang=` choice.
struct PageLanguageMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path.hasPrefix("/api/") { return try await next(request, context) }
        let (language, chosen) = TextLanguage.requested(by: request)
        var response = try await TextLanguage.$current.withValue(language) { try await next(request, context) }
        response.headers.append(HTTPField(name: .vary, value: "Accept-Language, Cookie"))
        if chosen {
            response.headers.append(HTTPField(name: .setCookie, value: "\(TextLanguage.cookie)=\(language.rawValue); Path=/; Max-Age=31536000; SameSite=Lax"))
        }
        return response
    }
}
