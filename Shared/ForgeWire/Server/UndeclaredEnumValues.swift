import Foundation
import SwiftProtobuf

/// Protobuf reads an enum number its enum does not declare as an unrecognised value, which a
/// handler would then store (`company_size: 14688`) and every reader after it would have to
/// make sense of. Every request is checked once, after decoding, before any handler sees it:
/// such a number is INVALID_ARGUMENT naming the field — over the wire as the HTTP side already
/// refuses it (the gateway's `EnumNumbers`, from the OpenAPI document).
public enum UndeclaredEnumValues {
    /// A violation for each enum field of `message`, at any depth, holding an undeclared number.
    /// Valid requests, the common case, are walked once without naming anything; only a
    /// request holding such a number is walked again to name its fields.
    public static func violations<M: SwiftProtobuf.Message>(in message: M) -> [FieldViolation] {
        var detector = Finder(message: M.self, path: "", naming: false)
        try? message.traverse(visitor: &detector)
        guard detector.found else { return [] }
        var finder = Finder(message: M.self, path: "", naming: true)
        try? message.traverse(visitor: &finder)
        return finder.violations
    }

    /// Generated enums list their declared cases; an undeclared number is `UNRECOGNIZED(n)`.
    static func isDeclared<E: SwiftProtobuf.Enum>(_ value: E) -> Bool {
        guard let cases = E.self as? any CaseIterable.Type else { return true }
        return contains(cases, value)
    }

    private static func contains<C: CaseIterable, E: Equatable>(_ cases: C.Type, _ value: E) -> Bool {
        C.allCases.contains { ($0 as? E) == value }
    }

    /// A field's name in the .proto, by its number (its number when the type does not say).
    static func protoName(of number: Int, in message: any SwiftProtobuf.Message.Type) -> String {
        guard let named = message as? any (SwiftProtobuf.Message & _ProtoNameProviding).Type else { return "\(number)" }
        return name(number, named) ?? "\(number)"
    }

    private static func name<N: SwiftProtobuf.Message & _ProtoNameProviding>(_ number: Int, _ type: N.Type) -> String? {
        (try? Google_Protobuf_FieldMask(fieldNumbers: [number], of: N.self))?.paths.first
    }

    /// Walks a message along its set fields; only enums and messages matter.
    struct Finder: SwiftProtobuf.Visitor {
        let message: any SwiftProtobuf.Message.Type
        let path: String
        /// Whether to name the fields (the second walk) or only to find one (the first).
        let naming: Bool
        var found = false
        var violations: [FieldViolation] = []

        /// The path of field `number` (with `suffix`, an index or a key); "" when not naming.
        private func field(_ number: Int, _ suffix: @autoclosure () -> String = "") -> String {
            guard naming else { return "" }
            let name = UndeclaredEnumValues.protoName(of: number, in: message)
            return (path.isEmpty ? name : "\(path).\(name)") + suffix()
        }

        /// An undeclared number at `path` (worked out only for one).
        private mutating func record<E: SwiftProtobuf.Enum>(_ value: E, at path: String) {
            found = true
            if naming { violations.append(FieldViolation(field: path, description: "\(value.rawValue) is not a value of \(E.self)")) }
        }

        private mutating func descend<M: SwiftProtobuf.Message>(_ message: M, at path: String) {
            // Times hold no enum, and a batch of readings carries one per point.
            guard M.self != Google_Protobuf_Timestamp.self, M.self != Google_Protobuf_Duration.self else { return }
            var inner = Finder(message: type(of: message), path: path, naming: naming)
            try? message.traverse(visitor: &inner)
            found = found || inner.found
            violations += inner.violations
        }

        mutating func visitSingularEnumField<E: SwiftProtobuf.Enum>(value: E, fieldNumber: Int) throws {
            if !UndeclaredEnumValues.isDeclared(value) { record(value, at: field(fieldNumber)) }
        }

        mutating func visitRepeatedEnumField<E: SwiftProtobuf.Enum>(value: [E], fieldNumber: Int) throws {
            for (index, element) in value.enumerated() where !UndeclaredEnumValues.isDeclared(element) {
                record(element, at: field(fieldNumber, "[\(index)]"))
            }
        }

        mutating func visitPackedEnumField<E: SwiftProtobuf.Enum>(value: [E], fieldNumber: Int) throws {
            try visitRepeatedEnumField(value: value, fieldNumber: fieldNumber)
        }

        mutating func visitSingularMessageField<M: SwiftProtobuf.Message>(value: M, fieldNumber: Int) throws {
            descend(value, at: field(fieldNumber))
        }

        mutating func visitRepeatedMessageField<M: SwiftProtobuf.Message>(value: [M], fieldNumber: Int) throws {
            for (index, element) in value.enumerated() { descend(element, at: field(fieldNumber, "[\(index)]")) }
        }

        mutating func visitSingularGroupField<G: SwiftProtobuf.Message>(value: G, fieldNumber: Int) throws {
            descend(value, at: field(fieldNumber))
        }

        mutating func visitMapField<KeyType, ValueType: MapValueType>(
            fieldType: _ProtobufMap<KeyType, ValueType>.Type, value: _ProtobufMap<KeyType, ValueType>.BaseType, fieldNumber: Int
        ) throws {}

        mutating func visitMapField<KeyType, ValueType>(
            fieldType: _ProtobufEnumMap<KeyType, ValueType>.Type, value: _ProtobufEnumMap<KeyType, ValueType>.BaseType, fieldNumber: Int
        ) throws where ValueType.RawValue == Int {
            for (key, element) in value where !UndeclaredEnumValues.isDeclared(element) { record(element, at: field(fieldNumber, "[\(key)]")) }
        }

        mutating func visitMapField<KeyType, ValueType>(
            fieldType: _ProtobufMessageMap<KeyType, ValueType>.Type, value: _ProtobufMessageMap<KeyType, ValueType>.BaseType, fieldNumber: Int
        ) throws {
            for (key, element) in value { descend(element, at: field(fieldNumber, "[\(key)]")) }
        }

        // Scalars cannot hold an enum.
        mutating func visitSingularDoubleField(value: Double, fieldNumber: Int) throws {}
        mutating func visitSingularInt64Field(value: Int64, fieldNumber: Int) throws {}
        mutating func visitSingularUInt64Field(value: UInt64, fieldNumber: Int) throws {}
        mutating func visitSingularBoolField(value: Bool, fieldNumber: Int) throws {}
        mutating func visitSingularStringField(value: String, fieldNumber: Int) throws {}
        mutating func visitSingularBytesField(value: Data, fieldNumber: Int) throws {}
        mutating func visitUnknown(bytes: Data) throws {}
    }
}
