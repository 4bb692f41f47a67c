import ArgumentParser
import AsyncHTTPClient
import BenchCore
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import Logging
import NIOCore
import SwiftProtobuf

/// Feedback at the size of issue 16 — 500,000 NPS answers over two years on 2,000 accounts —
/// measured against the real forge-accounts, forge-feedback and forge-gateway processes and
/// their database files: GetNps by region and month (the running totals) and over a range
/// inside months (counting the answers); customers answering through the public survey page
/// (HTTP POST /s/<token> on the gateway, which calls forge-feedback: the answer, its class and
/// tags, the running totals, search, the event, a detractor's follow-up case or a promoter's
/// thanks, all durable). The answers are seeded once through ImportAnswers and kept in
/// `--data`; every run sends fresh surveys (campaigns) for the page to answer.
@main
struct FeedbackBench: AsyncParsableCommand {
    @Option(help: "Directory of the release executables.")
    var binaries = "../.build/release"

    @Option(help: "Where the seeded data set lives between runs.")
    var data = "/var/tmp/forge-feedback-bench"

    @Option(help: "Accounts to import.")
    var accounts = 2_000

    @Option(help: "NPS answers to import.")
    var answers = 500_000

    @Option(help: "Surveys sent for the public page to answer in this run (enough for every concurrency below).")
    var surveys = 40_000

    @Option(help: "Concurrent customers answering, one measurement each (comma-separated): a closed loop's latency at C is mostly C over the rate, so the rate a latency allows shows at the lower ones.")
    var concurrency = "4,8,16"

    @Option(help: "Seconds per latency measurement.")
    var duration = 10.0

    @Option(help: "First wire port; admin ports are +100, the gateway's HTTP +1000.")
    var portBase = 8_060

    @Flag(help: "Throw the data away and seed it again.")
    var reseed = false

    static let regions = ["华东", "华南", "华北", "西南"]
    static let industries = ["汽车零部件", "能源装备", "航空", "电子", "工程机械"]

    func run() async throws {
        LoggingSystem.bootstrap { _ in SwiftLogNoOpLogHandler() }
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores shared by accounts, feedback, gateway and this load generator")
        try await SeededDataSet.run(binaries: binaries, data: data, marker: "seeded-\(accounts)-\(answers)", reseed: reseed, portBase: portBase,
                                    seeding: ["accounts", "feedback"], measuring: ["accounts", "feedback", "gateway"],
                                    seed: seed, measure: measure)
    }

    func feedback(_ stack: ServiceStack, issuer: TokenIssuer, subject: String, roles: [String], connections: Int = 2) async throws -> Forge_Feedback_V1_FeedbackClient {
        Forge_Feedback_V1_FeedbackClient(channel: try await stack.channel("feedback", issuer: issuer, subject: subject, roles: roles, connections: connections))
    }

    // MARK: Seeding

    func seed(_ stack: ServiceStack, issuer: TokenIssuer) async throws {
        let admin = try await issuer.issue(subject: "bench-admin", roles: [Role.admin], ttl: 86_400)
        let accountsClient = Forge_Accounts_V1_AccountsClient(channel: try WireClient(host: "127.0.0.1", port: stack.port("accounts"),
                                                                                       interceptors: [BearerTokenInterceptor(token: admin)]))
        let started = ContinuousClock.now
        _ = try await accountsClient.importAccounts(.with {
            $0.importID = "bench-accounts"
            $0.header = ["name", "region", "industry", "owner_id", "team"]
            $0.rows = (0..<accounts).map { index in
                .with {
                    $0.line = Int32(index + 2)
                    $0.values = ["反馈压测客户\(index)号机械有限公司", Self.regions[index % 4], Self.industries[index % 5], String(format: "rep-%03d", index % 200), String(format: "team-%02d", index % 20)]
                }
            }
        }, options: CallOptions(timeout: .seconds(300)))
        let ids = try await DatabaseQueue(path: "\(data)/accounts.sqlite").read { db in try String.fetchAll(db, sql: "SELECT id FROM account ORDER BY id") }
        _ = try await accountsClient.importContacts(.with {
            $0.importID = "bench-contacts"
            $0.header = ["account_id", "name", "phone", "marketing_consent"]
            $0.rows = ids.enumerated().map { index, id in
                .with { $0.line = Int32(index + 2); $0.values = [id, "联系人\(index)", String(format: "138%08d", index), "true"] }
            }
        }, options: CallOptions(timeout: .seconds(300)))
        while try await DatabaseQueue(path: "\(data)/feedback.sqlite").read({ db in try Int.fetchOne(db, sql: "SELECT count(*) FROM contact") ?? 0 }) < ids.count {
            try await Task.sleep(for: .seconds(1))
        }
        print(String(format: "seed: %d accounts and their contacts imported and followed by feedback in %.1f s", ids.count, (ContinuousClock.now - started).seconds))

        let marketing = try await feedback(stack, issuer: issuer, subject: "marketing", roles: [Role.marketing])
        try await FeedbackDataSet.importAnswers(marketing: marketing, accounts: ids, answers: answers)
    }

    // MARK: Measuring

    func measure(_ stack: ServiceStack, issuer: TokenIssuer) async throws {
        let bytes = (try? FileManager.default.attributesOfItem(atPath: "\(data)/feedback.sqlite")[.size] as? Int) ?? 0
        let (answered, rollup) = try await DatabaseQueue(path: "\(data)/feedback.sqlite").read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM survey WHERE state = 3")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM nps_rollup")!)
        }
        print(String(format: "data set: %d answered surveys, %d running-total rows; feedback.sqlite %.2f GB", answered, rollup, Double(bytes) / 1e9))
        print("durability FULL (synchronous=FULL, WAL) for every measurement")
        let marketing = try await feedback(stack, issuer: issuer, subject: "marketing", roles: [Role.marketing])

        // 1. NPS by region and month.
        let single = LoadShape(connections: 1, concurrency: 1, duration: duration, warmup: 2, payloadBytes: 0)
        let overall = try await marketing.getNps(.with { $0.groupBy = [.region, .month] })
        print(String(format: "nps:    %d answers, NPS %.2f, %d groups (region × month)", overall.overall.responses, overall.nps, overall.groups.count))
        print((await drive(single) { _ in
            _ = try await marketing.getNps(.with { $0.groupBy = [.region, .month] })
        }).line(name: "C=1") + "   GetNps by region and month, all time (the running totals)")
        let quarter = Date().addingTimeInterval(-91 * 86_400)
        print((await drive(LoadShape(connections: 1, concurrency: 1, duration: duration / 2, warmup: 1, payloadBytes: 0)) { _ in
            _ = try await marketing.getNps(.with { $0.groupBy = [.region, .month]; $0.from = .init(date: quarter) })
        }).line(name: "C=1") + "   GetNps by region and month, the last 91 days (a range inside months: counts the answers)")

        // 2. Customers answering through the public page: fresh surveys, their links.
        var settings = try await marketing.getFeedbackSettings(.init()).settings
        if settings.contactQuietDays != 0 || settings.accountQuietDays != 0 {
            settings.contactQuietDays = 0
            settings.accountQuietDays = 0
            settings = try await marketing.updateFeedbackSettings(.with { $0.settings = settings }).settings
        }
        let ids = try await DatabaseQueue(path: "\(data)/accounts.sqlite").read { db in try String.fetchAll(db, sql: "SELECT id FROM account ORDER BY id") }
        var started = ContinuousClock.now
        var made: [String] = []
        for round in 0..<(surveys / ids.count) {
            made.append(try await marketing.createCampaign(.with {
                $0.campaign = .with { $0.name = "bench \(Date().timeIntervalSince1970) #\(round)"; $0.kind = .nps; $0.accountIds = ids }
            }, options: CallOptions(timeout: .seconds(120))).campaign.id)
        }
        let campaigns = made
        let total = campaigns.count * ids.count
        var sent = 0
        while sent < total {
            try await Task.sleep(for: .seconds(1))
            sent = try await DatabaseQueue(path: "\(data)/feedback.sqlite").read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM survey WHERE campaign_id IN (\(databaseQuestionMarks(count: campaigns.count))) AND state = 2",
                                 arguments: StatementArguments(campaigns))!
            }
        }
        print(String(format: "sent:   %d surveys in %d campaigns, invitations queued, in %.1f s (the send jobs: fatigue rules, link, e-mail request, reminder and expiry jobs)",
                     total, campaigns.count, (ContinuousClock.now - started).seconds))
        let surveyIDs = try await DatabaseQueue(path: "\(data)/feedback.sqlite").read { db in
            try String.fetchAll(db, sql: "SELECT id FROM survey WHERE campaign_id IN (\(databaseQuestionMarks(count: campaigns.count))) AND state = 2",
                                arguments: StatementArguments(campaigns))
        }
        started = ContinuousClock.now
        let links = try await withThrowingTaskGroup(of: [String].self) { group in
            for part in 0..<8 {
                group.addTask {
                    var paths: [String] = []
                    for index in stride(from: part, to: surveyIDs.count, by: 8) {
                        paths.append(try await marketing.getSurveyLink(.with { $0.id = surveyIDs[index] }).path)
                    }
                    return paths
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        print(String(format: "links:  %d one-time links read in %.1f s", links.count, (ContinuousClock.now - started).seconds))

        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(connectionPool: .init(idleTimeout: .seconds(60))))
        let next = Counter()
        let base = "http://127.0.0.1:\(portBase + 1000)"
        for customers in concurrency.split(separator: ",").compactMap({ Int($0) }) {
            let load = LoadShape(connections: customers, concurrency: customers, duration: duration, warmup: 2, payloadBytes: 0)
            let result = await drive(load) { _ in
                let index = next.value.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < links.count else { throw ValidationError("out of links") }
                var request = HTTPClientRequest(url: base + links[index])
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                let score = [10, 9, 8, 7, 3, 9, 10, 6][index % 8]
                request.body = .bytes(ByteBuffer(string: "score=\(score)&comment=%E4%BA%A4%E6%9C%9F%E5%A4%AA%E9%95%BF"))
                let response = try await http.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 20)
                guard response.status == .ok else { throw ValidationError("HTTP \(response.status)") }
            }
            print(result.line(name: "C=\(customers)") + "   POST /s/<token>: a customer's answer through the public page (gateway → AnswerSurvey, durable)")
        }
        let getOne = Counter()
        print((await drive(single) { _ in
            let index = getOne.value.wrappingAdd(1, ordering: .relaxed).oldValue % links.count
            let response = try await http.execute(HTTPClientRequest(url: base + links[index]), timeout: .seconds(10))
            _ = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else { throw ValidationError("HTTP \(response.status)") }
        }).line(name: "C=1") + "   GET /s/<token>: the survey page (or its answered page)")
        try await http.shutdown()
    }
}
