import ForgeContracts
import ForgeWire
import Foundation
import SwiftProtobuf

/// Spreadsheet columns as people name them and cells as people fill them, for every import
/// (accounts, contacts, leads, products, order status): Chinese or English headers with case, spaces, underscores and
/// dashes folded; choices by the words people type; company sizes as bands or head counts.
public enum ImportColumns {
    /// Header name (folded) → column, from each column's names.
    public static func aliases<Column>(_ table: [Column: [String]]) -> [String: Column] {
        var map: [String: Column] = [:]
        for (column, names) in table { for name in names { map[foldHeader(name)] = column } }
        return map
    }

    /// Case, spaces, underscores, dashes and a BOM folded, so "Tax ID", "tax_id" and "TaxId" agree.
    public static func foldHeader(_ header: String) -> String {
        String(header.lowercased().unicodeScalars.filter { !" _-\t\u{FEFF}\u{3000}".unicodeScalars.contains($0) }.map(Character.init))
    }

    /// Column index → field for the recognised headers, and the headers ignored.
    public static func columns<Column>(_ header: [String], aliases: [String: Column]) -> (columns: [Int: Column], ignored: [String]) {
        var columns: [Int: Column] = [:]
        var ignored: [String] = []
        for (index, name) in header.enumerated() {
            if let column = aliases[foldHeader(name)] { columns[index] = column } else { ignored.append(name) }
        }
        return (columns, ignored)
    }

    /// The cells of one row by field, trimmed; empty cells left out.
    public static func cells<Column: Hashable>(_ values: [String], columns: [Int: Column]) -> [Column: String] {
        var cells: [Column: String] = [:]
        for (index, column) in columns where index < values.count {
            let value = values[index].trimmed
            if !value.isEmpty { cells[column] = value }
        }
        return cells
    }

    /// The value whose words include `text` (case folded).
    public static func choice<Value>(_ text: String, _ table: [Value: [String]]) -> Value? {
        let folded = text.lowercased().trimmingCharacters(in: .whitespaces)
        return table.first { $0.value.contains(folded) }?.key
    }

    /// A head count ("350", "1,200人") or a band (micro/微型 … large/大型).
    public static func companySize(_ text: String) -> Forge_Accounts_V1_CompanySize? {
        if let count = Int(text.replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "人", with: "")), count >= 0 {
            return count < 20 ? .micro : count < 100 ? .small : count < 1000 ? .medium : .large
        }
        return choice(text, [.micro: ["micro", "微型"], .small: ["small", "小型"], .medium: ["medium", "中型"], .large: ["large", "大型"]])
    }
}

extension ImportColumns {
    public static func yesNo(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "yes", "y", "true", "1", "是", "有", "✓", "√": true
        case "no", "n", "false", "0", "否", "无": false
        default: nil
        }
    }

    /// Yuan (or another currency's units) with thousands separators, an optional ¥/元 and an
    /// optional 万 (10,000); in micros, read as a decimal (no binary floating point).
    public static func money(_ text: String) -> Int64? {
        var text = text.replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "¥", with: "").replacingOccurrences(of: "￥", with: "")
            .replacingOccurrences(of: "元", with: "").trimmingCharacters(in: .whitespaces)
        var factor: Decimal = 1
        if text.hasSuffix("万") {
            factor = 10_000
            text.removeLast()
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              let units = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX"))
        else { return nil }
        var micros = units * factor * 1_000_000
        var rounded = Decimal()
        NSDecimalRound(&rounded, &micros, 0, .plain)
        guard rounded >= 0, rounded < Decimal(1_000_000_000_000) * 1_000_000 else { return nil }
        return NSDecimalNumber(decimal: rounded).int64Value
    }

    /// "2026-03-15", "2026/3/15", "2026-03-15 14:30" (China time), or an Excel serial day
    /// number (days since 1899-12-30, as .xlsx stores dates).
    public static func date(_ text: String) -> Date? {
        if let serial = Double(text), serial > 20_000, serial < 80_000 {
            return Date(timeIntervalSince1970: (serial - 25_569) * 86_400 - 8 * 3600)
        }
        let parts = text.split(whereSeparator: { " T".contains($0) })
        let day = parts.first.map { $0.split(whereSeparator: { "-/.年月日".contains($0) }).compactMap { Int($0) } } ?? []
        guard day.count == 3, (2000...2100).contains(day[0]), (1...12).contains(day[1]), (1...31).contains(day[2]) else { return nil }
        var time = [0, 0]
        if parts.count > 1 {
            let clock = parts[1].split(separator: ":").compactMap { Int($0) }
            guard clock.count >= 2, (0...23).contains(clock[0]), (0...59).contains(clock[1]) else { return nil }
            time = [clock[0], clock[1]]
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 8 * 3600)!
        let components = DateComponents(year: day[0], month: day[1], day: day[2], hour: time[0], minute: time[1])
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == day[2] else { return nil }
        return date
    }
}

extension ImportColumns {
    /// A record's violation as an import row answers it: "account.tax_id" → "tax_id", as the
    /// row's columns name their fields (`keepingPath` keeps it, for batch RPCs that name items).
    public static func rowViolation(_ violation: FieldViolation, keepingPath: Bool = false) -> Forge_Common_V1_RowViolation {
        .with {
            $0.field = keepingPath ? violation.field : violation.field.split(separator: ".", maxSplits: 1).last.map(String.init) ?? violation.field
            $0.description_p = violation.description
        }
    }
}

extension ImportColumns {
    /// A row's cells that did not read, each named by its column, as the import answers them.
    public struct RowProblems<Column: RawRepresentable> where Column.RawValue == String {
        public private(set) var violations: [Forge_Common_V1_RowViolation] = []

        public init() {}

        public mutating func add(_ column: Column, _ description: String) {
            violations.append(.with {
                $0.field = column.rawValue
                $0.description_p = description
            })
        }
    }
}
