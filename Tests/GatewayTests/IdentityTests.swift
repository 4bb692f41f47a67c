import ForgeContracts
@testable import ForgeGateway
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import SwiftProtobuf
import Testing

struct IdentityFixture {
    let store: IdentityStore
    let database: DatabasePool
    let clock = ManualClock()

    init() throws {
        database = try ForgeDatabase.temporary(migrations: IdentityStore.migrations)
        // Cheap scrypt for tests; production uses log2 N = 15.
        store = IdentityStore(database: database, hasher: PasswordHasher(logN: 10))
    }

    static func context(_ subject: String, _ roles: Set<String>) -> ServerContext {
        ServerContext(method: MethodDescriptor(service: "forge.gateway.v1.Gateway", method: "CreateUser"), metadata: [:],
                      principal: Principal(subject: subject, roles: roles), deadline: .now + .seconds(30), requestID: "req",
                      logger: Logger(label: "test"), peer: "test")
    }

    func user(_ username: String, roles: [String] = [Role.salesRep], team: String = "east", password: String = "correct horse battery") async throws {
        _ = try await store.create(.with {
            $0.username = username
            $0.displayName = username
            $0.roles = roles
            $0.team = team
        }, password: password, context: Self.context("admin", [Role.admin]), at: clock.now())
    }
}

@Suite("Gateway identity: passwords, sign-in slow-down, refresh tokens, API keys")
struct IdentityTests {
    @Test("passwords are salted scrypt with the cost in the stored string; only the right password verifies")
    func passwords() async throws {
        let hasher = PasswordHasher(logN: 10)
        let first = try await hasher.hash("耐高温材料-2026")
        let second = try await hasher.hash("耐高温材料-2026")
        #expect(first != second, "salted")
        #expect(first.hasPrefix("scrypt$10$8$1$"))
        #expect(!first.contains("耐高温材料"))
        #expect(await hasher.verify("耐高温材料-2026", against: first))
        #expect(await !hasher.verify("耐高温材料-2025", against: first))
        #expect(await !hasher.verify("x", against: "md5$abc"))
    }

    @Test("five failed sign-ins are free; then each locks the username for longer, even for the right password; success clears it")
    func slowDown() async throws {
        let fixture = try IdentityFixture()
        try await fixture.user("rep-a")
        for _ in 0..<5 {
            let wrong = await #expect(throws: RPCError.self) { _ = try await fixture.store.signIn(username: "rep-a", password: "guess", at: fixture.clock.now()) }
            #expect(wrong?.code == .unauthenticated)
        }
        // The fifth failure locked it for one second: even the right password waits.
        let locked = await #expect(throws: RPCError.self) {
            _ = try await fixture.store.signIn(username: "rep-a", password: "correct horse battery", at: fixture.clock.now())
        }
        #expect(locked?.code == .resourceExhausted)
        #expect(locked?.message.contains("try again in 1 s") == true)
        fixture.clock.advance(by: 1)
        _ = await #expect(throws: RPCError.self) { _ = try await fixture.store.signIn(username: "rep-a", password: "guess", at: fixture.clock.now()) }
        let longer = await #expect(throws: RPCError.self) {
            _ = try await fixture.store.signIn(username: "rep-a", password: "correct horse battery", at: fixture.clock.now())
        }
        #expect(longer?.message.contains("try again in 2 s") == true)
        fixture.clock.advance(by: 2)
        let user = try await fixture.store.signIn(username: "rep-a", password: "correct horse battery", at: fixture.clock.now())
        #expect(user.username == "rep-a")
        // Cleared: a wrong password is an ordinary failure again.
        let again = await #expect(throws: RPCError.self) { _ = try await fixture.store.signIn(username: "rep-a", password: "guess", at: fixture.clock.now()) }
        #expect(again?.code == .unauthenticated)
        #expect(IdentityRules.lockout(afterFailures: 40) == 900)
    }

    @Test("an unknown user fails exactly like a wrong password")
    func unknownUser() async throws {
        let fixture = try IdentityFixture()
        let error = await #expect(throws: RPCError.self) { _ = try await fixture.store.signIn(username: "ghost", password: "whatever", at: fixture.clock.now()) }
        #expect(error == RPCError(.unauthenticated, "wrong username or password"))
    }

    @Test("a refresh token works once; disabling the user ends their refresh tokens")
    func refresh() async throws {
        let fixture = try IdentityFixture()
        try await fixture.user("rep-a")
        let token = try await fixture.store.issueRefreshToken(username: "rep-a", at: fixture.clock.now())
        #expect(try await fixture.store.redeemRefreshToken(token, at: fixture.clock.now()).username == "rep-a")
        let reused = await #expect(throws: RPCError.self) { _ = try await fixture.store.redeemRefreshToken(token, at: fixture.clock.now()) }
        #expect(reused?.code == .unauthenticated)

        let second = try await fixture.store.issueRefreshToken(username: "rep-a", at: fixture.clock.now())
        var user = try #require(try await fixture.store.user("rep-a"))
        user.disabled = true
        _ = try await fixture.store.update(user, context: IdentityFixture.context("admin", [Role.admin]), at: fixture.clock.now())
        _ = await #expect(throws: RPCError.self) { _ = try await fixture.store.redeemRefreshToken(second, at: fixture.clock.now()) }

        let third = try await fixture.store.issueRefreshToken(username: "rep-a", at: fixture.clock.now())
        fixture.clock.advance(by: IdentityRules.refreshLifetime + 1)
        _ = await #expect(throws: RPCError.self) { _ = try await fixture.store.redeemRefreshToken(third, at: fixture.clock.now()) }
    }

    @Test("an API key is stored hashed, names its roles, and stops working the moment it is revoked")
    func apiKeys() async throws {
        let fixture = try IdentityFixture()
        let admin = IdentityFixture.context("admin", [Role.admin])
        let (key, secret) = try await fixture.store.createKey(name: "ERP 连接器", roles: [Role.erpConnector], team: "", context: admin, at: fixture.clock.now())
        #expect(secret.hasPrefix("fk_\(key.id)_"))
        let stored = try await fixture.database.read { db in try Row.fetchAll(db, sql: "SELECT * FROM api_key").description }
        // The random part follows "fk_<key id>_" (and may itself contain "_": base64url).
        let randomPart = String(secret.dropFirst("fk_\(key.id)_".count))
        #expect(randomPart.count >= 32)
        #expect(!stored.contains(randomPart), "only a hash of the secret is stored")
        let principal = try await fixture.store.principal(forKey: secret, at: fixture.clock.now())
        #expect(principal.subject == "key:\(key.id)" && principal.roles == [Role.erpConnector])
        _ = await #expect(throws: RPCError.self) { _ = try await fixture.store.principal(forKey: secret + "x", at: fixture.clock.now()) }
        _ = try await fixture.store.revokeKey(id: key.id, context: admin, at: fixture.clock.now())
        let revoked = await #expect(throws: RPCError.self) { _ = try await fixture.store.principal(forKey: secret, at: fixture.clock.now()) }
        #expect(revoked == RPCError(.unauthenticated, "API key revoked"))
    }

    @Test("bad users are INVALID_ARGUMENT naming each field")
    func validation() {
        let violations = IdentityRules.validate(.with {
            $0.username = "bad name"
            $0.roles = ["sales_rep", "wizard"]
        }, isNew: true) + IdentityRules.validate(password: "short", field: "password")
        #expect(violations.map(\.field) == ["user.username", "user.display_name", "user.roles[1]", "password"])
    }

    @Test("the rate limiter allows a burst, then asks to wait, and refills with time")
    func rateLimit() {
        let clock = ManualClock()
        let limiter = RateLimiter(rate: 2, burst: 4, clock: clock)
        for _ in 0..<4 { #expect(limiter.take("key:a") == nil) }
        #expect(limiter.take("key:a") == 1)
        #expect(limiter.take("key:b") == nil, "each caller has their own bucket")
        clock.advance(by: 0.5)
        #expect(limiter.take("key:a") == nil)
    }
}
