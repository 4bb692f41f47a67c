import ArgumentParser
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import ServiceLifecycle
import SwiftProtobuf
import Synchronization
import UnixSignals

/// `forge up`: runs the whole stack locally from one build.
///
/// Creates the data directory, a development Ed25519 key pair and tokens on first run, starts
/// the eight services, waits until every one is healthy, prints the gateway address and an
/// admin token, streams each process's log prefixed with its name, restarts a crashed process
/// with backoff, and on Ctrl-C (or SIGTERM) stops them all gracefully.
struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the whole stack locally.")

    @Option(help: "The data directory (default: $FORGE_DATA_DIR or ./data).")
    var dataDir: String?

    @Option(help: "Seconds to wait for every process to become healthy.")
    var startTimeout: Int = 60

    @Flag(help: "Do not load the demo data into an empty stack.")
    var noDemo = false

    func run() async throws {
        let layout = StackLayout(dataDirectory: dataDir)
        if try layout.createSigningKeyIfMissing() {
            say("[forge] created a development signing key in \(layout.keysDirectory)")
        }
        let issuer = try await layout.writeServiceToken()
        let adminToken = try await issuer.issue(subject: "admin", roles: [Role.admin], ttl: 30 * 86400)

        // Trap the signals before any child exists, so Ctrl-C always stops them gracefully.
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let supervisor = Supervisor(binaryDirectory: StackLayout.binaryDirectory, dataDirectory: layout.dataDirectory)
        let started = ContinuousClock.now
        for service in StackLayout.services {
            try supervisor.start(service)
        }
        // Everything up to "ready" runs in one task that Ctrl-C cancels, so a signal stops the
        // stack at any moment of start-up, the demo load included.
        let startUp = Task {
            try await supervisor.waitUntilHealthy(timeout: .seconds(startTimeout))
            let elapsed = ContinuousClock.now - started
            say("[forge] all \(StackLayout.services.count) processes healthy in \(elapsed.formatted(.units(allowed: [.milliseconds], width: .narrow)))")
            if !noDemo {
                try await loadDemoData(token: adminToken, issuer: issuer, layout: layout)
            }
        }
        let stopRequested = Task {
            for await _ in signals {
                startUp.cancel()
                return
            }
        }
        do {
            try await startUp.value
            let httpPort = ProcessInfo.processInfo.environment["FORGE_GATEWAY_HTTP_PORT"].flatMap(Int.init) ?? 8080
            // The gateway creates the first user, admin, with this password on its first start.
            let password = (try? String(contentsOfFile: "\(layout.keysDirectory)/admin.password", encoding: .utf8))?
                .trimmed ?? "(set by FORGE_ADMIN_PASSWORD)"
            say("""
                [forge] ready in \((ContinuousClock.now - started).formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))
                [forge] web and HTTP API: http://127.0.0.1:\(httpPort)/  — sign in as admin, password: \(password)
                [forge] gateway (wire): \(StackLayout.address(of: "gateway"))
                [forge] admin token (30 days):
                \(adminToken)
                [forge] try: FORGE_TOKEN=<token> forge call \(StackLayout.address(of: "gateway")) forge.common.v1.Health/Check
                [forge] Ctrl-C stops everything.
                """)
        } catch where startUp.isCancelled {
            // Ctrl-C during start-up: stop below, as after it.
        } catch {
            say("[forge] \(error)")
            await supervisor.stopAll()
            throw ExitCode(1)
        }
        await stopRequested.value
        say("[forge] stopping…")
        await supervisor.stopAll()
        say("[forge] stopped")
    }
}

extension Up {
    /// Loads the demo data into a new stack, or finishes a load that Ctrl-C interrupted. The
    /// file `demo-data` in the data directory says `loading` from the first write and `loaded`
    /// at the end; a stack without it is new when forge-accounts holds no account.
    func loadDemoData(token: String, issuer: TokenIssuer, layout: StackLayout) async throws {
        let wire = try WireClient(address: StackLayout.address(of: "accounts"), interceptors: [BearerTokenInterceptor(token: token)])
        defer { Task { await wire.close() } }
        let accounts = Forge_Accounts_V1_AccountsClient(channel: wire)
        switch layout.demoDataState {
        case "loaded": return
        case "loading": say("[forge] finishing the demo data load that was interrupted…")
        default:
            guard try await accounts.listAccounts(.with { $0.page.pageSize = 1 }).accounts.isEmpty else { return }
            say("[forge] loading demo data (a machinery maker's customers, contacts, a year of activities, leads, opportunities, orders, the installed base and its service history, surveys, the partner programme)…")
        }
        try layout.setDemoDataState("loading")
        let started = ContinuousClock.now
        // The demo users' passwords cost the gateway a scrypt run each: made while the rest
        // loads, which waits on the disk more than on the processors.
        let gatewayWire = try WireClient(address: StackLayout.address(of: "gateway"), interceptors: [BearerTokenInterceptor(token: token)])
        defer { Task { await gatewayWire.close() } }
        async let demoUsers = DemoData.users(into: Forge_Gateway_V1_GatewayClient(channel: gatewayWire))
        let counts = try await DemoData().load(into: accounts, now: Date()) { progress in
            say("[forge] demo data: \(progress.step) \(progress.done)/\(progress.total)")
        }
        // The service desk needs only the accounts: its load runs beside the pipeline's and orders'.
        async let service = ServiceDeskDemoData(issuer: issuer).load(accounts: counts.accounts, now: Date()) { progress in
            say("[forge] demo data: \(progress.step) \(progress.done)/\(progress.total)")
        }
        // Loyalty's purchase history from ERP needs only the accounts too.
        async let loyalty = LoyaltyDemoData(issuer: issuer).load(accounts: counts.accounts, now: Date()) { progress in
            say("[forge] demo data: \(progress.step) \(progress.done)/\(progress.total)")
        }
        let pipeline = try await PipelineDemoData(issuer: issuer, adminToken: token).load(accounts: counts.accounts, now: Date()) { progress in
            say("[forge] demo data: \(progress.step) \(progress.done)/\(progress.total)")
        }
        let orders = try await OrdersDemoData(issuer: issuer).load(accounts: counts.accounts, now: Date()) { progress in
            say("[forge] demo data: \(progress.step) \(progress.done)/\(progress.total)")
        }
        let feedback = try await FeedbackDemoData(issuer: issuer).load(accounts: counts.accounts, accountsClient: accounts, now: Date()) { progress in
            say("[forge] demo data: \(progress.step) \(progress.done)/\(progress.total)")
        }
        let (machines, tickets) = try await service
        let partners = try await loyalty
        let users = try await demoUsers
        try layout.setDemoDataState("loaded")
        say("[forge] demo data loaded: \(counts.accounts.count) accounts, \(counts.contacts) contacts, \(counts.activities) activities, \(pipeline.leads) leads, \(pipeline.opportunities) opportunities, \(orders) orders, \(machines) machines, \(tickets) tickets, \(feedback.answers) survey answers, \(partners.members) partners in the programme in \((ContinuousClock.now - started).formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow)))")
        say("[forge] demo users (password \(DemoData.userPassword)): \(users.joined(separator: ", "))")
    }
}

/// Starts, watches and restarts the service processes.
final class Supervisor: Sendable {
    private struct Child {
        var process: Process
        var restarts: Int
        var stopping: Bool
    }

    /// 1 s, doubling, at most 30 s before a crashed process is started again.
    static let restartBackoff = Backoff(initial: .seconds(1), multiplier: 2, maximum: .seconds(30), jitter: 0)

    private let binaryDirectory: String
    private let dataDirectory: String
    private let children = Mutex<[String: Child]>([:])

    init(binaryDirectory: String, dataDirectory: String) {
        self.binaryDirectory = binaryDirectory
        self.dataDirectory = dataDirectory
    }

    func start(_ service: String, restarts: Int = 0) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "\(binaryDirectory)/forge-\(service)")
        var environment = ProcessInfo.processInfo.environment
        environment["FORGE_DATA_DIR"] = dataDirectory
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let prefix = "[\(service)]".padding(toLength: 14, withPad: " ", startingAt: 0)
        let buffer = Mutex(Data())
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            let lines = buffer.withLock { pending -> [String] in
                pending.append(chunk)
                var lines: [String] = []
                while let newline = pending.firstIndex(of: 0x0A) {
                    lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
                return lines
            }
            guard !lines.isEmpty else { return }
            // One write per batch of whole lines keeps lines of different processes apart.
            FileHandle.standardOutput.write(Data((lines.map { prefix + $0 }.joined(separator: "\n") + "\n").utf8))
        }
        process.terminationHandler = { [weak self] process in
            self?.exited(service, status: process.terminationStatus)
        }
        try process.run()
        children.withLock { $0[service] = Child(process: process, restarts: restarts, stopping: false) }
        say("[forge] started forge-\(service) (pid \(process.processIdentifier))")
    }

    private func exited(_ service: String, status: Int32) {
        let child = children.withLock { $0[service] }
        guard let child, !child.stopping else { return }
        let delay = Self.restartBackoff.delay(attempt: child.restarts)
        say("[forge] forge-\(service) exited with status \(status); restarting in \(delay.formatted(.units(allowed: [.seconds], width: .narrow)))")
        Task {
            try? await Task.sleep(for: delay)
            guard self.children.withLock({ $0[service]?.stopping == false }) else { return }
            try? self.start(service, restarts: child.restarts + 1)
        }
    }

    func waitUntilHealthy(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        var pending = Set(StackLayout.services)
        while !pending.isEmpty {
            for service in pending {
                if case .success(let response) = await Health.check(address: StackLayout.address(of: service), timeout: .milliseconds(500)),
                   response.status == .serving {
                    pending.remove(service)
                }
            }
            if pending.isEmpty { break }
            guard ContinuousClock.now < deadline else {
                throw ValidationError("not healthy after \(timeout): \(pending.sorted().joined(separator: ", "))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// SIGTERM to every process, then wait for each (SIGKILL after 15 s).
    func stopAll() async {
        let processes = children.withLock { children -> [Process] in
            for key in children.keys { children[key]!.stopping = true }
            return children.values.map(\.process)
        }
        for process in processes where process.isRunning {
            process.terminate()
        }
        let deadline = ContinuousClock.now + .seconds(15)
        for process in processes {
            while process.isRunning, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }
}

/// Writes a line to standard output at once (print() is block-buffered when piped, and the
/// children's lines are written unbuffered).
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
