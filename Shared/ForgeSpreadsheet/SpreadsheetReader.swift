import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// One reader for every spreadsheet import (DESIGN §8): CSV in UTF-8 or GB18030 (`CSVReader`),
/// or an Excel workbook (.xlsx, as trade-show lists arrive), told apart by content — a ZIP
/// file is a workbook. A workbook's first sheet is read: shared and inline strings, numbers
/// (integers without ".0"), booleans; empty cells keep their column. `forge import` uses it for
/// accounts, contacts and leads alike.
public enum SpreadsheetReader {
    public struct Sheet: Sendable {
        public let records: [CSVReader.Record]
        /// "utf8", "gb18030" or "xlsx".
        public let format: String
    }

    public static func read(_ data: Data, encoding: CSVReader.Encoding = .auto) throws -> Sheet {
        if data.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            return Sheet(records: try XLSX.records(data), format: "xlsx")
        }
        let decoded = try CSVReader.decode(data, encoding: encoding)
        return Sheet(records: CSVReader.records(decoded.text), format: decoded.encoding.rawValue)
    }

    public struct FormatError: Error, CustomStringConvertible {
        public let description: String
    }
}

/// The parts of an Office Open XML workbook an import needs (ECMA-376 part 1, §18).
enum XLSX {
    static func records(_ data: Data) throws -> [CSVReader.Record] {
        let archive: Archive
        do {
            archive = try Archive(data: data, accessMode: .read)
        } catch {
            throw SpreadsheetReader.FormatError(description: "not a readable .xlsx workbook (\(error))")
        }
        func part(_ path: String) throws -> Data? {
            guard let entry = archive[path] else { return nil }
            guard entry.uncompressedSize < 512 << 20 else { throw SpreadsheetReader.FormatError(description: "\(path) is larger than 512 MB") }
            var bytes = Data()
            _ = try archive.extract(entry, skipCRC32: false) { bytes.append($0) }
            return bytes
        }
        let strings = try part("xl/sharedStrings.xml").map(SharedStrings.parse) ?? []
        let sheetPath = try firstSheetPath(workbook: part("xl/workbook.xml"), relationships: part("xl/_rels/workbook.xml.rels"))
        guard let sheet = try part(sheetPath) else {
            throw SpreadsheetReader.FormatError(description: "the workbook has no worksheet (\(sheetPath))")
        }
        return try SheetRows.parse(sheet, strings: strings)
    }

    /// The first sheet in the workbook's order, through its relationship; sheet1 when the
    /// workbook does not say.
    static func firstSheetPath(workbook: Data?, relationships: Data?) throws -> String {
        let fallback = "xl/worksheets/sheet1.xml"
        guard let workbook, let relationships else { return fallback }
        let sheets = ElementCollector(names: ["sheet"])
        sheets.run(workbook)
        let links = ElementCollector(names: ["Relationship"])
        links.run(relationships)
        guard let id = sheets.found.first?["r:id"],
              let target = links.found.first(where: { $0["Id"] == id })?["Target"]
        else { return fallback }
        return target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
    }

    /// Collects the attributes of elements with given names.
    final class ElementCollector: NSObject, XMLParserDelegate {
        let names: Set<String>
        var found: [[String: String]] = []

        init(names: Set<String>) { self.names = names }

        func run(_ data: Data) {
            let parser = XMLParser(data: data)
            parser.delegate = self
            _ = parser.parse()
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if names.contains(name) { found.append(attributes) }
        }
    }

    /// `<sst><si><t>…</t></si><si><r><t>a</t></r><r><t>b</t></r></si>…`: rich text is joined;
    /// phonetic runs (`rPh`, furigana) are not part of the text.
    final class SharedStrings: NSObject, XMLParserDelegate {
        var strings: [String] = []
        private var current = ""
        private var inText = false
        private var phonetic = 0

        static func parse(_ data: Data) throws -> [String] {
            let reader = SharedStrings()
            let parser = XMLParser(data: data)
            parser.delegate = reader
            guard parser.parse() else { throw SpreadsheetReader.FormatError(description: "sharedStrings.xml is not well-formed XML") }
            return reader.strings
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            switch name {
            case "si": current = ""
            case "rPh": phonetic += 1
            case "t": inText = phonetic == 0
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if inText { current += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            switch name {
            case "si": strings.append(current)
            case "rPh": phonetic -= 1
            case "t": inText = false
            default: break
            }
        }
    }

    /// `<sheetData><row r="2"><c r="B2" t="s"><v>3</v></c>…`: each row's cells by column letter.
    final class SheetRows: NSObject, XMLParserDelegate {
        let strings: [String]
        var records: [CSVReader.Record] = []
        private var row: [Int: String] = [:]
        private var rowNumber = 0
        private var cellColumn = 0
        private var cellType = ""
        private var value = ""
        private var collecting = false
        private var failure: String?

        init(strings: [String]) { self.strings = strings }

        static func parse(_ data: Data, strings: [String]) throws -> [CSVReader.Record] {
            let reader = SheetRows(strings: strings)
            let parser = XMLParser(data: data)
            parser.delegate = reader
            guard parser.parse() else { throw SpreadsheetReader.FormatError(description: "the worksheet is not well-formed XML") }
            if let failure = reader.failure { throw SpreadsheetReader.FormatError(description: failure) }
            return reader.records
        }

        /// "AB12" → 27 (0-based column); nil when the reference has no letters.
        static func column(_ reference: String) -> Int? {
            var column = 0
            var letters = 0
            for scalar in reference.unicodeScalars {
                guard scalar.value >= 65, scalar.value <= 90 else { break }
                column = column * 26 + Int(scalar.value - 64)
                letters += 1
            }
            return letters == 0 ? nil : column - 1
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            switch name {
            case "row":
                row = [:]
                rowNumber = Int(attributes["r"] ?? "") ?? rowNumber + 1
                cellColumn = 0
            case "c":
                cellColumn = attributes["r"].flatMap(Self.column) ?? cellColumn
                cellType = attributes["t"] ?? "n"
                value = ""
            case "v", "t":
                collecting = true
            default:
                break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if collecting { value += string }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            switch name {
            case "v", "t":
                collecting = false
            case "c":
                row[cellColumn] = text()
                cellColumn += 1
            case "row":
                let width = (row.keys.max() ?? -1) + 1
                let values = (0..<width).map { row[$0] ?? "" }
                if values.contains(where: { !$0.isEmpty }) {
                    records.append(CSVReader.Record(line: rowNumber, values: values))
                }
            default:
                break
            }
        }

        private func text() -> String {
            switch cellType {
            case "s":
                guard let index = Int(value), strings.indices.contains(index) else {
                    failure = "cell \(rowNumber):\(cellColumn + 1) names shared string \(value), which the workbook does not have"
                    return ""
                }
                return strings[index]
            case "b":
                return value == "1" ? "TRUE" : "FALSE"
            case "n":
                // 13800001234 is stored as 1.3800001234E10 by some writers: show integers whole.
                if let number = Double(value), number.rounded() == number, abs(number) < 1e15 {
                    return String(Int64(number))
                }
                return value
            default:
                return value
            }
        }
    }
}
