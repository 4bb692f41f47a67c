import ForgeContracts
import ForgeWire
import Foundation

/// Paging (DESIGN §5): `page_size` defaults to 50, at most 500; the token is opaque (the last id
/// of the previous page, base64url).
struct Page {
    let size: Int
    let after: String

    init(_ request: Forge_Common_V1_PageRequest, field: String = "page") throws {
        var violations: [FieldViolation] = []
        if request.pageSize < 0 || request.pageSize > 500 {
            violations.append(FieldViolation(field: "\(field).page_size", description: "must be between 0 and 500"))
        }
        var after = ""
        if !request.pageToken.isEmpty {
            if let decoded = Self.decode(request.pageToken) {
                after = decoded
            } else {
                violations.append(FieldViolation(field: "\(field).page_token", description: "is not a token this service issued"))
            }
        }
        guard violations.isEmpty else { throw RPCError.invalidArgument(violations) }
        size = request.pageSize == 0 ? 50 : Int(request.pageSize)
        self.after = after
    }

    /// The response's paging: a token when a full page came back.
    func response(lastID: String?, count: Int) -> Forge_Common_V1_PageResponse {
        var page = Forge_Common_V1_PageResponse()
        if count == size, let lastID {
            page.nextPageToken = Data(lastID.utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        }
        return page
    }

    private static func decode(_ token: String) -> String? {
        let base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        guard let data = Data(base64Encoded: base64), let id = String(data: data, encoding: .utf8), id.hasPrefix("acc_") else {
            return nil
        }
        return id
    }
}
