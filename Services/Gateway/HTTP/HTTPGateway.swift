import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwiftProtobuf
import Synchronization

/// Serves the HTTP/JSON API (and the web pages) on the gateway's HTTP port by calling the RPCs:
/// domain methods over the wire on their service, the gateway's own in-process through the
/// same interceptors, so every request passes the same authentication, role checks,
/// idempotency, logging and metrics as a wire call. Tokens: a person's JWT, or an API key (which the services do
/// not know: the gateway checks it and calls them with a two-minute JWT for the key).
struct HTTPGateway: Sendable {
    let channels: [String: any RPCChannel]
    let authenticator: GatewayAuthenticator
    let callerTokens: CallerTokens
    let limiter: RateLimiter
    let logger: Logger

    /// Timeout of one forwarded call.
    static let callTimeout: Duration = .seconds(30)

    func router() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        for route in HTTPRoutes.all {
            router.on(RouterPath(route.path), method: route.method) { request, context in
                await withTaskExecutorPreference(context.executor) { await handle(route, request: request, context: context) }
            }
        }
        // A path asked with a method it lacks: 405 naming the methods it has (not 404).
        router.add(middleware: MethodNotAllowed(routes: HTTPRoutes.all))
        router.add(middleware: PageLanguageMiddleware())
        router.add(middleware: PageNotFound())
        router.get("/api/v1/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json)))
        }
        WebPages(gateway: self).register(in: router)
        return router
    }

    func application(host: String, port: Int) -> some Service {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "forge-gateway"), logger: logger)
    }

    // MARK: One API request

    func handle(_ route: HTTPRoute, request: Request, context: GatewayRequestContext) async -> Response {
        do {
            var body = Data()
            if route.hasBody {
                do {
                    body = Data(try await request.body.collect(upTo: route.maxBody).readableBytesView)
                } catch {
                    return Self.error(.contentTooLarge, code: StatusCode.resourceExhausted.name, "the body is larger than \(route.maxBody) bytes")
                }
            }
            let token = Self.bearer(request)
            var upstreamToken = token
            if !route.open {
                guard let token else { return Self.error(.unauthorized, code: "UNAUTHENTICATED", "missing Authorization: Bearer <token>") }
                let principal = try await authenticator.authenticate(token: token)
                if let wait = limiter.take(principal.subject) {
                    var response = Self.error(.tooManyRequests, code: "RESOURCE_EXHAUSTED", "rate limit: retry after \(wait) s")
                    response.headers[.retryAfter] = "\(wait)"
                    return response
                }
                if token.hasPrefix("fk_"), route.service != "gateway" {
                    upstreamToken = try await callerTokens.mint(for: principal)
                }
            }
            // An empty query parameter (`?grade=`, as forms send an unset filter) sets nothing.
            let parameters = route.pathFields.compactMap { name, field in context.parameters.get(name).map { (field, $0) } }
                + route.query.flatMap { name, field in request.uri.queryParameters[values: name[...]].filter { !$0.isEmpty }.map { (field, String($0)) } }
            let message = try Self.requestMessage(route, body: body, parameters: parameters)
            guard let channel = channels[route.service],
                  let registered = route.registered
            else { return Self.error(.serviceUnavailable, code: "UNAVAILABLE", "\(route.service) is not configured") }
            var metadata: [String: String] = [:]
            if let upstreamToken { metadata[MetadataKey.authorization] = "Bearer \(upstreamToken)" }
            if let requestID = request.headers[HTTPField.Name("X-Request-Id")!] { metadata[MetadataKey.requestID] = requestID }
            if let key = request.headers[HTTPField.Name("Idempotency-Key")!] { metadata[MetadataKey.idempotencyKey] = key }
            let reply = try await channel.unary(route.rpc, payload: try message.serializedData(), options: CallOptions(timeout: Self.callTimeout, metadata: metadata))
            let response = try registered.responseType.init(serializedBytes: reply)
            let json: ByteBuffer
            if let view = response as? Forge_Gateway_V1_GetCustomer360Response {
                json = Customer360JSON.encode(view)
            } else {
                var options = JSONEncodingOptions()
                options.preserveProtoFieldNames = true
                json = ByteBuffer(bytes: try response.jsonUTF8Bytes(options: options) as [UInt8])
            }
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: json))
        } catch let error as RPCError {
            var response = Self.error(error)
            if error.code == .resourceExhausted { response.headers[.retryAfter] = Self.retryAfter(error.message) }
            return response
        } catch {
            return Self.error(.badRequest, code: "INVALID_ARGUMENT", "\(error)")
        }
    }

    /// The request message: the body's JSON object with the path and query parameters laid over it.
    static func requestMessage(_ route: HTTPRoute, body: Data, parameters: [(field: String, value: String)]) throws -> any SwiftProtobuf.Message {
        guard let registered = route.registered else {
            throw RPCError(.unimplemented, "\(route.rpc.path) is not known")
        }
        var object: [String: Any] = [:]
        if !body.isEmpty {
            let parsed: Any
            do {
                parsed = try JSONSerialization.jsonObject(with: body)
            } catch {
                // Foundation says where: "… around line 1, column 9."
                let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String ?? "\(error)"
                throw RPCError.invalidArgument([FieldViolation(field: "body", description: "is not valid JSON: \(detail)")])
            }
            guard let parsedObject = parsed as? [String: Any] else {
                throw RPCError.invalidArgument([FieldViolation(field: "body", description: "must be a JSON object ({…}), not \(JSONRequestErrors.kind(of: parsed))")])
            }
            object = parsedObject
            // The body must be a valid request on its own: a parameter laid over a field of
            // the wrong type (`{"id": {}}` on `/leads/{id}/touch`) must not hide it.
            if !parameters.isEmpty {
                do {
                    _ = try JSONRequestErrors.decode(registered.requestType, from: object)
                } catch {
                    throw RPCError.invalidArgument(JSONRequestErrors.violations(registered.requestType, object: object, error: error))
                }
            }
        }
        for (field, value) in parameters {
            // A repeated field ("group_by[]"): each occurrence and each comma-separated value
            // is one element (`?group_by=region&group_by=month` or `?group_by=region,month`).
            if field.hasSuffix("[]") {
                let path = field.dropLast(2).split(separator: ".").map(String.init)
                let existing = element(in: object, path: path) as? [Any] ?? []
                set(&object, path: path, value: existing + value.split(separator: ",").map { String($0) as Any })
                continue
            }
            // "true" and "false" are booleans only for a boolean field (`?include_revoked=true`);
            // an id that reads "false" stays text.
            let isBool = (OpenAPIDocument.schema(ofField: field, in: registered.requestType.protoMessageName)?["type"] as? [String])?.contains("boolean") == true
            let typed: Any = isBool && (value == "true" || value == "false") ? value == "true" : value
            set(&object, path: field.split(separator: ".").map(String.init), value: typed)
        }
        let unknownNumbers = EnumNumbers.violations(in: object, message: registered.requestType.protoMessageName)
        guard unknownNumbers.isEmpty else { throw RPCError.invalidArgument(unknownNumbers) }
        do {
            return try JSONRequestErrors.decode(registered.requestType, from: object)
        } catch {
            throw RPCError.invalidArgument(JSONRequestErrors.violations(registered.requestType, object: object, error: error))
        }
    }

    private static func element(in object: [String: Any], path: [String]) -> Any? {
        guard let first = path.first else { return nil }
        return path.count == 1 ? object[first] : (object[first] as? [String: Any]).flatMap { element(in: $0, path: Array(path.dropFirst())) }
    }

    private static func set(_ object: inout [String: Any], path: [String], value: Any) {
        guard let first = path.first else { return }
        if path.count == 1 {
            object[first] = value
        } else {
            var inner = object[first] as? [String: Any] ?? [:]
            set(&inner, path: Array(path.dropFirst()), value: value)
            object[first] = inner
        }
    }

    static func bearer(_ request: Request) -> String? {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            // The web pages carry the token in a cookie.
            return WebPages.sessionToken(request)
        }
        return String(header.dropFirst(7))
    }

    /// An error body as Google's JSON error format: {"error": {code, status, message, details}}.
    static func error(_ error: RPCError) -> Response {
        Self.error(HTTPStatusMapping.status(for: error.code), code: error.code.name, error.message, violations: error.violations)
    }

    static func error(_ status: HTTPResponse.Status, code: String, _ message: String, violations: [FieldViolation] = []) -> Response {
        var error: [String: Any] = ["code": status.code, "status": code, "message": message]
        if !violations.isEmpty {
            error["details"] = [["@type": "type.googleapis.com/google.rpc.BadRequest",
                                 "fieldViolations": violations.map { ["field": $0.field, "description": $0.description] }]]
        }
        let data = (try? JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The wait in a "try again in N s" message, else a minute.
    static func retryAfter(_ message: String) -> String {
        guard let range = message.range(of: #"in (\d+) s"#, options: .regularExpression) else { return "60" }
        return String(message[range].dropFirst(3).dropLast(2))
    }
}

/// Requests per second per caller (a person or an API key): a token bucket; beyond it 429
/// with Retry-After.
final class RateLimiter: Sendable {
    let rate: Double
    let burst: Double
    let clock: any WallClock
    private let buckets = Mutex<[String: (tokens: Double, at: Date)]>([:])

    init(rate: Double, burst: Double, clock: any WallClock) {
        self.rate = rate
        self.burst = burst
        self.clock = clock
    }

    /// nil when the request may go; otherwise the whole seconds to wait.
    func take(_ caller: String) -> Int? {
        let now = clock.now()
        return buckets.withLock { buckets in
            var bucket = buckets[caller] ?? (burst, now)
            bucket.tokens = min(burst, bucket.tokens + now.timeIntervalSince(bucket.at) * rate)
            bucket.at = now
            defer { buckets[caller] = bucket }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / rate).rounded(.up))) }
            bucket.tokens -= 1
            return nil
        }
    }
}


