import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// The generated customers of a machinery maker: 40 cities × 50 × 50 two-character words give
/// 100,000 distinct company names; owners rep-000…rep-199 in teams team-00…team-19.
public enum AccountsDataSet {
    public static let cities: [String] = ["上海", "苏州", "无锡", "常州", "南京", "杭州", "宁波", "温州", "嘉兴", "绍兴",
                                   "合肥", "芜湖", "济南", "青岛", "烟台", "潍坊", "广州", "深圳", "东莞", "佛山",
                                   "厦门", "福州", "北京", "天津", "石家庄", "唐山", "武汉", "长沙", "郑州", "洛阳",
                                   "成都", "重庆", "西安", "兰州", "沈阳", "大连", "长春", "哈尔滨", "昆明", "南宁"]
    public static let first: [String] = ["精密", "重型", "华东", "宏达", "恒信", "中联", "东方", "华力", "远大", "金鼎",
                                  "永信", "天成", "瑞丰", "鑫源", "联合", "博瑞", "众诚", "同创", "海德", "安泰",
                                  "隆盛", "兴业", "弘毅", "德邦", "汇川", "明阳", "锐达", "凯盛", "鼎力", "昌盛",
                                  "万通", "新华", "正泰", "通用", "盛达", "宝成", "华宇", "卓越", "腾飞", "力拓",
                                  "光明", "长城", "振华", "嘉和", "富士", "银河", "晨光", "三元", "九州", "泰山"]
    public static let second: [String] = ["机械", "机床", "模具", "液压", "电机", "轴承", "铸造", "锻压", "泵阀", "齿轮",
                                   "电子", "仪表", "焊接", "钣金", "传动", "数控", "刀具", "密封", "涂装", "热处理",
                                   "汽配", "重工", "智能", "自动化", "电气", "工程", "机电", "装备", "新材", "化工",
                                   "塑胶", "橡胶", "五金", "精工", "压缩机", "风机", "阀门", "管件", "线缆", "变压器",
                                   "机器人", "激光", "光电", "包装", "冶金", "矿山", "船舶", "航空", "汽车", "农机"]
    public static let industries = ["汽车零部件", "工程机械", "航空航天", "电子元器件", "化工", "模具"]
    public static let regions = ["华东", "华南", "华北", "华中", "西南", "西北", "东北"]
    public static let accountHeader = ["客户名称", "统一社会信用代码", "行业", "区域", "价值等级", "客户层级", "负责人", "团队", "标签"]

    public static func accountNames(count: Int) -> [String] {
        var names: [String] = []
        names.reserveCapacity(count)
        outer: for city in cities {
            for a in first {
                for b in second {
                    guard names.count < count else { break outer }
                    names.append("\(city)\(a)\(b)有限公司")
                }
            }
        }
        return names
    }

    public static func accountBatch(names: [String], range: Range<Int>, importID: String) -> Forge_Common_V1_ImportRequest {
        .with {
            $0.importID = importID
            $0.header = accountHeader
            $0.rows = range.map { index in
                .with {
                    $0.line = Int32(index + 2)
                    $0.values = accountRow(name: names[index], index: index)
                }
            }
        }
    }

    /// A Shanghai unified social credit code numbered by `index`, with its check character.
    public static func unifiedSocialCreditCode(_ index: Int) -> String {
        let body = "9131" + String(format: "%013d", index)
        let values = body.map { character in TaxID.codeCharacters.firstIndex(of: character)! }
        return body + String(TaxID.checkCharacter(of: values))
    }

    public static func accountRow(name: String, index: Int) -> [String] {
        let owner = index % 200
        return [
            name,
            index % 2 == 0 ? unifiedSocialCreditCode(index) : "",
            industries[index % industries.count],
            regions[index % regions.count],
            ["A", "B", "C"][index % 3],
            ["核心", "潜力", "一般", "边缘"][index % 4],
            String(format: "rep-%03d", owner),
            String(format: "team-%02d", owner % 20),
            index % 10 == 0 ? "展会:2026汉诺威" : "",
        ]
    }

    /// New rows for the import measurement; every tenth repeats an existing account's name.
    public static func importRows(count: Int, existing: [String]) -> [Forge_Common_V1_ImportRow] {
        (0..<count).map { index in
            let name = index % 10 == 0 ? existing[(index * 7919) % existing.count] : "新客户\(index)号精工\(UUID().uuidString.prefix(6))"
            var values = accountRow(name: name, index: index)
            values[1] = ""
            return .with {
                $0.line = Int32(index + 2)
                $0.values = values
            }
        }
    }

    public static func contactRows(accountIDs: [String], perAccount: Int) -> [Forge_Common_V1_ImportRow] {
        let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"]
        let titles = [("采购经理", "采购"), ("技术总监", "研发"), ("质量主管", "质量"), ("生产经理", "生产"), ("总经理", "管理"), ("财务经理", "财务")]
        var rows: [Forge_Common_V1_ImportRow] = []
        rows.reserveCapacity(accountIDs.count * perAccount)
        for (index, id) in accountIDs.enumerated() {
            for person in 0..<perAccount {
                let n = index * perAccount + person
                let (title, department) = titles[n % titles.count]
                rows.append(.with {
                    $0.line = Int32(n + 2)
                    $0.values = [id, "\(surnames[n % surnames.count])工\(n)", title, department,
                                 "139" + String(format: "%08d", n), "c\(n)@customer\(index).cn"]
                })
            }
        }
        return rows
    }

    /// Seeds an empty forge-accounts through its own RPCs: `accounts` companies
    /// (`ImportAccounts`, 1,000 a call), their contacts (`ImportContacts`) and a year of
    /// activities spread over them (`LogActivities`, 500 a call, four in flight: each a row, its
    /// full-text entry, the stale-account job and an event). Returns the accounts' ids in order.
    public static func seed(admin: Forge_Accounts_V1_AccountsClient, accounts: Int, contactsPerAccount: Int, activitiesPerAccount: Int) async throws -> [String] {
        let names = accountNames(count: accounts)
        var ids: [String] = []
        ids.reserveCapacity(accounts)
        var started = ContinuousClock.now
        for start in stride(from: 0, to: accounts, by: 1000) {
            let response = try await admin.importAccounts(accountBatch(names: names, range: start..<min(start + 1000, accounts), importID: "seed-accounts"),
                                                          options: CallOptions(timeout: .seconds(120)))
            ids += response.results.map(\.id)
        }
        var seconds = (ContinuousClock.now - started).seconds
        print(String(format: "seed: %d accounts through ImportAccounts in %.1f s = %.0f rows/s (empty database growing to full size)", accounts, seconds, Double(accounts) / seconds))

        started = ContinuousClock.now
        let contacts = contactRows(accountIDs: ids, perAccount: contactsPerAccount)
        for start in stride(from: 0, to: contacts.count, by: 1000) {
            _ = try await admin.importContacts(.with {
                $0.importID = "seed-contacts"
                $0.header = ["account_id", "姓名", "职务", "部门", "手机", "邮箱"]
                $0.rows = Array(contacts[start..<min(start + 1000, contacts.count)])
            }, options: CallOptions(timeout: .seconds(120)))
        }
        seconds = (ContinuousClock.now - started).seconds
        print(String(format: "seed: %d contacts through ImportContacts in %.1f s = %.0f rows/s", contacts.count, seconds, Double(contacts.count) / seconds))

        started = ContinuousClock.now
        let total = accounts * activitiesPerAccount
        let accountIDs = ids
        let year: TimeInterval = 365 * 86_400
        let now = Date()
        try await inParallel(workers: 4, total: total, chunk: 500) { range in
            let batch = range.map { index in
                var random = SplitMix(seed: UInt64(index))
                return activity(index: index, accountID: accountIDs[index % accountIDs.count],
                                at: now - year + Double(index) / Double(total) * year, random: &random)
            }
            _ = try await admin.logActivities(.with { $0.activities = batch }, options: CallOptions(timeout: .seconds(120)))
            if range.lowerBound % 200_000 == 0, range.lowerBound > 0 { print("seed: \(range.lowerBound) activities") }
        }
        seconds = (ContinuousClock.now - started).seconds
        print(String(format: "seed: %d activities through LogActivities (500 a call, C=4) in %.1f s = %.0f rows/s", total, seconds, Double(total) / seconds))
        return ids
    }

    public static let subjects = ["拜访：设备运行情况", "电话：交期确认", "微信：样品反馈", "会议：技术方案评审", "季度业务回顾", "现场勘查", "报价跟进", "售后回访"]
    public static let bodies = [
        "客户反映现有设备运行稳定，计划明年扩产，需要提前准备产能方案。",
        "对方采购询问交货周期，已承诺三周内发货，需协调生产排期。",
        "样品测试通过，客户质量部门要求补充材质证明和检测报告。",
        "技术交流会上客户关注能耗指标，建议下次带应用工程师一起拜访。",
        "客户对售后响应速度有意见，上次故障等待了两天，需要改进。",
        "竞争对手报价更低，客户希望我们在付款条件上给予更多灵活性。",
    ]

    /// 1% of notes mention 耐高温材料, 20% an 报价单.
    public static func activity(index: Int, accountID: String, at date: Date, random: inout SplitMix) -> Forge_Accounts_V1_Activity {
        var body = random.pick(bodies)
        if index % 100 == 7 { body += "客户特别询问耐高温材料的供货能力和价格。" }
        if index % 5 == 1 { body += "已发送最新报价单，等待客户确认。" }
        return .with {
            $0.accountID = accountID
            $0.kind = Forge_Accounts_V1_ActivityKind(rawValue: Int(random.next() % 8) + 1) ?? .note
            $0.subject = random.pick(subjects)
            $0.body = body
            $0.occurredAt = .init(date: date)
        }
    }
}

/// A small deterministic generator, so every run seeds the same data.
public struct SplitMix: Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func pick<T>(_ values: [T]) -> T { values[Int(next() % UInt64(values.count))] }
}
