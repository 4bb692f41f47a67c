import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// Demo data for a local stack: a mid-size machinery maker's customers — Chinese company names
/// in every region, contacts across departments, and a year of activities — written through the
/// real RPCs. Deterministic (seeded), so every fresh stack looks the same.
struct DemoData {
    var accounts = 300

    private static let cities: [(city: String, region: String)] = [
        ("上海", "华东"), ("苏州", "华东"), ("无锡", "华东"), ("常州", "华东"), ("宁波", "华东"), ("杭州", "华东"), ("南京", "华东"), ("青岛", "华东"),
        ("深圳", "华南"), ("东莞", "华南"), ("佛山", "华南"), ("广州", "华南"), ("厦门", "华南"),
        ("北京", "华北"), ("天津", "华北"), ("石家庄", "华北"), ("太原", "华北"),
        ("武汉", "华中"), ("长沙", "华中"), ("郑州", "华中"),
        ("成都", "西南"), ("重庆", "西南"), ("昆明", "西南"),
        ("西安", "西北"), ("兰州", "西北"),
        ("沈阳", "东北"), ("大连", "东北"), ("哈尔滨", "东北"), ("长春", "东北"),
    ]
    private static let industries: [(industry: String, words: [String])] = [
        ("汽车零部件", ["汽车零部件", "精密齿轮", "底盘系统", "转向器"]),
        ("工程机械", ["重工", "工程机械", "液压", "起重设备"]),
        ("航空航天", ["航空部件", "航天精密", "航空材料"]),
        ("电子元器件", ["电子", "精密电子", "连接器", "半导体封装"]),
        ("化工", ["化工", "新材料", "涂料"]),
        ("模具", ["模具", "精密模具", "压铸"]),
    ]
    private static let suffixes = ["有限公司", "股份有限公司", "制造有限公司", "科技有限公司", "集团有限公司"]
    private static let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾")
    private static let givenNames = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超", "霞", "平", "刚"]
    private static let teams = ["east", "south", "north", "west"]
    private static let notes = [
        "客户询问耐高温材料的样品和交期", "讨论年度框架协议和阶梯价格", "现场查看设备运行情况，主轴温度偏高",
        "技术交流：新产线的自动化方案", "回访上月交付的设备，客户满意", "对方采购提出付款周期延长到90天",
        "质量部反馈一批零件尺寸超差，需要8D报告", "邀请客户参加季度业务回顾(QBR)", "竞争对手报价低15%，需要准备方案",
        "客户计划明年扩产，可能新增三台加工中心",
    ]

    /// How much of the demo data is written, for the progress line.
    struct Progress: Sendable {
        var step: String
        var done: Int
        var total: Int
    }

    /// Writes the demo data through the batch RPCs (ImportAccounts, ImportContacts,
    /// LogActivities): a handful of calls instead of one per record. Safe to run again after an
    /// interruption: imports answer a repeated (import id, line) with what they did before and
    /// the activity batches carry idempotency keys, so nothing is written twice.
    /// Returns how many accounts, contacts and activities there are.
    /// A demo account as pipeline's demo data needs it.
    struct Account: Sendable {
        let id: String
        let name: String
        let region: String
        let owner: String
        let team: String
        let productLine: String
    }

    func load(into client: Forge_Accounts_V1_AccountsClient, now: Date, progress: (Progress) -> Void = { _ in }) async throws
        -> (accounts: [Account], contacts: Int, activities: Int)
    {
        var random = SeededRandom(seed: 20261123)
        let accountRows = accountRows(&random)
        let accountResults = try await Self.importInBatches(accountRows, of: 100, as: "accounts", header: Self.accountHeader, progress: progress) {
            try await client.importAccounts($0, options: $1)
        }
        let accountIDs = try accountResults.map { result in
            guard Self.imported.contains(result.status) else { throw DemoDataError(what: "account line \(result.line)", result: result) }
            return result.id
        }

        let contactRows = contactRows(accounts: accountIDs, &random)
        let contactResults = try await Self.importInBatches(contactRows, of: 500, as: "contacts", header: Self.contactHeader, progress: progress) {
            try await client.importContacts($0, options: $1)
        }
        // A generated phone that repeats is the same person to the import: not a second contact.
        let contacts = contactResults.filter { Self.imported.contains($0.status) }.count

        let activities = activities(accounts: accountIDs, now: now, &random)
        var logged = 0
        for (index, batch) in activities.chunked(into: 1_000).enumerated() {
            let response = try await client.logActivities(.with { $0.activities = batch },
                                                          options: CallOptions(timeout: .seconds(60), idempotencyKey: "demo-activities-\(index)"))
            logged += response.activityIds.count
            progress(Progress(step: "activities", done: logged, total: activities.count))
        }

        for (index, segment) in Self.segments.enumerated() {
            do {
                _ = try await client.createSegment(.with { $0.segment = segment }, options: CallOptions(idempotencyKey: "demo-segment-\(index)"))
            } catch let error as RPCError where error.code == .alreadyExists {
                // Created by an interrupted earlier run whose idempotency record has expired.
            }
        }
        let accounts = zip(accountIDs, accountRows).map { id, row in
            Account(id: id, name: row.values[0], region: row.values[2], owner: row.values[7], team: row.values[8],
                    productLine: row.values[12].split(separator: ";").first.map { String($0.dropFirst("产品线:".count)) } ?? "")
        }
        return (accounts, contacts, logged)
    }

    /// The outcomes of an import row that leave a record behind.
    static let imported: Set<Forge_Common_V1_ImportStatus> = [.created, .updated, .unchanged]

    /// Sends `rows` through an import RPC in batches (import id `demo-<step>`, an idempotency key
    /// per batch) and reports progress after each; returns every row's result.
    static func importInBatches(
        _ rows: [Forge_Common_V1_ImportRow], of size: Int, as step: String, header: [String], progress: (Progress) -> Void,
        call: (Forge_Common_V1_ImportRequest, CallOptions) async throws -> Forge_Common_V1_ImportResponse
    ) async throws -> [Forge_Common_V1_ImportRowResult] {
        var results: [Forge_Common_V1_ImportRowResult] = []
        for (index, batch) in rows.chunked(into: size).enumerated() {
            let request = Forge_Common_V1_ImportRequest.with {
                $0.importID = "demo-\(step)"
                $0.header = header
                $0.rows = batch
            }
            results += try await call(request, CallOptions(timeout: .seconds(60), idempotencyKey: "demo-\(step)-\(index)")).results
            progress(Progress(step: step, done: results.count, total: rows.count))
        }
        return results
    }

    static let accountHeader = ["name", "industry", "region", "address", "stage", "grade", "tier", "owner_id", "team", "size",
                                "industry_showcase", "brings_partners", "tags", "marketing_consent", "credit_rating", "credit_limit"]

    /// One import row per demo account; names distinct after normalisation, so none is taken
    /// for a duplicate of another.
    private func accountRows(_ random: inout SeededRandom) -> [Forge_Common_V1_ImportRow] {
        var usedNames = Set<String>()
        return (0..<accounts).map { index in
            let place = Self.cities[random.next(Self.cities.count)]
            let sector = Self.industries[random.next(Self.industries.count)]
            var name = place.city + sector.words[random.next(sector.words.count)] + Self.suffixes[random.next(Self.suffixes.count)]
            if !usedNames.insert(NameNormalizer.normalize(name)).inserted {
                name = place.city + "第\(index)" + sector.words[0] + "有限公司"
                usedNames.insert(NameNormalizer.normalize(name))
            }
            let yes = { (flag: Bool) in flag ? "yes" : "no" }
            var tags = "产品线:" + ["加工中心", "数控车床", "激光切割", "注塑机"][random.next(4)]
            let values = [
                name, sector.industry, place.region, "\(place.city)市经济技术开发区\(random.next(200) + 1)号",
                // Every demo account bought from ERP's history; one that has bought nothing for a
                // year or more (the last six of every twenty) may have gone elsewhere.
                random.next(6) < 3 && index % 20 >= 14 ? "churned" : "customer",
                Self.grade(index: index, &random),
                ["core", "potential", "regular", "regular", "marginal"][random.next(5)],
                String(format: "rep-%02d", random.next(12) + 1),
                Self.teams[random.next(Self.teams.count)],
                ["small", "medium", "medium", "large"][random.next(4)],
                yes(random.next(15) == 0), yes(random.next(10) == 0),
            ]
            if random.next(5) == 0 { tags += "; 展会:2026汉诺威" }
            let rest = [tags, yes(random.next(3) > 0), ["AAA", "AA", "A", "BBB"][random.next(4)], "\(50 + random.next(450))万"]
            return .with {
                $0.line = Int32(index + 2)
                $0.values = values + rest
            }
        }
    }

    static let contactHeader = ["account_id", "name", "department", "title", "buying_role", "relationship_strength", "phone", "marketing_consent"]

    /// Two to four contacts per account, across its departments.
    private func contactRows(accounts: [String], _ random: inout SeededRandom) -> [Forge_Common_V1_ImportRow] {
        var rows: [Forge_Common_V1_ImportRow] = []
        for (index, accountID) in accounts.enumerated() {
            for contactIndex in 0..<(2 + random.next(3)) {
                let person = String(Self.surnames[random.next(Self.surnames.count)]) + Self.givenNames[random.next(Self.givenNames.count)]
                let values = [
                    accountID, person,
                    ["procurement", "r&d", "quality", "operations", "management"][(contactIndex + index) % 5],
                    ["采购经理", "研发工程师", "质量主管", "生产总监", "总经理"][(contactIndex + index) % 5],
                    ["decision maker", "influencer", "user", "gatekeeper", "champion"][random.next(5)],
                    "\(1 + random.next(5))",
                    "13\(random.next(10))\(String(format: "%08d", random.next(100_000_000)))",
                    random.next(3) > 0 ? "yes" : "no",
                ]
                rows.append(.with {
                    $0.line = Int32(rows.count + 2)
                    $0.values = values
                })
            }
        }
        return rows
    }

    static let activityKinds: [(Forge_Accounts_V1_ActivityKind, String)] = [
        (.visit, "拜访"), (.call, "电话沟通"), (.email, "邮件跟进"), (.wechat, "微信沟通"), (.meeting, "会议"), (.qbr, "季度业务回顾"),
        (.siteVisit, "现场支持"), (.note, "备注"),
    ]

    /// The customer's grade as its purchases earn it (the same index decides loyalty's tier
    /// from ERP's history: gold A, silver mostly A, bronze B, no purchases this year C).
    static func grade(index: Int, _ random: inout SeededRandom) -> String {
        let roll = random.next(5)
        switch index % 20 {
        case 0, 1, 2: return "A"
        case 3...6: return roll < 3 ? "A" : "B"
        case 7...13: return "B"
        default: return "C"
        }
    }

    /// Four to thirteen activities per account over the past year.
    private func activities(accounts: [String], now: Date, _ random: inout SeededRandom) -> [Forge_Accounts_V1_Activity] {
        accounts.flatMap { accountID in
            (0..<(4 + random.next(10))).map { _ in
                let daysAgo = Double(random.next(365))
                // The subject says what kind of contact it was.
                let (kind, subject) = Self.activityKinds[random.next(Self.activityKinds.count)]
                return Forge_Accounts_V1_Activity.with {
                    $0.accountID = accountID
                    $0.kind = kind
                    $0.subject = subject
                    $0.body = Self.notes[random.next(Self.notes.count)]
                    $0.occurredAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-daysAgo * 86400 - Double(random.next(36000))))
                }
            }
        }
    }

    /// Two target lists for precise communication.
    static let segments: [Forge_Accounts_V1_Segment] = [
        .with {
            $0.name = "汉诺威展会客户（可营销）"
            $0.description_p = "2026 汉诺威展会上接触、同意接收营销信息的客户"
            $0.filter = .with {
                $0.tags = ["展会:2026汉诺威"]
                $0.marketingConsentOnly = true
            }
        },
        .with {
            $0.name = "华东 A 类核心客户"
            $0.filter = .with {
                $0.regions = ["华东"]
                $0.grades = [.a]
                $0.tiers = [.core]
            }
        },
    ]
}

/// A demo row the service would not take: a bug in the demo data, said plainly.
struct DemoDataError: Error, CustomStringConvertible {
    let what: String
    let result: Forge_Common_V1_ImportRowResult

    var description: String {
        "demo data: \(what) was not imported (\(result.status)): \(result.reason) \(result.violations.map { "\($0.field) \($0.description_p)" }.joined(separator: "; "))"
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunked(into size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: size).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}

extension DemoData {
    /// The demo users' password (a local demo stack only).
    static let userPassword = "forge-demo-2026"

    /// People to sign in as: a sales manager and reps of the east team (owners rep-01…rep-12 of
    /// the demo accounts), an analyst, finance and marketing. Returns their usernames.
    static func users(into gateway: Forge_Gateway_V1_GatewayClient) async throws -> [String] {
        let people: [(String, String, [String], String)] = [
            ("mgr-east", "李经理 (华东销售经理)", [Role.salesManager], "east"),
            ("rep-01", "王小明", [Role.salesRep], "east"),
            ("rep-02", "赵丽", [Role.salesRep], "east"),
            ("mgr-south", "黄经理 (华南销售经理)", [Role.salesManager], "south"),
            ("mgr-north", "孙经理 (华北销售经理)", [Role.salesManager], "north"),
            ("mgr-west", "何经理 (西部销售经理)", [Role.salesManager], "west"),
            ("analyst", "陈分析", [Role.analyst], ""),
            ("finance", "周财务", [Role.finance], ""),
            ("marketing", "吴市场", [Role.marketing], ""),
            ("svc-mgr", "郑经理 (服务经理)", [Role.serviceManager], ""),
            ("eng-01", "张工 (华东服务工程师)", [Role.serviceEngineer], ""),
        ]
        // One at a time, while the rest of the demo data loads (Up): each password costs the
        // gateway an scrypt run, and a Ctrl-C has to wait for the one in flight.
        for (username, name, roles, team) in people {
            try Task.checkCancellation()
            do {
                _ = try await gateway.createUser(.with {
                    $0.user = .with {
                        $0.username = username
                        $0.displayName = name
                        $0.roles = roles
                        $0.team = team
                        $0.manager = roles == [Role.salesRep] ? "mgr-east" : ""
                    }
                    $0.password = userPassword
                }, options: CallOptions(timeout: .seconds(30), idempotencyKey: "demo-user-\(username)"))
            } catch let error as RPCError where error.code == .alreadyExists {
                // Created by an interrupted earlier run whose idempotency record has expired.
            }
        }
        return people.map(\.0)
    }
}

/// A small deterministic generator (SplitMix64): the same demo data on every machine.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next(_ upperBound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(upperBound))
    }
}
