import ForgeKit
import ForgeWire
import Foundation

/// A benchmark over a data set seeded once through the services' own RPCs and kept in a
/// directory between runs (`marker` says it is complete): seeding runs the `seeding` services
/// at durability NORMAL, the measurement the `measuring` ones at FULL, on the same files.
public enum SeededDataSet {
    /// What every benchmark's stack runs with besides the ports: the gateway's HTTP port
    /// (`portBase` + 1000), no rate limit in the way, the seeded admin's password.
    public static func environment(portBase: Int) -> [String: String] {
        ["FORGE_GATEWAY_HTTP_PORT": "\(portBase + 1000)", "FORGE_GATEWAY_RATE_LIMIT": "1000000", "FORGE_ADMIN_PASSWORD": "bench-admin-password"]
    }

    /// Where to measure: a fresh copy of the seeded files beside them (`data`-measured), or with
    /// `inPlace` the files themselves. A measurement that writes grows its data set: measured in
    /// place, each run starts from a larger one than the last (a pipeline once 1.09 M leads
    /// instead of 300,000; the orders' history 1.47 M reports instead of none). The services
    /// must be stopped, so the files are whole; the copy is on disk before the measurement
    /// starts (its write-back would otherwise land on the measured fsyncs).
    public static func measuredCopy(of data: String, inPlace: Bool) throws -> String {
        guard !inPlace else { return data }
        let measured = data + "-measured"
        try? FileManager.default.removeItem(atPath: measured)
        try FileManager.default.copyItem(atPath: data, toPath: measured)
        sync()
        return measured
    }

    public static func run(
        binaries: String, data: String, marker: String, reseed: Bool, portBase: Int,
        seeding seedServices: [String], measuring services: [String],
        seed: (ServiceStack, TokenIssuer) async throws -> Void,
        measure: (ServiceStack, TokenIssuer) async throws -> Void
    ) async throws {
        let markerPath = "\(data)/\(marker)"
        let seeding = reseed || !FileManager.default.fileExists(atPath: markerPath)
        if seeding {
            try? FileManager.default.removeItem(atPath: data)
            try FileManager.default.createDirectory(atPath: "\(data)/keys", withIntermediateDirectories: true)
            let (privateKey, _) = try SigningKeys.generate()
            try SigningKeys.write(privateKey: privateKey, to: "\(data)/keys")
        }
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(data)/keys/jwt-ed25519.key"))
        try await issuer.issue(subject: "forge-stack", roles: [Role.service], ttl: 86_400)
            .write(toFile: ServiceToken.path(dataDirectory: data), atomically: true, encoding: .utf8)
        let environment = environment(portBase: portBase)
        if seeding {
            let stack = try ServiceStack(binaries: binaries, data: data, portBase: portBase, durability: "normal", services: seedServices, environment: environment)
            try await stack.waitUntilServing()
            try await seed(stack, issuer)
            _ = FileManager.default.createFile(atPath: markerPath, contents: nil)
            stack.stop()
        }
        let stack = try ServiceStack(binaries: binaries, data: data, portBase: portBase, durability: "full", services: services, environment: environment)
        defer { stack.stop() }
        try await stack.waitUntilServing()
        try await measure(stack, issuer)
    }
}
