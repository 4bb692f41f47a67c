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
        "page.page_token": ["type": "string", "description": "the next_page_token of the previous page"],
        "limit": ["type": "integer", "minimum": 0, "maximum": Page.maxSize],
        "deadline_ms": ["type": "integer", "minimum": 0, "maximum": Int(Customer360.maxDeadlineMilliseconds), "description": "0: 300 ms"],
        "include_revoked": ["type": "boolean"],
        "updated_since": ["type": "string", "format": "date-time"],
    ] }

    /// Every message's JSON Schema, generated from the .proto files by protoc-gen-forge.
    static var messageSchemas: [String: Any] {
        ForgeMessageSchemas.json.compactMapValues { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
    }

    /// The generated schema of the field at a dotted path of a message (`page.page_size`).
    static func schema(ofField path: String, in message: String, schemas messageSchemas: [String: Any]) -> [String: Any]? {
        var current = message
        let parts = path.split(separator: ".").map(String.init)
        for (index, part) in parts.enumerated() {
            guard let schema = messageSchemas[current] as? [String: Any],
                  let field = (schema["properties"] as? [String: Any])?[part] as? [String: Any]
            else { return nil }
            if index == parts.count - 1 { return field }
            guard let reference = field["$ref"] as? String else { return nil }
            current = String(reference.dropFirst("#/components/schemas/".count))
        }
        return nil
    }

    /// A reference to a message's schema in the document's components.
    static func reference(_ type: (any SwiftProtobuf.Message.Type)?) -> [String: Any] {
        guard let type else { return ["type": "object"] }
        return ["$ref": "#/components/schemas/\(type.protoMessageName)"]
    }

    static func document() -> [String: Any] {
        let schemas = messageSchemas
        var paths: [String: [String: Any]] = [:]
        for route in HTTPRoutes.all {
            let registered = route.registered
            var parameters: [[String: Any]] = route.pathFields.keys.sorted().map {
                ["name": $0, "in": "path", "required": true, "schema": ["type": "string"]]
            }
            parameters += route.query.keys.sorted().map { name in
                // "states[]": a repeated field, its query parameter given once per element.
                let field = route.query[name]!.replacingOccurrences(of: "[]", with: "")
                let typed = registered.flatMap { Self.schema(ofField: field, in: $0.requestType.protoMessageName, schemas: schemas) } ?? ["type": "string"]
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
                operation["requestBody"] = ["required": true, "description": "the request in the protobuf JSON mapping; path parameters win over the same fields here",
                                            "content": ["application/json": ["schema": Self.reference(registered?.requestType)]]]
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
