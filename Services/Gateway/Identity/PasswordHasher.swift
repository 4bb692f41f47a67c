import Crypto
import CryptoExtras
import Foundation
import NIOPosix
import Synchronization

/// Passwords stored as scrypt (swift-crypto's CryptoExtras), salted per user:
/// "scrypt$<log2 N>$<r>$<p>$<salt base64>$<hash base64>". The cost is in the stored string,
/// so raising it later still verifies old hashes.
struct PasswordHasher: Sendable {
    /// log2 of scrypt's N: 15 is 32 MiB and ~100 ms per hash on this machine; tests use less.
    var logN = 15
    var blockSize = 8
    var parallelism = 1

    /// Hashes on NIO's blocking-work pool: a scrypt run is ~100 ms of CPU (several times that
    /// in a debug build) and the wire server runs handlers on its event loops, where it would
    /// hold up every other call on that loop — the demo load's user creation did, in profiles.
    func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { try hashNow(password) }
    }

    /// Verifies on the same pool, for the same reason.
    func verify(_ password: String, against stored: String) async -> Bool {
        (try? await NIOThreadPool.singleton.runIfActive { verifyNow(password, against: stored) }) ?? false
    }

    func hashNow(_ password: String) throws -> String {
        let salt = SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }
        let derived = try derive(password, salt: salt, logN: logN, blockSize: blockSize, parallelism: parallelism)
        return "scrypt$\(logN)$\(blockSize)$\(parallelism)$\(salt.base64EncodedString())$\(derived.base64EncodedString())"
    }

    func verifyNow(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$").map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
              (10...20).contains(logN), let salt = Data(base64Encoded: parts[4]), let expected = Data(base64Encoded: parts[5]),
              let derived = try? derive(password, salt: salt, logN: logN, blockSize: r, parallelism: p)
        else { return false }
        // Constant time: compare through a MAC-style equality, never ==.
        return derived.count == expected.count && zip(derived, expected).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// A hash to verify against when the user does not exist, so a wrong username costs the
    /// same time as a wrong password: one verification. Made once, on first use (hashing it on
    /// every unknown sign-in made those cost two scrypt runs, which told usernames apart).
    func decoy() -> String {
        decoyHash.value.withLock { cached in
            if let cached { return cached }
            let made = (try? hashNow("decoy")) ?? ""
            cached = made
            return made
        }
    }

    private let decoyHash = DecoyHash()

    private final class DecoyHash: Sendable {
        let value = Mutex<String?>(nil)
    }

    private func derive(_ password: String, salt: Data, logN: Int, blockSize: Int, parallelism: Int) throws -> Data {
        let key = try KDF.Scrypt.deriveKey(from: Data(password.utf8), salt: salt, outputByteCount: 32,
                                           rounds: 1 << logN, blockSize: blockSize, parallelism: parallelism)
        return key.withUnsafeBytes { Data($0) }
    }
}
