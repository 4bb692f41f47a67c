import ForgeContracts
import ForgeWire
import Foundation

/// Paging (DESIGN §5): `page_size` defaults to 50, at most 500; the token is opaque — the
/// position after which the next page starts (an account id, or a timeline row), base64url.
struct Page {
    let size: Int
    /// The decoded token; nil on the first page.
    let cursor: String?

    /// - Parameter isCursor: whether a decoded token is a position this list hands out.
    init(_ request: Forge_Common_V1_PageRequest, field: String = "page", isCursor: (String) -> Bool = { $0.hasPrefix("acc_") }) throws {
        var violations: [FieldViolation] = []
        if request.pageSize < 0 || request.pageSize > 500 {
            violations.append(FieldViolation(field: "\(field).page_size", description: "must be between 0 and 500"))
        }
        var cursor: String?
        if !request.pageToken.isEmpty {
            cursor = Self.decode(request.pageToken).flatMap { isCursor($0) ? $0 : nil }
            if cursor == nil {
                violations.append(FieldViolation(field: "\(field).page_token", description: "is not a token this service issued"))
            }
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        size = request.pageSize == 0 ? 50 : Int(request.pageSize)
        self.cursor = cursor
    }

    /// The id after which an id-ordered list continues ("" on the first page).
    var after: String { cursor ?? "" }

    /// The response's paging: a token when a full page came back.
    func response(next: String?, count: Int) -> Forge_Common_V1_PageResponse {
        var page = Forge_Common_V1_PageResponse()
        if count == size, let next {
            page.nextPageToken = Data(next.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        }
        return page
    }

    private static func decode(_ token: String) -> String? {
        let base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        return Data(base64Encoded: base64).flatMap { String(data: $0, encoding: .utf8) }
    }
}

/// Newest-first timeline pages continue below a position: (when it happened, row number),
/// cursors "t<seconds>:<rowid>"; search pages, in row order, below a row number: "r<rowid>".
extension Page {
    static func timeline(_ request: Forge_Common_V1_PageRequest) throws -> Page {
        try Page(request) { parsePosition($0) != nil }
    }

    static func search(_ request: Forge_Common_V1_PageRequest) throws -> Page {
        try Page(request) { $0.hasPrefix("r") && Int64($0.dropFirst()) != nil }
    }

    /// The timeline position the page starts below; nil on the first page.
    var beforePosition: (occurredAt: Double, rowid: Int64)? { cursor.flatMap(Self.parsePosition) }

    func response(lastPosition: (occurredAt: Double, rowid: Int64)?, count: Int) -> Forge_Common_V1_PageResponse {
        response(next: lastPosition.map { "t\($0.occurredAt):\($0.rowid)" }, count: count)
    }

    private static func parsePosition(_ cursor: String) -> (occurredAt: Double, rowid: Int64)? {
        guard cursor.hasPrefix("t") else { return nil }
        let parts = cursor.dropFirst().split(separator: ":")
        guard parts.count == 2, let seconds = Double(parts[0]), seconds.isFinite, let rowid = Int64(parts[1]) else { return nil }
        return (seconds, rowid)
    }

    /// The row number the page starts below.
    var beforeRow: Int64 { cursor.flatMap { Int64($0.dropFirst()) } ?? .max }

    func response(lastRow: Int64?, count: Int) -> Forge_Common_V1_PageResponse {
        response(next: lastRow.map { "r\($0)" }, count: count)
    }
}

/// Name-ordered search pages continue after a (name key, id) pair: cursors "n<key>\u{1}<id>".
extension Page {
    static func nameSearch(_ request: Forge_Common_V1_PageRequest) throws -> Page {
        try Page(request) { parseName($0) != nil }
    }

    var nameCursor: (key: String, id: String)? { cursor.flatMap(Self.parseName) }

    static func nameCursor(key: String, id: String) -> String { "n\(key)\u{1}\(id)" }

    private static func parseName(_ cursor: String) -> (key: String, id: String)? {
        guard cursor.hasPrefix("n"), let separator = cursor.firstIndex(of: "\u{1}") else { return nil }
        let id = cursor[cursor.index(after: separator)...]
        guard id.hasPrefix("acc_") else { return nil }
        return (String(cursor[cursor.index(after: cursor.startIndex)..<separator]), String(id))
    }
}
