import ForgeKit
import HTTPTypes
import Hummingbird

/// A page address that does not exist (a mistyped link, an old bookmark) answers a page in the
/// reader's language with the way back, not the router's empty 404. The API keeps its JSON
/// errors. The header shows who is signed in, as on every page; nothing is looked up.
struct PageNotFound: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound && !request.uri.path.hasPrefix("/api/") {
            let title = L("页面不存在", "Page not found")
            return WebPages.html(HTML.page(title: title, user: WebPages.sessionToken(request).flatMap(WebPages.subject), body: """
                <h1>\(title)</h1>
                <p class="muted" id="not-found">\(L("没有这个地址的页面：", "There is no page at this address: "))<code>\(HTML.escape(request.uri.path))</code></p>
                <p><a href="/accounts">\(L("返回客户列表", "Back to the accounts"))</a></p>
                """), status: .notFound)
        }
    }
}
