import ForgeContracts
import ForgeWire
import Foundation

/// Paging of the gateway's own lists (DESIGN §5): size 50 by default, at most 500; the token is
/// the key after which the next page starts, base64url.
struct PageCursor {
    let size: Int
    let after: String

    init(_ request: Forge_Common_V1_PageRequest) throws {
        var violations: [FieldViolation] = []
        if !(0...500).contains(request.pageSize) {
            violations.append(FieldViolation(field: "page.page_size", description: "must be between 0 and 500"))
        }
        var after = ""
        if !request.pageToken.isEmpty {
            let base64 = request.pageToken.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            let padded = base64 + String(repeating: "=", count: (4 - base64.count % 4) % 4)
            if let data = Data(base64Encoded: padded), let text = String(data: data, encoding: .utf8) {
                after = text
            } else {
                violations.append(FieldViolation(field: "page.page_token", description: "is not a token this service issued"))
            }
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        size = request.pageSize == 0 ? 50 : Int(request.pageSize)
        self.after = after
    }

    func response(next: String?, count: Int) -> Forge_Common_V1_PageResponse {
        var page = Forge_Common_V1_PageResponse()
        if count == size, let next {
            page.nextPageToken = Data(next.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return page
    }
}
