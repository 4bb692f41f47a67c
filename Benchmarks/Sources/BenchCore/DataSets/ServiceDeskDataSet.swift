import ArgumentParser
import ForgeContracts
import ForgeWire
import Foundation

/// The service desk at the size of issue 15 on the given accounts: 40 engineers, the installed
/// base (`ImportEquipment`), the closed tickets of two years (`ImportTickets`) and the open ones,
/// each through `OpenTicket` (SLA targets, assignment, its watch job), four in flight. Used by
/// ServiceDeskBench and by GatewayBench's full data set.
public enum ServiceDeskDataSet {
    public static let models = ["VMC-850", "HMC-630", "CK-6150", "FL-3015", "IM-280"]
    public static let regions = ["华东", "华南", "华北", "西南"]

    public static func serial(_ index: Int) -> String { String(format: "%@-%06d", models[index % models.count], index) }

    public static func seed(manager: Forge_Servicedesk_V1_ServiceDeskClient, accounts: [String], machines: Int, tickets: Int, open: Int) async throws {
        for index in 0..<40 {
            _ = try await manager.upsertEngineer(.with {
                $0.engineer = .with { $0.id = String(format: "eng-%02d", index); $0.name = "工程师 \(index)"; $0.regions = [regions[index % 4]]; $0.active = true }
            })
        }
        var started = ContinuousClock.now
        for start in stride(from: 0, to: machines, by: 2_000) {
            let results = try await manager.importEquipment(.with {
                $0.importID = "bench-machines"
                $0.header = ["serial_number", "model", "account", "region", "installed_at", "running_hours"]
                $0.rows = (start..<min(start + 2_000, machines)).map { index in
                    .with {
                        $0.line = Int32(index + 2)
                        $0.values = [serial(index), models[index % models.count], accounts[index % accounts.count], regions[(index % accounts.count) % 4],
                                     "20\(21 + index % 5)-0\(1 + index % 9)-15", "\(1_000 + index % 20_000)"]
                    }
                }
            }, options: CallOptions(timeout: .seconds(300))).results
            if let failed = results.first(where: { $0.status == .rejected }) { throw ValidationError("seed: \(failed)") }
        }
        print(String(format: "seed: %d machines through ImportEquipment (2,000 a call) in %.1f s", machines, (ContinuousClock.now - started).seconds))

        // The history: closed tickets over the past two years, through ImportTickets.
        started = ContinuousClock.now
        let now = Date()
        let closed = tickets - open
        for start in stride(from: 0, to: closed, by: 2_000) {
            let results = try await manager.importTickets(.with {
                $0.tickets = (start..<min(start + 2_000, closed)).map { index in
                    let opened = now.addingTimeInterval(-Double(2 + index % 700) * 86_400 - Double(index % 9) * 3600)
                    return .with {
                        $0.number = String(format: "HD-%07d", index)
                        $0.serialNumber = serial(index % machines)
                        $0.channel = .phone
                        $0.category = index % 7 == 0 ? .complaint : .fault
                        $0.priority = Forge_Servicedesk_V1_Priority(rawValue: 1 + index % 4) ?? .p3
                        $0.subject = "历史工单 \(index)"
                        $0.createdAt = .init(date: opened)
                        $0.resolvedAt = .init(date: opened.addingTimeInterval(Double(2 + index % 40) * 3600))
                        $0.closedAt = .init(date: opened.addingTimeInterval(Double(3 + index % 40) * 3600))
                        $0.assigneeID = String(format: "eng-%02d", index % 40)
                    }
                }
            }, options: CallOptions(timeout: .seconds(300))).results
            if let failed = results.first(where: { $0.status == .rejected }) { throw ValidationError("seed: \(failed)") }
        }
        print(String(format: "seed: %d closed tickets through ImportTickets (2,000 a call) in %.1f s", closed, (ContinuousClock.now - started).seconds))

        // Open now: each through OpenTicket (SLA targets, assignment, its watch job), C=4.
        started = ContinuousClock.now
        try await inParallel(workers: 4, total: open) { range in
            let index = range.lowerBound
            _ = try await manager.openTicket(.with {
                $0.ticket = .with {
                    $0.serialNumber = serial((index * 7) % machines)
                    $0.channel = .phone
                    $0.category = index % 10 == 0 ? .complaint : .fault
                    $0.priority = Forge_Servicedesk_V1_Priority(rawValue: 1 + index % 4) ?? .p3
                    $0.subject = "设备报警 \(index)"
                }
            })
        }
        print(String(format: "seed: %d open tickets through OpenTicket (C=4) in %.1f s", open, (ContinuousClock.now - started).seconds))
    }
}
