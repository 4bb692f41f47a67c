import ForgeContracts
import Foundation
import ForgeWire
import GRDB
import SwiftProtobuf

/// What "ready" means for a service: its database answers, its migrations ran, and none of its
/// consumers is stalled. Shared by `Health/Check` and the admin port's `/readyz`.
public struct Readiness: Sendable {
    let database: any DatabaseReader
    let consumers: [EventConsumer]
    let migrationsDone: Bool

    public init(database: any DatabaseReader, consumers: [EventConsumer], migrationsDone: Bool = true) {
        self.database = database
        self.consumers = consumers
        self.migrationsDone = migrationsDone
    }

    public func components() async -> [Forge_Common_V1_Component] {
        var components: [Forge_Common_V1_Component] = []
        do {
            _ = try await database.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
            components.append(.with { $0.name = "database"; $0.ok = true })
        } catch {
            components.append(.with { $0.name = "database"; $0.ok = false; $0.detail = "\(error)" })
        }
        components.append(.with { $0.name = "migrations"; $0.ok = migrationsDone })
        for consumer in consumers {
            let status = consumer.status
            components.append(.with {
                $0.name = "consumer:\(consumer.upstream)"
                // An unreachable upstream is reported, but does not make this service unready:
                // the consumer catches up when the upstream returns.
                $0.ok = true
                $0.detail = status.healthy ? status.detail : "upstream unavailable: \(status.detail)"
                $0.lag = status.lag
            })
        }
        return components
    }
}

/// `forge.common.v1.Health/Check`; needs no token.
public struct HealthService: Forge_Common_V1_HealthHandler {
    let processName: String
    let readiness: Readiness

    public init(processName: String, readiness: Readiness) {
        self.processName = processName
        self.readiness = readiness
    }

    public func check(_ request: Forge_Common_V1_CheckRequest, context: ServerContext) async throws -> Forge_Common_V1_CheckResponse {
        let components = await readiness.components()
        return .with {
            $0.service = processName
            $0.version = ForgeVersion.current
            $0.components = components
            $0.status = components.allSatisfy(\.ok) ? .serving : .notServing
        }
    }
}

/// The version every process reports.
public enum ForgeVersion {
    public static let current = "0.1.0"
}
