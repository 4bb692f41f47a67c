import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import HTTPTypes
import SwiftProtobuf

/// The OpenAPI 3.1 document of the HTTP API, made from the route table itself.
enum OpenAPIDocument {
    /// Made once: the routes do not change while the process runs.
    static let json: Data = (try? JSONSerialization.data(withJSONObject: document(), options: [.sortedKeys, .prettyPrinted])) ?? Data()

    /// The schema of each query parameter by the request field it sets, with the bounds the
    /// handlers enforce taken from the same constants; a field not listed is a string.
    static var querySchemas: [String: [String: Any]] { [
        "page.page_size": ["type": "integer", "minimum": 0, "maximum": Page.maxSize, "description": "0: the default of 50"],
        // Opaque: only the server makes one. The format names that for a client or a fuzzer
        // (Scripts/api-fuzz.sh tells schemathesis to leave it empty).
        "page.page_token": ["type": "string", "format": "forge-page-token", "pattern": "^[A-Za-z0-9_-]*$",
                            "description": "the next_page_token of the previous page, as it came; any other text is refused"],
        "limit": ["type": "integer", "minimum": 0, "maximum": Page.maxSize],
        "deadline_ms": ["type": "integer", "minimum": 0, "maximum": Int(Customer360.maxDeadlineMilliseconds), "description": "0: 300 ms"],
        "include_revoked": ["type": "boolean"],
    ] }

    /// The generated schemas parsed once, for the checks made per request; never changed.
    nonisolated(unsafe) static let parsedSchemas: [String: [String: Any]] = messageSchemas.compactMapValues { $0 as? [String: Any] }

    /// Every message's JSON Schema, generated from the .proto files by protoc-gen-forge.
    static var messageSchemas: [String: Any] {
        ForgeMessageSchemas.json.compactMapValues { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
    }

    /// The generated schema of the field at a dotted path of a message (`page.page_size`).
    /// (The schemas are typed as parsed: handed over as `[String: Any]`, the whole dictionary
    /// was converted on every call — a sixth of the gateway's time on an HTTP request.)
    static func schema(ofField path: String, in message: String, schemas messageSchemas: [String: [String: Any]] = parsedSchemas) -> [String: Any]? {
        var current = message
        let parts = path.split(separator: ".").map(String.init)
        for (index, part) in parts.enumerated() {
            guard let schema = messageSchemas[current],
                  let field = (schema["properties"] as? [String: Any])?[part] as? [String: Any]
            else { return nil }
            if index == parts.count - 1 { return field }
            guard let reference = Self.notNull(field)["$ref"] as? String else { return nil }
            current = String(reference.dropFirst("#/components/schemas/".count))
        }
        return nil
    }

    /// A field's schema as a path or query parameter: text, never null, an enum by name (the
    /// JSON mapping also reads null and enum numbers in a body).
    static func parameterForm(_ schema: [String: Any]) -> [String: Any] {
        var schema = notNull(schema)
        if let types = schema["type"] as? [String] {
            schema["type"] = types.contains("string") ? "string" : types.first { $0 != "null" }
        }
        if let values = schema["enum"] as? [Any] { schema["enum"] = values.filter { $0 is String } }
        if let items = schema["items"] as? [String: Any] { schema["items"] = parameterForm(items) }
        return schema
    }

    /// A field's schema without the null the JSON mapping reads as "not set".
    static func notNull(_ schema: [String: Any]) -> [String: Any] {
        if let choices = schema["anyOf"] as? [[String: Any]], choices.count == 2, choices[1]["type"] as? String == "null" {
            return choices[0]
        }
        return schema
    }

    /// A message's schema inline, with the fields the path sets (`contact.account_id`) no longer
    /// required in the body: the body may leave them out, the path fills them in.
    static func schema(of message: String, without paths: [[String]], schemas: [String: [String: Any]]) -> [String: Any] {
        guard var schema = schemas[message] else { return ["type": "object"] }
        let top = Set(paths.filter { $0.count == 1 }.map { $0[0] })
        if let required = schema["required"] as? [String] {
            let kept = required.filter { !top.contains($0) }
            schema["required"] = kept.isEmpty ? nil : kept
        }
        var properties = schema["properties"] as? [String: Any] ?? [:]
        // What the body says for a field the path sets is not used: any value of its type, or null.
        for name in top {
            guard let type = (properties[name] as? [String: Any])?["type"] else { continue }
            let types = (type as? [String]) ?? [type as? String].compactMap { $0 }
            properties[name] = ["type": Array(Set(types + ["null"])).sorted()]
        }
        for (head, nested) in Dictionary(grouping: paths.filter { $0.count > 1 }, by: { $0[0] }) {
            guard var property = properties[head].map({ notNull($0 as? [String: Any] ?? [:]) }),
                  let reference = property.removeValue(forKey: "$ref") as? String
            else { continue }
            var inner = Self.schema(of: String(reference.dropFirst("#/components/schemas/".count)), without: nested.map { Array($0.dropFirst()) }, schemas: schemas)
            // What the field's annotations add beside the reference (`@requires version`).
            let innerTop = Set(nested.filter { $0.count == 2 }.map { $0[1] })
            let required = ((inner["required"] as? [String]) ?? []) + ((property.removeValue(forKey: "required") as? [String]) ?? []).filter { !innerTop.contains($0) }
            inner["required"] = required.isEmpty ? nil : Array(Set(required)).sorted()
            if let extra = property.removeValue(forKey: "properties") as? [String: Any] {
                var innerProperties = inner["properties"] as? [String: Any] ?? [:]
                for (key, value) in extra { innerProperties[key] = ["allOf": [innerProperties[key] ?? [:], value]] }
                inner["properties"] = innerProperties
            }
            properties[head] = inner.merging(property) { $1 }
        }
        schema["properties"] = properties
        return schema
    }

    /// Whether `{}` is valid under `schema` (the keywords the generated schemas use for an
    /// object's own rules: required, one of, any of, all of, if/then/else, not).
    static func admitsEmptyObject(_ schema: [String: Any]) -> Bool {
        if !((schema["required"] as? [String]) ?? []).isEmpty { return false }
        if let count = schema["minProperties"] as? Int, count > 0 { return false }
        let branches = { (key: String) in (schema[key] as? [[String: Any]] ?? []).map(admitsEmptyObject) }
        if schema["allOf"] != nil, branches("allOf").contains(false) { return false }
        if schema["anyOf"] != nil, !branches("anyOf").contains(true) { return false }
        if schema["oneOf"] != nil, branches("oneOf").filter({ $0 }).count != 1 { return false }
        if let not = schema["not"] as? [String: Any], admitsEmptyObject(not) { return false }
        if let condition = schema["if"] as? [String: Any] {
            let branch = admitsEmptyObject(condition) ? schema["then"] : schema["else"]
            if let branch = branch as? [String: Any], !admitsEmptyObject(branch) { return false }
        }
        return true
    }

    /// A reference to a message's schema in the document's components.
    static func reference(_ type: (any SwiftProtobuf.Message.Type)?) -> [String: Any] {
        guard let type else { return ["type": "object"] }
        return ["$ref": "#/components/schemas/\(type.protoMessageName)"]
    }

    static func document() -> [String: Any] {
        let schemas = parsedSchemas
        var paths: [String: [String: Any]] = [:]
        for route in HTTPRoutes.all {
            let registered = route.registered
            var parameters: [[String: Any]] = route.pathFields.keys.sorted().map { name in
                let field = route.pathFields[name]!
                let typed = registered.flatMap { Self.schema(ofField: field, in: $0.requestType.protoMessageName, schemas: schemas) }.map(Self.parameterForm)
                return ["name": name, "in": "path", "required": true, "schema": typed ?? ["type": "string"]]
            }
            parameters += route.query.keys.sorted().map { name in
                // "states[]": a repeated field, its query parameter given once per element.
                let field = route.query[name]!.replacingOccurrences(of: "[]", with: "")
                let typed = registered.flatMap { Self.schema(ofField: field, in: $0.requestType.protoMessageName, schemas: schemas) }.map(Self.parameterForm) ?? ["type": "string"]
                let message = registered.flatMap { schemas[$0.requestType.protoMessageName] }
                if ((message?["required"] as? [String]) ?? []).contains(field) {
                    return ["name": name, "in": "query", "required": true, "schema": Self.querySchemas[field] ?? typed,
                            "description": "sets \(field) of \(registered?.requestType.protoMessageName ?? "the request")"]
                }
                // An empty value sets nothing (the HTTP side skips it), so it is valid too.
                return ["name": name, "in": "query", "required": false, "schema": ["anyOf": [Self.querySchemas[field] ?? typed, ["const": ""]]],
                        "description": "sets \(field) of \(registered?.requestType.protoMessageName ?? "the request"); empty: not set"]
            }
            var operation: [String: Any] = [
                "operationId": route.rpc.method,
                "summary": route.summary,
                "description": "The RPC \(route.rpc.path).",
                "tags": [route.tag],
                "responses": [
                    "200": ["description": "OK", "content": ["application/json": ["schema": Self.reference(registered?.responseType)]]],
                    "default": ["description": "An error (gRPC status mapped to HTTP as in Google's API design guide)",
                                "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]],
                ],
            ]
            if !parameters.isEmpty { operation["parameters"] = parameters }
            if route.hasBody {
                // A body is required when its message has a field that must be set; otherwise
                // an empty POST is the empty request (`/evaluate`, `/convert` with no options).
                let name = registered?.requestType.protoMessageName ?? ""
                let pathFields = route.pathFields.values.map { $0.split(separator: ".").map(String.init) }
                let body = pathFields.isEmpty ? Self.reference(registered?.requestType)
                    : Self.schema(of: name, without: pathFields, schemas: schemas)
                let message = (body["$ref"] == nil ? body : schemas[name]) ?? [:]
                let required = !Self.admitsEmptyObject(message)
                operation["requestBody"] = ["required": required, "description": "the request in the protobuf JSON mapping; path parameters win over the same fields here",
                                            "content": ["application/json": ["schema": body]]]
            }
            if route.open { operation["security"] = [[String: Any]]() }
            let path = route.path
            paths[path, default: [:]][route.method.rawValue.lowercased()] = operation
        }
        return [
            "openapi": "3.1.0",
            "info": ["title": "Forge HTTP/JSON API", "version": ForgeVersion.current,
                     "description": "Each operation is one RPC of the wire protocol; bodies and replies use the protobuf JSON mapping."],
            "servers": [["url": "/"]],
            "security": [["bearer": [String]()]],
            "paths": paths,
            "components": [
                "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer", "description": "A token from /api/v1/auth/sign-in, or an API key (fk_…)"]],
                "schemas": schemas.merging(["Error": [
                    "type": "object",
                    "properties": ["error": [
                        "type": "object",
                        "properties": [
                            "code": ["type": "integer"], "status": ["type": "string"], "message": ["type": "string"],
                            "details": ["type": "array", "items": ["type": "object"]],
                        ],
                        "required": ["code", "status", "message"],
                    ]],
                    "required": ["error"],
                ]]) { $1 },
            ],
        ]
    }
}
