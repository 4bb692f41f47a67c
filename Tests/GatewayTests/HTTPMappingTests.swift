import ForgeContracts
import ForgeKit
@testable import ForgeGateway
import ForgeWire
import Foundation
import HTTPTypes
import NIOCore
import SwiftProtobuf
import Testing

@Suite("Gateway HTTP mapping: requests, status codes, OpenAPI, escaping")
struct HTTPMappingTests {
    private func route(_ path: String, _ method: String) throws -> HTTPRoute {
        try #require(HTTPRoutes.all.first { $0.path == path && $0.method.rawValue == method })
    }

    @Test("a page's language: Accept-Language's best of zh and en by quality, first listed on a tie; a language Forge does not write is skipped", arguments: [
        ("fr;q=1, en-GB;q=0.9, zh-CN;q=0.5", TextLanguage.en),
        ("zh-CN,zh;q=0.9,en;q=0.8", .zh),
        ("en-US,en;q=0.9", .en),
        ("zh-Hans-CN", .zh),
        ("en;q=0.5, zh;q=0.5", .en),
        ("en;q=0, zh;q=0.1", .zh),
        ("de-DE, fr", nil),
        ("", nil),
    ] as [(String, TextLanguage?)])
    func acceptLanguage(header: String, expected: TextLanguage?) {
        #expect(TextLanguage.fromAcceptLanguage(header) == expected)
    }

    @Test("path and query parameters lay over the JSON body; page parameters fill the page")
    func requestMapping() throws {
        let list = try HTTPGateway.requestMessage(try route("/api/v1/accounts", "GET"), body: Data(),
                                                   parameters: [("region", "华东"), ("page.page_size", "20"), ("grade", "VALUE_GRADE_A")])
        let request = try #require(list as? Forge_Accounts_V1_ListAccountsRequest)
        #expect(request.region == "华东" && request.page.pageSize == 20 && request.grade == .a)

        let update = try HTTPGateway.requestMessage(try route("/api/v1/accounts/{id}", "PUT"),
                                                     body: Data(#"{"account":{"name":"新名称","version":3,"id":"acc_other"}}"#.utf8),
                                                     parameters: [("account.id", "acc_1")])
        let edit = try #require(update as? Forge_Accounts_V1_UpdateAccountRequest)
        #expect(edit.account.id == "acc_1", "the path wins over the body")
        #expect(edit.account.name == "新名称" && edit.account.version == 3)
    }

    @Test("a bad body is INVALID_ARGUMENT naming each bad field in plain words, never the decoder's debug text", arguments: [
        ("not json", "body", "is not valid JSON"),
        (#"{"account": {"name": "x""#, "body", "is not valid JSON"),
        ("[1,2]", "body", "must be a JSON object ({…}), not an array"),
        (#"{"no_such_field": 1}"#, "no_such_field", #"unknown field "no_such_field""#),
        (#"{"account": {"name": "ok", "nmae": "x"}}"#, "account.nmae", #"unknown field "nmae""#),
        (#"{"account": {"name": "ok", "size": "COMPANY_SIZE_ENORMOUS"}}"#, "account.size", "is not one of the allowed values"),
        (#"{"account": {"credit_limit": {"amount_micros": "lots"}}}"#, "account.credit_limit.amount_micros", "is not a number"),
        (#"{"account": {"industry_showcase": "yes"}}"#, "account.industry_showcase", "must be true or false"),
    ])
    func badBodies(body: String, field: String, description: String) throws {
        let create = try route("/api/v1/accounts", "POST")
        let error = #expect(throws: RPCError.self) { _ = try HTTPGateway.requestMessage(create, body: Data(body.utf8), parameters: []) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.violations.map(\.field) == [field])
        #expect(error?.violations.first?.description.hasPrefix(description) == true, "\(error?.violations.first?.description ?? "")")
        #expect(error?.violations.first?.description.contains("Error") == false, "no Swift type names")
    }

    @Test("a query parameter out of its field's range is named, with every other bad field")
    func badParameters() throws {
        let list = try route("/api/v1/accounts/{id}/contacts", "GET")
        let error = #expect(throws: RPCError.self) {
            _ = try HTTPGateway.requestMessage(list, body: Data(), parameters: [("page.page_size", "36028797018963967"), ("account_id", "acc_1"), ("page.page_token", "x")])
        }
        #expect(error?.violations.map(\.field) == ["page.page_size"])
        #expect(error?.violations.first?.description == "is out of range (a whole number that fits the field)")
    }

    @Test("a webhook target is a public http(s) address unless private ones are allowed", arguments: [
        ("https://hooks.example.com/forge", false, true), ("http://203.0.113.9:8080/x", false, true),
        ("http://10.1.2.3/x", false, false), ("http://172.20.0.5/x", false, false), ("http://192.168.1.10/x", false, false),
        ("http://127.0.0.1/x", false, false), ("http://169.254.169.254/x", false, false), ("http://100.64.0.1/x", false, false),
        ("http://[::1]/x", false, false), ("http://[fe80::1]/x", false, false), ("http://[fd00::1]/x", false, false),
        ("http://[::ffff:192.168.0.1]/x", false, false), ("http://localhost:8080/x", false, false), ("http://api.localhost/x", false, false),
        ("ftp://example.com/x", false, false), ("javascript:alert(1)", false, false), ("http:///x", false, false),
        ("http://127.0.0.1:24150/hook", true, true), ("ftp://10.0.0.1/x", true, false),
    ])
    func webhookTargets(url: String, allowPrivate: Bool, accepted: Bool) {
        #expect((WebhookTarget.problem(url, allowPrivate: allowPrivate) == nil) == accepted)
    }

    @Test("wire status codes map to HTTP as Google's API guide maps gRPC codes", arguments: [
        (StatusCode.invalidArgument, 400), (.failedPrecondition, 409), (.unauthenticated, 401), (.permissionDenied, 403), (.notFound, 404),
        (.alreadyExists, 409), (.aborted, 409), (.resourceExhausted, 429), (.unimplemented, 501), (.unavailable, 503), (.deadlineExceeded, 504), (.internal, 500),
    ])
    func statusMapping(code: StatusCode, http: Int) {
        #expect(HTTPStatusMapping.status(for: code).code == http)
    }

    @Test("every route is in the OpenAPI document with its path parameters, and operation ids are unique")
    func openAPI() throws {
        let document = OpenAPIDocument.document()
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        for route in HTTPRoutes.all {
            let operation = try #require(paths[route.path]?[route.method.rawValue.lowercased()] as? [String: Any], "\(route.method) \(route.path)")
            let parameters = operation["parameters"] as? [[String: Any]] ?? []
            #expect(Set(parameters.filter { $0["in"] as? String == "path" }.compactMap { $0["name"] as? String }) == Set(route.pathFields.keys))
        }
        // The bounds the handlers enforce are in the document.
        func schema(_ path: String, _ name: String) -> [String: Any]? {
            let parameters = (paths[path]?["get"] as? [String: Any])?["parameters"] as? [[String: Any]]
            let schema = parameters?.first { $0["name"] as? String == name }?["schema"] as? [String: Any]
            return (schema?["anyOf"] as? [[String: Any]])?.first  // the other choice is the empty value
        }
        #expect(schema("/api/v1/accounts", "page_size")?["maximum"] as? Int == 500)
        #expect(schema("/api/v1/accounts", "page_size")?["type"] as? String == "integer")
        #expect(schema("/api/v1/accounts/{id}/360", "deadline_ms")?["maximum"] as? Int == 5000)
        #expect(schema("/api/v1/accounts", "updated_since")?["format"] as? String == "date-time")
        #expect(schema("/api/v1/accounts", "updated_since")?["pattern"] as? String != nil, "the times swift-protobuf reads")
        // Bodies and replies refer to the messages' generated schemas.
        let create = try #require(paths["/api/v1/accounts"]?["post"] as? [String: Any])
        let body = ((create["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"] as? [String: Any]
        #expect((body?["schema"] as? [String: Any])?["$ref"] as? String == "#/components/schemas/forge.accounts.v1.CreateAccountRequest")
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let account = try #require(schemas["forge.accounts.v1.Account"] as? [String: Any])
        let properties = try #require(account["properties"] as? [String: Any])
        #expect((properties["name"] as? [String: Any])?["type"] as? String == "string")
        // By name as replies write them, by number as the JSON mapping also reads them, or null.
        let grades = (properties["grade"] as? [String: Any])?["enum"] as? [Any]
        #expect(grades?.compactMap { $0 as? String } == ["VALUE_GRADE_UNSPECIFIED", "VALUE_GRADE_A", "VALUE_GRADE_B", "VALUE_GRADE_C"])
        #expect(grades?.compactMap { $0 as? Int } == [0, 1, 2, 3])
        #expect((properties["created_at"] as? [String: Any])?["format"] as? String == "date-time")
        #expect(account["additionalProperties"] as? Bool == false, "unknown fields are refused")
        #expect(schemas["Error"] != nil)
        let ids = HTTPRoutes.all.map(\.rpc.method)
        #expect(Set(ids).count == ids.count)
        #expect(document["openapi"] as? String == "3.1.0")
    }

    @Test("the document states what the handlers check: required fields, lengths, ranges, enum values, rules across fields")
    func documentStatesTheRules() throws {
        let document = OpenAPIDocument.document()
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        func property(_ message: String, _ field: String) -> [String: Any]? { (schemas[message]?["properties"] as? [String: Any])?[field] as? [String: Any] }
        func matches(_ pattern: Any?, _ text: String) throws -> Bool {
            let regex = try NSRegularExpression(pattern: try #require(pattern as? String))
            return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
        }
        // `@required` and `@schema` in accounts.proto: AccountRules refuses a blank name and one over 200.
        #expect(schemas["forge.accounts.v1.Account"]?["required"] as? [String] == ["name"])
        #expect(property("forge.accounts.v1.Account", "name")?["maxLength"] as? Int == 200)
        #expect(try matches(property("forge.accounts.v1.Account", "name")?["pattern"], "上海精密"))
        #expect(try !matches(property("forge.accounts.v1.Account", "name")?["pattern"], " \t\n\u{3000}"), "blank as the services trim it")
        #expect(property("forge.accounts.v1.Contact", "relationship_strength")?["maximum"] as? Int == 5)
        // A version on update, not on create (`@requires version`).
        let update = try #require(property("forge.accounts.v1.UpdateAccountRequest", "account"))
        #expect(update["required"] as? [String] == ["version"])
        #expect(schemas["forge.accounts.v1.CreateAccountRequest"]?["required"] as? [String] == ["account"])
        // One source for the roles: the document's are the ones the gateway knows.
        let roles = try #require((property("forge.gateway.v1.User", "roles")?["items"] as? [String: Any])?["enum"] as? [String])
        #expect(Set(roles) == Role.all)
        // A lead names a company or a person (`@requires_any`); a campaign a segment or accounts (`@requires_one`).
        #expect((schemas["forge.pipeline.v1.Lead"]?["anyOf"] as? [[String: Any]])?.compactMap { ($0["required"] as? [String])?.first } == ["company_name", "contact_name"])
        #expect((schemas["forge.feedback.v1.Campaign"]?["oneOf"] as? [[String: Any]])?.count == 2)
        // 64-bit integers: every value that fits, nothing beyond, no leading zero (swift-protobuf refuses "007").
        let int64 = property("forge.accounts.v1.Account", "version")?["pattern"]
        #expect(try matches(int64, "9223372036854775807") && matches(int64, "-9223372036854775808") && matches(int64, "0"))
        #expect(try !matches(int64, "9223372036854775808") && !matches(int64, "007") && !matches(int64, "1e3"))
        // Times as swift-protobuf reads them: no leap second, offsets below 14 hours.
        let time = property("forge.accounts.v1.Account", "created_at")?["pattern"]
        #expect(try matches(time, "2026-12-04T08:00:00.123+08:00"))
        #expect(try !matches(time, "2026-12-31T23:59:60Z") && !matches(time, "2026-12-04T08:00:00+14:00") && !matches(time, "2026-12-04t08:00:00Z"))

        let paths = try #require(document["paths"] as? [String: [String: Any]])
        func body(_ path: String, _ method: String) -> [String: Any]? { (paths[path]?[method] as? [String: Any])?["requestBody"] as? [String: Any] }
        // A field the path sets is not required in the body.
        let password = (body("/api/v1/users/{username}/password", "put")?["content"] as? [String: Any]).flatMap { ($0["application/json"] as? [String: Any])?["schema"] as? [String: Any] }
        #expect(password?["required"] as? [String] == ["new_password"])
        // A body is required when an empty request breaks a rule: a declined quote's decision says why.
        #expect(body("/api/v1/quotes/{id}/decision", "post")?["required"] as? Bool == true)
        #expect(body("/api/v1/loyalty/members/{account_id}/evaluate", "post")?["required"] as? Bool == false)
        // A query parameter of a repeated field is named with [] in the route table, else the
        // gateway would set a single value where the request holds a list (GET /orders?status=…).
        for route in HTTPRoutes.all {
            guard let registered = route.registered else { continue }
            for (name, field) in route.query {
                let typed = OpenAPIDocument.schema(ofField: field.replacingOccurrences(of: "[]", with: ""), in: registered.requestType.protoMessageName,
                                                   schemas: schemas)
                let isList = OpenAPIDocument.parameterForm(typed ?? [:])["type"] as? String == "array"
                #expect(isList == field.hasSuffix("[]"), "\(route.method) \(route.path) ?\(name)")
            }
        }
    }

    @Test("a body is checked before the path lays its fields over it, and an enum number no enum declares is refused")
    func bodyChecks() throws {
        let touch = try route("/api/v1/leads/{id}/touch", "POST")
        let wrongType = #expect(throws: RPCError.self) { _ = try HTTPGateway.requestMessage(touch, body: Data(#"{"id": {}}"#.utf8), parameters: [("id", "lead_1")]) }
        #expect(wrongType?.violations.map(\.field) == ["id"])
        let capture = try route("/api/v1/leads", "POST")
        let unknown = #expect(throws: RPCError.self) {
            _ = try HTTPGateway.requestMessage(capture, body: Data(#"{"lead": {"contact_name": "王工", "company_size": 14688}}"#.utf8), parameters: [])
        }
        #expect(unknown?.code == .invalidArgument && unknown?.violations.map(\.field) == ["lead.company_size"])
        let known = try HTTPGateway.requestMessage(capture, body: Data(#"{"lead": {"contact_name": "王工", "company_size": 2}}"#.utf8), parameters: [])
        #expect((known as? Forge_Pipeline_V1_CaptureLeadRequest)?.lead.companySize.rawValue == 2)
        let orders = try HTTPGateway.requestMessage(try route("/api/v1/orders", "GET"), body: Data(), parameters: [("statuses[]", "ORDER_STATUS_DRAFT")])
        #expect((orders as? Forge_Orders_V1_ListOrdersRequest)?.statuses == [.draft])
        // "false" is a boolean only for a boolean field: an id that reads "false" stays text.
        let reverse = try HTTPGateway.requestMessage(try route("/api/v1/loyalty/members/{account_id}/consumptions/reverse", "POST"),
                                                     body: Data(#"{"code": "training_seat", "reference": "WO-1", "reason": "撤销"}"#.utf8), parameters: [("account_id", "false")])
        #expect((reverse as? Forge_Loyalty_V1_ReverseConsumptionRequest)?.accountID == "false")
        let keys = try HTTPGateway.requestMessage(try route("/api/v1/keys", "GET"), body: Data(), parameters: [("include_revoked", "true")])
        #expect((keys as? Forge_Gateway_V1_ListApiKeysRequest)?.includeRevoked == true)
    }

    @Test("a failed section call shows as timed out, forbidden or unavailable", arguments: [
        (StatusCode.deadlineExceeded, Forge_Gateway_V1_SectionStatus.timedOut), (.permissionDenied, .forbidden), (.unauthenticated, .forbidden),
        (.unimplemented, .unavailable), (.unavailable, .unavailable), (.internal, .unavailable),
    ])
    func sectionStatus(code: StatusCode, status: Forge_Gateway_V1_SectionStatus) {
        #expect(Customer360.status(of: RPCError(code, "x"), service: "orders").0 == status)
    }

    @Test("the 360° view's HTTP body is byte for byte swift-protobuf's JSON: every escape, unset fields left out, an unknown status as its number")
    func customer360JSON() throws {
        let tricky = "{\"名称\":\"上海 \\\"精密\\\"\\n\",\"x\":\"\u{0}\u{1}\u{8}\u{9}\u{A}\u{C}\u{D}\u{1F}\u{7F}\u{80}\u{9F}\u{A0}\u{C2}\u{FF}é😀\u{2028}\"}"
        let views: [Forge_Gateway_V1_GetCustomer360Response] = [
            .init(),
            .with { $0.accountID = "acc_1" },
            .with {
                $0.accountID = "acc_\"2\\"
                $0.sections = [
                    .with { $0.name = "account"; $0.status = .ok; $0.json = tricky; $0.elapsedMs = 3 },
                    .with { $0.name = "orders"; $0.status = .timedOut; $0.detail = "orders did not answer\twithin the deadline"; $0.elapsedMs = 300 },
                    .with { $0.name = "pipeline"; $0.status = .unavailable; $0.detail = "\u{C2}\u{80}" },
                    .with { $0.name = "loyalty"; $0.status = .forbidden; $0.elapsedMs = -1 },
                    .with { $0.name = "x"; $0.status = .UNRECOGNIZED(9) },
                    .init(),
                ]
            },
        ]
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        for view in views {
            let expected: [UInt8] = try view.jsonUTF8Bytes(options: options)
            var written = Customer360JSON.encode(view)
            #expect(written.readBytes(length: written.readableBytes) == expected, "\(String(decoding: expected, as: UTF8.self))")
        }
    }

    @Test("HTML escapes everything a customer record may hold")
    func escaping() {
        #expect(HTML.escape("<script>alert('x')</script> & \"q\"") == "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;")
    }

    @Test("pages show the calendar day in China Standard Time: 16:00 UTC is already the next day")
    func pageDates() {
        let evening = Date(timeIntervalSince1970: 1_795_392_000 + 15 * 3600 + 3599)  // 2026-11-23T15:59:59Z
        #expect(WebPages.date(.init(date: evening)) == "2026-11-23")
        #expect(WebPages.date(.init(date: evening.addingTimeInterval(1))) == "2026-11-24")
        #expect(WebPages.date(.init(date: Date(timeIntervalSince1970: 0))) == "1970-01-01")
    }
}
