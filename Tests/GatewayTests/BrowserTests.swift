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
        let (status, output) = try runPython([script, "http://127.0.0.1:\(stack.httpPort)", "rep-a", "correct horse battery", "苏州精密",
                                              "苏州精密<img src=x onerror=\"window.__xss=true\">模具有限公司"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("web pages ok"))
    }

    @Test("a rep captures and converts a lead, meets the solution-design gate, sends a quote and prints it; the board shows the deal")
    func pipelinePages() async throws {
        let (stack, _) = try await PipelineHTTPTests.start(portBase: 17100)
        defer { stack.killAll() }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Browser/pipeline_pages.py").path
        let (status, output) = try runPython([script, "http://127.0.0.1:\(stack.httpPort)", "rep-a", "correct horse battery"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("pipeline pages ok"))
    }
}
