import ForgeContracts
import ForgeKit
import ForgeTestSupport
import ForgeWire
import Foundation
import Testing

/// The pipeline's HTTP routes through the real gateway, accounts and pipeline processes: path
/// and query parameters reach the right fields, gates answer 409 with their reasons.
@Suite("Pipeline over HTTP/JSON", .serialized)
struct PipelineHTTPTests {
    /// Accounts, gateway and pipeline, and rep-a (team east, password "correct horse
    /// battery") signed in: the stack and rep-a's token.
    static func start(portBase: Int) async throws -> (LocalStack, String) {
        var stack = try await GatewayProcessTests.start(portBase: portBase)
        try await stack.writeServiceToken()
        try stack.start("pipeline")
        #expect(await stack.waitUntilServing("pipeline"))
        let admin = try await GatewayProcessTests.signIn(stack, "admin", GatewayProcessTests.adminPassword)
        _ = try await GatewayProcessTests.call(stack, "POST", "/api/v1/users", token: admin, body: """
            {"user":{"username":"rep-a","display_name":"张三","roles":["sales_rep"],"team":"east"},"password":"correct horse battery"}
            """)
        return (stack, try await GatewayProcessTests.signIn(stack, "rep-a", "correct horse battery"))
    }

    @Test("capture, read and convert a lead; a gate refused with 409 FAILED_PRECONDITION naming what is missing; a quote created, sent and accepted wins; forecast and tasks")
    func leadToWon() async throws {
        let (stack, rep) = try await Self.start(portBase: 16100)
        defer { stack.killAll() }
        func call(_ method: String, _ path: String, _ body: String? = nil) async throws -> HTTPTestClient.Reply {
            try await GatewayProcessTests.call(stack, method, path, token: rep, body: body)
        }

        let captured = try await call("POST", "/api/v1/leads", #"{"lead":{"company_name":"泰州船用配件有限公司","contact_name":"钱工","region":"华东","need":"急需报价"}}"#)
        #expect(captured.status == 200, "\(captured.body)")
        #expect(captured.json["outcome"] as? String == "CAPTURE_OUTCOME_CREATED")
        let leadID = try #require((captured.json["lead"] as? [String: Any])?["id"] as? String)
        let read = try await call("GET", "/api/v1/leads/\(leadID)")
        #expect((read.json["lead"] as? [String: Any])?["owner_id"] as? String == "rep-a")
        let listed = try await call("GET", "/api/v1/leads?page_size=10")
        #expect((listed.json["leads"] as? [[String: Any]])?.count == 1)

        let converted = try await call("POST", "/api/v1/leads/\(leadID)/convert", #"{"opportunity_name":"船用泵阀 5 套","amount":{"amount_micros":"800000000000"}}"#)
        #expect(converted.status == 200, "\(converted.body)")
        let opportunity = try #require(converted.json["opportunity"] as? [String: Any])
        let opportunityID = try #require(opportunity["id"] as? String)

        let gate = try await call("POST", "/api/v1/opportunities/\(opportunityID)/stage", #"{"stage":"STAGE_SOLUTION_DESIGN"}"#)
        #expect(gate.status == 409)
        let error = try #require(gate.json["error"] as? [String: Any])
        #expect(error["status"] as? String == "FAILED_PRECONDITION")
        #expect((error["message"] as? String)?.contains("decision maker") == true, "\(gate.body)")

        let validUntil = RFC3339.string(from: Date().addingTimeInterval(30 * 86_400))
        let quote = try await call("POST", "/api/v1/quotes", """
            {"quote":{"opportunity_id":"\(opportunityID)","valid_until":"\(validUntil)","lines":[{"sku":"PV-80","name":"船用泵阀","quantity":"5","list_unit_price":{"amount_micros":"160000000000"}}]}}
            """)
        #expect(quote.status == 200, "\(quote.body)")
        let quoteJSON = try #require(quote.json["quote"] as? [String: Any])
        #expect(quoteJSON["status"] as? String == "QUOTE_STATUS_APPROVED")
        let quoteID = try #require(quoteJSON["id"] as? String)
        #expect(try await call("POST", "/api/v1/quotes/\(quoteID)/send").status == 200)
        let listedQuotes = try await call("GET", "/api/v1/quotes?opportunity_id=\(opportunityID)")
        #expect((listedQuotes.json["quotes"] as? [[String: Any]])?.first?["status"] as? String == "QUOTE_STATUS_SENT")
        let answered = try await call("POST", "/api/v1/quotes/\(quoteID)/answer", #"{"accepted":true,"note":"签约"}"#)
        #expect(answered.status == 200, "\(answered.body)")
        #expect((answered.json["opportunity"] as? [String: Any])?["stage"] as? String == "STAGE_WON")

        let forecast = try await call("GET", "/api/v1/forecast?by=FORECAST_DIMENSION_OWNER")
        #expect(forecast.status == 200, "\(forecast.body)")
        #expect(forecast.json["won"] as? Int == 1)
        let tasks = try await call("GET", "/api/v1/tasks?include_done=true")
        #expect(((tasks.json["tasks"] as? [[String: Any]]) ?? []).contains { $0["kind"] as? String == "lead_first_touch" })
        let summary = try await call("GET", "/api/v1/accounts/\(converted.json["account_id"] as? String ?? "")/pipeline")
        #expect(summary.status == 200, "\(summary.body)")
        #expect((summary.json["latest_quotes"] as? [[String: Any]])?.count == 1)
    }
}
