import ForgeContracts
@testable import ForgeWire
import Foundation
import Logging
import SwiftProtobuf
import Synchronization
import Testing

@Suite("Enum numbers no enum declares are refused before a handler sees them")
struct UndeclaredEnumTests {
    @Test("each undeclared number is named by its field's path, nested and in lists; declared values and unset fields pass")
    func violations() {
        let request = Forge_Orders_V1_ListOrdersRequest.with {
            $0.accountID = "acc_1"
            $0.statuses = [.released, .UNRECOGNIZED(77), .delivered]
        }
        #expect(UndeclaredEnumValues.violations(in: request) == [FieldViolation(field: "statuses[1]", description: "77 is not a value of Forge_Orders_V1_OrderStatus")])
        let create = Forge_Accounts_V1_CreateAccountRequest.with {
            $0.account.name = "上海精密"
            $0.account.size = .UNRECOGNIZED(14688)
        }
        #expect(UndeclaredEnumValues.violations(in: create).map(\.field) == ["account.size"])
        #expect(UndeclaredEnumValues.violations(in: Forge_Accounts_V1_CreateAccountRequest.with { $0.account.size = .large }).isEmpty)
        #expect(UndeclaredEnumValues.violations(in: Forge_Orders_V1_ListOrdersRequest()).isEmpty)
    }

    @Test("a wire call carrying one is INVALID_ARGUMENT and its handler never runs")
    func refusedOnTheWire() async throws {
        let called = Mutex(false)
        var router = RPCRouter()
        let method = MethodDescriptor(service: "forge.orders.v1.Orders", method: "ListOrders")
        router.register(method, request: Forge_Orders_V1_ListOrdersRequest.self) { _, _ in
            called.withLock { $0 = true }
            return Forge_Orders_V1_ListOrdersResponse()
        }
        let route = try #require(router.route(for: method.path)).route
        let context = ServerContext(method: method, metadata: [:], principal: nil, deadline: .now + .seconds(5), requestID: "r", logger: Logger(label: "test"), peer: "test")
        let payload = try Forge_Orders_V1_ListOrdersRequest.with { $0.statuses = [.UNRECOGNIZED(9)] }.serializedData()
        let error = await #expect(throws: RPCError.self) { _ = try await route(payload, context) }
        #expect(error?.code == .invalidArgument && error?.violations.first?.field == "statuses[0]")
        #expect(!called.withLock { $0 })
        _ = try await route(try Forge_Orders_V1_ListOrdersRequest.with { $0.statuses = [.released] }.serializedData(), context)
        #expect(called.withLock { $0 })
    }
}
