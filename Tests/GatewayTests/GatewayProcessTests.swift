import ForgeContracts
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import SwiftProtobuf
import Testing

/// The gateway and accounts as real processes, called over HTTP and the wire.
@Suite("Gateway through the real processes", .serialized, .timeLimit(.minutes(2)))
struct GatewayProcessTests {
    static let adminPassword = "forge-admin-pass-2026"

    static func start(portBase: Int, extra: [String: String] = [:]) async throws -> LocalStack {
        var stack = try LocalStack(portBase: portBase)
        stack.extraEnvironment = ["FORGE_ADMIN_PASSWORD": adminPassword].merging(extra) { $1 }
        try stack.start("accounts")
        try stack.start("gateway")
        #expect(await stack.waitUntilServing("accounts"))
        #expect(await stack.waitUntilServing("gateway"))
        return stack
    }

    static func signIn(_ stack: LocalStack, _ username: String, _ password: String) async throws -> String {
        let reply = try await HTTPTestClient.request(port: stack.httpPort, "POST", "/api/v1/auth/sign-in",
                                                     headers: ["Content-Type": "application/json"], body: #"{"username":"\#(username)","password":"\#(password)"}"#)
        #expect(reply.status == 200, "\(reply.body)")
        return try #require(reply.json["token"] as? String)
    }

    static func call(_ stack: LocalStack, _ method: String, _ path: String, token: String?, body: String? = nil) async throws -> HTTPTestClient.Reply {
        var headers = ["Content-Type": "application/json"]
        if let token { headers["Authorization"] = "Bearer \(token)" }
        return try await HTTPTestClient.request(port: stack.httpPort, method, path, headers: headers, body: body)
    }

    @Test("sign-in, users, accounts and the 360° view over HTTP (and over the wire with protobuf sections): sections with their status, rep B gets 404, bad tokens 401, wrong role 403, revoked key 401 at once")
    func endToEnd() async throws {
        let stack = try await Self.start(portBase: 20100)
        defer { stack.killAll() }
        let admin = try await Self.signIn(stack, "admin", Self.adminPassword)
        for (name, team) in [("rep-a", "east"), ("rep-b", "west")] {
            let created = try await Self.call(stack, "POST", "/api/v1/users", token: admin, body: """
                {"user":{"username":"\(name)","display_name":"\(name)","roles":["sales_rep"],"team":"\(team)"},"password":"correct horse battery"}
                """)
            #expect(created.status == 200, "\(created.body)")
        }
        let repA = try await Self.signIn(stack, "rep-a", "correct horse battery")
        let repB = try await Self.signIn(stack, "rep-b", "correct horse battery")

        // SQL and HTML in input are stored as typed.
        let name = "<script>alert(1)</script>精密'; DROP TABLE account; --"
        let created = try await Self.call(stack, "POST", "/api/v1/accounts", token: repA,
                                          body: #"{"account":{"name":"\#(name)","region":"华东","industry":"模具"}}"#)
        #expect(created.status == 200, "\(created.body)")
        let id = try #require((created.json["account"] as? [String: Any])?["id"] as? String)
        #expect((created.json["account"] as? [String: Any])?["name"] as? String == name)
        let contact = try await Self.call(stack, "POST", "/api/v1/accounts/\(id)/contacts", token: repA, body: #"{"contact":{"name":"王工","title":"采购经理"}}"#)
        #expect(contact.status == 200, "\(contact.body)")
        let activity = try await Self.call(stack, "POST", "/api/v1/accounts/\(id)/activities", token: repA,
                                           body: #"{"activity":{"kind":"ACTIVITY_KIND_VISIT","subject":"拜访","body":"客户询问耐高温材料"}}"#)
        #expect(activity.status == 200, "\(activity.body)")

        let view = try await Self.call(stack, "GET", "/api/v1/accounts/\(id)/360", token: repA)
        #expect(view.status == 200, "\(view.body)")
        let sections = Dictionary(uniqueKeysWithValues: (view.json["sections"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0) })
        for ok in ["account", "contacts", "activities"] {
            #expect(sections[ok]?["status"] as? String == "SECTION_STATUS_OK", "\(ok): \(sections[ok] ?? [:])")
        }
        #expect((sections["contacts"]?["json"] as? String)?.contains("王工") == true)
        for missing in ["pipeline", "orders", "service", "feedback", "loyalty", "analytics"] {
            #expect(sections[missing]?["status"] as? String == "SECTION_STATUS_UNAVAILABLE", "\(missing) is not running")
        }
        // Over the wire a caller may take the sections as the services' protobuf: the same
        // content as the JSON, decoded with the type each names, and no JSON written.
        let wire = try WireClient(host: "127.0.0.1", port: stack.wirePort("gateway"), interceptors: [BearerTokenInterceptor(token: repA)])
        defer { Task { await wire.close() } }
        let gateway = Forge_Gateway_V1_GatewayClient(channel: wire)
        let asJSON = try await gateway.getCustomer360(.with { $0.accountID = id })
        let asProtobuf = try await gateway.getCustomer360(.with { $0.accountID = id; $0.sectionEncoding = .protobuf })
        #expect(asProtobuf.sections.map(\.name) == asJSON.sections.map(\.name) && asProtobuf.sections.map(\.status) == asJSON.sections.map(\.status))
        let contacts = try #require(asProtobuf.sections.first { $0.name == "contacts" })
        #expect(contacts.json.isEmpty && contacts.type == Forge_Accounts_V1_ListContactsResponse.protoMessageName)
        let decoded = try Forge_Accounts_V1_ListContactsResponse(serializedBytes: contacts.protobuf)
        #expect(decoded == (try Forge_Accounts_V1_ListContactsResponse(jsonString: try #require(asJSON.sections.first { $0.name == "contacts" }).json)))
        #expect(decoded.contacts.map(\.name) == ["王工"])
        #expect(asProtobuf.sections.filter { $0.status != .ok }.allSatisfy { $0.protobuf.isEmpty && $0.type.isEmpty })

        // Object level: rep B does not learn the account exists.
        #expect(try await Self.call(stack, "GET", "/api/v1/accounts/\(id)/360", token: repB).status == 404)
        #expect(try await Self.call(stack, "GET", "/api/v1/accounts/\(id)", token: repB).status == 404)

        // Tokens: none, forged, expired → 401; a role without access → 403.
        #expect(try await Self.call(stack, "GET", "/api/v1/accounts/\(id)/360", token: nil).status == 401)
        let stranger = await TokenIssuer(privateKey: try SigningKeys.generate().privateKey)
        let forged = try await stranger.issue(subject: "rep-a", roles: ["admin"], ttl: 600)
        #expect(try await Self.call(stack, "GET", "/api/v1/accounts/\(id)", token: forged).status == 401)
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        let expired = try await issuer.issue(subject: "rep-a", roles: ["sales_rep"], team: "east", ttl: 60, now: Date() - 3600)
        #expect(try await Self.call(stack, "GET", "/api/v1/accounts/\(id)", token: expired).status == 401)
        let connector = try await issuer.issue(subject: "erp", roles: ["erp_connector"], ttl: 600)
        #expect(try await Self.call(stack, "GET", "/api/v1/accounts/\(id)/360", token: connector).status == 403)
        #expect(try await Self.call(stack, "GET", "/api/v1/users", token: repA).status == 403)

        // API keys: work over HTTP for domain calls; a revoked key is refused at once.
        let key = try await Self.call(stack, "POST", "/api/v1/keys", token: admin, body: #"{"name":"BI 报表","roles":["analyst"]}"#)
        #expect(key.status == 200, "\(key.body)")
        let secret = try #require(key.json["secret"] as? String)
        let keyID = try #require((key.json["key"] as? [String: Any])?["id"] as? String)
        let listed = try await Self.call(stack, "GET", "/api/v1/accounts?region=%E5%8D%8E%E4%B8%9C", token: secret)
        #expect(listed.status == 200, "\(listed.body)")
        #expect(listed.body.contains(id))
        #expect(try await Self.call(stack, "DELETE", "/api/v1/keys/\(keyID)", token: admin).status == 200)
        let revoked = try await Self.call(stack, "GET", "/api/v1/accounts", token: secret)
        #expect(revoked.status == 401)
        #expect(revoked.body.contains("revoked"))

        // Bad input names the field; too large a body is 413.
        let bad = try await Self.call(stack, "POST", "/api/v1/accounts", token: repA, body: #"{"account":{"name":"","tax_id":"x"}}"#)
        #expect(bad.status == 400)
        let details = (bad.json["error"] as? [String: Any])?["details"] as? [[String: Any]]
        let fields = (details?.first?["fieldViolations"] as? [[String: Any]])?.compactMap { $0["field"] as? String }
        #expect(fields == ["account.name", "account.tax_id"])
        let huge = try await Self.call(stack, "POST", "/api/v1/accounts", token: repA, body: #"{"account":{"name":""# + String(repeating: "厂", count: 400_000) + #""}}"#)
        #expect(huge.status == 413)
        #expect((huge.json["error"] as? [String: Any])?["status"] as? String == "RESOURCE_EXHAUSTED", "a gRPC code name, as every other error")

        // A method the path lacks is 405 with the methods it has.
        let wrongMethod = try await HTTPTestClient.request(port: stack.httpPort, "DELETE", "/api/v1/accounts", headers: ["Authorization": "Bearer \(repA)"])
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers["allow"] == "GET, POST", "\(wrongMethod.headers)")

        // Webhooks reach only public http(s) addresses unless the deployment allows more.
        for url in ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/hook", "ftp://example.com/hook", "http://localhost/hook"] {
            let refused = try await Self.call(stack, "POST", "/api/v1/webhooks", token: admin, body: #"{"webhook":{"url":"\#(url)","event_types":["AccountCreated"]}}"#)
            #expect(refused.status == 400, "\(url): \(refused.body)")
            #expect(refused.body.contains("webhook.url"), "\(url)")
        }

        // The web page shows the name escaped.
        let page = try await HTTPTestClient.request(port: stack.httpPort, "GET", "/accounts/\(id)", headers: ["Cookie": "forge_session=\(repA)"])
        #expect(page.status == 200)
        #expect(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;精密&#39;; DROP TABLE account; --"))
        #expect(!page.body.contains("<script>alert(1)"))
        #expect(try await HTTPTestClient.request(port: stack.httpPort, "GET", "/accounts/\(id)", headers: ["Cookie": "forge_session=\(repB)"]).status == 404)
        #expect(try await HTTPTestClient.request(port: stack.httpPort, "GET", "/accounts").status == 302)
        // The page takes the view's deadline as the API does, and refuses a bad one the same way.
        let patient = try await HTTPTestClient.request(port: stack.httpPort, "GET", "/accounts/\(id)?deadline_ms=5000", headers: ["Cookie": "forge_session=\(repA)"])
        #expect(patient.status == 200 && patient.body.contains("精密"))
        for bad in ["6000", "soon"] {
            let refused = try await HTTPTestClient.request(port: stack.httpPort, "GET", "/accounts/\(id)?deadline_ms=\(bad)", headers: ["Cookie": "forge_session=\(repA)"])
            #expect(refused.status == 400 && refused.body.contains("deadline_ms"), "deadline_ms=\(bad)")
        }
    }

    @Test("the OpenAPI document is valid OpenAPI 3.1 (openapi-spec-validator)")
    func openAPIValidates() async throws {
        let stack = try await Self.start(portBase: 21100)
        defer { stack.killAll() }
        let document = try await HTTPTestClient.request(port: stack.httpPort, "GET", "/api/v1/openapi.json")
        #expect(document.status == 200)
        let file = NSTemporaryDirectory() + "forge-openapi-\(UUID().uuidString).json"
        try document.body.write(toFile: file, atomically: true, encoding: .utf8)
        let (status, output) = try await runPython(["-c", "import sys, json; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1]))); print('valid')", file])
        #expect(status == 0, "\(output)")
        #expect(output.contains("valid"))
    }

    @Test("a service that does not answer costs only its section: TIMED_OUT, and the view still answers within its deadline; the rate limit answers 429 with Retry-After")
    func slowServiceAndRateLimit() async throws {
        let stack = try await Self.start(portBase: 22100, extra: ["FORGE_GATEWAY_RATE_LIMIT": "1"])
        defer { stack.killAll() }
        // A pipeline that accepts the call and never answers in time.
        var router = RPCRouter()
        SlowPipeline.register(in: &router)
        let pipeline = WireServer(configuration: ServerConfiguration(host: "127.0.0.1", port: stack.wirePort("pipeline")), router: router)
        _ = try await pipeline.start()
        defer { Task { await pipeline.shutdown() } }

        let admin = try await Self.signIn(stack, "admin", Self.adminPassword)
        let created = try await Self.call(stack, "POST", "/api/v1/accounts", token: admin, body: #"{"account":{"name":"慢服务测试客户"}}"#)
        let id = try #require((created.json["account"] as? [String: Any])?["id"] as? String)
        let started = ContinuousClock.now
        let view = try await Self.call(stack, "GET", "/api/v1/accounts/\(id)/360?deadline_ms=300", token: admin)
        let elapsed = ContinuousClock.now - started
        #expect(view.status == 200)
        let sections = Dictionary(uniqueKeysWithValues: (view.json["sections"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0) })
        #expect(sections["pipeline"]?["status"] as? String == "SECTION_STATUS_TIMED_OUT")
        #expect(sections["account"]?["status"] as? String == "SECTION_STATUS_OK")
        #expect(elapsed < .seconds(2), "answered after the 300 ms deadline, not after the slow service")

        // Rate 1/s with a burst of 2: the third call in a row waits.
        var statuses: [Int] = []
        var retryAfter: String?
        for _ in 0..<3 {
            let reply = try await Self.call(stack, "GET", "/api/v1/accounts/\(id)", token: admin)
            statuses.append(reply.status)
            retryAfter = reply.headers["retry-after"] ?? retryAfter
        }
        #expect(statuses.contains(429))
        #expect(retryAfter == "1")
    }
}

/// A pipeline whose account summary takes far longer than any 360° deadline (the only method
/// it serves).
enum SlowPipeline {
    static func register(in router: inout RPCRouter) {
        router.register(Forge_Pipeline_V1_PipelineService.Method.getAccountPipeline, request: Forge_Pipeline_V1_GetAccountPipelineRequest.self) { _, _ in
            try await Task.sleep(for: .seconds(10))
            return Forge_Pipeline_V1_GetAccountPipelineResponse()
        }
    }
}
