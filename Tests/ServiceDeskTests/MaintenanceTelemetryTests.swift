@testable import ForgeServiceDesk
import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import GRDB
import SwiftProtobuf
import Testing

@Suite("Work orders, maintenance plans, telemetry and prediction")
struct MaintenanceTelemetryTests {
    static let manager = ServiceDeskFixture.manager
    static let connector = ServiceDeskFixture.context("mes-iot", [Role.erpConnector])

    /// acc_1's machine VMC850-26-0117 in 华东, installed on `installed`.
    static func machine(_ fixture: ServiceDeskFixture, installed: Date, hours: Double = 0) async throws -> Forge_Servicedesk_V1_Equipment {
        try await fixture.setUp()
        return try await fixture.handler.registerEquipment(.with {
            $0.equipment = .with {
                $0.serialNumber = "VMC850-26-0117"; $0.model = "VMC850"; $0.accountID = "acc_1"; $0.region = "华东"; $0.productLine = "机床"
                $0.installedAt = Google_Protobuf_Timestamp(date: installed); $0.runningHours = hours
            }
        }, context: manager).equipment
    }

    /// Vibration one point a minute from `from`, drifting up 0.02 mm/s per hour, with noise.
    static func vibration(from: Date, minutes: Int, startMinute: Int = 0) -> [Forge_Servicedesk_V1_TelemetryPoint] {
        var noise = TelemetryRulesTests.Noise(state: 11)
        return (startMinute..<(startMinute + minutes)).map { minute in
            .with {
                $0.serialNumber = "vmc850-26-0117"
                $0.metric = "Vibration"
                $0.time = Google_Protobuf_Timestamp(date: from.addingTimeInterval(Double(minute) * 60))
                $0.value = 2.8 + 0.02 * Double(minute) / 60 + noise.next()
            }
        }
    }

    func ingest(_ fixture: ServiceDeskFixture, _ points: [Forge_Servicedesk_V1_TelemetryPoint]) async throws -> [Forge_Servicedesk_V1_Prediction] {
        var predictions: [Forge_Servicedesk_V1_Prediction] = []
        for start in stride(from: 0, to: points.count, by: 1000) {
            let response = try await fixture.handler.ingestTelemetry(.with { $0.points = Array(points[start..<min(start + 1000, points.count)]) }, context: Self.connector)
            #expect(response.rejected.isEmpty && Int(response.accepted) == min(1000, points.count - start))
            predictions += response.predictions
        }
        return predictions
    }

    @Test("a drifting vibration opens one prediction with one predictive work order and EquipmentFailurePredicted; while it is open the drift opens nothing more; completing the work order closes it, and the drift still there opens the next")
    func predictionLoop() async throws {
        let fixture = try ServiceDeskFixture()
        let now = fixture.clock.now()
        let machine = try await Self.machine(fixture, installed: now.addingTimeInterval(-200 * 86_400))
        _ = try await fixture.handler.upsertTelemetryRule(.with { $0.rule = TelemetryRulesTests.trendRule; $0.rule.advice = "检查主轴轴承，备件随车"; $0.rule.parts = ["SP-BRG-7014"] }, context: Self.manager)
        let start = now.addingTimeInterval(-24 * 3600)
        let opened = try await ingest(fixture, Self.vibration(from: start, minutes: 24 * 60))
        #expect(opened.count == 1)
        let prediction = try #require(opened.first)
        #expect(prediction.equipmentID == machine.id && prediction.accountID == "acc_1" && prediction.state == .open && prediction.parts == ["SP-BRG-7014"])
        #expect(prediction.hasProjectedFailureAt && prediction.reason.contains("vibration 近 24 小时每小时 +"))
        let events = try await fixture.events("EquipmentFailurePredicted").map { try Forge_Servicedesk_V1_EquipmentFailurePredicted(serializedBytes: $0.payload) }
        #expect(events.count == 1 && events.first?.prediction.id == prediction.id && events.first?.equipment.serialNumber == "VMC850-26-0117")
        var orders = try await fixture.handler.listWorkOrders(.with { $0.equipmentID = machine.id }, context: ServiceDeskFixture.engineerEast).workOrders
        #expect(orders.count == 1)
        let order = try #require(orders.first)
        #expect(order.kind == .predictive && order.predictionID == prediction.id && order.dueAt == prediction.projectedFailureAt && order.region == "华东")
        #expect(order.description_p.contains("检查主轴轴承"))

        // An hour more of the drift: the prediction is open, nothing new.
        fixture.clock.advance(by: 3600)
        #expect(try await ingest(fixture, Self.vibration(from: start, minutes: 60, startMinute: 24 * 60)).isEmpty)
        #expect(try await fixture.events("EquipmentFailurePredicted").count == 1)

        // The engineer replaces the bearing; the prediction closes.
        let completed = try await fixture.handler.completeWorkOrder(.with {
            $0.id = order.id; $0.labourHours = 3.5; $0.result = "更换主轴前轴承"; $0.parts = [.with { $0.partNumber = "SP-BRG-7014"; $0.quantity = 2 }]; $0.runningHours = 4210
        }, context: ServiceDeskFixture.engineerEast).workOrder
        #expect(completed.state == .completed && completed.engineerID == "eng-east" && completed.runningHours == 4210)
        let closed = try await fixture.handler.listPredictions(.with { $0.equipmentID = machine.id }, context: Self.manager).predictions
        #expect(closed.map(\.state) == [.closed] && closed.first?.hasClosedAt == true)
        #expect(try await fixture.handler.getEquipment(.with { $0.id = machine.id }, context: Self.manager).equipment.runningHours == 4210)
        // Still drifting (the synthetic signal did not heal): the next look opens a new one.
        fixture.clock.advance(by: 1800)
        #expect(try await ingest(fixture, Self.vibration(from: start, minutes: 30, startMinute: 25 * 60)).count == 1)
        orders = try await fixture.handler.listWorkOrders(.with { $0.equipmentID = machine.id; $0.states = [.open, .completed] }, context: Self.manager).workOrders
        #expect(orders.map(\.kind) == [.predictive, .predictive] && orders.map(\.state) == [.open, .completed])
        let service = try await fixture.handler.getAccountService(.with { $0.accountID = "acc_1" }, context: ServiceDeskFixture.rep)
        #expect(service.predictionsOpen == 1 && service.workOrdersOpen == 1 && service.lastPrediction.state == .open)
    }

    @Test("a batch with bad points stores the good ones and answers each bad one by index and field")
    func badPoints() async throws {
        let fixture = try ServiceDeskFixture()
        let now = fixture.clock.now()
        _ = try await Self.machine(fixture, installed: now.addingTimeInterval(-86_400))
        var points = Self.vibration(from: now.addingTimeInterval(-600), minutes: 4)
        points[0].serialNumber = "NOPE-1"
        points[2].value = .infinity
        points[3].metric = ""
        let response = try await fixture.handler.ingestTelemetry(.with { $0.points = points }, context: Self.connector)
        #expect(response.accepted == 1)
        #expect(response.rejected.map(\.index) == [0, 2, 3])
        #expect(response.rejected.map { $0.violations.map(\.field) } == [["serial_number"], ["value"], ["metric"]])
        await #expect { _ = try await fixture.handler.ingestTelemetry(.with { $0.points = Array(repeating: points[1], count: 10_001) }, context: Self.connector) } throws: {
            ($0 as? RPCError)?.violations.map(\.field) == ["points"]
        }
    }

    @Test("points are stored in the order sent, grouped many to an insert: of two readings in the same second the later one stays, within a group and across groups; a serial in lower case and with spaces names the same machine")
    func batchOrder() async throws {
        let fixture = try ServiceDeskFixture()
        let now = fixture.clock.now()
        let machine = try await Self.machine(fixture, installed: now.addingTimeInterval(-86_400))
        let from = now.addingTimeInterval(-250 * 60)
        var points = (0..<250).map { minute in
            Forge_Servicedesk_V1_TelemetryPoint.with {
                $0.serialNumber = minute % 2 == 0 ? " vmc850-26-0117\t" : "VMC850-26-0117"; $0.metric = " Temperature "
                $0.time = Google_Protobuf_Timestamp(date: from.addingTimeInterval(Double(minute) * 60)); $0.value = Double(minute)
            }
        }
        points[120].time = points[119].time  // the same group of 100
        points[120].value = -1
        points[249].time = points[10].time   // the last point, in another group than the first
        points[249].value = 999
        let response = try await fixture.handler.ingestTelemetry(.with { $0.points = points }, context: Self.connector)
        #expect(response.accepted == 250 && response.rejected.isEmpty)
        let stored = try await fixture.handler.getTelemetry(.with {
            $0.equipmentID = machine.id; $0.metric = "temperature"
            $0.from = Google_Protobuf_Timestamp(date: from.addingTimeInterval(-60)); $0.to = Google_Protobuf_Timestamp(date: now)
        }, context: ServiceDeskFixture.rep).values
        #expect(stored.count == 248)
        #expect(stored.first { $0.time == points[10].time }?.value == 999)
        #expect(stored.first { $0.time == points[119].time }?.value == -1)
        #expect(stored.last?.value == 248)
        #expect(try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM telemetry_series") } == 1)
    }

    @Test("telemetry past its raw retention (30 days) becomes hourly aggregates (count, mean, min, max) in the daily sweep, and aggregates past theirs (2 years) go")
    func downsampling() async throws {
        let fixture = try ServiceDeskFixture()
        let now = fixture.clock.now()
        let machine = try await Self.machine(fixture, installed: now.addingTimeInterval(-86_400))
        let hour = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600 - 3 * 3600)
        let points = [(0, 60.0), (600, 62.0), (1200, 70.0), (3600, 50.0), (4200, 54.0)].map { offset, value in
            Forge_Servicedesk_V1_TelemetryPoint.with {
                $0.serialNumber = "VMC850-26-0117"; $0.metric = "temperature"; $0.time = Google_Protobuf_Timestamp(date: hour.addingTimeInterval(Double(offset))); $0.value = value
            }
        }
        _ = try await ingest(fixture, points)
        func series(hourly: Bool = false) async throws -> [Forge_Servicedesk_V1_TelemetryValue] {
            try await fixture.handler.getTelemetry(.with {
                $0.equipmentID = machine.id; $0.metric = "temperature"; $0.hourly = hourly
                $0.from = Google_Protobuf_Timestamp(date: hour.addingTimeInterval(-86_400)); $0.to = Google_Protobuf_Timestamp(date: hour.addingTimeInterval(86_400))
            }, context: ServiceDeskFixture.rep).values
        }
        #expect(try await series().map(\.value) == [60, 62, 70, 50, 54])
        #expect(try await series(hourly: true).map(\.count) == [3, 2], "a long chart asks for hours")
        _ = try await fixture.scheduler.runDue()
        #expect(try await series().count == 5, "within 30 days nothing is folded")

        fixture.clock.advance(by: 31 * 86_400)
        _ = try await fixture.scheduler.runDue()
        let folded = try await series()
        #expect(folded.map(\.count) == [3, 2] && folded.map(\.value) == [64, 52] && folded.map(\.min) == [60, 50] && folded.map(\.max) == [70, 54])
        #expect(try await fixture.database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM telemetry_raw") } == 0)

        // A late point older than 30 days joins its hour's aggregate directly.
        _ = try await ingest(fixture, [.with { $0.serialNumber = "VMC850-26-0117"; $0.metric = "temperature"; $0.time = Google_Protobuf_Timestamp(date: hour.addingTimeInterval(1800)); $0.value = 80 }])
        #expect(try await series().map(\.count) == [4, 2])

        fixture.clock.advance(by: 731 * 86_400)
        _ = try await fixture.scheduler.runDue()
        #expect(try await series().isEmpty)
    }

    @Test("a maintenance plan creates its work order 14 days before it falls due — by months or by the hour meter at the machine's use, whichever is first — once per due date, and counts the next from the visit")
    func maintenancePlans() async throws {
        let fixture = try ServiceDeskFixture(start: SlaRulesTests.at("2026-11-20 10:00"))
        let machine = try await Self.machine(fixture, installed: SlaRulesTests.at("2026-06-10 09:00"))
        let plan = try await fixture.handler.upsertMaintenancePlan(.with {
            $0.plan = .with { $0.model = "VMC850"; $0.name = "半年保养"; $0.everyMonths = 6; $0.everyRunningHours = 2000; $0.checklist = "换导轨油；检查主轴"; $0.active = true }
        }, context: Self.manager).plan
        #expect(plan.version == 1 && !plan.id.isEmpty)
        await #expect { _ = try await fixture.handler.upsertMaintenancePlan(.with { $0.plan = .with { $0.model = "VMC850" } }, context: Self.manager) } throws: {
            Set(($0 as? RPCError)?.violations.map(\.field) ?? []) == ["plan.name", "plan.every_months"]
        }
        func preventive() async throws -> [Forge_Servicedesk_V1_WorkOrder] {
            try await fixture.handler.listWorkOrders(.with { $0.equipmentID = machine.id; $0.states = [.open, .scheduled, .completed] }, context: Self.manager).workOrders
        }
        // Due 2026-12-10: on 11-20 it is 20 days away, nothing yet.
        _ = try await fixture.scheduler.runDue()
        #expect(try await preventive().isEmpty)
        fixture.clock.set(SlaRulesTests.at("2026-11-27 03:00"))
        _ = try await fixture.scheduler.runDue()
        _ = try await fixture.database.write { db in try WorkOrderStore.generateMaintenance(db, now: SlaRulesTests.at("2026-11-27 04:00")) }
        var orders = try await preventive()
        #expect(orders.count == 1, "once per due date")
        let first = try #require(orders.first)
        #expect(first.kind == .preventive && first.planID == plan.id && first.dueAt.date == SlaRulesTests.at("2026-12-10 09:00") && first.description_p.contains("换导轨油"))

        // Visited on 12-08 at 1,500 hours: next by months 2027-06-08, by hours (2,000 more at
        // ~8.3 h a day) in August — months first.
        fixture.clock.set(SlaRulesTests.at("2026-12-08 15:00"))
        _ = try await fixture.handler.scheduleWorkOrder(.with { $0.id = first.id; $0.engineerID = "eng-east"; $0.scheduledAt = Google_Protobuf_Timestamp(date: fixture.clock.now()) }, context: Self.manager)
        _ = try await fixture.handler.completeWorkOrder(.with { $0.id = first.id; $0.labourHours = 4; $0.result = "保养完成"; $0.runningHours = 1500 }, context: ServiceDeskFixture.engineerEast)
        fixture.clock.set(SlaRulesTests.at("2027-05-24 03:00"))
        _ = try await fixture.scheduler.runDue()
        #expect(try await preventive().count == 1)
        fixture.clock.set(SlaRulesTests.at("2027-05-26 03:00"))
        _ = try await fixture.scheduler.runDue()
        orders = try await preventive()
        #expect(orders.count == 2 && orders.first?.dueAt.date == SlaRulesTests.at("2027-06-08 15:00"))

        // By the hour meter: a machine used 10 h a day, 50 h short of its 1,050-hour service,
        // is due in 5 days.
        let hours = MaintenanceRules.due(.with { $0.everyRunningHours = 1050 }, anchor: .init(at: SlaRulesTests.at("2026-01-01 00:00"), runningHours: 0, key: "install"),
                                         runningHours: 1000, inServiceSince: SlaRulesTests.at("2026-01-01 00:00"), now: SlaRulesTests.at("2026-04-11 00:00"))
        #expect(hours == SlaRulesTests.at("2026-04-16 00:00"))
        // A machine older than the plan is due at its next mark, not years overdue: installed
        // 2023-03-10, every 6 months → 2027-03-10; at 9,500 hours, every 2,000 → at 10,000.
        let old = MaintenanceRules.Anchor(at: SlaRulesTests.at("2023-03-10 00:00"), runningHours: 0, key: "install")
        #expect(MaintenanceRules.due(.with { $0.everyMonths = 6 }, anchor: old, runningHours: 0, inServiceSince: old.at, now: SlaRulesTests.at("2026-11-20 00:00"))
                    == SlaRulesTests.at("2027-03-10 00:00"))
        let meter = MaintenanceRules.due(.with { $0.everyRunningHours = 2000 }, anchor: old, runningHours: 9500, inServiceSince: old.at, now: SlaRulesTests.at("2026-11-20 00:00"))
        #expect(meter.map { abs($0.timeIntervalSince(SlaRulesTests.at("2026-11-20 00:00")) - 500 / (9500 / 1351) * 86_400) < 1 } == true)
    }

    @Test("MTTR is the mean time from a failure's report to its repair; MTBF the machines' time in service per failure")
    func reliability() async throws {
        let fixture = try ServiceDeskFixture(start: SlaRulesTests.at("2026-12-07 09:00"))
        let installed = SlaRulesTests.at("2026-12-07 09:00").addingTimeInterval(-100 * 86_400)
        let machine = try await Self.machine(fixture, installed: installed)
        let ticket = try await fixture.handler.openTicket(.with {
            $0.ticket = .with { $0.equipmentID = machine.id; $0.channel = .phone; $0.category = .fault; $0.priority = .p1; $0.subject = "主轴报警" }
        }, context: Self.manager).ticket
        let order = try await fixture.handler.createWorkOrder(.with { $0.workOrder = .with { $0.ticketID = ticket.id; $0.kind = .repair } }, context: Self.manager).workOrder
        #expect(order.equipmentID == machine.id && order.failureReportedAt == ticket.createdAt && order.number.hasPrefix("WO-2026-"))
        fixture.clock.advance(by: 6 * 3600)
        _ = try await fixture.handler.completeWorkOrder(.with { $0.id = order.id; $0.labourHours = 5; $0.result = "更换编码器" }, context: ServiceDeskFixture.engineerEast)
        let figures = try await fixture.handler.getReliability(.with { $0.accountID = "acc_1" }, context: Self.manager)
        let model = try #require(figures.models.first)
        #expect(model.key == "VMC850" && model.repairs == 1 && model.mttrHours == 6 && model.failures == 1 && model.machines == 1)
        #expect(abs(model.mtbfHours - (100 * 24 + 6)) < 0.01 && model.mtbfHours == model.hoursInService)
        #expect(figures.account.mttrHours == 6 && figures.account.name == "杭州汽轮动力集团有限公司")
        await #expect { _ = try await fixture.handler.completeWorkOrder(.with { $0.id = order.id; $0.result = "again" }, context: Self.manager) } throws: {
            ($0 as? RPCError)?.code == .failedPrecondition
        }
        await #expect { _ = try await fixture.handler.completeWorkOrder(.with { $0.id = order.id; $0.labourHours = -1; $0.parts = [.init()] }, context: Self.manager) } throws: {
            Set(($0 as? RPCError)?.violations.map(\.field) ?? []) == ["result", "labour_hours", "parts[0].part_number", "parts[0].quantity"]
        }
    }

    @Test("an installed-base spreadsheet imports by serial number: the customer by name or id, Chinese headers and dates, each bad cell named; a second run changes nothing")
    func importEquipment() async throws {
        let fixture = try ServiceDeskFixture()
        try await fixture.setUp()
        let header = ["序列号", "型号", "客户名称", "区域", "安装日期", "运行小时", "状态", "备注"]
        let rows: [[String]] = [
            ["VMC850-25-0001", "VMC850", "杭州汽轮动力集团有限公司", "华东", "2025-03-15", "5200", "在用", "x"],
            ["VMC850-25-0002", "VMC850", "acc_1", "华东", "45800", "", "", ""],
            ["vmc850-25-0001", "VMC850", "acc_1", "", "", "", "", ""],
            ["VMC850-25-0003", "VMC850", "无名公司", "", "2025-13-01", "many", "坏了", ""],
            ["", "", "", "", "", "", "", ""],
        ]
        func run(dryRun: Bool = false) async throws -> Forge_Common_V1_ImportResponse {
            try await fixture.handler.importEquipment(.with {
                $0.importID = "imp-1"
                $0.header = header
                $0.rows = rows.enumerated().map { index, values in .with { $0.line = Int32(index + 2); $0.values = values } }
                $0.dryRun = dryRun
            }, context: Self.manager)
        }
        let dry = try await run(dryRun: true)
        #expect(dry.results.map(\.status) == [.created, .created, .duplicate, .rejected, .rejected])
        #expect(try await fixture.handler.listEquipment(.with { $0.accountID = "acc_1" }, context: Self.manager).equipment.isEmpty, "a dry run writes nothing")
        let first = try await run()
        #expect(first.ignoredColumns == ["备注"])
        #expect(first.results.map(\.status) == [.created, .created, .duplicate, .rejected, .rejected])
        #expect(first.results[2].duplicateOf == "line 2")
        #expect(first.results[3].violations.map(\.field) == ["installed_at", "running_hours", "status"])
        #expect(Set(first.results[4].violations.map(\.field)) == ["serial_number", "model", "account"])
        let machines = try await fixture.handler.listEquipment(.with { $0.accountID = "acc_1" }, context: Self.manager).equipment
        #expect(machines.map(\.serialNumber) == ["VMC850-25-0001", "VMC850-25-0002"])
        #expect(machines[0].runningHours == 5200 && machines[0].installedAt.date == SlaRulesTests.at("2025-03-15 00:00") && machines[0].region == "华东")
        #expect(machines[1].installedAt.date == SlaRulesTests.at("2025-05-23 00:00"), "an Excel serial day")
        #expect(try await run().results.prefix(2).map(\.status) == [.unchanged, .unchanged])
        await #expect { _ = try await fixture.handler.importEquipment(.with { $0.importID = "x"; $0.header = ["名称"] }, context: Self.manager) } throws: {
            ($0 as? RPCError)?.violations.count == 3
        }
    }
}
