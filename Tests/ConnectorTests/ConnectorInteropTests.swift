import ForgeContracts
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

/// The C connector library (Connectors/c) against the real Swift processes: forge-orders and
/// forge-accounts directly and through the gateway's wire port, plain and mutual TLS, and
/// forge-mes-push through a forge-orders killed and restarted in the middle of its batches.
/// The library's own tests (hostile servers under ASan and valgrind, the fuzzer) run from
/// `make -C Connectors/c check`, which Scripts/test.sh runs first.
@Suite("C connector against real processes", .serialized)
struct ConnectorInteropTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let build = root.appendingPathComponent("Connectors/c/build").path

    /// Builds the library and its programs (a no-op when current).
    static let built: Bool = {
        let make = Process()
        make.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        make.arguments = ["-s", "-C", root.appendingPathComponent("Connectors/c").path, "all"]
        make.standardOutput = FileHandle.nullDevice
        guard (try? make.run()) != nil else { return false }
        make.waitUntilExit()
        return make.terminationStatus == 0
    }()

    struct Run {
        let status: Int32
        let output: String
        var lines: [String] { output.split(separator: "\n").map(String.init) }
    }

    /// Runs a program from Connectors/c/build and collects what it prints. The waiting happens
    /// on a Dispatch thread: blocking one of Swift's cooperative threads (two on this machine)
    /// for the program's run would starve every other suite running beside this one.
    static func run(_ program: String, _ arguments: [String], environment: [String: String] = [:], input: String? = nil) async throws -> Run {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try runBlocking(program, arguments, environment: environment, input: input) })
            }
        }
    }

    private static func runBlocking(_ program: String, _ arguments: [String], environment: [String: String], input: String?) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(build)/\(program)")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    static func interop(_ arguments: [String]) async throws -> Run {
        try await run("forge-connector-interop", arguments)
    }

    static func token(_ stack: LocalStack, subject: String, roles: [String]) async throws -> String {
        let issuer = await TokenIssuer(privateKey: try SigningKeys.readPrivateKey(path: "\(stack.dataDirectory)/keys/jwt-ed25519.key"))
        return try await issuer.issue(subject: subject, roles: roles, ttl: 3600)
    }

    /// An account in accounts, known to orders through its feed, and an approved order for it.
    static func approvedOrder(_ stack: LocalStack) async throws -> String {
        let admin = try await token(stack, subject: "admin", roles: ["admin"])
        let accountsChannel = try WireClient(host: "127.0.0.1", port: stack.wirePort("accounts"), interceptors: [BearerTokenInterceptor(token: admin)])
        let ordersChannel = try WireClient(host: "127.0.0.1", port: stack.wirePort("orders"), interceptors: [BearerTokenInterceptor(token: admin)])
        defer { Task { await accountsChannel.close(); await ordersChannel.close() } }
        let account = try await Forge_Accounts_V1_AccountsClient(channel: accountsChannel).createAccount(.with {
            $0.account = .with {
                $0.name = "常州恒力液压有限公司"
                $0.region = "华东"
                $0.ownerID = "rep-a"
                $0.team = "east"
                $0.creditLimit = .with { $0.amountMicros = 10_000_000_000_000; $0.currencyCode = "CNY" }
            }
        }).account
        let orders = Forge_Orders_V1_OrdersClient(channel: ordersChannel)
        _ = try await orders.upsertProducts(.with {
            $0.products = [.with { $0.sku = "HP-200"; $0.name = "液压泵站 HP200"; $0.unit = "台"; $0.listPrice = .with { $0.amountMicros = 80_000_000_000 }; $0.active = true }]
        })
        // Orders learns of the account from the accounts feed: until then the account is "not a
        // known account" (INVALID_ARGUMENT naming order.account_id), which the loop waits out.
        for attempt in 0..<400 {
            do {
                let order = try await orders.createOrder(.with {
                    $0.order = .with {
                        $0.accountID = account.id
                        $0.lines = [.with { $0.sku = "HP-200"; $0.name = "液压泵站 HP200"; $0.unit = "台"; $0.quantity = 2; $0.unitPrice = .with { $0.amountMicros = 80_000_000_000 } }]
                    }
                }).order
                return try await orders.approveOrder(.with { $0.id = order.id }).order.id
            } catch let error as RPCError where (error.code == .notFound || error.code == .failedPrecondition
                                                  || error.violations.map(\.field) == ["order.account_id"]) && attempt < 399 {
                try await Task.sleep(for: .milliseconds(25))
            }
        }
        throw RPCError(.deadlineExceeded, "orders never learnt of the account")
    }

    static func start(_ services: [String], portBase: Int, environment: [String: String] = [:]) async throws -> LocalStack {
        var stack = try LocalStack(portBase: portBase)
        stack.extraEnvironment = environment
        try await stack.writeServiceToken()
        for service in services {
            try stack.start(service)
            if environment["FORGE_TLS_CERT"] == nil { #expect(await stack.waitUntilServing(service)) }
        }
        return stack
    }

    @Test("status reports from C reach forge-orders directly and through the gateway's wire port (an API key becomes the caller's token at the edge): single, batch, an idempotent repeat, field violations, 64 pipelined calls; the accounts health check")
    func plainDirectAndThroughTheGateway() async throws {
        #expect(Self.built, "make -C Connectors/c failed")
        let stack = try await Self.start(["accounts", "orders", "gateway"], portBase: 12100)
        defer { stack.killAll() }
        let orderID = try await Self.approvedOrder(stack)
        let connector = try await Self.token(stack, subject: "mes-plant-2", roles: ["erp_connector"])
        let orders = ["--port", "\(stack.wirePort("orders"))", "--token", connector]

        let health = try await Self.interop(["--port", "\(stack.wirePort("accounts"))", "health"])
        #expect(health.status == 0 && health.output.contains("OK forge-accounts serving=1"), "\(health.output)")
        let ping = try await Self.interop(orders + ["ping"])
        #expect(ping.status == 0 && ping.output.hasPrefix("OK pong"), "\(ping.output)")

        let single = try await Self.interop(orders + ["report", "mes-1", orderID, "1"])
        #expect(single.output == "OK outcome=1 order=\(orderID)\n", "\(single.output)")

        // Seven reports; the same batch again with the same idempotency key answers exactly as
        // the first time (the stored answer: nothing applied twice); then a batch where one
        // report lacks its status is rejected on that report alone.
        let batch = try await Self.interop(orders + ["batch", orderID, "7"])
        #expect(batch.status == 0, "\(batch.output)")
        let results = batch.lines.filter { $0.hasPrefix("result c-batch-") }
        #expect(results.count == 15, "\(batch.output)")
        #expect(Array(results[0..<7]) == Array(results[7..<14]), "the repeat with the same key answers as the first time")
        #expect(results[0..<7].allSatisfy { $0.contains("repeated=0") })
        #expect(results[14].contains("repeated=1"), "the event id was applied before")
        #expect(batch.lines.contains { $0.hasPrefix("result c-bad-1 outcome=3") && $0.contains("violation=reports[1].status:") }, "\(batch.output)")

        let oversize = try await Self.interop(orders + ["oversize", orderID])
        #expect(oversize.status != 0 && oversize.lines.first?.hasPrefix("INVALID_ARGUMENT") == true, "\(oversize.output)")
        #expect(oversize.lines.contains { $0.hasPrefix("violation reports: must be at most 500") }, "\(oversize.output)")

        let pipelined = try await Self.interop(orders + ["pipelined", "64"])
        #expect(pipelined.output == "OK 64 of 64 answered on 1 connection(s)\n", "\(pipelined.output)")

        // Through the gateway with an API key made there for a connector user.
        let admin = try await Self.token(stack, subject: "admin", roles: ["admin"])
        let gatewayChannel = try WireClient(host: "127.0.0.1", port: stack.wirePort("gateway"), interceptors: [BearerTokenInterceptor(token: admin)])
        let key = try await Forge_Gateway_V1_GatewayClient(channel: gatewayChannel).createApiKey(.with { $0.name = "mes-plant-3"; $0.roles = ["erp_connector"] }).secret
        let marketingKey = try await Forge_Gateway_V1_GatewayClient(channel: gatewayChannel).createApiKey(.with { $0.name = "campaigns"; $0.roles = ["marketing"] }).secret
        await gatewayChannel.close()
        let gateway = ["--port", "\(stack.wirePort("gateway"))"]
        let product = try await Self.interop(gateway + ["--token", key, "get-product", "HP-200"])
        #expect(product.output == "OK HP-200 液压泵站 HP200\n", "\(product.output)")
        let viaGateway = try await Self.interop(gateway + ["--token", key, "report", "mes-gw-1", orderID, "3"])
        #expect(viaGateway.output.hasPrefix("OK outcome="), "\(viaGateway.output)")
        let batchViaGateway = try await Self.interop(gateway + ["--token", key, "batch", orderID + "-", "3"])
        #expect(batchViaGateway.lines.first?.hasPrefix("OK batch of 3") == true, "\(batchViaGateway.output)")
        #expect(batchViaGateway.lines.contains { $0.contains("violation=reports[0]:order \(orderID)- not found") }, "an unknown order is named on its report: \(batchViaGateway.output)")
        let anonymous = try await Self.interop(gateway + ["report", "mes-gw-2", orderID, "3"])
        #expect(anonymous.output.hasPrefix("UNAUTHENTICATED"), "the edge refuses a call without a token: \(anonymous.output)")
        let forged = try await Self.interop(gateway + ["--token", "fk_nope_nope", "report", "mes-gw-2", orderID, "3"])
        #expect(forged.output.hasPrefix("UNAUTHENTICATED"), "\(forged.output)")
        let denied = try await Self.interop(gateway + ["--token", marketingKey, "report", "mes-gw-2", orderID, "3"])
        #expect(denied.output.hasPrefix("PERMISSION_DENIED"), "orders checks the key's roles: \(denied.output)")
        let gatewayHealth = try await Self.interop(gateway + ["health"])
        #expect(gatewayHealth.output.contains("OK forge-gateway"), "the gateway's own methods stay its own: \(gatewayHealth.output)")
    }

    @Test("mutual TLS: the C client with its certificate reaches accounts and orders; without one, with the wrong CA, or against an expired server certificate it gets a clear error")
    func mutualTLS() async throws {
        #expect(Self.built, "make -C Connectors/c failed")
        let certificates = NSTemporaryDirectory() + "forge-certs-\(UUID().uuidString)"
        let made = try await Self.run("../tests/make-certs.sh", [certificates])
        #expect(made.status == 0, "\(made.output)")
        var stack = try await Self.start(["accounts", "orders"], portBase: 13100, environment: [
            "FORGE_TLS_CERT": "\(certificates)/server.pem", "FORGE_TLS_KEY": "\(certificates)/server.key", "FORGE_TLS_CA": "\(certificates)/ca.pem",
        ])
        stack.extraEnvironment = ["FORGE_TLS_CERT": "\(certificates)/expired.pem", "FORGE_TLS_KEY": "\(certificates)/expired.key"]
        try stack.start("pipeline")
        defer { stack.killAll() }
        let tls = ["--tls", "--ca", "\(certificates)/ca.pem", "--cert", "\(certificates)/client.pem", "--key", "\(certificates)/client.key"]
        let accounts = ["--port", "\(stack.wirePort("accounts"))"]

        var health = try await Self.interop(accounts + tls + ["health"])
        for _ in 0..<200 where !health.output.contains("serving=1") {
            try await Task.sleep(for: .milliseconds(50))
            health = try await Self.interop(accounts + tls + ["health"])
        }
        #expect(health.output.contains("OK forge-accounts serving=1"), "\(health.output)")

        let connector = try await Self.token(stack, subject: "mes-plant-2", roles: ["erp_connector"])
        let report = try await Self.interop(["--port", "\(stack.wirePort("orders"))", "--token", connector] + tls + ["report", "tls-1", "ord_missing", "1"])
        #expect(report.output.hasPrefix("INVALID_ARGUMENT") || report.output.hasPrefix("NOT_FOUND"), "orders answered over mutual TLS: \(report.output)")
        let ordersTLS = ["--port", "\(stack.wirePort("orders"))", "--token", connector] + tls
        let batch = try await Self.interop(ordersTLS + ["batch", "ord_missing", "3"])
        #expect(batch.lines.first == "OK batch of 3", "\(batch.output)")
        #expect(batch.lines.contains { $0.contains("violation=reports[0]:order ord_missing not found") }, "each report answered on its own: \(batch.output)")
        let oversize = try await Self.interop(ordersTLS + ["oversize", "ord_missing"])
        #expect(oversize.lines.contains { $0.hasPrefix("violation reports: must be at most 500") }, "field violations over mutual TLS: \(oversize.output)")

        let wrongCA = try await Self.interop(accounts + ["--tls", "--ca", "\(certificates)/other-ca.pem", "health"])
        #expect(wrongCA.status != 0 && wrongCA.output.contains("certificate of 127.0.0.1:\(stack.wirePort("accounts")) was refused"), "\(wrongCA.output)")
        let noClientCertificate = try await Self.interop(accounts + ["--tls", "--ca", "\(certificates)/ca.pem", "health"])
        #expect(noClientCertificate.status != 0 && noClientCertificate.output.hasPrefix("UNAVAILABLE"), "\(noClientCertificate.output)")
        let plainToTLS = try await Self.interop(accounts + ["health"])
        #expect(plainToTLS.status != 0, "\(plainToTLS.output)")

        var expired = try await Self.interop(["--port", "\(stack.wirePort("pipeline"))", "--tls", "--ca", "\(certificates)/ca.pem", "health"])
        for _ in 0..<200 where expired.output.contains("refused") == false || expired.output.contains("connect") {
            try await Task.sleep(for: .milliseconds(50))
            expired = try await Self.interop(["--port", "\(stack.wirePort("pipeline"))", "--tls", "--ca", "\(certificates)/ca.pem", "health"])
        }
        #expect(expired.status != 0 && expired.output.contains("certificate has expired"), "\(expired.output)")
    }

    @Test("forge-mes-push through a forge-orders killed and restarted in the middle of its batches: every event applied exactly once, every row printed once")
    func killedDuringABatch() async throws {
        #expect(Self.built, "make -C Connectors/c failed")
        var stack = try await Self.start(["accounts", "orders"], portBase: 11100)
        defer { stack.killAll() }
        let orderID = try await Self.approvedOrder(stack)
        let connector = try await Self.token(stack, subject: "mes-plant-2", roles: ["erp_connector"])

        // Paced (a pause between sending batches of 10; two are in flight) so the push is still
        // sending when the poll sees 500 applied, without loading the machine the other suites share.
        let rows = 3_000
        var csv = "event_id,order_id,line_no,status,source_time,percent,work_centre\n"
        let statuses = ["scheduled", "material_ready", "in_production", "生产中", "quality_inspection"]
        for row in 0..<rows {
            let minute = row % 60, hour = row / 60 % 24, day = 1 + row / 1440
            csv += "kill-\(row),\(orderID),1,\(statuses[row % statuses.count]),2026-11-\(String(format: "%02d", day))T\(String(format: "%02d:%02d", hour, minute)):00+08:00,\(row % 101),W\(row % 3)\n"
        }
        let file = NSTemporaryDirectory() + "forge-mes-\(UUID().uuidString).csv"
        try csv.write(toFile: file, atomically: true, encoding: .utf8)

        let push = Process()
        push.executableURL = URL(fileURLWithPath: "\(Self.build)/forge-mes-push")
        push.arguments = ["--port", "\(stack.wirePort("orders"))", "--source", "mes-plant-2", "--batch", "10", "--pause-ms", "5", file]
        push.environment = ["FORGE_API_KEY": connector]
        let output = Pipe()
        push.standardOutput = output
        push.standardError = FileHandle.nullDevice
        try push.run()
        // Read while it runs (a full pipe would stall it), on a Dispatch thread (not one of the
        // cooperative threads the poll below and the other suites need).
        let collected = Task {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: output.fileHandleForReading.readDataToEndOfFile()) }
            }
        }

        let database = try DatabaseQueue(path: "\(stack.dataDirectory)/orders.sqlite", configuration: { var c = Configuration(); c.readonly = true; return c }())
        func applied() throws -> Int {
            try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM status_report WHERE event_id LIKE 'kill-%'") ?? 0 }
        }
        var before = 0
        for _ in 0..<600 where before < 500 {
            try await Task.sleep(for: .milliseconds(10))
            before = (try? applied()) ?? 0
        }
        #expect(push.isRunning, "the push is still sending when orders is killed")
        kill(stack.processes["orders"]!.processIdentifier, SIGKILL)
        #expect(await LocalStack.waitForExit(stack.processes["orders"]!, within: 5))
        try await Task.sleep(for: .milliseconds(300))
        try stack.start("orders")
        #expect(await stack.waitUntilServing("orders"))

        #expect(await LocalStack.waitForExit(push, within: 120))
        let printed = String(decoding: await collected.value, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(push.terminationStatus == 0, "\(printed.suffix(5))")
        #expect(before >= 500 && before < rows, "killed mid-way: \(before) applied before")
        #expect(try applied() == rows, "every event recorded once")
        let rowLines = printed.filter { $0.hasPrefix("row ") }
        #expect(rowLines.count == rows && Set(rowLines.map { $0.split(separator: "\t")[1] }).count == rows, "each row printed once")
        let numbers = rowLines.compactMap { Int($0.split(separator: "\t")[0].dropFirst("row ".count)) }
        #expect(numbers == Array(2..<(rows + 2)), "in the file's order, though two batches are in flight")
        #expect(rowLines.allSatisfy { $0.contains("\tAPPLIED\t") || $0.contains("\tHISTORY_ONLY\t") }, "\(rowLines.filter { !$0.contains("APPLIED") && !$0.contains("HISTORY_ONLY") }.prefix(3))")
    }

    @Test("forge-mes-push reads a MES export from stdin, rejects a bad row with its reason and exits 1")
    func mesPushRejectsBadRows() async throws {
        #expect(Self.built, "make -C Connectors/c failed")
        let stack = try await Self.start(["accounts", "orders"], portBase: 11300)
        defer { stack.killAll() }
        let orderID = try await Self.approvedOrder(stack)
        let connector = try await Self.token(stack, subject: "mes-plant-2", roles: ["erp_connector"])
        let csv = """
            工单,event_id,order_id,status,source_time,tracking_number,carrier
            WO-1,m-1,\(orderID),packed,2026-12-01 08:00:00,,
            WO-1,m-2,\(orderID),exploded,2026-12-01 09:00:00,,
            WO-1,m-3,\(orderID),已发货,2026-12-01T10:00:00+08:00,SF1234567890,顺丰
            WO-1,m-4,\(orderID),shipped,yesterday,,

            """
        let run = try await Self.run("forge-mes-push", ["--port", "\(stack.wirePort("orders"))", "-"], environment: ["FORGE_API_KEY": connector], input: csv)
        #expect(run.status == 1, "\(run.output)")
        #expect(run.lines.contains { $0.hasPrefix("row 2\tm-1\tAPPLIED\t\(orderID)") }, "\(run.output)")
        #expect(run.lines.contains { $0.hasPrefix("row 3\t-\tREJECTED\tstatus: 'exploded' is not a status") }, "\(run.output)")
        #expect(run.lines.contains { $0.hasPrefix("row 4\tm-3\tAPPLIED\t\(orderID)") }, "\(run.output)")
        #expect(run.lines.contains { $0.hasPrefix("row 5\t-\tREJECTED\tsource_time:") }, "\(run.output)")
        #expect(run.output.contains("4 rows: 2 applied, 0 history only, 2 rejected, 0 failed"), "\(run.output)")
    }
}
