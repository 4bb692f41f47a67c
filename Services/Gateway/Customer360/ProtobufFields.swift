import Foundation

/// Top-level fields of a serialized protobuf message cut out as they are, without decoding
/// it: the 360° view passes the accounts overview's three parts on as three sections.
enum ProtobufFields {
    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// The bytes of each of `fields` (length-delimited fields: embedded messages) in `message`.
    /// A field that occurs more than once is its occurrences joined, which a decoder reads as
    /// it would read the message: later occurrences merged into the first.
    static func cut(_ message: Data, fields: [Int]) throws -> [Int: Data] {
        var ranges: [Int: [Range<Int>]] = [:]
        try message.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var offset = 0
            func varint() throws -> UInt64 {
                var value: UInt64 = 0
                var shift: UInt64 = 0
                while true {
                    guard offset < bytes.count, shift < 64 else { throw Malformed(description: "a varint runs past the message at byte \(offset)") }
                    let byte = bytes[offset]
                    offset += 1
                    value |= UInt64(byte & 0x7F) << shift
                    if byte & 0x80 == 0 { return value }
                    shift += 7
                }
            }
            while offset < bytes.count {
                let key = try varint()
                let field = Int(key >> 3)
                guard field > 0 else { throw Malformed(description: "field number 0 at byte \(offset)") }
                var skip: UInt64
                switch key & 7 {
                case 0: _ = try varint(); skip = 0
                case 1: skip = 8
                case 5: skip = 4
                case 2: skip = try varint()
                default: throw Malformed(description: "wire type \(key & 7) at byte \(offset)")
                }
                guard skip <= UInt64(bytes.count - offset) else { throw Malformed(description: "field \(field) runs past the message") }
                let end = offset + Int(skip)
                if key & 7 == 2, fields.contains(field) { ranges[field, default: []].append(offset..<end) }
                offset = end
            }
        }
        let start = message.startIndex
        return ranges.mapValues { parts in
            parts.count == 1
                ? message.subdata(in: (start + parts[0].lowerBound)..<(start + parts[0].upperBound))
                : parts.reduce(into: Data()) { $0 += message[(start + $1.lowerBound)..<(start + $1.upperBound)] }
        }
    }
}
