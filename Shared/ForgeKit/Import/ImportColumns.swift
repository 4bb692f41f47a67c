import ForgeContracts
import Foundation

/// Spreadsheet columns as people name them and cells as people fill them, for every import
/// (accounts, contacts, leads): Chinese or English headers with case, spaces, underscores and
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
            let value = values[index].trimmingCharacters(in: .whitespacesAndNewlines)
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
