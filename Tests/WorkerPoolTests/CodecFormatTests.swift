import Foundation
import XCTest
@testable import WorkerPool

/// A record with a list, a nested record and an optional, as `pool-bench codec` times.
struct NestedRecord: Codable, Equatable, Sendable {
    struct Point: Codable, Equatable, Sendable {
        var x: Double
        var y: Double
    }
    var id: Int
    var name: String
    var tags: [String]
    var point: Point
    var note: String?

    init(_ i: Int) {
        id = i
        name = "name-\(i)"
        tags = (0..<(i % 4)).map { "tag-\((i + $0) % 10)" }
        point = Point(x: Double(i) * 0.25, y: Double(i) * -0.5)
        note = i % 2 == 0 ? "note \(i)" : nil
    }
}

/// A tree of one type: keyed containers of one key type open inside each other.
final class TreeNode: Codable, Equatable, @unchecked Sendable {
    let value: Int
    let children: [TreeNode]
    init(value: Int, children: [TreeNode]) { self.value = value; self.children = children }
    static func == (a: TreeNode, b: TreeNode) -> Bool { a.value == b.value && a.children == b.children }

    static func chain(depth: Int) -> TreeNode {
        var node = TreeNode(value: 0, children: [])
        for level in 1...depth { node = TreeNode(value: level, children: [node, TreeNode(value: -level, children: [])]) }
        return node
    }
}

/// A key type that is not a one-byte enum, so keys go through their text every time.
struct TextKey: CodingKey, Hashable {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

final class CodecFormatTests: PoolTestCase {
    private func roundTrip<T: Codable & Equatable>(_ value: T, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(try BinaryDecoder().decode(T.self, from: BinaryEncoder().encode(value)), value, file: file, line: line)
    }

    private func occurrences(of text: String, in data: Data) -> Int {
        let needle = Array(text.utf8), bytes = Array(data)
        guard bytes.count >= needle.count else { return 0 }
        return (0...(bytes.count - needle.count)).filter { Array(bytes[$0..<($0 + needle.count)]) == needle }.count
    }

    func testAChunkSaysEachKeyOnce() throws {
        let records = (0..<1000).map { Record(id: $0, name: "n\($0)", score: Double($0)) }
        let data = try BinaryEncoder().encode(records)
        for key in ["id", "name", "score"] { XCTAssertEqual(occurrences(of: key, in: data), 1, key) }
        let chunk = try records.withUnsafeBufferPointer { try BinaryEncoder.encodeChunk($0) }
        XCTAssertEqual(chunk.withUnsafeBytes { occurrences(of: "score", in: Data($0)) }, 1)
        // Per record: presence byte, tag and length, then each field a one-byte header and its
        // value (a 2-byte varint id, a 4-byte name with its length, an 8-byte Double): 21 bytes.
        XCTAssertLessThan(data.count, records.count * 22)
        let back = UnsafeMutablePointer<Record>.allocate(capacity: records.count)
        defer { back.deallocate() }
        try BinaryDecoder.decodeChunk(Record.self, from: chunk, count: records.count, into: back)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: back, count: records.count)), records)
        back.deinitialize(count: records.count)
    }

    /// The example in docs/codecs.md, byte for byte.
    func testTheDocumentedExampleBytes() throws {
        let chunk = try [Record(id: 7, name: "ab", score: 1.5)].withUnsafeBufferPointer { try BinaryEncoder.encodeChunk($0) }
        let bytes = chunk.withUnsafeBytes { [UInt8]($0) }
        let record: [UInt8] = [0x4B, 15, 0x00, 0x0E, 0x0C, 0x02, 0x61, 0x62, 0x13] + withUnsafeBytes(of: (1.5).bitPattern.littleEndian) { [UInt8]($0) }
        let table: [UInt8] = [3, 2] + Array("id".utf8) + [4] + Array("name".utf8) + [5] + Array("score".utf8)
        let tableAt = UInt32(4 + 1 + record.count)
        XCTAssertEqual(bytes, withUnsafeBytes(of: tableAt.littleEndian) { [UInt8]($0) } + [1] + record + table)
    }

    func testFieldsDecodeInAnyOrderUnknownOnesAreSkippedAndContainsAndAllKeysWork() throws {
        struct Writer: Encodable {
            enum Keys: String, CodingKey { case a, b, c, extra, list, uuid, inner, nothing, flag, small }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode(-1_000_000, forKey: .a)
                try container.encode("bee", forKey: .b)
                try container.encode(2.5, forKey: .c)
                try container.encode(Record(id: 1, name: "x", score: 1), forKey: .extra)
                try container.encode([1, 2, 3], forKey: .list)
                try container.encode(UUID(uuid: (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)), forKey: .uuid)
                var inner = container.nestedContainer(keyedBy: Keys.self, forKey: .inner)
                try inner.encode(Float(1.5), forKey: .a)
                try container.encodeNil(forKey: .nothing)
                try container.encode(true, forKey: .flag)
                try container.encode(Int8(-3), forKey: .small)
            }
        }
        struct Reader: Decodable, Equatable {
            enum Keys: String, CodingKey { case a, b, c, uuid, list, inner, nothing, flag, small, missing }
            var a = 0, c = 0.0, uuid = UUID(), list: [Int] = [], inner: Float = 0, small: Int8 = 0
            var flag = false, nothingIsNil = false, keys: Set<String> = []
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: Keys.self)
                // The reverse of the encoding order, and `b` never read.
                small = try container.decode(Int8.self, forKey: .small)
                flag = try container.decode(Bool.self, forKey: .flag)
                nothingIsNil = try container.decodeNil(forKey: .nothing)
                inner = try container.nestedContainer(keyedBy: Keys.self, forKey: .inner).decode(Float.self, forKey: .a)
                list = try container.decode([Int].self, forKey: .list)
                uuid = try container.decode(UUID.self, forKey: .uuid)
                c = try container.decode(Double.self, forKey: .c)
                a = try container.decode(Int.self, forKey: .a)
                XCTAssertTrue(container.contains(.b))
                XCTAssertFalse(container.contains(.missing))
                XCTAssertNil(try container.decodeIfPresent(Int.self, forKey: .missing))
                XCTAssertNil(try container.decodeIfPresent(Int.self, forKey: .nothing))
                keys = Set(container.allKeys.map(\.stringValue))
                XCTAssertThrowsError(try container.decode(Int.self, forKey: .missing)) {
                    guard case .keyNotFound? = $0 as? DecodingError else { return XCTFail("\($0)") }
                }
                XCTAssertThrowsError(try container.decode(String.self, forKey: .a)) {
                    guard case .typeMismatch? = $0 as? DecodingError else { return XCTFail("\($0)") }
                }
                XCTAssertThrowsError(try container.decode(Int.self, forKey: .nothing)) {
                    guard case .valueNotFound? = $0 as? DecodingError else { return XCTFail("\($0)") }
                }
            }
        }
        let reader = try BinaryDecoder().decode(Reader.self, from: BinaryEncoder().encode(Writer()))
        XCTAssertEqual(reader.a, -1_000_000)
        XCTAssertEqual(reader.c, 2.5)
        XCTAssertEqual(reader.list, [1, 2, 3])
        XCTAssertEqual(reader.uuid, UUID(uuid: (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)))
        XCTAssertEqual(reader.inner, 1.5)
        XCTAssertEqual(reader.small, -3)
        XCTAssertTrue(reader.flag)
        XCTAssertTrue(reader.nothingIsNil)
        // `extra` has no case in the reader's keys, so allKeys leaves it out.
        XCTAssertEqual(reader.keys, ["a", "b", "c", "list", "uuid", "inner", "nothing", "flag", "small"])
    }

    func testLongContainersManyKeysAndTextKeys() throws {
        // Lengths past one and two varint bytes move the bytes written after their placeholder.
        try roundTrip(Record(id: 7, name: String(repeating: "é", count: 300), score: 1))
        try roundTrip((0..<20_000).map { "s\($0)" })
        try roundTrip([(0..<3000).map { NestedRecord($0) }])
        try roundTrip((0..<200).map { [$0, -$0] })
        // More than 16 keys in a table (looked up through a dictionary), and keys that are text.
        try roundTrip(Dictionary(uniqueKeysWithValues: (0..<100).map { ("key\($0)", $0) }))
        struct Texty: Codable, Equatable {
            var values: [String: Int]
            init(values: [String: Int]) { self.values = values }
            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: TextKey.self)
                values = try Dictionary(uniqueKeysWithValues: container.allKeys.map { ($0.stringValue, try container.decode(Int.self, forKey: $0)) })
            }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: TextKey.self)
                for (key, value) in values.sorted(by: { $0.key < $1.key }) { try container.encode(value, forKey: TextKey(stringValue: key)) }
            }
        }
        try roundTrip([Texty(values: ["a": 1, "b": 2]), Texty(values: ["b": 3, "c": 4])])
        try roundTrip(TreeNode.chain(depth: 60))
        try roundTrip((0..<100).map { NestedRecord($0) })
    }

    func testArraysReadAndWrittenEitherWayAgree() throws {
        // The codec writes arrays itself; a type reading one with an unkeyed container, or writing
        // one that way, sees the same bytes.
        struct ByHand: Codable, Equatable {
            var records: [Record]
            init(records: [Record]) { self.records = records }
            enum CodingKeys: String, CodingKey { case records }
            init(from decoder: any Decoder) throws {
                var list = try decoder.container(keyedBy: CodingKeys.self).nestedUnkeyedContainer(forKey: .records)
                XCTAssertEqual(list.count, 3)
                var records: [Record] = []
                while !list.isAtEnd { records.append(try list.decode(Record.self)) }
                self.records = records
            }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                var list = container.nestedUnkeyedContainer(forKey: .records)
                for record in records { try list.encode(record) }
            }
        }
        struct Plain: Codable, Equatable { var records: [Record] }
        let records = (0..<3).map { Record(id: $0, name: "r\($0)", score: Double($0)) }
        XCTAssertEqual(try BinaryDecoder().decode(ByHand.self, from: BinaryEncoder().encode(Plain(records: records))).records, records)
        XCTAssertEqual(try BinaryDecoder().decode(Plain.self, from: BinaryEncoder().encode(ByHand(records: records))).records, records)
        try roundTrip([Record]())
        try roundTrip([[Record]](repeating: [], count: 3))
        try roundTrip([Record?.none, Record(id: 1, name: "", score: 0)])  // optionals: Array's own Codable
        // A nil element where the type says there is none is a DecodingError.
        XCTAssertThrowsError(try BinaryDecoder().decode([Record].self, from: BinaryEncoder().encode([Record?.none]))) {
            guard case .valueNotFound? = $0 as? DecodingError else { return XCTFail("\($0)") }
        }
        // Arrays count as nesting: a tree 300 levels deep is 600 containers.
        XCTAssertThrowsError(try BinaryDecoder().decode(TreeNode.self, from: BinaryEncoder().encode(TreeNode.chain(depth: 300)))) {
            XCTAssertTrue($0 is DecodingError, "\($0)")
        }
    }

    func testIntegersAreVarintsAndNarrowingIsChecked() throws {
        struct Wide: Encodable {
            let value: Int64
            enum CodingKeys: String, CodingKey { case value }
        }
        struct Narrow: Decodable { let value: Int32 }
        XCTAssertEqual(try BinaryDecoder().decode(Narrow.self, from: BinaryEncoder().encode(Wide(value: -5))).value, -5)
        XCTAssertThrowsError(try BinaryDecoder().decode(Narrow.self, from: BinaryEncoder().encode(Wide(value: .max)))) {
            guard case .typeMismatch? = $0 as? DecodingError else { return XCTFail("\($0)") }
        }
        for value in [Int.min, -1, 0, 1, 63, 64, -64, -65, Int.max] { try roundTrip(value); try roundTrip([value]) }
        for value in [UInt64.max, 0, 127, 128] { try roundTrip(value) }
        // A small Int field is its header and one byte.
        struct One: Codable, Equatable { var n: Int }
        let header = 4, array = 3 /* tag, length, count */, element = 1 /* presence */ + 2 /* tag, length */ + 2 /* field */
        let table = 1 /* count */ + 2 /* "n" */
        XCTAssertEqual(try BinaryEncoder().encode([One(n: 5)]).count, header + array + element + table)
    }

    func testCorruptHeadersAndKeyTablesThrow() throws {
        let good = try BinaryEncoder().encode(Record(id: 1, name: "x", score: 2))
        var cases: [(String, [UInt8])] = []
        cases.append(("empty", []))
        cases.append(("short header", [1, 0]))
        var beyond = [UInt8](good)
        beyond[0] = 0xFF
        cases.append(("table offset beyond the end", beyond))
        var badKey = [UInt8](good)
        badKey[badKey.count - 1] = 0xFF  // the last byte of the last key: not UTF-8
        cases.append(("key that is not UTF-8", badKey))
        var extra = [UInt8](good)
        extra.append(0)
        cases.append(("bytes after the key table", extra))
        var wire = [UInt8](good)
        wire[6] = 0x07  // the first field's header: wire type 7
        cases.append(("unknown wire type", wire))
        var index = [UInt8](good)
        index[6] = 0x78  // key index 15, which the table does not have
        cases.append(("key index outside the table", index))
        for (name, bytes) in cases {
            XCTAssertThrowsError(try BinaryDecoder().decode(Record.self, from: Data(bytes)), name) {
                XCTAssertTrue($0 is DecodingError, "\(name): \($0)")
            }
        }
    }
}
