import Foundation
import SwiftProtobuf
import ForgeWire

/// Turns a JSON body that does not decode as the RPC's request into one field violation per
/// bad field, in words a person reads ("unknown field \"no_such_field\"", "must be a whole
/// number in range"), instead of the decoder's debug text for the whole body.
enum JSONRequestErrors {
    /// The message `object` describes; throws the decoder's error when it describes none.
    static func decode(_ type: any SwiftProtobuf.Message.Type, from object: [String: Any]) throws -> any SwiftProtobuf.Message {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = false
        return try type.init(jsonUTF8Data: try JSONSerialization.data(withJSONObject: object), options: options)
    }

    /// One violation per field of `object` that does not decode, named by its dotted path
    /// (`account.credit_limit.amount_micros`). swift-protobuf names no field in its errors, so
    /// each field is decoded alone, and a failing object is searched field by field — work done
    /// only for a request that is already being refused.
    static func violations(_ type: any SwiftProtobuf.Message.Type, object: [String: Any], error: any Error) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        search(type, path: [], fields: object, into: &violations)
        if violations.isEmpty {
            // Each field decodes alone; only their combination fails (two fields of one oneof).
            violations.append(FieldViolation(field: "body", description: describe(error)))
        }
        return violations
    }

    private static func search(_ type: any SwiftProtobuf.Message.Type, path: [String], fields: [String: Any], into violations: inout [FieldViolation]) {
        for key in fields.keys.sorted() {
            let fieldPath = path + [key]
            let value = fields[key]!
            do {
                _ = try decode(type, from: nested(fieldPath, value))
            } catch {
                let before = violations.count
                // An unknown field's value is not searched: nothing inside it can be right.
                if let inner = value as? [String: Any], !inner.isEmpty, !isUnknown(error, named: key) {
                    search(type, path: fieldPath, fields: inner, into: &violations)
                }
                if violations.count == before {
                    violations.append(FieldViolation(field: fieldPath.joined(separator: "."), description: describe(error)))
                }
            }
        }
    }

    /// `{"a": {"b": value}}` for the path a.b.
    private static func nested(_ path: [String], _ value: Any) -> [String: Any] {
        var object: [String: Any] = [path[path.count - 1]: value]
        for key in path.dropLast().reversed() { object = [key: object] }
        return object
    }

    private static func isUnknown(_ error: any Error, named key: String) -> Bool {
        if case .unknownField(let name) = error as? JSONDecodingError { return name == key }
        return false
    }

    /// The decoder's error in words.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? JSONDecodingError else { return "is not valid" }
        switch error {
        case .unknownField(let name): return "unknown field \"\(name)\""
        case .numberRange: return "is out of range (a whole number that fits the field)"
        case .malformedNumber, .leadingZero: return "is not a number"
        case .malformedBool: return "must be true or false"
        case .malformedString, .invalidUTF8: return "must be a string"
        case .unrecognizedEnumValue: return "is not one of the allowed values"
        case .illegalNull: return "may not be null"
        case .malformedTimestamp: return "must be an RFC 3339 time such as 2026-12-02T08:00:00Z"
        case .malformedDuration: return "must be a duration such as 1.5s"
        case .malformedMap, .unquotedMapKey: return "must be an object of string keys"
        case .conflictingOneOf: return "sets more than one of a group of fields that exclude each other"
        case .messageDepthLimit: return "is nested too deeply"
        default: return "has the wrong type"
        }
    }

    /// What a JSON value is, for "must be a JSON object, not an array".
    static func kind(of value: Any) -> String {
        switch value {
        case is [Any]: "an array"
        case is String: "a string"
        case is NSNull: "null"
        default: "a single value"
        }
    }
}
