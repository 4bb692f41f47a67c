import ForgeContracts
@testable import ForgeKit
import ForgeWire
import Foundation
import JWTKit
import NIOCore
import SwiftProtobuf
import Testing

@Suite("Token authentication over the wire", .timeLimit(.minutes(1)))
struct AuthenticationTests {
    /// A server whose Jobs service needs the admin role and whose Health needs no token.
    private static func server(publicKey: EdDSA.PublicKey) async throws -> (WireServer, Int) {
        var router = RPCRouter()
        let database = try ForgeDatabase.temporary()
        JobsService(scheduler: JobScheduler(database: database, clock: ManualClock(), handlers: [:])).register(in: &router)
        HealthService(processName: "forge-test", readiness: Readiness(database: database, consumers: [])).register(in: &router)
        let access = AccessTable()
        let auth = AuthenticationInterceptor(authenticator: await JWTAuthenticator(publicKey: publicKey)) { access.access(for: $0) }
        let server = WireServer(configuration: ServerConfiguration(port: 0), router: router, interceptors: [auth])
        let address = try await server.start()
        return (server, address.port!)
    }

    private static func listJobs(port: Int, token: String?) async throws -> StatusCode {
        let client = try WireClient(host: "127.0.0.1", port: port)
        defer { Task { await client.close() } }
        var metadata: [String: String] = [:]
        metadata["authorization"] = token.map { "Bearer \($0)" }
        do {
            _ = try await Forge_Common_V1_JobsClient(channel: client).listJobs(.init(), options: CallOptions(metadata: metadata))
            return .ok
        } catch let error as RPCError {
            return error.code
        }
    }

    @Test("no token, a token signed by another key, an expired token and alg none are UNAUTHENTICATED; a wrong role is PERMISSION_DENIED; the right role passes")
    func matrix() async throws {
        let (privateKey, publicKey) = try SigningKeys.generate()
        let (otherKey, _) = try SigningKeys.generate()
        let issuer = await TokenIssuer(privateKey: privateKey)
        let forger = await TokenIssuer(privateKey: otherKey)
        let (server, port) = try await Self.server(publicKey: publicKey)

        let admin = try await issuer.issue(subject: "boss", roles: ["admin"], ttl: 600)
        let rep = try await issuer.issue(subject: "rep", roles: ["sales_rep"], team: "east", ttl: 600)
        let expired = try await issuer.issue(subject: "boss", roles: ["admin"], ttl: 60, now: Date().addingTimeInterval(-3600))
        let forged = try await forger.issue(subject: "boss", roles: ["admin"], ttl: 600)
        let payload = Base64URL.encode(Data(#"{"sub":"boss","roles":["admin"],"exp":9999999999,"iat":1}"#.utf8))
        let algNone = Base64URL.encode(Data(#"{"alg":"none","typ":"JWT"}"#.utf8)) + "." + payload + "."

        #expect(try await Self.listJobs(port: port, token: nil) == .unauthenticated)
        #expect(try await Self.listJobs(port: port, token: forged) == .unauthenticated)
        #expect(try await Self.listJobs(port: port, token: expired) == .unauthenticated)
        #expect(try await Self.listJobs(port: port, token: algNone) == .unauthenticated)
        #expect(try await Self.listJobs(port: port, token: "not.a.jwt") == .unauthenticated)
        #expect(try await Self.listJobs(port: port, token: rep) == .permissionDenied)
        #expect(try await Self.listJobs(port: port, token: admin) == .ok)

        // Health/Check needs no token.
        let client = try WireClient(host: "127.0.0.1", port: port)
        let health = try await Forge_Common_V1_HealthClient(channel: client).check(.init())
        #expect(health.status == .serving)
        await client.close()
        await server.shutdown()
    }

    @Test("the verified principal carries subject, roles and team")
    func principal() async throws {
        let (privateKey, publicKey) = try SigningKeys.generate()
        let token = try await TokenIssuer(privateKey: privateKey).issue(subject: "rep-9", roles: ["sales_rep", "marketing"], team: "华东", ttl: 60)
        let principal = try await JWTAuthenticator(publicKey: publicKey).authenticate(token: token)
        #expect(principal == Principal(subject: "rep-9", roles: ["sales_rep", "marketing"], team: "华东"))
    }

    @Test("a remembered token still expires: once past its expiry it is UNAUTHENTICATED; a changed token is verified afresh")
    func rememberedTokensExpire() async throws {
        let (privateKey, publicKey) = try SigningKeys.generate()
        let clock = ManualClock(Date())
        let token = try await TokenIssuer(privateKey: privateKey).issue(subject: "rep-9", roles: ["sales_rep"], ttl: 60, now: clock.now())
        let authenticator = await JWTAuthenticator(publicKey: publicKey, clock: clock)
        #expect(try await authenticator.authenticate(token: token).subject == "rep-9")
        #expect(try await authenticator.authenticate(token: token).subject == "rep-9", "from memory")
        // One character changed inside the signature (not the last, whose low bits are padding):
        // not the remembered token, and not valid.
        var characters = Array(token)
        let index = characters.count - 10
        characters[index] = characters[index] == "A" ? "B" : "A"
        let tampered = String(characters)
        await #expect(throws: RPCError.self) { _ = try await authenticator.authenticate(token: tampered) }
        clock.advance(by: 61)
        let expired = await #expect(throws: RPCError.self) { _ = try await authenticator.authenticate(token: token) }
        #expect(expired == RPCError(.unauthenticated, "token expired"))
    }

    @Test("key files written by forge up read back")
    func keyFiles() async throws {
        let directory = NSTemporaryDirectory() + "forge-keys-\(UUID().uuidString)"
        let (privateKey, publicKey) = try SigningKeys.generate()
        try SigningKeys.write(privateKey: privateKey, to: directory)
        #expect(try SigningKeys.readPublicKey(path: "\(directory)/jwt-ed25519.pub").rawRepresentation == publicKey.rawRepresentation)
        #expect(try SigningKeys.readPrivateKey(path: "\(directory)/jwt-ed25519.key").rawRepresentation == privateKey.rawRepresentation)
    }
}
