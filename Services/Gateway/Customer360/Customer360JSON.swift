import ForgeContracts
import NIOCore

/// The 360° view's HTTP body, written directly: byte for byte what swift-protobuf's JSON
/// encoder writes with proto field names (a test holds them together), at a fraction of its
/// cost. The view is mostly its sections' JSON text carried as strings, and the generic
/// encoder escapes a string one Unicode scalar at a time with an append per UTF-8 byte; here
/// the runs that need no escape (nearly all of it) are copied whole. It was the largest part
/// of what the HTTP side spends on a view beyond the wire.
enum Customer360JSON {
    static func encode(_ view: Forge_Gateway_V1_GetCustomer360Response) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(view.sections.reduce(256) { $0 + $1.json.utf8.count + $1.detail.utf8.count + 96 })
        var separator = false
        buffer.writeStaticString("{")
        if !view.accountID.isEmpty { field("account_id", string: view.accountID, into: &buffer, separator: &separator) }
        if !view.sections.isEmpty {
            key("sections", into: &buffer, separator: &separator)
            buffer.writeStaticString("[")
            for (index, section) in view.sections.enumerated() {
                if index > 0 { buffer.writeStaticString(",") }
                write(section, into: &buffer)
            }
            buffer.writeStaticString("]")
        }
        buffer.writeStaticString("}")
        return buffer
    }

    private static func write(_ section: Forge_Gateway_V1_Section, into buffer: inout ByteBuffer) {
        var separator = false
        buffer.writeStaticString("{")
        if !section.name.isEmpty { field("name", string: section.name, into: &buffer, separator: &separator) }
        if section.status != .unspecified {
            key("status", into: &buffer, separator: &separator)
            switch section.status {
            case .unspecified: buffer.writeStaticString("\"SECTION_STATUS_UNSPECIFIED\"")
            case .ok: buffer.writeStaticString("\"SECTION_STATUS_OK\"")
            case .unavailable: buffer.writeStaticString("\"SECTION_STATUS_UNAVAILABLE\"")
            case .timedOut: buffer.writeStaticString("\"SECTION_STATUS_TIMED_OUT\"")
            case .forbidden: buffer.writeStaticString("\"SECTION_STATUS_FORBIDDEN\"")
            case .UNRECOGNIZED(let number): buffer.writeString(String(number))
            }
        }
        if !section.json.isEmpty { field("json", string: section.json, into: &buffer, separator: &separator) }
        if !section.detail.isEmpty { field("detail", string: section.detail, into: &buffer, separator: &separator) }
        if section.elapsedMs != 0 {
            key("elapsed_ms", into: &buffer, separator: &separator)
            buffer.writeString(String(section.elapsedMs))
        }
        buffer.writeStaticString("}")
    }

    private static func key(_ name: StaticString, into buffer: inout ByteBuffer, separator: inout Bool) {
        if separator { buffer.writeStaticString(",") }
        separator = true
        buffer.writeStaticString("\"")
        buffer.writeStaticString(name)
        buffer.writeStaticString("\":")
    }

    private static func field(_ name: StaticString, string: String, into buffer: inout ByteBuffer, separator: inout Bool) {
        key(name, into: &buffer, separator: &separator)
        writeQuoted(string, into: &buffer)
    }

    /// A JSON string as swift-protobuf escapes it: \b \t \n \f \r \" \\ by their short forms,
    /// the other C0 controls, DEL and the C1 controls (U+0080–U+009F) as \u00XX, everything else
    /// as its UTF-8 bytes.
    static func writeQuoted(_ text: String, into buffer: inout ByteBuffer) {
        var text = text
        buffer.writeStaticString("\"")
        text.withUTF8 { bytes in
            var runStart = 0
            var index = 0
            while index < bytes.count {
                let byte = bytes[index]
                let escapedLength: Int
                if byte >= 0x20 && byte != 0x22 && byte != 0x5C && byte != 0x7F && byte != 0xC2 {
                    index += 1
                    continue
                } else if byte == 0xC2 {
                    // U+0080–U+009F are 0xC2 0x80–0x9F in UTF-8; other 0xC2 pairs are text.
                    guard index + 1 < bytes.count, (0x80...0x9F).contains(bytes[index + 1]) else {
                        index += 1
                        continue
                    }
                    escapedLength = 2
                } else {
                    escapedLength = 1
                }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[runStart..<index]))
                let value = escapedLength == 2 ? bytes[index + 1] : byte
                switch value {
                case 0x08: buffer.writeStaticString("\\b")
                case 0x09: buffer.writeStaticString("\\t")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0C: buffer.writeStaticString("\\f")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x22: buffer.writeStaticString("\\\"")
                case 0x5C: buffer.writeStaticString("\\\\")
                default:
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hexDigits[Int(value >> 4)])
                    buffer.writeInteger(hexDigits[Int(value & 15)])
                }
                index += escapedLength
                runStart = index
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[runStart..<bytes.count]))
        }
        buffer.writeStaticString("\"")
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
}
