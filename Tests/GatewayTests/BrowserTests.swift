import ForgeContracts
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import Testing

/// The web pages in headless Chromium (Debian's chromium + chromium-driver, Selenium from PyPI;
/// `.ci/run` installs them), against the real gateway and accounts processes.
@Suite("Web pages in a real browser", .serialized, .timeLimit(.minutes(2)))
struct BrowserTests {
    @Test("sign in, search, open the 360° page and check what it shows, edit the account")
    func signInSearchOpenEdit() async throws {
        let stack = try await GatewayProcessTests.start(portBase: 23100)
        defer { stack.killAll() }
        let admin = try await GatewayProcessTests.signIn(stack, "admin", GatewayProcessTests.adminPassword)
        _ = try await GatewayProcessTests.call(stack, "POST", "/api/v1/users", token: admin, body: """
            {"user":{"username":"rep-a","display_name":"张三","roles":["sales_rep"],"team":"east"},"password":"correct horse battery"}
            """)
        let rep = try await GatewayProcessTests.signIn(stack, "rep-a", "correct horse battery")
        let name = "苏州精密<img src=x onerror=\\\"window.__xss=true\\\">模具有限公司"
        let created = try await GatewayProcessTests.call(stack, "POST", "/api/v1/accounts", token: rep, body: #"{"account":{"name":"\#(name)","region":"华东"}}"#)
        #expect(created.status == 200, "\(created.body)")
        let id = try #require((created.json["account"] as? [String: Any])?["id"] as? String)
        _ = try await GatewayProcessTests.call(stack, "POST", "/api/v1/accounts/\(id)/contacts", token: rep, body: #"{"contact":{"name":"王工","title":"采购经理"}}"#)
        _ = try await GatewayProcessTests.call(stack, "POST", "/api/v1/accounts/\(id)/activities", token: rep,
                                               body: #"{"activity":{"kind":"ACTIVITY_KIND_VISIT","subject":"拜访","body":"客户询问耐高温材料"}}"#)

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Browser/web_pages.py").path
        let (status, output) = try await runPython([script, "http://127.0.0.1:\(stack.httpPort)", "rep-a", "correct horse battery", "苏州精密",
                                              "苏州精密<img src=x onerror=\"window.__xss=true\">模具有限公司"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("web pages ok"))
    }

    @Test("a rep captures and converts a lead, meets the solution-design gate, sends a quote and prints it; the board shows the deal")
    func pipelinePages() async throws {
        let (stack, _) = try await PipelineHTTPTests.start(portBase: 17100)
        defer { stack.killAll() }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Browser/pipeline_pages.py").path
        let (status, output) = try await runPython([script, "http://127.0.0.1:\(stack.httpPort)", "rep-a", "correct horse battery"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("pipeline pages ok"))
    }

    @Test("finance sees the receivables' ageing and an order's margin and records a payment that completes it; the rep sees the order without margins and no receivables")
    func orderPages() async throws {
        var stack = try await GatewayProcessTests.start(portBase: 14100)
        defer { stack.killAll() }
        try await stack.writeServiceToken()
        try stack.start("orders")
        #expect(await stack.waitUntilServing("orders"))
        let admin = try await GatewayProcessTests.signIn(stack, "admin", GatewayProcessTests.adminPassword)
        func call(_ method: String, _ path: String, _ body: String? = nil, as token: String) async throws -> [String: Any] {
            let reply = try await GatewayProcessTests.call(stack, method, path, token: token, body: body)
            #expect(reply.status == 200, "\(method) \(path): \(reply.body)")
            return reply.json
        }
        for (user, roles, team) in [("rep-a", "sales_rep", "east"), ("mgr-east", "sales_manager", "east"), ("fin", "finance", "")] {
            _ = try await call("POST", "/api/v1/users", #"{"user":{"username":"\#(user)","display_name":"\#(user)","roles":["\#(roles)"],"team":"\#(team)"},"password":"correct horse battery"}"#, as: admin)
        }
        let rep = try await GatewayProcessTests.signIn(stack, "rep-a", "correct horse battery")
        let manager = try await GatewayProcessTests.signIn(stack, "mgr-east", "correct horse battery")
        _ = try await call("PUT", "/api/v1/products", #"{"products":[{"sku":"CK500","name":"数控车床 CK500","unit":"台","list_price":{"amount_micros":"50000000000"},"standard_cost":{"amount_micros":"35000000000"},"lead_time_days":30,"active":true}]}"#, as: admin)
        let account = try await call("POST", "/api/v1/accounts", #"{"account":{"name":"常州恒力传动设备有限公司","region":"华东"}}"#, as: rep)
        let accountID = try #require((account["account"] as? [String: Any])?["id"] as? String)
        // The account reaches orders through accounts' feed.
        var orderID: String?
        for _ in 0..<200 where orderID == nil {
            let reply = try await GatewayProcessTests.call(stack, "POST", "/api/v1/orders", token: rep, body: """
                {"order":{"account_id":"\(accountID)","lines":[{"sku":"CK500","name":"数控车床 CK500","unit":"台","quantity":"2","unit_price":{"amount_micros":"50000000000"}}],
                 "payment_plan":[{"label":"发货前","percent_bps":9000,"trigger":"DUE_TRIGGER_BEFORE_SHIPMENT"},{"label":"验收后","percent_bps":1000,"trigger":"DUE_TRIGGER_ON_DELIVERY","days_after":10}]}}
                """)
            orderID = (reply.json["order"] as? [String: Any])?["id"] as? String
            if orderID == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let id = try #require(orderID)
        _ = try await call("POST", "/api/v1/orders/\(id)/approve", "{}", as: manager)
        _ = try await call("POST", "/api/v1/orders/\(id)/release", "{}", as: manager)
        // Shipped and delivered 25 days ago: the final 10,000 fell due 15 days ago; the 90,000 is paid.
        let shipped = RFC3339.string(from: Date().addingTimeInterval(-26 * 86_400))
        let delivered = RFC3339.string(from: Date().addingTimeInterval(-25 * 86_400))
        _ = try await call("POST", "/api/v1/erp/status-reports/batch", """
            {"reports":[{"event_id":"e1","source":"erp","order_id":"\(id)","status":"PRODUCTION_STATUS_SHIPPED","source_time":"\(shipped)","carrier":"顺丰","tracking_number":"SF20261202"},
                        {"event_id":"e2","source":"erp","order_id":"\(id)","status":"PRODUCTION_STATUS_DELIVERED","source_time":"\(delivered)","signed_by":"王主任"}]}
            """, as: admin)
        _ = try await call("POST", "/api/v1/orders/\(id)/payments", #"{"amount":{"amount_micros":"90000000000"},"reference":"BANK-1"}"#, as: admin)

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Browser/order_pages.py").path
        let (status, output) = try await runPython([script, "http://127.0.0.1:\(stack.httpPort)", id, "fin", "rep-a", "correct horse battery"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("order pages ok"))
    }

    @Test("an engineer works a complaint through every step of the closed loop on the ticket page; the 360° service card shows it open with its SLA state")
    func complaintPages() async throws {
        var stack = try await GatewayProcessTests.start(portBase: 10100)
        defer { stack.killAll() }
        try await stack.writeServiceToken()
        try stack.start("servicedesk")
        #expect(await stack.waitUntilServing("servicedesk"))
        let admin = try await GatewayProcessTests.signIn(stack, "admin", GatewayProcessTests.adminPassword)
        func call(_ method: String, _ path: String, _ body: String? = nil, as token: String) async throws -> [String: Any] {
            let reply = try await GatewayProcessTests.call(stack, method, path, token: token, body: body)
            #expect(reply.status == 200, "\(method) \(path): \(reply.body)")
            return reply.json
        }
        for (user, roles, team) in [("rep-a", "sales_rep", "east"), ("eng-east", "service_engineer", "")] {
            _ = try await call("POST", "/api/v1/users", #"{"user":{"username":"\#(user)","display_name":"\#(user)","roles":["\#(roles)"],"team":"\#(team)"},"password":"correct horse battery"}"#, as: admin)
        }
        let rep = try await GatewayProcessTests.signIn(stack, "rep-a", "correct horse battery")
        _ = try await call("PUT", "/api/v1/engineers/eng-east", #"{"engineer":{"name":"李工","regions":["华东"],"active":true}}"#, as: admin)
        let account = try await call("POST", "/api/v1/accounts", #"{"account":{"name":"常州恒力传动设备有限公司","region":"华东"}}"#, as: rep)
        let accountID = try #require((account["account"] as? [String: Any])?["id"] as? String)
        // The account reaches the service desk through accounts' feed.
        var ticketID: String?
        for _ in 0..<200 where ticketID == nil {
            let reply = try await GatewayProcessTests.call(stack, "POST", "/api/v1/tickets", token: rep, body: """
                {"ticket":{"account_id":"\(accountID)","region":"华东","channel":"CHANNEL_PHONE","category":"CATEGORY_COMPLAINT","priority":"PRIORITY_P2","subject":"交货延误三周且未通知"}}
                """)
            ticketID = (reply.json["ticket"] as? [String: Any])?["id"] as? String
            if ticketID == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let id = try #require(ticketID)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Browser/complaint_pages.py").path
        let (status, output) = try await runPython([script, "http://127.0.0.1:\(stack.httpPort)", id, accountID, "eng-east", "correct horse battery"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("complaint pages ok"))
    }

    @Test("an engineer sees a drifting machine's telemetry chart with the rule's limit, its prediction and predictive work order, and records the visit on the machine's page, which closes the prediction")
    func equipmentPages() async throws {
        var stack = try await GatewayProcessTests.start(portBase: 10200)
        defer { stack.killAll() }
        try await stack.writeServiceToken()
        try stack.start("servicedesk")
        #expect(await stack.waitUntilServing("servicedesk"))
        let admin = try await GatewayProcessTests.signIn(stack, "admin", GatewayProcessTests.adminPassword)
        func call(_ method: String, _ path: String, _ body: String? = nil, as token: String) async throws -> [String: Any] {
            let reply = try await GatewayProcessTests.call(stack, method, path, token: token, body: body)
            #expect(reply.status == 200, "\(method) \(path): \(reply.body)")
            return reply.json
        }
        _ = try await call("POST", "/api/v1/users", #"{"user":{"username":"eng-east","display_name":"李工","roles":["service_engineer"]},"password":"correct horse battery"}"#, as: admin)
        _ = try await call("PUT", "/api/v1/engineers/eng-east", #"{"engineer":{"name":"李工","regions":["华东"],"active":true}}"#, as: admin)
        let account = try await call("POST", "/api/v1/accounts", #"{"account":{"name":"常州恒力传动设备有限公司","region":"华东"}}"#, as: admin)
        let accountID = try #require((account["account"] as? [String: Any])?["id"] as? String)
        // The account reaches the service desk through accounts' feed.
        var equipmentID: String?
        for _ in 0..<200 where equipmentID == nil {
            let reply = try await GatewayProcessTests.call(stack, "PUT", "/api/v1/equipment", token: admin, body: """
                {"equipment":{"serial_number":"VMC850-26-0117","model":"VMC850","account_id":"\(accountID)","region":"华东"}}
                """)
            equipmentID = (reply.json["equipment"] as? [String: Any])?["id"] as? String
            if equipmentID == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let id = try #require(equipmentID)
        _ = try await call("PUT", "/api/v1/telemetry-rules", """
            {"rule":{"model":"VMC850","metric":"vibration","name":"主轴轴承磨损","kind":"RULE_KIND_TREND","limit":7.1,"window_hours":24,"horizon_days":14,"parts":["SP-BRG-7014"],"active":true}}
            """, as: admin)
        // A day of one point a minute, rising 0.02 mm/s an hour under ±0.5 of noise.
        let now = Date().timeIntervalSince1970
        var seed: UInt64 = 11
        let points = (0..<1440).map { minute -> String in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let noise = Double(seed >> 11) / Double(1 << 53) - 0.5
            let time = Date(timeIntervalSince1970: now - Double(1440 - minute) * 60)
            return #"{"serial_number":"VMC850-26-0117","metric":"vibration","time":"\#(RFC3339.string(from: time))","value":\#(2.8 + 0.02 * Double(minute) / 60 + noise)}"#
        }
        let ingested = try await call("POST", "/api/v1/telemetry", #"{"points":[\#(points.joined(separator: ","))]}"#, as: admin)
        #expect(ingested["accepted"] as? Int == 1440 && (ingested["predictions"] as? [Any])?.count == 1, "\(ingested.keys)")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Browser/equipment_pages.py").path
        let (status, output) = try await runPython([script, "http://127.0.0.1:\(stack.httpPort)", id, accountID, "eng-east", "correct horse battery"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("equipment pages ok"))
    }
    @Test("a customer answers through the one-time link on a phone-sized window, once; the detractor's case appears for the owner on the 360° page and the follow-up list, and closes with what changed; the NPS dashboard shows the answer")
    func surveyPages() async throws {
        var stack = try await GatewayProcessTests.start(portBase: 10300)
        defer { stack.killAll() }
        try await stack.writeServiceToken()
        try stack.start("feedback")
        #expect(await stack.waitUntilServing("feedback"))
        let admin = try await GatewayProcessTests.signIn(stack, "admin", GatewayProcessTests.adminPassword)
        func call(_ method: String, _ path: String, _ body: String? = nil, as token: String) async throws -> [String: Any] {
            let reply = try await GatewayProcessTests.call(stack, method, path, token: token, body: body)
            #expect(reply.status == 200, "\(method) \(path): \(reply.body)")
            return reply.json
        }
        _ = try await call("POST", "/api/v1/users", #"{"user":{"username":"rep-east","display_name":"王小明","roles":["sales_rep"],"team":"east"},"password":"correct horse battery"}"#, as: admin)
        let account = try await call("POST", "/api/v1/accounts", #"{"account":{"name":"常州精密齿轮有限公司","region":"华东","owner_id":"rep-east","team":"east"}}"#, as: admin)
        let accountID = try #require((account["account"] as? [String: Any])?["id"] as? String)
        let contact = try await call("POST", "/api/v1/accounts/\(accountID)/contacts", #"{"contact":{"name":"钱主任","email":"qian@czgear.example.cn","marketing_consent":true}}"#, as: admin)
        let contactID = try #require((contact["contact"] as? [String: Any])?["id"] as? String)
        // The account and contact reach feedback through accounts' feed.
        var surveyID: String?
        for _ in 0..<200 where surveyID == nil {
            let reply = try await GatewayProcessTests.call(stack, "POST", "/api/v1/surveys", token: admin, body: """
                {"survey":{"account_id":"\(accountID)","contact_id":"\(contactID)","kind":"SURVEY_KIND_NPS"}}
                """)
            surveyID = (reply.json["survey"] as? [String: Any])?["id"] as? String
            if surveyID == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let id = try #require(surveyID)
        var path: String?
        for _ in 0..<200 where path == nil {
            path = try await GatewayProcessTests.call(stack, "GET", "/api/v1/surveys/\(id)/link", token: admin).json["path"] as? String
            if path == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let link = try #require(path)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Browser/survey_pages.py").path
        let (status, output) = try await runPython([script, "http://127.0.0.1:\(stack.httpPort)", link, accountID, "rep-east", "correct horse battery"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("survey pages ok"))
    }

    @Test("a manager sees why an account is silver and what it needs for gold; the tier reaches the service desk, whose diagnostic work order uses the free diagnostic once (real processes)")
    func loyaltyPages() async throws {
        var stack = try await GatewayProcessTests.start(portBase: 10400)
        defer { stack.killAll() }
        try await stack.writeServiceToken()
        for service in ["loyalty", "servicedesk"] {
            try stack.start(service)
            #expect(await stack.waitUntilServing(service))
        }
        let admin = try await GatewayProcessTests.signIn(stack, "admin", GatewayProcessTests.adminPassword)
        func call(_ method: String, _ path: String, _ body: String? = nil, as token: String) async throws -> [String: Any] {
            let reply = try await GatewayProcessTests.call(stack, method, path, token: token, body: body)
            #expect(reply.status == 200, "\(method) \(path): \(reply.body)")
            return reply.json
        }
        _ = try await call("POST", "/api/v1/users", #"{"user":{"username":"mgr-east","display_name":"陈经理","roles":["sales_manager"],"team":"east"},"password":"correct horse battery"}"#, as: admin)
        let account = try await call("POST", "/api/v1/accounts", #"{"account":{"name":"无锡精工机械有限公司","region":"华东","owner_id":"rep-east","team":"east"}}"#, as: admin)
        let accountID = try #require((account["account"] as? [String: Any])?["id"] as? String)
        // ERP's history: three years together, ¥2.3 M in two product lines this year.
        let now = Date()
        func day(_ ago: Double) -> String { RFC3339.string(from: now.addingTimeInterval(-ago * 86_400)) }
        let purchases = """
            {"purchases":[
             {"key":"inv-2023-1","account_id":"\(accountID)","occurred_at":"\(day(1200))","product_line":"加工中心","amount":{"amount_micros":"500000000000"}},
             {"key":"inv-2026-1","account_id":"\(accountID)","occurred_at":"\(day(90))","product_line":"加工中心","amount":{"amount_micros":"1500000000000"}},
             {"key":"inv-2026-2","account_id":"\(accountID)","occurred_at":"\(day(30))","product_line":"注塑机","amount":{"amount_micros":"800000000000"}}]}
            """
        // The account reaches loyalty through accounts' feed: until it has, the rows are refused.
        var recorded = false
        for _ in 0..<200 where !recorded {
            let results = try await call("POST", "/api/v1/loyalty/purchases", purchases, as: admin)["results"] as? [[String: Any]] ?? []
            recorded = results.allSatisfy { ($0["status"] as? String) != "IMPORT_STATUS_REJECTED" }
            if !recorded { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(recorded)
        let membership = try await call("GET", "/api/v1/loyalty/members/\(accountID)", as: admin)["membership"] as? [String: Any]
        #expect(membership?["tier"] as? String == "silver")
        // The service desk applies the tier's service level to the account's machines.
        _ = try await call("PUT", "/api/v1/equipment", #"{"equipment":{"serial_number":"WX-VMC-0001","model":"VMC-850","account_id":"\#(accountID)"}}"#, as: admin)
        var level = ""
        for _ in 0..<200 where level != "silver" {
            let machines = try await call("GET", "/api/v1/equipment?account_id=\(accountID)", as: admin)["equipment"] as? [[String: Any]] ?? []
            level = machines.first?["service_level"] as? String ?? ""
            if level != "silver" { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(level == "silver", "TierChanged reached forge-servicedesk")
        // Silver brings one free on-site diagnostic a year: the first work order uses it, the second is refused.
        _ = try await call("POST", "/api/v1/work-orders", #"{"work_order":{"kind":"WORK_ORDER_KIND_DIAGNOSTIC","serial_number":"WX-VMC-0001","description":"主轴异响诊断"}}"#, as: admin)
        let second = try await GatewayProcessTests.call(stack, "POST", "/api/v1/work-orders", token: admin,
                                                        body: #"{"work_order":{"kind":"WORK_ORDER_KIND_DIAGNOSTIC","serial_number":"WX-VMC-0001"}}"#)
        #expect(second.status == 409 && second.body.contains("used up") && second.body.contains("renews on"), "\(second.body)")
        let left = try await call("GET", "/api/v1/loyalty/members/\(accountID)", as: admin)["membership"] as? [String: Any]
        let diagnostic = (left?["entitlements"] as? [[String: Any]])?.first { $0["code"] as? String == "on_site_diagnostic" }
        #expect(diagnostic?["used"] as? Int == 1)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Browser/loyalty_pages.py").path
        let (status, output) = try await runPython([script, "http://127.0.0.1:\(stack.httpPort)", accountID, "mgr-east", "correct horse battery"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("loyalty pages ok"))
    }

    @Test("the analytics dashboard filtered to 华东 shows the NPS feedback reports for 华东; risks, report and the 360° health card open (real processes)")
    func analyticsPages() async throws {
        var stack = try await GatewayProcessTests.start(portBase: 10500)
        defer { stack.killAll() }
        try await stack.writeServiceToken()
        for service in ["feedback", "analytics"] {
            try stack.start(service)
            #expect(await stack.waitUntilServing(service))
        }
        let admin = try await GatewayProcessTests.signIn(stack, "admin", GatewayProcessTests.adminPassword)
        func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> [String: Any] {
            let reply = try await GatewayProcessTests.call(stack, method, path, token: admin, body: body)
            #expect(reply.status == 200, "\(method) \(path): \(reply.body)")
            return reply.json
        }
        _ = try await call("POST", "/api/v1/users", #"{"user":{"username":"ana","display_name":"分析师","roles":["analyst"]},"password":"correct horse battery"}"#)
        var ids: [String] = []
        for (name, region) in [("无锡精工机械有限公司", "华东"), ("常州恒力液压有限公司", "华东"), ("佛山顺德模具有限公司", "华南")] {
            let account = try await call("POST", "/api/v1/accounts", #"{"account":{"name":"\#(name)","region":"\#(region)","owner_id":"rep-east","team":"east"}}"#)
            ids.append(try #require((account["account"] as? [String: Any])?["id"] as? String))
        }
        // 华东: 10, 9, 4 → (2 − 1) / 3 = +33; 华南: 2 → −100; everything: (2 − 2) / 4 = 0.
        let answered = RFC3339.string(from: Date().addingTimeInterval(-3600))
        let answers = [(0, 10), (1, 9), (1, 4), (2, 2)].enumerated().map { index, pair in
            #"{"key":"call-\#(index)","account_id":"\#(ids[pair.0])","kind":"SURVEY_KIND_NPS","score":\#(pair.1),"answered_at":"\#(answered)"}"#
        }.joined(separator: ",")
        var recorded = 0
        for _ in 0..<200 where recorded < 4 {
            let reply = try await call("POST", "/api/v1/survey-answers", #"{"answers":[\#(answers)]}"#)
            recorded = (reply["recorded"] as? Int ?? 0) + (reply["already_recorded"] as? Int ?? 0)
            if recorded < 4 { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(recorded == 4)
        var responses = 0
        for _ in 0..<200 where responses < 4 {
            let kpis = try await call("GET", "/api/v1/analytics/kpis?keys=nps")["kpis"] as? [[String: Any]] ?? []
            responses = kpis.first?["denominator"] as? Int ?? 0
            if responses < 4 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(responses == 4, "analytics has the answers")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Browser/analytics_pages.py").path
        let (status, output) = try await runPython([script, "http://127.0.0.1:\(stack.httpPort)", ids[0], "ana", "correct horse battery"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("analytics pages ok"))

        // The same pages in English: the browser's Accept-Language, the switch (?lang=,
        // remembered in a cookie that wins over the header), and the language travels with the
        // gateway's calls, so the analytics process names its KPIs and health reasons in it.
        let session = "forge_session=\(try await GatewayProcessTests.signIn(stack, "ana", "correct horse battery"))"
        let chinese = try await HTTPTestClient.request(port: stack.httpPort, "GET", "/analytics", headers: ["Cookie": session])
        #expect(chinese.body.contains(#"<html lang="zh-CN">"#) && chinese.body.contains("经营分析") && chinese.body.contains("净推荐值 (NPS)"))
        #expect(chinese.body.contains(#"href="?lang=en""#) && !chinese.body.contains("Business analytics"), "Chinese by default, one language on the page")
        let english = try await HTTPTestClient.request(port: stack.httpPort, "GET", "/analytics", headers: ["Cookie": session, "Accept-Language": "fr;q=1, en-GB;q=0.9, zh-CN;q=0.5"])
        #expect(english.body.contains(#"<html lang="en">"#) && english.body.contains("Business analytics") && english.body.contains("Sign out"))
        #expect(english.body.contains("Net Promoter Score (NPS)") && english.body.contains("NPS = share of promoters (9–10) − share of detractors (0–6)"),
                "the analytics process wrote its KPI in the caller's language")
        #expect(!english.body.contains("净推荐值") && !english.body.contains("退出") && !english.body.contains("筛选"), "not both side by side")
        // The sections' headings too, after a Chinese page was served first.
        #expect(chinese.body.contains("客户之声") && english.body.contains("Voice of the customer") && english.body.contains("Sales and customers"))
        #expect(!english.body.contains("客户之声") && !english.body.contains("销售与客户"), "the headings in the page's language")
        #expect(english.headers["vary"]?.contains("Accept-Language") == true)
        let switched = try await HTTPTestClient.request(port: stack.httpPort, "GET", "/accounts/\(ids[0])?lang=en", headers: ["Cookie": session, "Accept-Language": "zh-CN"])
        #expect(switched.headers["set-cookie"]?.hasPrefix("forge_lang=en;") == true)
        #expect(switched.body.contains("Account health") && switched.body.contains("Churn risk") && switched.body.contains(#"href="?lang=zh""#))
        #expect(!switched.body.contains("客户健康度") && !switched.body.contains("流失风险"))
        let remembered = try await HTTPTestClient.request(port: stack.httpPort, "GET", "/analytics/risks", headers: ["Cookie": "\(session); forge_lang=en", "Accept-Language": "zh-CN"])
        #expect(remembered.body.contains("Accounts at risk of churn") && !remembered.body.contains("流失风险客户"), "the remembered choice wins over the browser's header")
        // A page address that does not exist: a page with the way back, in the reader's language.
        let missing = try await HTTPTestClient.request(port: stack.httpPort, "GET", "/accounts/x/no-such-page", headers: ["Cookie": "\(session); forge_lang=en"])
        #expect(missing.status == 404 && missing.body.contains("Page not found") && missing.body.contains(#"<a href="/accounts">"#), "\(missing.status) \(missing.body)")
        #expect(try await HTTPTestClient.request(port: stack.httpPort, "GET", "/no-such-page").body.contains("页面不存在"))
        #expect(try await HTTPTestClient.request(port: stack.httpPort, "GET", "/api/v1/no-such-thing").body.contains("<html") == false, "the API keeps its errors")
    }
}