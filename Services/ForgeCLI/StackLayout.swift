import ForgeKit
import Foundation

/// Where the local stack keeps its files, and which processes it runs.
struct StackLayout {
    let dataDirectory: String

    init(dataDirectory: String? = nil) {
        let configured = dataDirectory ?? ProcessInfo.processInfo.environment["FORGE_DATA_DIR"] ?? "./data"
        self.dataDirectory = URL(fileURLWithPath: configured).standardizedFileURL.path
    }

    var keysDirectory: String { "\(dataDirectory)/keys" }
    var privateKeyPath: String { "\(keysDirectory)/jwt-ed25519.key" }
    var publicKeyPath: String { "\(keysDirectory)/jwt-ed25519.pub" }
    var serviceTokenPath: String { ServiceToken.path(dataDirectory: dataDirectory) }

    /// The eight services in start order (the gateway last: it aggregates the others).
    static let services = ServiceConfiguration.defaultPorts.map(\.name).filter { $0 != "gateway" } + ["gateway"]

    /// The wire address of a service: `FORGE_<NAME>_ADDR` or its default port on loopback.
    static func address(of service: String) -> String {
        if let address = ProcessInfo.processInfo.environment["FORGE_\(service.uppercased())_ADDR"], !address.isEmpty {
            return address
        }
        let port = ServiceConfiguration.defaultPorts.first { $0.name == service }!.wire
        return "127.0.0.1:\(port)"
    }

    /// The directory holding this `forge` binary, where the service executables are built too.
    static var binaryDirectory: String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }

    /// `loading` or `loaded` once `forge up` has started writing the demo data; nil before.
    var demoDataState: String? {
        (try? String(contentsOfFile: "\(dataDirectory)/demo-data", encoding: .utf8))?.trimmed
    }

    func setDemoDataState(_ state: String) throws {
        try (state + "\n").write(toFile: "\(dataDirectory)/demo-data", atomically: true, encoding: .utf8)
    }

    /// Creates the Ed25519 signing key pair under keys/ unless there is one; returns whether it did.
    func createSigningKeyIfMissing() throws -> Bool {
        try FileManager.default.createDirectory(atPath: keysDirectory, withIntermediateDirectories: true)
        guard !FileManager.default.fileExists(atPath: privateKeyPath) else { return false }
        let (privateKey, _) = try SigningKeys.generate()
        try SigningKeys.write(privateKey: privateKey, to: keysDirectory)
        return true
    }

    /// Writes the token the services present to each other (role `service`, one year) and
    /// returns the issuer for more tokens.
    func writeServiceToken() async throws -> TokenIssuer {
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: privateKeyPath))
        let serviceToken = try await issuer.issue(subject: "forge-stack", roles: [Role.service], ttl: 365 * 86400)
        try serviceToken.write(toFile: serviceTokenPath, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: serviceTokenPath)
        return issuer
    }
}
