import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// Segments of `forge.accounts.v1.Accounts`: saved filters, evaluated when listed.
extension AccountsHandler {
    var segments: SegmentStore { SegmentStore(database: store.database) }

    func createSegment(_ request: Forge_Accounts_V1_CreateSegmentRequest, context: ServerContext) async throws -> Forge_Accounts_V1_CreateSegmentResponse {
        let violations = SegmentRules.validate(request.segment, isNew: true)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        let now = clock.now()
        var segment = request.segment
        segment.id = EventID.make(prefix: "seg", at: now)
        segment.name = segment.name.trimmed
        segment.createdBy = try context.caller().subject
        segment.createdAt = .init(date: now)
        segment.updatedAt = .init(date: now)
        segment.version = 1
        let created = try await segments.create(segment, context: context, at: now)
        return .with { $0.segment = created }
    }

    func getSegment(_ request: Forge_Accounts_V1_GetSegmentRequest, context: ServerContext) async throws -> Forge_Accounts_V1_GetSegmentResponse {
        guard let segment = try await segments.segment(id: request.id) else { throw RPCError(.notFound, "segment \(request.id) not found") }
        return .with { $0.segment = segment }
    }

    func updateSegment(_ request: Forge_Accounts_V1_UpdateSegmentRequest, context: ServerContext) async throws -> Forge_Accounts_V1_UpdateSegmentResponse {
        let violations = SegmentRules.validate(request.segment, isNew: false)
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        var edit = request.segment
        edit.name = edit.name.trimmed
        let updated = try await segments.update(edit, context: context, at: clock.now())
        return .with { $0.segment = updated }
    }

    func deleteSegment(_ request: Forge_Accounts_V1_DeleteSegmentRequest, context: ServerContext) async throws -> Forge_Accounts_V1_DeleteSegmentResponse {
        guard !request.id.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "id", description: "is required")]) }
        try await segments.delete(id: request.id, context: context, at: clock.now())
        return .init()
    }

    func listSegments(_ request: Forge_Accounts_V1_ListSegmentsRequest, context: ServerContext) async throws -> Forge_Accounts_V1_ListSegmentsResponse {
        let page = try Page(request.page) { $0.hasPrefix("seg_") }
        let found = try await segments.list(page: page)
        return .with {
            $0.segments = found
            $0.page = page.response(next: found.last?.id, count: found.count)
        }
    }

    /// The segment's accounts as of now, among those the caller may see (a rep gets their part
    /// of a company-wide segment; others answer as for any account they may not see).
    func listSegmentAccounts(_ request: Forge_Accounts_V1_ListSegmentAccountsRequest, context: ServerContext) async throws -> Forge_Accounts_V1_ListSegmentAccountsResponse {
        guard !request.segmentID.isBlank else { throw RPCError.invalidArgument([FieldViolation(field: "segment_id", description: "is required")]) }
        let page = try Page(request.page)
        guard let segment = try await segments.segment(id: request.segmentID) else {
            throw RPCError(.notFound, "segment \(request.segmentID) not found")
        }
        let accounts = try await store.list(matching: segment.filter, page: page, principal: try context.caller())
        return .with {
            $0.accounts = accounts
            $0.page = page.response(next: accounts.last?.id, count: accounts.count)
        }
    }
}
