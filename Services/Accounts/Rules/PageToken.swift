import ForgeContracts
import ForgeKit
import ForgeWire
import Foundation

/// The accounts lists' positions: account ids (the default), timeline positions, search rows
/// and name keys. `Page` itself is the kit's.
extension Page {
    /// A page of an id-ordered list of accounts.
    init(_ request: Forge_Common_V1_PageRequest) throws {
        try self.init(request) { $0.hasPrefix("acc_") }
    }
}

/// An account's contacts, in id order.
extension Page {
    static func contacts(_ request: Forge_Common_V1_PageRequest, field: String = "page") throws -> Page {
        try Page(request, field: field) { $0.hasPrefix("con_") }
    }
}

/// Newest-first timeline pages continue below a position: (when it happened, row number),
/// cursors "t<seconds>:<rowid>"; search pages, in row order, below a row number: "r<rowid>".
extension Page {
    static func timeline(_ request: Forge_Common_V1_PageRequest, field: String = "page") throws -> Page {
        try Page(request, field: field) { parsePosition($0) != nil }
    }

    static func search(_ request: Forge_Common_V1_PageRequest) throws -> Page {
        try Page(request) { $0.hasPrefix("r") && Int64($0.dropFirst()) != nil }
    }

    /// The timeline position the page starts below; nil on the first page.
    var beforePosition: (occurredAt: Double, rowid: Int64)? { cursor.flatMap(Self.parsePosition) }

    func response(lastPosition: (occurredAt: Double, rowid: Int64)?, count: Int) -> Forge_Common_V1_PageResponse {
        response(next: lastPosition.map { "t\($0.occurredAt):\($0.rowid)" }, count: count)
    }

    private static func parsePosition(_ cursor: String) -> (occurredAt: Double, rowid: Int64)? {
        guard cursor.hasPrefix("t") else { return nil }
        let parts = cursor.dropFirst().split(separator: ":")
        guard parts.count == 2, let seconds = Double(parts[0]), seconds.isFinite, let rowid = Int64(parts[1]) else { return nil }
        return (seconds, rowid)
    }

    /// The row number the page starts below.
    var beforeRow: Int64 { cursor.flatMap { Int64($0.dropFirst()) } ?? .max }

    func response(lastRow: Int64?, count: Int) -> Forge_Common_V1_PageResponse {
        response(next: lastRow.map { "r\($0)" }, count: count)
    }
}

/// Name-ordered search pages continue after a (name key, id) pair: cursors "n<key>\u{1}<id>".
extension Page {
    static func nameSearch(_ request: Forge_Common_V1_PageRequest) throws -> Page {
        try Page(request) { parseName($0) != nil }
    }

    var nameCursor: (key: String, id: String)? { cursor.flatMap(Self.parseName) }

    static func nameCursor(key: String, id: String) -> String { "n\(key)\u{1}\(id)" }

    private static func parseName(_ cursor: String) -> (key: String, id: String)? {
        guard cursor.hasPrefix("n"), let separator = cursor.firstIndex(of: "\u{1}") else { return nil }
        let id = cursor[cursor.index(after: separator)...]
        guard id.hasPrefix("acc_") else { return nil }
        return (String(cursor[cursor.index(after: cursor.startIndex)..<separator]), String(id))
    }
}
