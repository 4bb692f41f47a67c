@testable import ForgeOrders
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf
import Testing

@Suite("Orders rules")
struct OrdersRulesTests {
    static func installment(_ bps: Int32 = 0, fixed: Int64? = nil, _ trigger: Forge_Orders_V1_DueTrigger = .onDelivery) -> Forge_Orders_V1_Installment {
        .with {
            $0.label = "期款"
            $0.percentBps = bps
            if let fixed { $0.fixedAmount = .with { $0.amountMicros = fixed } }
            $0.trigger = trigger
        }
    }

    @Test("a 30/60/10 plan of an odd total splits to the cent and adds up to the total exactly (integer micros)")
    func planAddsUp() {
        let total: Int64 = 1_000_000_010_000  // 1,000,000.01
        var plan = [Self.installment(3000, .onApproval), Self.installment(6000, .beforeShipment), Self.installment(1000)]
        #expect(PaymentPlanRules.validate(plan, total: total).isEmpty)
        PaymentPlanRules.computeAmounts(&plan, total: total, currency: "CNY")
        #expect(plan.map(\.amount.amountMicros) == [300_000_000_000, 600_000_000_000, 100_000_010_000])
        #expect(plan.map(\.amount.amountMicros).reduce(0, +) == total)
        #expect(plan.allSatisfy { $0.amount.amountMicros % 10_000 == 0 })
        #expect(plan.map(\.number) == [1, 2, 3])
    }

    @Test("a plan of extreme shares and amounts is refused, not added up (adding as it checked overflowed and took forge-orders down)")
    func extremePlan() {
        let plan = [Self.installment(2_147_483_646), Self.installment(fixed: .min, .onApproval), Self.installment(2_147_483_646), Self.installment()]
        let violations = PaymentPlanRules.validate(plan, total: 1_000_000)
        #expect(violations.map(\.field).contains("order.payment_plan[0].percent_bps"))
        #expect(violations.map(\.field).contains("order.payment_plan[1].fixed_amount"))
    }

    @Test("a deposit as a fixed amount and the rest on delivery; shares that miss 100 % and amounts over the total name the plan")
    func planViolations() {
        let total: Int64 = 500_000_000_000
        var fixed = [Self.installment(fixed: 50_000_000_000, .onApproval), Self.installment()]
        #expect(PaymentPlanRules.validate(fixed, total: total).isEmpty)
        PaymentPlanRules.computeAmounts(&fixed, total: total, currency: "CNY")
        #expect(fixed.map(\.amount.amountMicros) == [50_000_000_000, 450_000_000_000])

        let short = PaymentPlanRules.validate([Self.installment(3000), Self.installment(6000)], total: total)
        #expect(short.map(\.field) == ["order.payment_plan"])
        #expect(short.first?.description.contains("90.0 %") == true)
        let over = PaymentPlanRules.validate([Self.installment(fixed: 600_000_000_000), Self.installment()], total: total)
        #expect(over.map(\.field) == ["order.payment_plan"])
        let both = PaymentPlanRules.validate([.with { $0.label = "x"; $0.percentBps = 100; $0.fixedAmount = .with { $0.amountMicros = 10_000 }; $0.trigger = .onApproval }, Self.installment()], total: total)
        #expect(both.contains { $0.field == "order.payment_plan[0]" })
        let noTrigger = PaymentPlanRules.validate([Self.installment(10_000, .unspecified)], total: total)
        #expect(noTrigger.map(\.field) == ["order.payment_plan[0].trigger"])
    }

    @Test("a line total beyond 40 billion, or a fixed instalment beyond it, is refused by name rather than overflowing")
    func bounds() {
        let order = Forge_Orders_V1_Order.with {
            $0.accountID = "acc_1"
            $0.lines = [.with { $0.sku = "X"; $0.quantity = 1_000_000; $0.unitPrice = .with { $0.amountMicros = 1_000_000_000 * 1_000_000 } }]
            $0.paymentPlan = [.with { $0.label = "a"; $0.fixedAmount = .with { $0.amountMicros = .max / 2 }; $0.trigger = .onApproval }, Self.installment()]
        }
        let fields = OrderRules.validate(order, now: Date()).map(\.field)
        #expect(fields.contains("order.lines[0].quantity"))
        // The largest order there can be (200 lines of 40 billion) still splits by shares.
        #expect(PaymentPlanRules.share(of: 200 * OrderRules.maxLineTotal, bps: 3_333) == 2_666_400_000_000_000_000)
        #expect(PaymentPlanRules.share(of: 1_000_000_010_000, bps: 3_000) == 300_000_000_000)
        let plan = PaymentPlanRules.validate(order.paymentPlan, total: 1_000_000)
        #expect(plan.map(\.field).contains("order.payment_plan[0].fixed_amount"))
    }

    @Test("a payment settles instalments oldest first and marks each paid in full")
    func paymentOldestFirst() {
        var plan = [Self.installment(3000, .onApproval), Self.installment(7000)]
        PaymentPlanRules.computeAmounts(&plan, total: 100_000_000, currency: "CNY")
        let applied = PaymentPlanRules.apply(payment: 40_000_000, to: &plan, at: Date(timeIntervalSince1970: 1000))
        #expect(applied == [0: 30_000_000, 1: 10_000_000])
        #expect(plan[0].hasPaidAt && !plan[1].hasPaidAt)
        #expect(PaymentPlanRules.outstanding(plan[1]) == 60_000_000)
    }

    @Test("a quote's payment terms map to triggers: on order, before shipment, after acceptance, net days")
    func termsFromQuote() {
        let plan = PaymentPlanRules.plan(from: [
            .with { $0.label = "预付款"; $0.percent = 30; $0.dueRule = "on_order" },
            .with { $0.label = "发货前"; $0.percent = 60; $0.dueRule = "before_shipment" },
            .with { $0.label = "尾款"; $0.percent = 10; $0.dueRule = "net_45" },
        ])
        #expect(plan.map(\.trigger) == [.onApproval, .beforeShipment, .onDelivery])
        #expect(plan.map(\.percentBps) == [3000, 6000, 1000])
        #expect(plan[2].daysAfter == 45)
    }

    @Test("a line only moves forward: a lower status or an older report at the same status is history; a newer one at the same status updates it")
    func statusOutcome() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let current = Forge_Orders_V1_ProductionState.with {
            $0.status = .inProduction
            $0.percent = 40
            $0.sourceTime = .init(date: t0)
        }
        func report(_ status: Forge_Orders_V1_ProductionStatus, _ offset: TimeInterval) -> Forge_Orders_V1_StatusReport {
            .with {
                $0.status = status
                $0.sourceTime = .init(date: t0.addingTimeInterval(offset))
                $0.percent = 70
            }
        }
        #expect(StatusRules.outcome(current: .init(), report: report(.scheduled, -100)) == .applied)
        #expect(StatusRules.outcome(current: current, report: report(.scheduled, 100)) == .historyOnly)
        #expect(StatusRules.outcome(current: current, report: report(.inProduction, -1)) == .historyOnly)
        #expect(StatusRules.outcome(current: current, report: report(.inProduction, 1)) == .applied)
        // Forward even when its clock is behind (another system's).
        #expect(StatusRules.outcome(current: current, report: report(.packed, -3600)) == .applied)
        #expect(StatusRules.applied(report(.inProduction, 1), over: current).percent == 70)
    }

    @Test("ageing buckets by whole days past due; DSO = receivables / credit sales × days")
    func ageingAndDSO() {
        let due = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(CreditRules.bucket(daysOverdue: CreditRules.daysOverdue(due: due, now: due.addingTimeInterval(-10))) == .current)
        #expect(CreditRules.bucket(daysOverdue: CreditRules.daysOverdue(due: due, now: due.addingTimeInterval(86_400 * 1.5))) == .days1to30)
        #expect(CreditRules.bucket(daysOverdue: 30) == .days1to30)
        #expect(CreditRules.bucket(daysOverdue: 31) == .days31to60)
        #expect(CreditRules.bucket(daysOverdue: 61) == .days61to90)
        #expect(CreditRules.bucket(daysOverdue: 91) == .over90)
        let dso = CreditRules.dso(receivables: 300_000_000, creditSales: 900_000_000, days: 90, currency: "CNY")
        #expect(dso.dsoDays == 30)
        #expect(CreditRules.dso(receivables: 1, creditSales: 0, days: 90, currency: "CNY").dsoDays == 0)
    }

    @Test("the credit check adds the open balance to the order and compares with the limit; no limit set is not checked")
    func creditCheck() {
        let now = Date()
        let limit = Forge_Common_V1_Money.with { $0.amountMicros = 1_000_000_000 }
        #expect(!CreditRules.check(limit: limit, openBalance: 400_000_000, orderTotal: 600_000_000, currency: "CNY", at: now).overLimit)
        let over = CreditRules.check(limit: limit, openBalance: 400_000_000, orderTotal: 600_010_000, currency: "CNY", at: now)
        #expect(over.overLimit)
        #expect(CreditRules.explanation(over).contains("CNY 1,000.01"))
        #expect(!CreditRules.check(limit: nil, openBalance: .max / 4, orderTotal: 1, currency: "CNY", at: now).overLimit)
    }

    @Test("delivered on the promised day in China time is on time; the next day is late")
    func onTime() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        let promised = Google_Protobuf_Timestamp(date: calendar.date(from: DateComponents(year: 2026, month: 3, day: 15, hour: 9))!)
        #expect(StatusRules.onTime(promised: promised, delivered: calendar.date(from: DateComponents(year: 2026, month: 3, day: 15, hour: 23, minute: 30))!))
        #expect(!StatusRules.onTime(promised: promised, delivered: calendar.date(from: DateComponents(year: 2026, month: 3, day: 16, hour: 0, minute: 10))!))
        #expect(StatusRules.onTime(promised: nil, delivered: Date()))
    }

    @Test("spreadsheet amounts read as decimals: separators, ¥, 元 and 万, to the micro")
    func money() {
        #expect(ImportColumns.money("1,234.56") == 1_234_560_000)
        #expect(ImportColumns.money("¥12,000元") == 12_000_000_000)
        #expect(ImportColumns.money("1.5万") == 15_000_000_000)
        #expect(ImportColumns.money("0.1") == 100_000)
        #expect(ImportColumns.money("abc") == nil)
        #expect(ImportColumns.money("-5") == nil)
    }

    @Test("a rep sees prices but no costs, margins or credit figures; finance sees them; a service engineer sees neither prices nor margins")
    func fieldLevel() {
        var order = Forge_Orders_V1_Order.with {
            $0.total = .with { $0.amountMicros = 100 }
            $0.margin = .with { $0.amountMicros = 30 }
            $0.creditCheck = .with { $0.overLimit = true }
            $0.lines = [.with { $0.unitPrice = .with { $0.amountMicros = 100 }; $0.unitCost = .with { $0.amountMicros = 70 }; $0.margin = .with { $0.amountMicros = 30 } }]
        }
        order.paymentPlan = [.with { $0.amount = .with { $0.amountMicros = 100 } }]
        let rep = OrderRules.view(order, for: Principal(subject: "r", roles: ["sales_rep"]))
        #expect(rep.hasTotal && !rep.hasMargin && !rep.hasCreditCheck && !rep.lines[0].hasUnitCost && !rep.lines[0].hasMargin)
        let finance = OrderRules.view(order, for: Principal(subject: "f", roles: ["finance"]))
        #expect(finance == order)
        let engineer = OrderRules.view(order, for: Principal(subject: "e", roles: ["service_engineer"]))
        #expect(!engineer.hasTotal && !engineer.lines[0].hasUnitPrice && engineer.paymentPlan.isEmpty && !engineer.hasMargin)
    }
}
