import ForgeKit
import ForgeSpreadsheet
import Foundation
import Testing

@Suite("CSV files as spreadsheets export them")
struct CSVReaderTests {
    @Test("quoted cells keep commas, quotes and line breaks; records carry the line they start on; CRLF and blank lines")
    func parsing() {
        let text = "名称,备注\r\n\"上海精密机械, 有限公司\",\"说\"\"耐高温\"\"\"\r\n\r\n苏州模具,\"第一行\n第二行\"\n杭州泵阀,\n"
        let records = CSVReader.records(text)
        #expect(records == [
            .init(line: 1, values: ["名称", "备注"]),
            .init(line: 2, values: ["上海精密机械, 有限公司", "说\"耐高温\""]),
            .init(line: 4, values: ["苏州模具", "第一行\n第二行"]),
            .init(line: 6, values: ["杭州泵阀", ""]),
        ])
    }

    @Test("UTF-8 with a BOM, plain UTF-8 and GB18030 decode to the same text; other bytes are refused")
    func encodings() throws {
        let text = "客户名称,行业\n上海精密机械有限公司,汽车零部件\n"
        let gb18030 = try #require(text.data(using: String.Encoding(rawValue: 0x8000_0632)))
        #expect(gb18030 != Data(text.utf8), "the fixture really is GB18030")
        let fromBOM = try CSVReader.decode(Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8))
        let fromUTF8 = try CSVReader.decode(Data(text.utf8))
        let fromGB = try CSVReader.decode(gb18030)
        #expect(fromBOM.text == text && fromBOM.encoding == .utf8)
        #expect(fromUTF8.text == text && fromUTF8.encoding == .utf8)
        #expect(fromGB.text == text && fromGB.encoding == .gb18030)
        #expect(throws: CSVReader.DecodingError.self) { try CSVReader.decode(gb18030, encoding: .utf8) }
        #expect(throws: CSVReader.DecodingError.self) { try CSVReader.decode(Data([0x81, 0x20, 0xFF, 0xFF])) }
    }
}
