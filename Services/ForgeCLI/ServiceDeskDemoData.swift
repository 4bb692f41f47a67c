import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation
import SwiftProtobuf

/// The service desk part of the demo: engineers per region, maintenance plans and telemetry
/// rules per model, the installed base — every machine ERP's history says a customer bought (imported as a spreadsheet
/// would be), a year of ticket history from "the previous helpdesk" with SLA hits and misses,
/// a dozen tickets open now, and three days of telemetry from four machines — one of them a
/// spindle bearing wearing out, which the trend rule catches (a prediction and its work order).
/// Every write is idempotent (import by serial and number, keys on the rest), so an
/// interrupted load finishes without doubles.
struct ServiceDeskDemoData {
    let issuer: TokenIssuer

    static let engineers: [(id: String, name: String, regions: [String])] = [
        ("eng-01", "张工", ["华东"]), ("eng-02", "刘工", ["华东"]), ("eng-03", "陈工", ["华南"]),
        ("eng-04", "杨工", ["华北", "东北"]), ("eng-05", "周工", ["华中"]), ("eng-06", "吴工", ["西南", "西北"]),
    ]

    /// The machines the demo customers run (the pipeline's products).
    static var machines: [(sku: String, name: String, line: String)] { PipelineDemoData.products.map { ($0.sku, $0.name, $0.line) } }

    func load(accounts: [DemoData.Account], now: Date, progress: (DemoData.Progress) -> Void) async throws -> (machines: Int, tickets: Int) {
        let managerToken = try await issuer.issue(subject: "svc-mgr", roles: [Role.serviceManager], ttl: 3600)
        let wire = try WireClient(address: StackLayout.address(of: "servicedesk"), interceptors: [BearerTokenInterceptor(token: managerToken)])
        defer { Task { await wire.close() } }
        let desk = Forge_Servicedesk_V1_ServiceDeskClient(channel: wire)
        guard let last = accounts.last else { return (0, 0) }
        try await waitForAccounts(desk, knowing: last.id)

        for engineer in Self.engineers {
            _ = try await desk.upsertEngineer(.with {
                $0.engineer = .with {
                    $0.id = engineer.id; $0.name = engineer.name; $0.regions = engineer.regions; $0.productLines = Self.machines.map(\.line); $0.active = true
                }
            }, options: CallOptions(idempotencyKey: "demo-engineer-\(engineer.id)"))
        }
        // The installed base: each machine ERP's history says a customer bought, installed the
        // day it was delivered (the same history loyalty and analytics count). The service
        // level is left to the customer's partner tier (TierChanged from loyalty).
        var random = SeededRandom(seed: 20261204)
        var base: [(serial: String, sku: String, account: DemoData.Account, installed: Date)] = []
        var rows: [Forge_Common_V1_ImportRow] = []
        let byID = Dictionary(accounts.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        for order in LoyaltyDemoData.erpHistory(accounts) {
            guard let machine = Self.machines.first(where: { $0.sku == order.sku }), let account = byID[order.accountID] else { continue }
            let installed = now.addingTimeInterval(-Double(order.daysAgo) * 86_400)
            let serial = "\(machine.sku)-\(order.number.dropFirst(5))"
            base.append((serial, machine.sku, account, installed))
            rows.append(.with {
                $0.line = Int32(rows.count + 2)
                $0.values = [serial, machine.sku, machine.line, account.id, account.region, ["一号车间", "二号车间", "总装车间", "精加工车间"][random.next(4)],
                             Self.day(installed), Self.day(installed.addingTimeInterval(730 * 86_400)), "",
                             String(Int(now.timeIntervalSince(installed) / 86_400 * Double(8 + random.next(10))))]
            })
        }
        let imported = try await desk.importEquipment(.with {
            $0.importID = "demo-installed-base"
            $0.header = ["serial_number", "model", "product_line", "account", "region", "site", "installed_at", "warranty_until", "service_level", "running_hours"]
            $0.rows = rows
        }, options: CallOptions(timeout: .seconds(60), idempotencyKey: "demo-installed-base"))
        let known = Set(imported.results.filter { $0.status != .rejected }.map(\.id))
        progress(.init(step: "installed base", done: known.count, total: rows.count))

        // Plans and rules once the machines are there: a plan creates the work orders due
        // within its lead days at once.
        for machine in Self.machines {
            _ = try await desk.upsertMaintenancePlan(.with {
                $0.plan = .with {
                    $0.id = "pmp-\(machine.sku)"; $0.model = machine.sku; $0.name = "\(machine.name) 半年保养"; $0.everyMonths = 6; $0.everyRunningHours = 2000
                    $0.checklist = "更换导轨润滑油；检查主轴温升与振动；校验精度；清理冷却系统"; $0.active = true
                }
            }, options: CallOptions(idempotencyKey: "demo-plan-\(machine.sku)"))
            for rule in Self.rules(model: machine.sku) {
                _ = try await desk.upsertTelemetryRule(.with { $0.rule = rule }, options: CallOptions(idempotencyKey: "demo-rule-\(rule.id)"))
            }
        }

        // A year of history: a ticket on about half the machines, most within their SLA.
        let subjects: [(Forge_Servicedesk_V1_Category, String)] = [
            (.fault, "主轴报警停机"), (.fault, "伺服过载报警"), (.fault, "液压站压力不足"), (.fault, "冷却液泄漏"), (.question, "操作面板参数咨询"),
            (.maintenance, "年度保养预约"), (.installation, "新增夹具安装调试"), (.complaint, "备件到货延误"),
        ]
        var history: [Forge_Servicedesk_V1_Ticket] = []
        for (index, machine) in base.enumerated() {
            for n in 0..<random.next(3) {
                let (category, subject) = subjects[random.next(subjects.count)]
                let opened = Self.workingHour(now.addingTimeInterval(-Double(20 + random.next(340)) * 86_400), hour: 8 + random.next(9))
                guard opened > machine.installed.addingTimeInterval(7 * 86_400) else { continue }
                let slow = random.next(10) < 2
                let responded = opened.addingTimeInterval(Double(10 + random.next(slow ? 600 : 90)) * 60)
                let resolved = responded.addingTimeInterval(Double(1 + random.next(slow ? 120 : 20)) * 3600)
                history.append(.with {
                    $0.number = "HD-\(Calendar(identifier: .gregorian).component(.year, from: opened))-\(String(format: "%04d", index))\(n)"
                    $0.serialNumber = machine.serial
                    $0.channel = [.phone, .wechat, .email, .portal][random.next(4)]
                    $0.category = category
                    $0.priority = category == .fault ? [.p1, .p2, .p2, .p3][random.next(4)] : category == .complaint ? .p2 : .p3
                    $0.subject = subject
                    $0.createdAt = Google_Protobuf_Timestamp(date: opened)
                    $0.sla.firstResponse.metAt = Google_Protobuf_Timestamp(date: responded)
                    $0.resolvedAt = Google_Protobuf_Timestamp(date: resolved)
                    $0.closedAt = Google_Protobuf_Timestamp(date: resolved.addingTimeInterval(86_400))
                    $0.resolution = category == .fault ? "现场检修，更换故障部件，试机正常" : "已处理并回访客户"
                    $0.assigneeID = Self.engineer(for: machine.account.region)
                })
            }
        }
        for start in stride(from: 0, to: history.count, by: 2_000) {
            _ = try await desk.importTickets(.with { $0.tickets = Array(history[start..<min(start + 2_000, history.count)]) },
                                             options: CallOptions(timeout: .seconds(60), idempotencyKey: "demo-history-\(start)"))
        }
        progress(.init(step: "ticket history", done: history.count, total: history.count))

        // Open now: a dozen tickets in the queue, from a machine down to a question.
        for n in 0..<12 where !base.isEmpty {
            let machine = base[(n * 7) % base.count]
            let (category, subject) = subjects[n % subjects.count]
            let opened = try await desk.openTicket(.with {
                $0.ticket = .with {
                    $0.serialNumber = machine.serial
                    $0.channel = [.phone, .wechat, .iot][n % 3]
                    $0.category = category
                    $0.priority = [.p1, .p2, .p3, .p4][n % 4]
                    $0.subject = subject
                    $0.description_p = "客户来电：\(subject)，请尽快安排。"
                }
            }, options: CallOptions(idempotencyKey: "demo-open-ticket-\(n)")).ticket
            if category == .fault, n % 2 == 0 {
                _ = try await desk.createWorkOrder(.with {
                    $0.workOrder = .with {
                        $0.ticketID = opened.id; $0.kind = .repair; $0.engineerID = opened.assigneeID
                        $0.scheduledAt = Google_Protobuf_Timestamp(date: now.addingTimeInterval(Double(1 + n % 3) * 86_400))
                    }
                }, options: CallOptions(idempotencyKey: "demo-repair-\(n)"))
            }
        }

        // Telemetry: three days of four machines, every five minutes; the first one's spindle
        // bearing is wearing (vibration rising 0.03 mm/s an hour).
        let iotToken = try await issuer.issue(subject: "iot-gateway", roles: [Role.erpConnector], ttl: 3600)
        let iotWire = try WireClient(address: StackLayout.address(of: "servicedesk"), interceptors: [BearerTokenInterceptor(token: iotToken)])
        defer { Task { await iotWire.close() } }
        let iot = Forge_Servicedesk_V1_ServiceDeskClient(channel: iotWire)
        for (index, machine) in base.prefix(4).enumerated() {
            var noise = SeededRandom(seed: UInt64(index + 1))
            var points: [Forge_Servicedesk_V1_TelemetryPoint] = []
            let steps = 3 * 24 * 12
            for step in 0..<steps {
                let time = Google_Protobuf_Timestamp(date: now.addingTimeInterval(-Double(steps - step) * 300))
                let hours = Double(step) / 12
                let wobble = Double(noise.next(1000)) / 1000 - 0.5
                points.append(.with { $0.serialNumber = machine.serial; $0.metric = "vibration"; $0.time = time; $0.value = (index == 0 ? 2.6 + 0.03 * hours : 2.4) + 0.6 * wobble })
                points.append(.with { $0.serialNumber = machine.serial; $0.metric = "temperature"; $0.time = time; $0.value = 48 + 6 * sin(hours / 24 * 2 * .pi) + 2 * wobble })
            }
            _ = try await iot.ingestTelemetry(.with { $0.points = points }, options: CallOptions(timeout: .seconds(60), idempotencyKey: "demo-telemetry-\(index)"))
        }
        progress(.init(step: "telemetry", done: min(4, base.count), total: min(4, base.count)))
        return (known.count, history.count + 12)
    }

    static func rules(model: String) -> [Forge_Servicedesk_V1_TelemetryRule] {
        [
            .with {
                $0.id = "rule-\(model)-bearing"; $0.model = model; $0.metric = "vibration"; $0.name = "主轴轴承磨损"; $0.kind = .trend
                $0.limit = 7.1; $0.windowHours = 24; $0.horizonDays = 14; $0.advice = "检查主轴轴承预紧与润滑，准备更换轴承"; $0.parts = ["SP-SPINDLE-12K"]; $0.active = true
            },
            .with {
                $0.id = "rule-\(model)-overheat"; $0.model = model; $0.metric = "temperature"; $0.name = "主轴过热"; $0.kind = .threshold
                $0.limit = 75; $0.forMinutes = 15; $0.advice = "检查冷却系统与主轴负载"; $0.active = true
            },
        ]
    }

    /// The service desk learns the customers from accounts' feed: the installed base waits until
    /// it knows the last one (a dry-run import row naming it is answered without rejection).
    private func waitForAccounts(_ desk: Forge_Servicedesk_V1_ServiceDeskClient, knowing accountID: String) async throws {
        for _ in 0..<600 {
            let probe = try await desk.importEquipment(.with {
                $0.importID = "demo-probe"
                $0.header = ["serial_number", "model", "account"]
                $0.rows = [.with { $0.line = 2; $0.values = ["PROBE-0", "PROBE", accountID] }]
                $0.dryRun = true
            })
            if probe.results.first?.status != .rejected { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RPCError(.unavailable, "forge-servicedesk has not received the demo accounts from forge-accounts after 30 s")
    }

    static func engineer(for region: String) -> String {
        engineers.first { $0.regions.contains(region) }?.id ?? "eng-01"
    }

    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? .gmt
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 2026, parts.month ?? 1, parts.day ?? 1)
    }

    /// That day at `hour`:00 China time, moved to the Monday when it falls on a weekend.
    static func workingHour(_ date: Date, hour: Int) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai") ?? .gmt
        var day = calendar.date(bySettingHour: hour, minute: 0, second: 0, of: date) ?? date
        while calendar.isDateInWeekend(day) { day = calendar.date(byAdding: .day, value: 1, to: day) ?? day }
        return day
    }
}
