import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwiftProtobuf

/// The web pages: sign-in, account search, the 360° page, account edit and the contact list.
/// Plain server-rendered HTML; the session is the sign-in token in an HttpOnly cookie, and
/// every page is built from the same RPCs the API calls, with the person's own token.
struct WebPages: Sendable {
    let gateway: HTTPGateway

    static let cookie = "forge_session"

    func register(in router: Router<GatewayRequestContext>) {
        router.get("/") { _, _ in Response.redirect(to: "/accounts", type: .found) }
        router.get("/login") { _, _ in Self.html(Self.loginPage(error: nil)) }
        router.post("/login") { request, _ in await signIn(request) }
        router.post("/logout") { _, _ in
            var response = Response.redirect(to: "/login", type: .normal)
            response.headers[.setCookie] = "\(Self.cookie)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
            return response
        }
        router.get("/accounts") { request, _ in await page(request) { token in try await searchPage(request, token: token) } }
        router.get("/accounts/{id}") { request, context in
            // As in the API, ?deadline_ms= (up to 5000) gives the sections longer than the
            // default 300 ms; a value that is not a number is refused like one out of range.
            let deadline = request.uri.queryParameters["deadline_ms"].map { Int32(String($0)) ?? -1 } ?? 0
            return await page(request) { token in
                try await customerPage(id: context.parameters.get("id") ?? "", deadlineMs: deadline, token: token)
            }
        }
        router.get("/accounts/{id}/contacts") { request, context in
            await page(request) { token in try await contactsPage(id: context.parameters.get("id") ?? "", token: token) }
        }
        router.get("/accounts/{id}/edit") { request, context in
            await page(request) { token in try await editPage(id: context.parameters.get("id") ?? "", token: token, error: nil) }
        }
        router.post("/accounts/{id}/edit") { request, context in
            await page(request) { token in try await saveEdit(id: context.parameters.get("id") ?? "", request: request, token: token) }
        }
        PipelinePages(pages: self).register(in: router)
        OrderPages(pages: self).register(in: router)
        ServicePages(pages: self).register(in: router)
        FeedbackPages(pages: self).register(in: router)
        LoyaltyPages(pages: self).register(in: router)
        AnalyticsPages(pages: self).register(in: router)
    }

    // MARK: Plumbing

    static func sessionToken(_ request: Request) -> String? {
        guard let value = request.cookies[cookie]?.value, !value.isEmpty else { return nil }
        return value
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .contentSecurityPolicy: "default-src 'self'; style-src 'unsafe-inline'"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// A signed-in page: to /login without a session (or when it expired), the error page on a
    /// failed call (NOT_FOUND for accounts the person may not see).
    func page(_ request: Request, render: (String) async throws -> String) async -> Response {
        guard let token = Self.sessionToken(request) else { return .redirect(to: "/login", type: .found) }
        do {
            return Self.html(try await render(token))
        } catch let error as RPCError where error.code == .unauthenticated {
            return .redirect(to: "/login", type: .found)
        } catch let error as RPCError {
            return Self.html(HTML.page(title: L("出错了", "Something went wrong"), user: nil, body: "<h1>\(HTTPStatusMapping.status(for: error.code).code)</h1><p class=\"error\">\(HTML.escape(error.message))</p><p><a href=\"/accounts\">\(L("返回客户列表", "Back to the accounts"))</a></p>"),
                             status: HTTPStatusMapping.status(for: error.code))
        } catch {
            return Self.html(HTML.page(title: L("出错了", "Something went wrong"), user: nil, body: "<p class=\"error\">\(HTML.escape("\(error)"))</p>"), status: .internalServerError)
        }
    }

    func call<Response: SwiftProtobuf.Message>(_ service: String, _ method: MethodDescriptor, _ request: some SwiftProtobuf.Message, token: String?, as: Response.Type) async throws -> Response {
        guard let channel = gateway.channels[service] else { throw RPCError(.unavailable, "\(service) is not configured") }
        var metadata: [String: String] = [:]
        if let token { metadata[MetadataKey.authorization] = "Bearer \(token)" }
        let reply = try await channel.unary(method, payload: try request.serializedData(), options: CallOptions(timeout: HTTPGateway.callTimeout, metadata: metadata))
        return try Response(serializedBytes: reply)
    }

    /// A form post: the call, then back to a page (303); a refused call shows why.
    func action(_ request: Request, _ perform: @escaping (String, [String: String]) async throws -> String) async -> Response {
        let body = (try? await request.body.collect(upTo: 64 * 1024)) ?? ByteBuffer()
        let fields = WebPages.form(body)
        var target = "/"
        let response = await page(request) { token in
            target = try await perform(token, fields)
            return ""
        }
        guard response.status == .ok else { return response }
        return .redirect(to: target, type: .normal)
    }

    static func money(_ money: Forge_Common_V1_Money?) -> String {
        guard let money else { return "—" }
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.minimumFractionDigits = 2
        formatter.maximumFractionDigits = 2
        let amount = formatter.string(from: NSNumber(value: Double(money.amountMicros) / 1_000_000)) ?? "\(money.amountMicros / 1_000_000)"
        let currency = money.currencyCode.isEmpty || money.currencyCode == "CNY" ? "¥" : money.currencyCode + " "
        return currency + amount
    }

    static func form(_ body: ByteBuffer) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            if parts.count == 2 { fields[parts[0]] = parts[1] } else if parts.count == 1 { fields[parts[0]] = "" }
        }
        return fields
    }

    // MARK: Sign-in

    static func loginPage(error: String?) -> String {
        HTML.page(title: L("登录", "Sign in"), user: nil, body: """
            <h1>\(L("登录", "Sign in"))</h1>
            \(error.map { "<p class=\"error\" id=\"error\">\(HTML.escape($0))</p>" } ?? "")
            <form class="stack" method="post" action="/login">
            <label>\(L("用户名", "User name")) <input name="username" id="username" autocomplete="username" required></label>
            <label>\(L("密码", "Password")) <input name="password" id="password" type="password" autocomplete="current-password" required></label>
            <button type="submit" id="sign-in">\(L("登录", "Sign in"))</button>
            </form>
            """)
    }

    private func signIn(_ request: Request) async -> Response {
        let fields = Self.form((try? await request.body.collect(upTo: 16 * 1024)) ?? ByteBuffer())
        do {
            let session = try await call("gateway", Forge_Gateway_V1_GatewayService.Method.signIn, Forge_Gateway_V1_SignInRequest.with {
                $0.username = fields["username"] ?? ""
                $0.password = fields["password"] ?? ""
            }, token: nil, as: Forge_Gateway_V1_SignInResponse.self)
            var response = Response.redirect(to: "/accounts", type: .normal)
            response.headers[.setCookie] = "\(Self.cookie)=\(session.token); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(IdentityRules.tokenLifetime))"
            return response
        } catch let error as RPCError {
            let message = error.code == .unauthenticated ? L("用户名或密码错误", "Wrong user name or password") : error.message
            return Self.html(Self.loginPage(error: message), status: HTTPStatusMapping.status(for: error.code))
        } catch {
            return Self.html(Self.loginPage(error: "\(error)"), status: .internalServerError)
        }
    }

    // MARK: Search

    private func searchPage(_ request: Request, token: String) async throws -> String {
        let query = request.uri.queryParameters["q"].map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        let accounts: [Forge_Accounts_V1_Account]
        if query.isEmpty {
            accounts = try await call("accounts", Forge_Accounts_V1_AccountsService.Method.listAccounts, Forge_Accounts_V1_ListAccountsRequest(), token: token,
                                      as: Forge_Accounts_V1_ListAccountsResponse.self).accounts
        } else {
            accounts = try await call("accounts", Forge_Accounts_V1_AccountsService.Method.searchAccounts, Forge_Accounts_V1_SearchAccountsRequest.with { $0.namePrefix = query },
                                      token: token, as: Forge_Accounts_V1_SearchAccountsResponse.self).accounts
        }
        let rows = accounts.map { account in
            "<tr><td><a href=\"/accounts/\(HTML.escape(account.id))\">\(HTML.escape(account.name))</a></td><td>\(HTML.escape(account.region))</td><td>\(HTML.escape(account.industry))</td><td>\(Labels.grade(account.grade))</td><td>\(Labels.tier(account.tier))</td><td>\(HTML.escape(account.ownerID))</td></tr>"
        }.joined(separator: "\n")
        return HTML.page(title: L("客户", "Accounts"), user: Self.subject(token), body: """
            <h1>\(L("客户", "Accounts"))</h1>
            <form method="get" action="/accounts"><input name="q" id="q" value="\(HTML.escape(query))" placeholder="\(L("客户名称开头，如 上海精密", "Start of the account name, e.g. 上海精密"))"> <button id="search">\(L("搜索", "Search"))</button></form>
            <p class="muted" id="count">\(accounts.count) \(L("个客户", "accounts"))</p>
            <table id="accounts"><thead><tr><th>\(L("名称", "Name"))</th><th>\(L("区域", "Region"))</th><th>\(L("行业", "Industry"))</th><th>\(L("等级", "Grade"))</th><th>\(L("层级", "Tier"))</th><th>\(L("负责人", "Owner"))</th></tr></thead>
            <tbody>
            \(rows)
            </tbody></table>
            """)
    }

    // MARK: The 360° page

    private func customerPage(id: String, deadlineMs: Int32 = 0, token: String) async throws -> String {
        let view = try await call("gateway", Forge_Gateway_V1_GatewayService.Method.getCustomer360, Forge_Gateway_V1_GetCustomer360Request.with {
            $0.accountID = id
            $0.deadlineMs = deadlineMs
        }, token: token, as: Forge_Gateway_V1_GetCustomer360Response.self)
        func section(_ name: String) -> Forge_Gateway_V1_Section? { view.sections.first { $0.name == name } }
        let account = section("account").flatMap { try? Forge_Accounts_V1_GetAccountResponse(jsonString: $0.json) }?.account
        let contacts = section("contacts").flatMap { try? Forge_Accounts_V1_ListContactsResponse(jsonString: $0.json) }?.contacts ?? []
        let activities = section("activities").flatMap { try? Forge_Accounts_V1_ListActivitiesResponse(jsonString: $0.json) }?.activities ?? []
        var cards: [String] = []
        if let account {
            cards.append(card("account", title: L("客户档案", "Account profile"), section: section("account"), content: """
                <dl>
                <dt>\(L("区域", "Region"))</dt><dd>\(HTML.escape(account.region))</dd>
                <dt>\(L("行业", "Industry"))</dt><dd>\(HTML.escape(account.industry))</dd>
                <dt>\(L("地址", "Address"))</dt><dd>\(HTML.escape(account.address))</dd>
                <dt>\(L("阶段", "Stage"))</dt><dd>\(Labels.stage(account.stage))</dd>
                <dt>\(L("价值等级", "Value grade"))</dt><dd>\(Labels.grade(account.grade))</dd>
                <dt>\(L("层级", "Tier"))</dt><dd>\(Labels.tier(account.tier))</dd>
                <dt>\(L("负责人", "Owner"))</dt><dd>\(HTML.escape(account.ownerID)) · \(HTML.escape(account.team))</dd>
                <dt>\(L("标签", "Tags"))</dt><dd>\(account.tags.sorted { $0.key < $1.key }.map { HTML.escape("\($0.key):\($0.value)") }.joined(separator: L("，", ", ")))</dd>
                \(account.creditRating.isEmpty ? "" : "<dt>\(L("信用评级", "Credit rating"))</dt><dd>\(HTML.escape(account.creditRating))</dd>")
                <dt>\(L("状态", "State"))</dt><dd>\(Labels.staleness(account.staleness))</dd>
                </dl>
                <p><a href="/accounts/\(HTML.escape(account.id))/edit" id="edit">\(L("编辑", "Edit"))</a> · <a href="/accounts/\(HTML.escape(account.id))/contacts">\(L("联系人", "Contacts"))</a></p>
                """))
        }
        cards.append(card("contacts", title: L("关系图", "Relationship map"), section: section("contacts"), content: Self.relationshipTree(contacts)))
        cards.append(card("activities", title: L("最近动态", "Recent activity"), section: section("activities"), content: Self.activityChart(activities) + "<ul class=\"timeline\">" + activities.map { activity in
            "<li><span class=\"muted\">\(Self.date(activity.occurredAt))</span> \(Labels.kind(activity.kind)) <strong>\(HTML.escape(activity.subject))</strong><br>\(HTML.escape(activity.body))</li>"
        }.joined() + "</ul>"))
        cards.append(card("pipeline", title: L("商机与报价", "Opportunities and quotes"), section: section("pipeline"), content: Self.pipelineCard(section("pipeline"))))
        cards.append(card("orders", title: L("订单与回款", "Orders and payments"), section: section("orders"), content: OrderPages.card(section("orders"))))
        cards.append(card("service", title: L("设备与服务", "Equipment and service"), section: section("service"), content: ServicePages.card(section("service"))))
        cards.append(card("feedback", title: "NPS \(L("反馈", "Feedback"))", section: section("feedback"), content: FeedbackPages.card(section("feedback"))))
        cards.append(card("loyalty", title: L("会员权益", "Partner benefits"), section: section("loyalty"), content: LoyaltyPages.card(section("loyalty"))))
        cards.append(card("analytics", title: L("客户健康度", "Account health"), section: section("analytics"), content: AnalyticsPages.card(section("analytics"))))
        return HTML.page(title: account?.name ?? id, user: Self.subject(token), body: """
            <h1 id="account-name">\(HTML.escape(account?.name ?? id))</h1>
            <div class="grid">
            \(cards.joined(separator: "\n"))
            </div>
            """)
    }

    func card(_ name: String, title: String, section: Forge_Gateway_V1_Section?, content: String) -> String {
        let status = Labels.status(section?.status ?? .unavailable)
        return """
            <section class="card" id="section-\(name)" data-status="\(status.key)"><h2>\(title) <span class="status \(status.key)">\(status.label)</span></h2>
            \(content)
            </section>
            """
    }

    /// Open opportunities with stage and amount, the latest quotes, the open tasks.
    static func pipelineCard(_ section: Forge_Gateway_V1_Section?) -> String {
        guard let section, section.status == .ok, let pipeline = try? Forge_Pipeline_V1_GetAccountPipelineResponse(jsonString: section.json) else {
            return "<p class=\"muted\">\(HTML.escape(section?.detail ?? ""))</p>"
        }
        let opportunities = pipeline.openOpportunities.map {
            "<li><a href=\"/opportunities/\(HTML.escape($0.id))\">\(HTML.escape($0.name))</a> · \(PipelineLabels.stage($0.stage))\($0.hasAmount ? " · " + WebPages.money($0.amount) : "")</li>"
        }.joined()
        let quotes = pipeline.latestQuotes.map {
            "<li><a href=\"/quotes/\(HTML.escape($0.id))/print\">\(L("报价第", "quote version")) \($0.revision) \(L("版", ""))</a> · \(PipelineLabels.quoteStatus($0.status))\($0.hasTotal ? " · " + WebPages.money($0.total) : "")</li>"
        }.joined()
        let tasks = pipeline.openTasks.map { "<li>\(date($0.dueAt)) \(HTML.escape($0.title))\(L("（", " ("))\(HTML.escape($0.ownerID))\(L("）", ")"))</li>" }.joined()
        return (opportunities.isEmpty ? "<p class=\"muted\">\(L("没有进行中的商机", "No open opportunities"))</p>" : "<ul class=\"timeline\">\(opportunities)</ul>")
            + (quotes.isEmpty ? "" : "<h3>\(L("最新报价", "Latest quote"))</h3><ul class=\"timeline\">\(quotes)</ul>")
            + (tasks.isEmpty ? "" : "<h3>\(L("待办", "To do"))</h3><ul class=\"timeline\">\(tasks)</ul>")
    }

    /// Contacts as the customer's org chart: each under the person they report to.
    static func relationshipTree(_ contacts: [Forge_Accounts_V1_Contact]) -> String {
        guard !contacts.isEmpty else { return "<p class=\"muted\">\(L("还没有联系人", "No contacts yet"))</p>" }
        let ids = Set(contacts.map(\.id))
        func branch(_ parent: String) -> String {
            let children = contacts.filter { parent.isEmpty ? !ids.contains($0.reportsToContactID) : $0.reportsToContactID == parent }
            guard !children.isEmpty else { return "" }
            return "<ul class=\"tree\">" + children.map { contact in
                "<li>\(HTML.escape(contact.name)) <span class=\"muted\">\(HTML.escape(contact.title)) · \(Labels.role(contact.buyingRole)) \(L("· 关系", "· relationship")) \(String(repeating: "●", count: Int(contact.relationshipStrength)))</span>\(branch(contact.id))</li>"
            }.joined() + "</ul>"
        }
        return branch("")
    }

    /// Activities per month over the last twelve months, as a small inline SVG bar chart.
    static func activityChart(_ activities: [Forge_Accounts_V1_Activity]) -> String {
        guard !activities.isEmpty else { return "" }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: chinaStandardTimeOffset) ?? .gmt
        let now = Date()
        var counts = [Int](repeating: 0, count: 12)
        for activity in activities {
            let months = calendar.dateComponents([.month], from: activity.occurredAt.date, to: now).month ?? 99
            if (0..<12).contains(months) { counts[11 - months] += 1 }
        }
        let top = max(1, counts.max() ?? 1)
        let bars = counts.enumerated().map { index, count in
            let height = 40 * count / top
            return "<rect x=\"\(index * 20 + 2)\" y=\"\(44 - height)\" width=\"16\" height=\"\(height)\" fill=\"#1f5eff\"><title>\(count)</title></rect>"
        }.joined()
        return "<svg id=\"activity-chart\" viewBox=\"0 0 240 46\" width=\"240\" height=\"46\" role=\"img\" aria-label=\"\(L("近 12 个月动态数", "Activities in the last 12 months"))\">\(bars)</svg>"
    }

    // MARK: Contacts and edit

    private func contactsPage(id: String, token: String) async throws -> String {
        let account = try await call("accounts", Forge_Accounts_V1_AccountsService.Method.getAccount, Forge_Accounts_V1_GetAccountRequest.with { $0.id = id },
                                     token: token, as: Forge_Accounts_V1_GetAccountResponse.self).account
        let contacts = try await call("accounts", Forge_Accounts_V1_AccountsService.Method.listContacts, Forge_Accounts_V1_ListContactsRequest.with {
            $0.accountID = id
            $0.page.pageSize = 500
        }, token: token, as: Forge_Accounts_V1_ListContactsResponse.self).contacts
        let rows = contacts.map { contact in
            "<tr><td>\(HTML.escape(contact.name))</td><td>\(HTML.escape(contact.title))</td><td>\(Labels.department(contact.department))</td><td>\(Labels.role(contact.buyingRole))</td><td>\(HTML.escape(contact.phone))</td><td>\(HTML.escape(contact.email))</td></tr>"
        }.joined(separator: "\n")
        return HTML.page(title: "\(account.name) \(L("联系人", "contacts"))", user: Self.subject(token), body: """
            <h1><a href="/accounts/\(HTML.escape(account.id))">\(HTML.escape(account.name))</a> \(L("· 联系人", "· contacts"))</h1>
            <table id="contacts"><thead><tr><th>\(L("姓名", "Name"))</th><th>\(L("职务", "Title"))</th><th>\(L("部门", "Department"))</th><th>\(L("角色", "Role"))</th><th>\(L("电话", "Call"))</th><th>\(L("邮箱", "E-mail"))</th></tr></thead><tbody>
            \(rows)
            </tbody></table>
            """)
    }

    private func editPage(id: String, token: String, error: String?, draft: Forge_Accounts_V1_Account? = nil) async throws -> String {
        let account: Forge_Accounts_V1_Account
        if let draft {
            account = draft
        } else {
            account = try await call("accounts", Forge_Accounts_V1_AccountsService.Method.getAccount, Forge_Accounts_V1_GetAccountRequest.with { $0.id = id },
                                     token: token, as: Forge_Accounts_V1_GetAccountResponse.self).account
        }
        func text(_ name: String, _ label: String, _ value: String) -> String {
            "<label>\(label) <input name=\"\(name)\" id=\"\(name)\" value=\"\(HTML.escape(value))\"></label>"
        }
        func choice<T: CaseIterable & SwiftProtobuf.Enum>(_ name: String, _ label: String, _ value: T, _ describe: (T) -> String) -> String {
            let options = T.allCases.filter { $0.rawValue != 0 }.map { option in
                "<option value=\"\(option.rawValue)\"\(option == value ? " selected" : "")>\(describe(option))</option>"
            }.joined()
            return "<label>\(label) <select name=\"\(name)\" id=\"\(name)\">\(options)</select></label>"
        }
        return HTML.page(title: "\(L("编辑", "Edit")) \(account.name)", user: Self.subject(token), body: """
            <h1>\(L("编辑", "Edit")) <a href="/accounts/\(HTML.escape(account.id))">\(HTML.escape(account.name))</a></h1>
            \(error.map { "<p class=\"error\" id=\"error\">\(HTML.escape($0))</p>" } ?? "")
            <form class="stack" method="post" action="/accounts/\(HTML.escape(account.id))/edit">
            <input type="hidden" name="version" value="\(account.version)">
            \(text("name", L("名称", "Name"), account.name))
            \(text("industry", L("行业", "Industry"), account.industry))
            \(text("region", L("区域", "Region"), account.region))
            \(text("address", L("地址", "Address"), account.address))
            \(choice("stage", L("阶段", "Stage"), account.stage, Labels.stage))
            \(choice("grade", L("价值等级", "Value grade"), account.grade, Labels.grade))
            \(choice("tier", L("层级", "Tier"), account.tier, Labels.tier))
            <button type="submit" id="save">\(L("保存", "Save"))</button>
            </form>
            """)
    }

    private func saveEdit(id: String, request: Request, token: String) async throws -> String {
        let fields = Self.form((try? await request.body.collect(upTo: 64 * 1024)) ?? ByteBuffer())
        var account = try await call("accounts", Forge_Accounts_V1_AccountsService.Method.getAccount, Forge_Accounts_V1_GetAccountRequest.with { $0.id = id },
                                     token: token, as: Forge_Accounts_V1_GetAccountResponse.self).account
        account.version = Int64(fields["version"] ?? "") ?? 0
        account.name = fields["name"] ?? account.name
        account.industry = fields["industry"] ?? account.industry
        account.region = fields["region"] ?? account.region
        account.address = fields["address"] ?? account.address
        if let raw = fields["stage"].flatMap(Int.init), let stage = Forge_Accounts_V1_LifecycleStage(rawValue: raw) { account.stage = stage }
        if let raw = fields["grade"].flatMap(Int.init), let grade = Forge_Accounts_V1_ValueGrade(rawValue: raw) { account.grade = grade }
        if let raw = fields["tier"].flatMap(Int.init), let tier = Forge_Accounts_V1_Tier(rawValue: raw) { account.tier = tier }
        do {
            _ = try await call("accounts", Forge_Accounts_V1_AccountsService.Method.updateAccount, Forge_Accounts_V1_UpdateAccountRequest.with { $0.account = account },
                               token: token, as: Forge_Accounts_V1_UpdateAccountResponse.self)
            return try await customerPage(id: id, token: token)
        } catch let error as RPCError where [.invalidArgument, .aborted, .alreadyExists].contains(error.code) {
            let detail = error.violations.isEmpty ? error.message : error.violations.map { "\($0.field): \($0.description)" }.joined(separator: "; ")
            return try await editPage(id: id, token: token, error: error.code == .aborted ? L("别人刚改过这个客户，请刷新后再编辑。", "Someone else just changed this account; reload it and edit again.") + detail : detail, draft: account)
        }
    }

    /// The signed-in person's name, from the token's payload (display only; never trusted).
    static func subject(_ token: String) -> String? {
        let parts = token.split(separator: ".")
        guard parts.count == 3 else { return nil }
        guard let data = Base64URL.decode(parts[1]), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["sub"] as? String
    }

    /// China Standard Time, the zone the pages show dates in: UTC+8 all year (no daylight
    /// saving since 1991), so a fixed offset — a named zone is resolved through ICU's tables.
    static let chinaStandardTimeOffset = 8 * 3600

    /// The calendar day in China Standard Time. Not a DateFormatter: each one builds ICU date
    /// and number formatters — a 360° page with its activities made dozens — and ICU's tables
    /// then stayed resident in the gateway (1.9 MB).
    static func date(_ timestamp: Google_Protobuf_Timestamp) -> String {
        String(RFC3339.string(from: timestamp.date.addingTimeInterval(TimeInterval(chinaStandardTimeOffset))).prefix(10))
    }

    /// The day and minute in China Standard Time: "2026-12-04 16:00".
    static func dateTime(_ timestamp: Google_Protobuf_Timestamp) -> String {
        String(RFC3339.string(from: timestamp.date.addingTimeInterval(TimeInterval(chinaStandardTimeOffset))).prefix(16)).replacingOccurrences(of: "T", with: " ")
    }
}
