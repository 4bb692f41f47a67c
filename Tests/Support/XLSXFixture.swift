import Foundation
import ZIPFoundation

/// A minimal .xlsx workbook as Excel writes one (shared strings, a sheet with cell references),
/// for tests of spreadsheet imports. Cells: a string is a shared string unless it starts with
/// "=inline:" (an inline string); "=number:…" is a numeric cell as written (e.g. 1.3800001234E10);
/// "" leaves the cell out.
public enum XLSXFixture {
    public static func workbook(_ rows: [[String]]) throws -> Data {
        var shared: [String] = []
        func escape(_ text: String) -> String {
            text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        var sheet = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#
        for (rowIndex, row) in rows.enumerated() {
            sheet += #"<row r="\#(rowIndex + 1)">"#
            for (columnIndex, value) in row.enumerated() where !value.isEmpty {
                let reference = column(columnIndex) + "\(rowIndex + 1)"
                if value.hasPrefix("=number:") {
                    sheet += #"<c r="\#(reference)"><v>\#(value.dropFirst(8))</v></c>"#
                } else if value.hasPrefix("=inline:") {
                    sheet += #"<c r="\#(reference)" t="inlineStr"><is><t>\#(escape(String(value.dropFirst(8))))</t></is></c>"#
                } else {
                    let index = shared.firstIndex(of: value) ?? { shared.append(value); return shared.count - 1 }()
                    sheet += #"<c r="\#(reference)" t="s"><v>\#(index)</v></c>"#
                }
            }
            sheet += "</row>"
        }
        sheet += "</sheetData></worksheet>"
        let strings = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="\#(shared.count)" uniqueCount="\#(shared.count)">"#
            + shared.map { "<si><t>\(escape($0))</t></si>" }.joined() + "</sst>"
        let parts: [(String, String)] = [
            ("[Content_Types].xml", #"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#),
            ("xl/workbook.xml", #"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="展会名单" sheetId="1" r:id="rId7"/></sheets></workbook>"#),
            ("xl/_rels/workbook.xml.rels", #"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/list.xml"/></Relationships>"#),
            ("xl/sharedStrings.xml", strings),
            ("xl/worksheets/list.xml", sheet),
        ]
        let archive = try Archive(data: Data(), accessMode: .create)
        for (path, text) in parts {
            let bytes = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate) { position, size in
                bytes.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        guard let data = archive.data else { throw CocoaError(.fileWriteUnknown) }
        return data
    }

    /// 0 → "A", 25 → "Z", 26 → "AA".
    static func column(_ index: Int) -> String {
        var index = index + 1
        var name = ""
        while index > 0 {
            let remainder = (index - 1) % 26
            name = String(UnicodeScalar(65 + remainder)!) + name
            index = (index - 1) / 26
        }
        return name
    }
}
