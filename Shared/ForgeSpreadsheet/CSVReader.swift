import Foundation

/// Spreadsheet files as people export them: CSV (RFC 4180: quoted cells with commas, quotes
/// and line breaks inside; CRLF or LF) in UTF-8 with or without a BOM, or GB18030/GBK as
/// Excel writes it on a Chinese Windows. Used by `forge import` and the gateway's upload.
public enum CSVReader {
    public enum Encoding: String, Sendable, CaseIterable {
        case auto, utf8, gb18030
    }

    public struct Record: Sendable, Equatable {
        /// The line of the file the record starts on (1 = the header).
        public let line: Int
        public let values: [String]

        public init(line: Int, values: [String]) {
            self.line = line
            self.values = values
        }
    }

    public struct DecodingError: Error, CustomStringConvertible {
        public let description: String
    }

    /// GB18030 is a superset of GBK and GB2312, so one decoder reads all three.
    static let gb18030 = String.Encoding(rawValue: 0x8000_0632)

    /// The text of a file: a UTF-8 BOM or valid UTF-8 means UTF-8; anything else is read as
    /// GB18030 (`auto`), unless the caller names the encoding.
    public static func decode(_ data: Data, encoding: Encoding = .auto) throws -> (text: String, encoding: Encoding) {
        var bytes = data
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }
        if encoding != .gb18030, let text = String(validating: bytes, as: UTF8.self) {
            return (text, .utf8)
        }
        if encoding == .utf8 { throw DecodingError(description: "the file is not valid UTF-8") }
        guard let text = String(data: bytes, encoding: gb18030) else {
            throw DecodingError(description: "the file is neither UTF-8 nor GB18030/GBK")
        }
        return (text, .gb18030)
    }

    /// Every record, the header first; blank lines are skipped.
    public static func records(_ text: String) -> [Record] {
        var records: [Record] = []
        var values: [String] = []
        var cell = ""
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var scalars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil

        func endRecord() {
            values.append(cell)
            cell = ""
            if !(values.count == 1 && values[0].isEmpty) {
                records.append(Record(line: recordLine, values: values))
            }
            values = []
        }

        while let scalar = pending ?? scalars.next() {
            pending = nil
            if inQuotes {
                if scalar == "\"" {
                    let next = scalars.next()
                    if next == "\"" {
                        cell.unicodeScalars.append("\"")
                    } else {
                        inQuotes = false
                        pending = next
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    cell.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where cell.isEmpty:
                inQuotes = true
            case ",":
                values.append(cell)
                cell = ""
            case "\r":
                let next = scalars.next()
                if next != "\n" { pending = next }
                endRecord()
                line += 1
                recordLine = line
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default:
                cell.unicodeScalars.append(scalar)
            }
        }
        if !cell.isEmpty || !values.isEmpty { endRecord() }
        return records
    }
}
