import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// The feedback part of the demo: seed 003's NPS survey as the previous tool recorded it (137
/// answers two to three months ago: 66 promoters, 49 passives, 22 detractors, an NPS of 32),
/// a CSAT answer after a service visit from every customer that survey missed,
/// customers' ideas on the board, and three surveys sent this week to rep-01's customers — one
/// answered by a detractor (an open follow-up case for rep-01), one by a promoter (thanked and
/// invited), one still open. Imports go by key and surveys by idempotency key, so an
/// interrupted load finishes without doubles.
struct FeedbackDemoData {
    let issuer: TokenIssuer

    static let seedCounts = (promoters: 66, passives: 49, detractors: 22)

    /// When seed 003's answers were given: the month that ended 60 days before `now`.
    static func seedWindow(now: Date) -> (from: Date, to: Date) {
        (now.addingTimeInterval(-90 * 86_400), now.addingTimeInterval(-60 * 86_400))
    }

    static let comments: [Forge_Feedback_V1_ScoreClass: [String]] = [
        .promoter: ["设备稳定，精度保持得很好", "售后工程师响应快，技术过硬", "交货准时，安装调试一次通过", "性价比高，已推荐给同行", ""],
        .passive: ["整体还行，说明书能再详细些", "价格偏高，但质量可靠", "服务不错，备件交期有点长", ""],
        .detractor: ["交期一拖再拖，没人主动通知", "主轴异响，维修等了一周", "报价太贵，折扣谈了很久", "说明书只有英文版，操作工看不懂"],
    ]

    func load(accounts: [DemoData.Account], accountsClient: Forge_Accounts_V1_AccountsClient, now: Date,
              progress: (DemoData.Progress) -> Void) async throws -> (answers: Int, followUps: Int) {
        guard !accounts.isEmpty else { return (0, 0) }
        let marketing = try await issuer.issue(subject: "marketing", roles: [Role.marketing], ttl: 3600)
        let wire = try WireClient(address: StackLayout.address(of: "feedback"), interceptors: [BearerTokenInterceptor(token: marketing)])
        defer { Task { await wire.close() } }
        let feedback = Forge_Feedback_V1_FeedbackClient(channel: wire)

        // Seed 003's survey, shuffled over a month and the customers.
        var random = SeededRandom(seed: 20261203)
        var classes = Array(repeating: Forge_Feedback_V1_ScoreClass.promoter, count: Self.seedCounts.promoters)
            + Array(repeating: .passive, count: Self.seedCounts.passives) + Array(repeating: .detractor, count: Self.seedCounts.detractors)
        for index in stride(from: classes.count - 1, to: 0, by: -1) { classes.swapAt(index, random.next(index + 1)) }
        let window = Self.seedWindow(now: now)
        let seed003: [Forge_Feedback_V1_ImportedAnswer] = classes.enumerated().map { index, scoreClass in
            let account = accounts[(index * 7) % accounts.count]
            let score: Int32 = switch scoreClass {
            case .promoter: Int32(9 + random.next(2))
            case .passive: Int32(7 + random.next(2))
            default: Int32(random.next(7))
            }
            let pool = Self.comments[scoreClass] ?? [""]
            return .with {
                $0.key = "seed003-\(index + 1)"
                $0.accountID = account.id
                $0.kind = .nps
                $0.score = score
                $0.comment = pool[random.next(pool.count)]
                $0.answeredAt = .init(date: window.from.addingTimeInterval(Double(index) / Double(classes.count) * window.to.timeIntervalSince(window.from)))
                $0.channel = .phone
                $0.productLine = account.productLine
            }
        }
        // Every other customer answered the CSAT question after its last service visit this
        // year (mostly satisfied): no customer without a word on record.
        let surveyed = Set(seed003.map(\.accountID))
        let csatComments = ["工程师很专业，一次修好", "响应及时", "备件等了三天", "", "希望提前电话告知上门时间"]
        let csat: [Forge_Feedback_V1_ImportedAnswer] = accounts.enumerated().filter { !surveyed.contains($0.element.id) }.map { index, account in
            .with {
                $0.key = "csat-\(index + 1)"
                $0.accountID = account.id
                $0.kind = .csat
                $0.score = Int32([5, 5, 4, 4, 4, 3, 5, 2][random.next(8)])
                $0.comment = csatComments[random.next(csatComments.count)]
                $0.answeredAt = .init(date: now.addingTimeInterval(-Double(10 + random.next(200)) * 86_400))
                $0.channel = .wechat
                $0.productLine = account.productLine
            }
        }
        let answers = seed003 + csat
        // forge-feedback learns the accounts from their feed: until it has, the answers are
        // refused as unknown accounts and sent again (each once, by key).
        var recorded = 0
        for attempt in 0..<600 {
            try Task.checkCancellation()
            let result = try await feedback.importAnswers(.with { $0.answers = answers })
            recorded += Int(result.recorded)
            if result.rejected.isEmpty { break }
            if attempt == 599 { throw RPCError(.unavailable, "forge-feedback has not received the demo accounts after 30 s: \(result.rejected.prefix(3))") }
            try await Task.sleep(for: .milliseconds(50))
        }
        progress(.init(step: "survey answers", done: answers.count, total: answers.count))

        // Ideas from customers, some with votes from others.
        let ideas: [(title: String, line: String, status: Forge_Feedback_V1_IdeaStatus, note: String)] = [
            ("主轴温度超限时短信报警", "加工中心", .planned, ""),
            ("操作面板提供中文说明书和视频教程", "加工中心", .shipped, "2026 年 11 月起随机附带中文手册与视频"),
            ("备件在线下单，显示库存和到货时间", "注塑机", .underReview, ""),
            ("刀库换刀时间缩短到 2 秒以内", "加工中心", .new, ""),
            ("液压站噪音再降低 5 分贝", "液压机", .declined, "当前泵组已是行业最低噪音水平，明年评估新型泵"),
        ]
        for (index, idea) in ideas.enumerated() {
            let account = accounts[(index * 11) % accounts.count]
            let created = try await feedback.submitIdea(.with {
                $0.idea = .with { $0.accountID = account.id; $0.title = idea.title; $0.category = index % 2 == 0 ? .improvement : .newNeed; $0.productLine = idea.line }
            }, options: CallOptions(idempotencyKey: "demo-idea-\(index)")).idea
            for voter in 1..<(2 + index % 3) {
                _ = try await feedback.voteIdea(.with { $0.id = created.id; $0.accountID = accounts[(index * 11 + voter * 5) % accounts.count].id },
                                                options: CallOptions(idempotencyKey: "demo-idea-\(index)-vote-\(voter)"))
            }
            var current = created
            let path: [Forge_Feedback_V1_IdeaStatus] = switch idea.status {
            case .underReview: [.underReview]
            case .planned: [.underReview, .planned]
            case .shipped: [.underReview, .planned, .shipped]
            case .declined: [.declined]
            default: []
            }
            for (step, status) in path.enumerated() where current.status != status && (IdeaStatusOrder.rank[current.status] ?? 0) < (IdeaStatusOrder.rank[status] ?? 0) {
                current = try await feedback.updateIdeaStatus(.with {
                    $0.id = created.id
                    $0.status = status
                    $0.note = status == idea.status ? idea.note : ""
                }, options: CallOptions(idempotencyKey: "demo-idea-\(index)-status-\(step)")).idea
            }
        }

        // This week: three surveys to rep-01's customers, answered through their links.
        let page = try await issuer.issue(subject: "gateway-survey-page", roles: [Role.service], ttl: 3600)
        let pageWire = try WireClient(address: StackLayout.address(of: "feedback"), interceptors: [BearerTokenInterceptor(token: page)])
        defer { Task { await pageWire.close() } }
        let publicPage = Forge_Feedback_V1_FeedbackClient(channel: pageWire)
        let live: [(score: Int32?, comment: String)] = [(3, "交期延误了两周，没人主动通知我们，生产计划全乱了"), (10, "新设备精度很好，工程师培训很到位"), (nil, "")]
        var followUps = 0
        for (index, account) in accounts.filter({ $0.owner == "rep-01" }).prefix(live.count).enumerated() {
            let contacts = try await accountsClient.listContacts(.with { $0.accountID = account.id; $0.page.pageSize = 10 }).contacts
            guard let contact = contacts.first(where: \.marketingConsent) ?? contacts.first else { continue }
            var survey: Forge_Feedback_V1_Survey?
            for _ in 0..<600 where survey == nil {
                do {
                    survey = try await feedback.scheduleSurvey(.with { $0.survey = .with { $0.accountID = account.id; $0.contactID = contact.id; $0.kind = .nps } },
                                                               options: CallOptions(idempotencyKey: "demo-live-survey-\(index)")).survey
                } catch let error as RPCError where error.code == .invalidArgument {
                    try await Task.sleep(for: .milliseconds(50))  // the contact is not in feedback's copy yet
                }
            }
            guard let survey, let score = live[index].score else { continue }
            // The send job runs within a moment; then the link is open.
            var link = ""
            for _ in 0..<600 where link.isEmpty {
                do {
                    link = try await feedback.getSurveyLink(.with { $0.id = survey.id }).path
                } catch let error as RPCError where error.code == .failedPrecondition {
                    let state = try await feedback.getSurvey(.with { $0.id = survey.id }).survey.state
                    if state == .skipped || state == .answered { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            guard link.hasPrefix("/s/") else { continue }
            do {
                _ = try await publicPage.answerSurvey(.with { $0.surveyToken = String(link.dropFirst(3)); $0.score = score; $0.comment = live[index].comment; $0.channel = .link })
            } catch let error as RPCError where error.code == .failedPrecondition {
                // Answered by a load that was interrupted.
            }
            if score <= 6 { followUps += 1 }
        }
        progress(.init(step: "surveys and ideas", done: 1, total: 1))
        return (recorded > 0 ? recorded : answers.count, followUps)
    }

    /// How far along an idea's status is (the demo moves each forward only).
    enum IdeaStatusOrder {
        static let rank: [Forge_Feedback_V1_IdeaStatus: Int] = [.new: 0, .underReview: 1, .planned: 2, .shipped: 3, .declined: 3]
    }
}
