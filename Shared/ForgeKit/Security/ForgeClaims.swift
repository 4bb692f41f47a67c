import ForgeWire
import Foundation
import JWTKit

/// The claims of a Forge token: who (`sub`), which roles, which team, until when.
public struct ForgeClaims: JWTPayload, Equatable {
    public var sub: SubjectClaim
    public var exp: ExpirationClaim
    public var iat: IssuedAtClaim
    public var roles: [String]
    public var team: String?

    public init(subject: String, roles: [String], team: String?, issuedAt: Date, expiresAt: Date) {
        self.sub = SubjectClaim(value: subject)
        self.exp = ExpirationClaim(value: expiresAt)
        self.iat = IssuedAtClaim(value: issuedAt)
        self.roles = roles
        self.team = team
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }

    var principal: Principal {
        Principal(subject: sub.value, roles: Set(roles), team: team ?? "")
    }
}

/// The roles of DESIGN §9.
public enum Role {
    public static let admin = "admin"
    public static let salesManager = "sales_manager"
    public static let salesRep = "sales_rep"
    public static let serviceManager = "service_manager"
    public static let serviceEngineer = "service_engineer"
    public static let finance = "finance"
    public static let marketing = "marketing"
    public static let analyst = "analyst"
    public static let erpConnector = "erp_connector"
    public static let service = "service"

    public static let all: Set<String> = [
        admin, salesManager, salesRep, serviceManager, serviceEngineer, finance, marketing, analyst, erpConnector, service,
    ]
}
