import ArgumentParser
import Crypto
import ForgeContracts
import ForgeKit
import ForgeSpreadsheet
import ForgeWire
import Foundation
import SwiftProtobuf

/// `forge import accounts|contacts|leads|products|order-status|equipment FILE`: reads a
/// spreadsheet (CSV in UTF-8 or GB18030, or an .xlsx workbook), streams it in batches to the
/// service that owns the records (accounts, pipeline, orders, service desk) and writes a report
/// with one line per row.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import accounts, contacts, leads, products, ERP's order-status file or the installed base from a spreadsheet (.xlsx, or CSV in UTF-8 or GB18030/GBK).",
        discussion: """
            Headers may be Chinese or English (客户名称/name, 统一社会信用代码/tax_id, 行业/industry, …;
            for leads 公司名称/company, 联系人/contact, 电话/phone, 区域/region, 产品线/product_line,
            需求/need, 来源/source, 展会/campaign, 日期/received_at; for products 物料号/sku, 名称/name,
            型号/model, 产品线/product_line, 单价/list_price, 交期/lead_time_days, 阶梯价/tiers "10:9500; 50:9000";
            for ERP's status file ERP订单号/erp_order_number, 行号/line_no, 状态/status, 更新时间/source_time,
            物流公司/carrier, 运单号/tracking_number; for equipment 序列号/serial_number, 型号/model,
            客户/account (the customer's name or account id), 区域/region, 现场/site, 安装日期/installed_at,
            验收日期/accepted_at, 保修截止/warranty_until, 服务等级/service_level, 运行小时/running_hours,
            状态/status). An .xlsx file's first sheet is read.
            Every row is reported: created, updated, unchanged, duplicate (of an existing account or an
            earlier row; for leads also a repeat inquiry on an open lead) or rejected with the reason.
            Running the same file again creates nothing new for accounts and contacts; for leads each
            row is a new inquiry (a repeat on the lead it created the first time). Products are matched
            by SKU, machines by serial number; a status file imported twice applies once (its rows' ids
            come from the file's content).
              forge import accounts customers.csv --dry-run
              forge import contacts contacts.csv --report report.csv
              forge import leads trade-show.xlsx
              forge import products material-master.xlsx
              forge import order-status erp-status-20261201.csv
              forge import equipment installed-base.xlsx
            """
    )

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case accounts, contacts, leads, products, equipment
        case orderStatus = "order-status"

        /// The service that owns the records.
        var service: String {
            switch self {
            case .accounts, .contacts: "accounts"
            case .leads: "pipeline"
            case .products, .orderStatus: "orders"
            case .equipment: "servicedesk"
            }
        }
    }

    @Argument(help: "What the file holds: accounts, contacts, leads, products, order-status or equipment.")
    var kind: Kind

    @Argument(help: "The .xlsx or CSV file.")
    var file: String

    @Flag(name: .long, help: "Report what would happen; change nothing.")
    var dryRun = false

    @Option(name: .long, help: "auto (UTF-8, else GB18030), utf8 or gb18030.")
    var encoding: String = "auto"

    @Option(name: .long, help: "Rows per call.")
    var batchSize: Int = 500

    @Option(name: .long, help: "Write the per-row report (CSV) here instead of standard output.")
    var report: String?

    @Option(name: .long, help: "The service's wire address (default: $FORGE_ACCOUNTS_ADDR or 127.0.0.1:7101 for accounts and contacts, $FORGE_PIPELINE_ADDR or 127.0.0.1:7102 for leads, $FORGE_ORDERS_ADDR or 127.0.0.1:7103 for products and order-status, $FORGE_SERVICEDESK_ADDR or 127.0.0.1:7104 for equipment).")
    var address: String?

    @Option(name: .long, help: "Bearer token (default: $FORGE_TOKEN).")
    var token: String?

    func validate() throws {
        // forge-accounts, forge-pipeline and forge-servicedesk take at most 2,000 rows per call, forge-orders 500.
        let most = kind.service == "orders" ? 500 : 2_000
        guard (1...most).contains(batchSize) else {
            throw ValidationError("--batch-size must be 1 to \(most) for \(kind.rawValue)")
        }
        guard CSVReader.Encoding(rawValue: encoding) != nil else {
            throw ValidationError("--encoding must be auto, utf8 or gb18030")
        }
    }

    func run() async throws {
        var stderr = StandardError()
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ValidationError("cannot read \(file): \(error.localizedDescription)")
        }
        let sheet: SpreadsheetReader.Sheet
        do {
            sheet = try SpreadsheetReader.read(data, encoding: CSVReader.Encoding(rawValue: encoding) ?? .auto)
        } catch {
            throw ValidationError("\(file): \(error)")
        }
        let records = sheet.records
        guard let header = records.first else { throw ValidationError("\(file) is empty") }
        let rows = records.dropFirst().map { record in
            Forge_Common_V1_ImportRow.with {
                $0.line = Int32(clamping: record.line)
                $0.values = record.values
            }
        }
        print("[forge] \(file): \(rows.count) rows, \(sheet.format)\(dryRun ? ", dry run" : "")", to: &stderr)

        guard let token = token ?? ProcessInfo.processInfo.environment["FORGE_TOKEN"], !token.isEmpty else {
            throw ValidationError("no token: pass --token or set FORGE_TOKEN (forge up prints one)")
        }
        let wire = try WireClient(address: address ?? StackLayout.address(of: kind.service), interceptors: [BearerTokenInterceptor(token: token)])
        defer { Task { await wire.close() } }
        let client = Forge_Accounts_V1_AccountsClient(channel: wire)
        let pipeline = Forge_Pipeline_V1_PipelineClient(channel: wire)
        let orders = Forge_Orders_V1_OrdersClient(channel: wire)
        let serviceDesk = Forge_Servicedesk_V1_ServiceDeskClient(channel: wire)
        // One id per run: batches of this run dedupe against each other, and a retried batch
        // (same id, same lines) answers what it answered before. ERP's status file is named by
        // its content, so the same file imported again is the same reports.
        let importID = kind == .orderStatus ? "file-" + Array(SHA256.hash(data: data)).prefix(16).hexadecimal : UUID().uuidString
        var progress = ProgressBar(total: rows.count)
        var results: [Forge_Common_V1_ImportRowResult] = []
        var ignored: [String] = []
        let (kind, dryRun, columns) = (kind, dryRun, header.values)
        let starts = Array(stride(from: 0, to: rows.count, by: batchSize))
        let batchSize = batchSize
        let send: @Sendable (Int) async throws -> Forge_Common_V1_ImportResponse = { start in
            let request = Forge_Common_V1_ImportRequest.with {
                $0.importID = importID
                $0.header = columns
                $0.rows = Array(rows[start..<min(start + batchSize, rows.count)])
                $0.dryRun = dryRun
            }
            let options = CallOptions(timeout: .seconds(120), idempotencyKey: "\(importID)-\(start)")
            switch kind {
            case .accounts: return try await client.importAccounts(request, options: options)
            case .contacts: return try await client.importContacts(request, options: options)
            case .leads: return try await pipeline.importLeads(request, options: options)
            case .products: return try await orders.importProducts(request, options: options)
            case .orderStatus: return try await orders.importOrderStatus(request, options: options)
            case .equipment: return try await serviceDesk.importEquipment(request, options: options)
            }
        }
        // ERP's status reports are out-of-order safe (a line never moves back, a repeated report
        // applies once), so their file keeps two batches in flight as forge-mes-push does: the
        // service applies one while the next travels (OrdersBench: ~1.3× one at a time). Every
        // other kind goes one batch at a time: its rows are checked against the batches before.
        let inFlight = kind == .orderStatus ? 2 : 1
        do {
            try await withThrowingTaskGroup(of: (Int, Forge_Common_V1_ImportResponse).self) { group in
                var sent = 0
                var answered = [Forge_Common_V1_ImportResponse?](repeating: nil, count: starts.count)
                var reported = 0
                func sendNext() {
                    guard sent < starts.count else { return }
                    let (index, start) = (sent, starts[sent])
                    group.addTask { (index, try await send(start)) }
                    sent += 1
                }
                for _ in 0..<inFlight { sendNext() }
                while let (index, response) = try await group.next() {
                    answered[index] = response
                    // The report keeps the file's order whichever batch answers first.
                    while reported < starts.count, let next = answered[reported] {
                        ignored = next.ignoredColumns
                        results += next.results
                        answered[reported] = nil
                        reported += 1
                    }
                    progress.advance(to: results.count)
                    sendNext()
                }
            }
        } catch let error as RPCError {
            progress.finish()
            print(error.description, to: &stderr)
            throw ExitCode(Int32(clamping: error.code.rawValue == 0 ? 1 : error.code.rawValue))
        }
        progress.finish()

        if !ignored.isEmpty { print("[forge] ignored columns: \(ignored.joined(separator: ", "))", to: &stderr) }
        var counts: [Forge_Common_V1_ImportStatus: Int] = [:]
        for result in results { counts[result.status, default: 0] += 1 }
        let summary = [(Forge_Common_V1_ImportStatus.created, "created"), (.updated, "updated"), (.unchanged, "unchanged"),
                       (.duplicate, "duplicate"), (.rejected, "rejected")]
            .map { "\(counts[$0.0, default: 0]) \($0.1)" }.joined(separator: ", ")
        print("[forge] \(summary)\(dryRun ? " (dry run: nothing written)" : "")", to: &stderr)

        let lines = ["line,status,id,duplicate_of,reason"] + results.map { result in
            let reason = result.reason.isEmpty ? result.violations.map { "\($0.field): \($0.description_p)" }.joined(separator: "; ") : result.reason
            return [String(result.line), Self.name(result.status), result.id, result.duplicateOf, reason].map(Self.csvCell).joined(separator: ",")
        }
        let text = lines.joined(separator: "\n") + "\n"
        if let report {
            try Data(text.utf8).write(to: URL(fileURLWithPath: report))
            print("[forge] report written to \(report)", to: &stderr)
        } else {
            print(text, terminator: "")
        }
    }

    static func name(_ status: Forge_Common_V1_ImportStatus) -> String {
        switch status {
        case .created: "created"
        case .updated: "updated"
        case .unchanged: "unchanged"
        case .duplicate: "duplicate"
        case .rejected: "rejected"
        default: "unknown"
        }
    }

    static func csvCell(_ value: String) -> String {
        guard value.contains(where: { ",\"\n\r".contains($0) }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// A one-line progress bar on a terminal's standard error; silent when it is not a terminal.
struct ProgressBar {
    let total: Int
    let enabled = isatty(STDERR_FILENO) == 1

    mutating func advance(to done: Int) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(Data("\r[forge] \(bar) \(done)/\(total)".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
