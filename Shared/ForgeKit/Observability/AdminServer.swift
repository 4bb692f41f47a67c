import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import ForgeContracts

/// The admin HTTP port: `/healthz` (the process is alive), `/readyz` (database open,
/// migrations done, consumers not stalled) and Prometheus `/metrics`.
public enum AdminServer {
    public static func make(
        host: String,
        port: Int,
        readiness: Readiness,
        registry: PrometheusCollectorRegistry,
        logger: Logger
    ) -> any Service {
        let router = Router()
        router.get("/healthz") { _, _ in
            "ok\n"
        }
        router.get("/readyz") { _, _ -> Response in
            let components = await readiness.components()
            let ready = components.allSatisfy(\.ok)
            let lines = components.map { "\($0.name) \($0.ok ? "ok" : "failing") \($0.detail)" }.joined(separator: "\n")
            return Response(
                status: ready ? .ok : .serviceUnavailable,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: lines + "\n"))
            )
        }
        router.get("/metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        }
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "forge-admin"),
            logger: logger
        )
    }
}
