import ForgeKit
import Foundation
import GRDB
import Testing

@Suite("Text encodings of the kit: hexadecimal, sorted JSON maps, RFC 3339 timestamps")
struct EncodingTests {
    @Test("hexadecimal is two lower-case digits a byte and reads back in either case; odd lengths and non-digits are refused")
    func hexadecimal() {
        let bytes: [UInt8] = [0x00, 0x0F, 0x10, 0xA5, 0xFF]
        #expect(bytes.hexadecimal == "000f10a5ff")
        #expect(Data(hexadecimal: "000f10a5ff") == Data(bytes))
        #expect(Data(hexadecimal: "000F10A5FF") == Data(bytes))
        #expect(Data(hexadecimal: "") == Data())
        #expect(Data(hexadecimal: "abc") == nil)
        #expect(Data(hexadecimal: "0g") == nil)
        let random = (0..<64).map { _ in UInt8.random(in: .min ... .max) }
        #expect(Data(hexadecimal: random.hexadecimal) == Data(random))
    }

    @Test("a list of texts reaches SQLite's json_each as the same texts: quotes, backslashes, control characters, Chinese, empty")
    func jsonList() throws {
        let values = ["ORD-1", "a\"b", "c\\d", "line\nbreak\u{1}", "杭州汽轮", "", "a/b"]
        let read = try DatabaseQueue().read { db in
            try String.fetchAll(db, sql: "SELECT value FROM json_each(?) ORDER BY key", arguments: [JSONList.of(values)])
        }
        #expect(read == values)
        #expect(JSONList.of([]) == "[]")
    }

    @Test("rows of one value or of a list read through the same two prepared statements, in the tail's order")
    func rowsOfOneOrMany() throws {
        try DatabaseQueue().write { db in
            try db.execute(sql: "CREATE TABLE item (id TEXT PRIMARY KEY, n INTEGER NOT NULL)")
            for (id, n) in [("a", 1), ("b\"", 2), ("c", 3)] { try db.execute(sql: "INSERT INTO item VALUES (?, ?)", arguments: [id, n]) }
            func read(_ ids: [String]) throws -> [Int] {
                let rows = try db.fetchCursor("SELECT n FROM item WHERE id", oneOf: ids, " ORDER BY n DESC")
                var found: [Int] = []
                while let row = try rows.next() { found.append(row[0]) }
                return found
            }
            #expect(try read(["b\""]) == [2])
            #expect(try read(["a", "c", "b\"", "a", "zz"]) == [3, 2, 1])
            #expect(try read([]) == [])
        }
    }

    @Test("a string map encodes with sorted keys, escapes what JSON needs and leaves slashes alone; decoding reads it back and refuses non-maps")
    func sortedJSON() throws {
        let fields = ["tier": "A", "name": "上海精密\"机械\"", "address": "a/b\\c\nd", "credit_limit": ""]
        let text = SortedJSON.encode(fields)
        #expect(text == #"{"address":"a/b\\c\nd","credit_limit":"","name":"上海精密\"机械\"","tier":"A"}"#)
        #expect(SortedJSON.decode(text) == fields)
        #expect(SortedJSON.encode([:]) == "{}")
        #expect(SortedJSON.decode("[1]") == nil)
        #expect(SortedJSON.decode(#"{"a":1}"#) == nil)
        #expect(SortedJSON.decode("not json") == nil)
        // The same map built in another order gives the same text.
        var reordered: [String: String] = [:]
        for key in fields.keys.sorted().reversed() { reordered[key] = fields[key] }
        #expect(SortedJSON.encode(reordered) == text)
    }

    @Test("RFC 3339 timestamps are UTC, zero-padded, with milliseconds truncated when asked")
    func rfc3339() {
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
        let date = Date(timeIntervalSince1970: 1_795_422_697.125_9)  // 2026-11-23T08:31:37.125Z
        #expect(RFC3339.string(from: date) == "2026-11-23T08:31:37Z")
        #expect(RFC3339.string(from: date, milliseconds: true) == "2026-11-23T08:31:37.125Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 946_684_799.999_9), milliseconds: true) == "1999-12-31T23:59:59.999Z")
    }
}
