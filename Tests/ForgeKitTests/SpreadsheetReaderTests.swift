import ForgeSpreadsheet
import ForgeTestSupport
import Foundation
import Testing

@Suite(".xlsx and CSV through one reader")
struct SpreadsheetReaderTests {
    @Test("a workbook's first sheet (through its relationship): shared and inline strings, whole numbers, empty cells keep their column, blank rows skipped")
    func workbook() throws {
        let data = try XLSXFixture.workbook([
            ["公司名称", "联系人", "电话", "备注"],
            ["上海精密机械有限公司", "", "=number:1.3800001234E10", "=inline:要 <报价> & 样本"],
            [],
            ["苏州工业园", "王工", "=number:12.5", ""],
        ])
        let sheet = try SpreadsheetReader.read(data)
        #expect(sheet.format == "xlsx")
        #expect(sheet.records.map(\.line) == [1, 2, 4])
        #expect(sheet.records[0].values == ["公司名称", "联系人", "电话", "备注"])
        #expect(sheet.records[1].values == ["上海精密机械有限公司", "", "13800001234", "要 <报价> & 样本"])
        #expect(sheet.records[2].values == ["苏州工业园", "王工", "12.5"])
    }

    @Test("CSV still reads as before (GB18030 too); a broken workbook is a clear error")
    func csvAndBroken() throws {
        let gbk = try #require("公司,电话\n无锡轴承,0510-1234\n".data(using: String.Encoding(rawValue: 0x8000_0632)))
        let sheet = try SpreadsheetReader.read(gbk)
        #expect(sheet.format == "gb18030")
        #expect(sheet.records[1].values == ["无锡轴承", "0510-1234"])
        let broken = Data([0x50, 0x4B, 0x03, 0x04, 1, 2, 3])
        #expect(throws: SpreadsheetReader.FormatError.self) { try SpreadsheetReader.read(broken) }
    }
}
