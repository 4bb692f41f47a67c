import ArgumentParser
import ForgeContracts
import ForgeWire
import Foundation

/// NPS answers at the size of issue 16 on the given accounts: two years of them through
/// `ImportAnswers`, 1,000 a call (each a survey row, its running-total move, its search entry
/// and a `SurveyAnswered` event). Used by FeedbackBench and by GatewayBench's full data set.
public enum FeedbackDataSet {
    public static let comments = ["", "", "设备稳定，服务及时", "交期太长", "价格偏高", "说明书不够详细", "工程师响应快", "主轴异响，维修慢"]

    public static func importAnswers(marketing: Forge_Feedback_V1_FeedbackClient, accounts: [String], answers: Int) async throws {
        let now = Date()
        var random = SystemRandomNumberGenerator()
        let importStarted = ContinuousClock.now
        for batch in 0..<(answers / 1_000) {
            let result = try await marketing.importAnswers(.with {
                $0.answers = (0..<1_000).map { n in
                    let index = batch * 1_000 + n
                    let score = Int32([10, 9, 9, 8, 7, 10, 6, 4, 9, 8, 2][Int.random(in: 0..<11, using: &random)])
                    return .with {
                        $0.key = "bench-\(index)"
                        $0.accountID = accounts[index % accounts.count]
                        $0.kind = .nps
                        $0.score = score
                        $0.comment = comments[index % comments.count]
                        $0.answeredAt = .init(date: now.addingTimeInterval(-Double(index) / Double(answers) * 730 * 86_400 - 3600))
                        $0.channel = .phone
                    }
                }
            }, options: CallOptions(timeout: .seconds(120)))
            guard result.rejected.isEmpty else { throw ValidationError("rejected: \(result.rejected.prefix(3))") }
            if batch % 100 == 99 { print(String(format: "seed: %d answers in %.0f s", (batch + 1) * 1_000, (ContinuousClock.now - importStarted).seconds)) }
        }
    }
}
