@testable import ForgePipeline
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Lead import: a trade-show list, row by row")
struct LeadImportTests {
    static let header = ["公司名称", "联系人", "手机", "区域", "意向产品", "需求", "来源", "展会", "日期", "备注2"]

    static func request(_ rows: [[String]], importID: String = "imp-1", dryRun: Bool = false) -> Forge_Common_V1_ImportRequest {
        .with {
            $0.importID = importID
            $0.header = header
            $0.rows = rows.enumerated().map { index, values in .with { $0.line = Int32(index + 2); $0.values = values } }
            $0.dryRun = dryRun
        }
    }

    static let rows: [[String]] = [
        ["南京数控刀具有限公司", "周工", "13900001111", "华东", "刀具", "需要报价", "展会", "CIMT 2026", "46000", "x"],
        ["南京数控刀具 有限公司", "吴经理", "", "华东", "刀具", "", "展会", "CIMT 2026", "2025-11-15", ""],
        ["合肥精密电机", "郑工", "123", "华中", "电机", "", "展览会", "", "2026/13/40", ""],
        ["", "", "", "华南", "", "", "", "", "", ""],
        ["常州减速机厂", "冯工", "+86 137 0000 2222", "华东", "减速机", "", "网站", "", "", ""],
    ]

    @Test("each row is captured as CaptureLead would: created, a repeat inquiry on an earlier row, or rejected naming the columns; ignored columns listed; a retried batch answers the same and adds nothing")
    func importRows() async throws {
        let fixture = try PipelineFixture()
        let context = PipelineFixture.marketing
        let response = try await fixture.handler.importLeads(Self.request(Self.rows), context: context)
        #expect(response.ignoredColumns == ["备注2"])
        #expect(response.results.map(\.status) == [.created, .duplicate, .rejected, .rejected, .created])
        #expect(response.results[1].duplicateOf == response.results[0].id)
        #expect(Set(response.results[2].violations.map(\.field)) == ["phone", "received_at"])
        #expect(response.results[3].violations.map(\.field) == ["company_name"])
        let first = try await fixture.handler.getLead(.with { $0.id = response.results[0].id }, context: PipelineFixture.admin).lead
        #expect(first.inquiryCount == 2)
        #expect(first.campaign == "CIMT 2026")
        #expect(first.source == .tradeShow)
        #expect(first.receivedAt.date == Date(timeIntervalSince1970: (46_000 - 25_569) * 86_400 - 8 * 3600))
        let web = try await fixture.handler.getLead(.with { $0.id = response.results[4].id }, context: PipelineFixture.admin).lead
        #expect(web.source == .webInquiry)

        let again = try await fixture.handler.importLeads(Self.request(Self.rows), context: context)
        #expect(again.results == response.results)
        #expect(try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM lead") } == 2)
        #expect(try await fixture.handler.getLead(.with { $0.id = response.results[0].id }, context: PipelineFixture.admin).lead.inquiryCount == 2)
    }

    @Test("a dry run reports the same outcomes and writes nothing")
    func dryRun() async throws {
        let fixture = try PipelineFixture()
        let response = try await fixture.handler.importLeads(Self.request(Self.rows, dryRun: true), context: PipelineFixture.marketing)
        #expect(response.results.map(\.status) == [.created, .duplicate, .rejected, .rejected, .created])
        #expect(response.results[1].duplicateOf == "line 2")
        #expect(try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM lead") } == 0)
    }

    @Test("a file without a company or contact column is refused as a whole")
    func header() async throws {
        let fixture = try PipelineFixture()
        let error = await #expect(throws: RPCError.self) {
            _ = try await fixture.handler.importLeads(.with {
                $0.importID = "x"
                $0.header = ["电话"]
                $0.rows = [.with { $0.line = 2; $0.values = ["139"] }]
            }, context: PipelineFixture.marketing)
        }
        #expect(error?.violations.map(\.field) == ["header"])
    }
}
