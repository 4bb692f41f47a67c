import ForgeWire
import HTTPTypes
import Hummingbird

/// Answers 405 with `Allow` when an API path is asked with a method it does not have — any
/// method, TRACE and QUERY included — instead of the router's 404.
struct MethodNotAllowed: RouterMiddleware {
    typealias Context = GatewayRequestContext

    /// Each API path as segments (nil: a parameter), how many are parameters, and its methods.
    private let paths: [(segments: [Substring?], parameters: Int, methods: [HTTPRequest.Method])]

    init(routes: [HTTPRoute]) {
        paths = Dictionary(grouping: routes, by: \.path).map { path, routes in
            let segments = path.split(separator: "/").map { $0.hasPrefix("{") ? nil : $0 }
            return (segments, segments.filter { $0 == nil }.count, routes.map(\.method))
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let segments = request.uri.path.split(separator: "/")
        // The most literal path that matches, as the router would choose it.
        let match = paths
            .filter { $0.segments.count == segments.count && zip($0.segments, segments).allSatisfy { $0.0 == nil || $0.0 == $0.1 } }
            .min { $0.parameters < $1.parameters }
        guard let match, !match.methods.contains(request.method) else {
            return try await next(request, context)
        }
        let allow = match.methods.map(\.rawValue).sorted().joined(separator: ", ")
        var response = HTTPGateway.error(.methodNotAllowed, code: StatusCode.unimplemented.name, "\(request.uri.path) answers \(allow) only")
        response.headers[.allow] = allow
        return response
    }
}
