import Crypto
import ForgeKit
import Foundation

/// A survey's one-time link token: `<survey id>.<expiry, unix seconds>.<signature>`, the
/// signature an HMAC-SHA256 over the first two parts with the service's own secret (kept in its
/// database), base64url. Anyone may hold a token; only forge-feedback can make or check one, a
/// changed character breaks the signature, the expiry is signed too, and single use is the
/// survey's own state (an answered survey takes no second answer).
enum SurveyToken {
    enum Check: Equatable {
        case valid(surveyID: String)
        case expired(surveyID: String)
        case invalid
    }

    static func make(surveyID: String, expiresAt: Date, secret: SymmetricKey) -> String {
        let body = "\(surveyID).\(Int64(expiresAt.timeIntervalSince1970))"
        return "\(body).\(signature(body, secret: secret))"
    }

    static func check(_ token: String, secret: SymmetricKey, now: Date) -> Check {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiry = Int64(parts[1]), !parts[0].isEmpty, token.count < 200 else { return .invalid }
        let body = "\(parts[0]).\(parts[1])"
        let expected = Data(signature(body, secret: secret).utf8)
        let given = Data(parts[2].utf8)
        // Compared in constant time: the signature is a secret the caller is guessing.
        guard expected.count == given.count, zip(expected, given).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 else { return .invalid }
        let id = String(parts[0])
        return now.timeIntervalSince1970 >= Double(expiry) ? .expired(surveyID: id) : .valid(surveyID: id)
    }

    private static func signature(_ body: String, secret: SymmetricKey) -> String {
        Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: secret)))
    }
}
