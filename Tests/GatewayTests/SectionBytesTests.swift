import ForgeContracts
@testable import ForgeGateway
import Foundation
import SwiftProtobuf
import Testing

@Suite("The 360° view's sections as the services serialized them")
struct SectionBytesTests {
    static let overview = Forge_Accounts_V1_GetAccountOverviewResponse.with {
        $0.account = .with { $0.account = .with { $0.id = "acc_1"; $0.name = "杭州汽轮动力集团有限公司"; $0.version = 3 } }
        $0.contacts = .with { $0.contacts = [.with { $0.id = "con_1"; $0.name = "王工" }, .with { $0.id = "con_2"; $0.name = "李经理" }] }
        $0.activities = .with { $0.activities = [.with { $0.id = "act_1"; $0.subject = "回访" }] }
    }

    @Test("the overview's three fields cut out of its bytes decode to its three parts; an absent part is empty")
    func overviewParts() throws {
        let cut = try ProtobufFields.cut(try Self.overview.serializedData(), fields: [1, 2, 3])
        #expect(try Forge_Accounts_V1_GetAccountResponse(serializedBytes: cut[1] ?? Data()) == Self.overview.account)
        #expect(try Forge_Accounts_V1_ListContactsResponse(serializedBytes: cut[2] ?? Data()) == Self.overview.contacts)
        #expect(try Forge_Accounts_V1_ListActivitiesResponse(serializedBytes: cut[3] ?? Data()) == Self.overview.activities)
        var noActivities = Self.overview
        noActivities.clearActivities()
        #expect(try ProtobufFields.cut(try noActivities.serializedData(), fields: [1, 2, 3])[3] == nil)
        // Through the section source the view uses: the same messages as decoding the whole.
        let source = try #require(Customer360.sources.first { $0.service == "accounts" })
        let messages = try source.messages(try Self.overview.serializedData())
        #expect(messages.count == 3 && (messages[1] as? Forge_Accounts_V1_ListContactsResponse) == Self.overview.contacts)
    }

    @Test("a field sent twice reads as protobuf merges it; other wire types are skipped; truncated bytes are refused")
    func mergedSkippedAndMalformed() throws {
        var more = Forge_Accounts_V1_GetAccountOverviewResponse()
        more.contacts = .with { $0.contacts = [.with { $0.id = "con_3"; $0.name = "赵总" }] }
        // A varint field (number 9) and a fixed64 field (number 10) the cut does not ask for.
        let unknown = Data([9 << 3 | 0, 0x96, 0x01, 10 << 3 | 1, 1, 2, 3, 4, 5, 6, 7, 8])
        let bytes = try Self.overview.serializedData() + unknown + (try more.serializedData())
        let cut = try ProtobufFields.cut(bytes, fields: [2])
        let merged = try Forge_Accounts_V1_GetAccountOverviewResponse(serializedBytes: bytes).contacts
        #expect(try Forge_Accounts_V1_ListContactsResponse(serializedBytes: cut[2] ?? Data()) == merged)
        #expect(merged.contacts.map(\.id) == ["con_1", "con_2", "con_3"])
        let whole = try Self.overview.serializedData()
        #expect(throws: ProtobufFields.Malformed.self) { try ProtobufFields.cut(whole.prefix(whole.count - 3), fields: [1, 2, 3]) }
        #expect(throws: ProtobufFields.Malformed.self) { try ProtobufFields.cut(Data([0x08, 0x80]), fields: [1]) }
        #expect(try ProtobufFields.cut(Data(), fields: [1]).isEmpty)
    }
}
