import ForgeContracts
import ForgeWire
import Foundation

/// The protobuf JSON mapping reads an enum by its name or by its number, and keeps a number the
/// enum does not declare as an unrecognised value that a service would then store. The HTTP
/// side refuses those numbers, as the OpenAPI document's enums (names and declared numbers)
/// say: the request object is walked along the generated message schemas.
enum EnumNumbers {
    /// Violations for each enum field of `object` (a request of message `name`) holding a
    /// number its enum does not declare.
    static func violations(in object: [String: Any], message name: String) -> [FieldViolation] {
        var violations: [FieldViolation] = []
        check(object, message: name, path: "", into: &violations)
        return violations
    }

    private static var schemas: [String: [String: Any]] { OpenAPIDocument.parsedSchemas }

    private static func check(_ object: [String: Any], message name: String, path: String, into violations: inout [FieldViolation]) {
        guard let properties = schemas[name]?["properties"] as? [String: Any] else { return }
        for (key, value) in object {
            guard let schema = properties[key] as? [String: Any] else { continue }
            check(value, schema: OpenAPIDocument.notNull(schema), path: path.isEmpty ? key : "\(path).\(key)", into: &violations)
        }
    }

    private static func check(_ value: Any, schema: [String: Any], path: String, into violations: inout [FieldViolation]) {
        if let reference = schema["$ref"] as? String, let object = value as? [String: Any] {
            check(object, message: String(reference.dropFirst("#/components/schemas/".count)), path: path, into: &violations)
        } else if let items = schema["items"] as? [String: Any], let array = value as? [Any] {
            for (index, element) in array.enumerated() { check(element, schema: items, path: "\(path)[\(index)]", into: &violations) }
        } else if let entries = schema["additionalProperties"] as? [String: Any], let map = value as? [String: Any] {
            for (key, element) in map { check(element, schema: entries, path: "\(path)[\(key)]", into: &violations) }
        } else if let declared = schema["enum"] as? [Any], let number = value as? NSNumber, !(value is Bool),
                  !declared.contains(where: { ($0 as? NSNumber).map { $0 == number } ?? false }) {
            let names = declared.compactMap { $0 as? String }.joined(separator: ", ")
            violations.append(FieldViolation(field: path, description: "\(number) is not one of the values: \(names)"))
        }
    }
}
