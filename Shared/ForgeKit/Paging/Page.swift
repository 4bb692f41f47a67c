import ForgeContracts
import ForgeWire
import Foundation

/// Paging (DESIGN §5): `page_size` defaults to 50, at most 500; the token is opaque — the
/// position after which the next page starts, base64url. Each list says which positions it
/// hands out, so a token from another list (or a forged one) is INVALID_ARGUMENT.
public struct Page: Sendable {
    /// The largest page a list answers (the HTTP API's OpenAPI document states the same bound).
    public static let maxSize = 500

    public let size: Int
    /// The decoded token; nil on the first page.
    public let cursor: String?

    /// - Parameter isCursor: whether a decoded token is a position this list hands out.
    public init(_ request: Forge_Common_V1_PageRequest, field: String = "page", isCursor: (String) -> Bool) throws {
        var violations: [FieldViolation] = []
        if request.pageSize < 0 || request.pageSize > Self.maxSize {
            violations.append(FieldViolation(field: "\(field).page_size", description: "must be between 0 and \(Self.maxSize)"))
        }
        var cursor: String?
        if !request.pageToken.isEmpty {
            cursor = Base64URL.decode(request.pageToken).flatMap { String(data: $0, encoding: .utf8) }.flatMap { isCursor($0) ? $0 : nil }
            if cursor == nil {
                violations.append(FieldViolation(field: "\(field).page_token", description: "is not a token this service issued"))
            }
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        size = request.pageSize == 0 ? 50 : Int(request.pageSize)
        self.cursor = cursor
    }

    /// The key after which a key-ordered list continues ("" on the first page).
    public var after: String { cursor ?? "" }

    /// The response's paging: a token when a full page came back.
    public func response(next: String?, count: Int) -> Forge_Common_V1_PageResponse {
        var page = Forge_Common_V1_PageResponse()
        if count == size, let next {
            page.nextPageToken = Base64URL.encode(Data(next.utf8))
        }
        return page
    }
}
