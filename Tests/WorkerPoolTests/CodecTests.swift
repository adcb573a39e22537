import Foundation
import XCTest
@testable import WorkerPool

// MARK: Deterministic random values

/// SplitMix64: a seeded generator, so a failing round trip can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct Record: Codable, Equatable, Hashable, Sendable {
    var id: Int
    var name: String
    var score: Double
}

enum Shape: Codable, Equatable, Sendable {
    case circle(radius: Double)
    case rectangle(width: Int, height: Int)
    case label(String)
    case nothing
}

class Animal: Codable, Equatable, @unchecked Sendable {
    var name: String
    init(name: String) { self.name = name }
    static func == (lhs: Animal, rhs: Animal) -> Bool { lhs.isEqual(to: rhs) }
    func isEqual(to other: Animal) -> Bool { type(of: self) == type(of: other) && name == other.name }
}

/// A subclass that encodes its superclass through `superEncoder()`.
final class Dog: Animal, @unchecked Sendable {
    var breed: String
    init(name: String, breed: String) {
        self.breed = breed
        super.init(name: name)
    }
    private enum CodingKeys: String, CodingKey { case breed }
    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        breed = try container.decode(String.self, forKey: .breed)
        try super.init(from: container.superDecoder())
    }
    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(breed, forKey: .breed)
        try super.encode(to: container.superEncoder())
    }
    override func isEqual(to other: Animal) -> Bool {
        guard let dog = other as? Dog else { return false }
        return super.isEqual(to: other) && breed == dog.breed
    }
}

/// A subclass that shares its encoder with its superclass (one keyed container for both).
final class Cat: Animal, @unchecked Sendable {
    var lives: Int
    init(name: String, lives: Int) {
        self.lives = lives
        super.init(name: name)
    }
    private enum CodingKeys: String, CodingKey { case lives }
    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        lives = try container.decode(Int.self, forKey: .lives)
        try super.init(from: decoder)
    }
    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(lives, forKey: .lives)
        try super.encode(to: encoder)
    }
    override func isEqual(to other: Animal) -> Bool {
        guard let cat = other as? Cat else { return false }
        return super.isEqual(to: other) && lives == cat.lives
    }
}

/// Encodes its keys in one order and decodes them in another, skipping an optional key, and
/// uses nested containers.
struct Reordered: Codable, Equatable, Sendable {
    var a: Int
    var b: String
    var c: [Double]
    var maybe: Int?
    var inner: [String: Int]

    private enum CodingKeys: String, CodingKey { case a, b, c, maybe, inner, unused }
    private enum InnerKeys: String, CodingKey { case x, y }

    init(a: Int, b: String, c: [Double], maybe: Int?, inner: [String: Int]) {
        self.a = a; self.b = b; self.c = c; self.maybe = maybe; self.inner = inner
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(a, forKey: .a)
        try container.encode(b, forKey: .b)
        var list = container.nestedUnkeyedContainer(forKey: .c)
        for value in c { try list.encode(value) }
        try container.encode(maybe, forKey: .maybe)  // encodes nil explicitly
        var nested = container.nestedContainer(keyedBy: InnerKeys.self, forKey: .inner)
        try nested.encode(inner["x"] ?? 0, forKey: .x)
        try nested.encode(inner["y"] ?? 0, forKey: .y)
        try container.encode("ignored", forKey: .unused)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let nested = try container.nestedContainer(keyedBy: InnerKeys.self, forKey: .inner)
        inner = ["y": try nested.decode(Int.self, forKey: .y), "x": try nested.decode(Int.self, forKey: .x)]
        maybe = try container.decodeIfPresent(Int.self, forKey: .maybe)
        var list = try container.nestedUnkeyedContainer(forKey: .c)
        var values: [Double] = []
        while !list.isAtEnd { values.append(try list.decode(Double.self)) }
        c = values
        b = try container.decode(String.self, forKey: .b)
        a = try container.decode(Int.self, forKey: .a)
        // `unused` is never decoded.
    }
}

/// Every type the binary codec promises to handle.
struct Everything: Codable, Equatable, Sendable {
    var int: Int, int8: Int8, int16: Int16, int32: Int32, int64: Int64
    var uint: UInt, uint8: UInt8, uint16: UInt16, uint32: UInt32, uint64: UInt64
    var float: Float, double: Double, bool: Bool, string: String
    var data: Data, date: Date, url: URL, decimal: Decimal, uuid: UUID
    var optionalInt: Int?, optionalString: String?, optionalRecord: Record?, doubleOptional: Int??
    var ints: [Int], doubles: [Double], bytes: [UInt8], bools: [Bool], floats: [Float], int16s: [Int16]
    var strings: [String], records: [Record], optionals: [Int?]
    var byName: [String: Int], byNumber: [Int: String], set: Set<Int>, recordSet: Set<Record>
    var shapes: [Shape], nested: [[Int]], deep: [String: [Record]]
    var dog: Dog, cat: Cat, reordered: Reordered
}

extension SeededGenerator {
    mutating func string(maxLength: Int = 24) -> String {
        let pools: [[Character]] = [
            Array("abcdefghijklmnopqrstuvwxyz0123456789 _-"),
            Array("éüßçñøåπλΩжщ中文字日本語한국어"),
            Array("🙂🚀👍🏽🇫🇷∑∂√"),
        ]
        let length = Int.random(in: 0...maxLength, using: &self)
        return String((0..<length).map { _ in pools.randomElement(using: &self)!.randomElement(using: &self)! })
    }

    /// Whether to keep to values that JSON round-trips: no infinities (JSONEncoder refuses them),
    /// no relative URLs (JSONEncoder writes a URL as its absolute string).
    static let jsonSafe = LockedBox.make(false)

    mutating func double() -> Double {
        let specials: [Double] = SeededGenerator.jsonSafe.withLockedValue { $0 }
            ? [0, -0.0, .greatestFiniteMagnitude / 4, .leastNonzeroMagnitude]
            : [.infinity, -.infinity, 0, -0.0, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
        switch Int.random(in: 0..<10, using: &self) {
        case 0: return specials.randomElement(using: &self)!
        default: return Double.random(in: -1e12...1e12, using: &self)
        }
    }

    mutating func float() -> Float {
        let value = Float(double())
        return value.isFinite || !SeededGenerator.jsonSafe.withLockedValue({ $0 }) ? value : 1.5
    }

    mutating func record() -> Record {
        Record(id: Int.random(in: .min ... .max, using: &self), name: string(), score: double())
    }

    mutating func shape() -> Shape {
        switch Int.random(in: 0..<4, using: &self) {
        case 0: return .circle(radius: double())
        case 1: return .rectangle(width: .random(in: -100...100, using: &self), height: .random(in: 0...1000, using: &self))
        case 2: return .label(string())
        default: return .nothing
        }
    }

    mutating func url() -> URL {
        let bases = ["https://example.com/a/b?q=1#frag", "file:///tmp/some%20file.txt", "mailto:someone@example.org", "http://[::1]:8080/x"]
        if Bool.random(using: &self) && !SeededGenerator.jsonSafe.withLockedValue({ $0 }) {
            return URL(string: "rel/\(Int.random(in: 0...99, using: &self))", relativeTo: URL(string: "https://host.example/base/"))!
        }
        return URL(string: bases.randomElement(using: &self)!)!
    }

    mutating func decimal() -> Decimal {
        Decimal(sign: Bool.random(using: &self) ? .minus : .plus, exponent: .random(in: -20...20, using: &self),
                significand: Decimal(UInt64.random(in: 0...UInt64(1) << 60, using: &self)))
    }

    mutating func everything() -> Everything {
        func array<T>(_ make: (inout SeededGenerator) -> T) -> [T] {
            (0..<Int.random(in: 0...12, using: &self)).map { _ in make(&self) }
        }
        return Everything(
            int: .random(in: .min ... .max, using: &self), int8: .random(in: .min ... .max, using: &self),
            int16: .random(in: .min ... .max, using: &self), int32: .random(in: .min ... .max, using: &self),
            int64: .random(in: .min ... .max, using: &self), uint: .random(in: .min ... .max, using: &self),
            uint8: .random(in: .min ... .max, using: &self), uint16: .random(in: .min ... .max, using: &self),
            uint32: .random(in: .min ... .max, using: &self), uint64: .random(in: .min ... .max, using: &self),
            float: float(), double: double(), bool: .random(using: &self), string: string(),
            data: Data(array { UInt8.random(in: 0...255, using: &$0) }),
            date: Date(timeIntervalSinceReferenceDate: Double.random(in: -1e9...1e9, using: &self)),
            url: url(), decimal: decimal(), uuid: UUID(),
            optionalInt: Bool.random(using: &self) ? nil : .random(in: -5...5, using: &self),
            optionalString: Bool.random(using: &self) ? nil : string(),
            optionalRecord: Bool.random(using: &self) ? nil : record(),
            // `.some(nil)` in a keyed field reads back as nil, as with JSONDecoder (see docs/codecs.md);
            // top-level double optionals keep it (testTopLevelValuesOfEveryListedType).
            doubleOptional: [nil, .some(.some(7))].randomElement(using: &self)!,
            ints: array { Int.random(in: .min ... .max, using: &$0) }, doubles: array { $0.double() },
            bytes: array { UInt8.random(in: 0...255, using: &$0) }, bools: array { Bool.random(using: &$0) },
            floats: array { $0.float() }, int16s: array { Int16.random(in: .min ... .max, using: &$0) },
            strings: array { $0.string() }, records: array { $0.record() },
            optionals: array { Bool.random(using: &$0) ? nil : Int.random(in: 0...9, using: &$0) },
            byName: Dictionary(array { ($0.string(maxLength: 6), Int.random(in: 0...9, using: &$0)) }, uniquingKeysWith: { a, _ in a }),
            byNumber: Dictionary(array { (Int.random(in: -50...50, using: &$0), $0.string()) }, uniquingKeysWith: { a, _ in a }),
            set: Set(array { Int.random(in: 0...100, using: &$0) }), recordSet: Set(array { $0.record() }),
            shapes: array { $0.shape() }, nested: array { g in (0..<Int.random(in: 0...4, using: &g)).map { _ in Int.random(in: 0...9, using: &g) } },
            deep: Dictionary(array { ($0.string(maxLength: 4), [$0.record()]) }, uniquingKeysWith: { a, _ in a }),
            dog: Dog(name: string(), breed: string()), cat: Cat(name: string(), lives: .random(in: 0...9, using: &self)),
            reordered: Reordered(a: .random(in: .min ... .max, using: &self), b: string(), c: array { $0.double() },
                                 maybe: Bool.random(using: &self) ? nil : 1, inner: ["x": .random(in: 0...9, using: &self), "y": 3])
        )
    }
}

// MARK: Round trips

final class CodecRoundTripTests: PoolTestCase {
    static let seed: UInt64 = 0x5EED_2026

    func testBinaryRoundTripsThousandsOfRandomValues() throws {
        var random = SeededGenerator(seed: Self.seed)
        let encoder = BinaryEncoder(), decoder = BinaryDecoder()
        for i in 0..<2000 {
            let value = random.everything()
            let bytes = try encoder.encode(value)
            let back = try decoder.decode(Everything.self, from: bytes)
            guard back == value else {
                return XCTFail("value \(i) of seed \(Self.seed) differs after a round trip:\n\(value)\n\(back)")
            }
        }
    }

    func testTopLevelValuesOfEveryListedType() throws {
        var random = SeededGenerator(seed: Self.seed &+ 1)
        func check<T: Codable & Equatable>(_ value: T, line: UInt = #line) throws {
            let back = try BinaryDecoder().decode(T.self, from: BinaryEncoder().encode(value))
            XCTAssertEqual(back, value, line: line)
        }
        for _ in 0..<300 {
            let e = random.everything()
            try check(e.int); try check(e.int8); try check(e.uint64); try check(e.float); try check(e.double)
            try check(e.string); try check(e.data); try check(e.date); try check(e.url); try check(e.decimal)
            try check(e.uuid); try check(e.optionalInt); try check(e.doubleOptional); try check(e.ints)
            try check(e.bools); try check(e.records); try check(e.optionals); try check(e.byName)
            try check(e.byNumber); try check(e.set); try check(e.shapes); try check(e.nested); try check(e.deep)
            try check(e.reordered); try check(e.bool); try check(e.optionalRecord)
        }
        let dog = Dog(name: "Rex", breed: "collie")
        XCTAssertEqual(try BinaryDecoder().decode(Dog.self, from: BinaryEncoder().encode(dog)), dog)
        let cat = Cat(name: "Tom", lives: 9)
        XCTAssertEqual(try BinaryDecoder().decode(Cat.self, from: BinaryEncoder().encode(cat)), cat)
        XCTAssertEqual(try BinaryDecoder().decode(Decimal.self, from: BinaryEncoder().encode(Decimal.nan)).isNaN, true)
        let doubleOptionals: [Int??] = [nil, .some(nil), .some(.some(3))]
        for value in doubleOptionals {
            XCTAssertEqual(try BinaryDecoder().decode(Int??.self, from: BinaryEncoder().encode(value)), value)
        }
        XCTAssertEqual(try BinaryDecoder().decode([Int??].self, from: BinaryEncoder().encode(doubleOptionals)), doubleOptionals)
    }

    func testSameValuesThroughJSONAndPassthroughInAPool() throws {
        var random = SeededGenerator(seed: Self.seed &+ 2)
        SeededGenerator.jsonSafe.withLockedValue { $0 = true }
        defer { SeededGenerator.jsonSafe.withLockedValue { $0 = false } }
        let values = (0..<200).map { _ in random.everything() }
        for codec in [TaskCodec.binary, .json, .passthrough] {
            try withPool(workers: 2, codec: codec) { pool in
                let back = try pool.map(values, chunksize: 16) { $0 }
                XCTAssertTrue(back == values, "\(codec): values differ after crossing the pool")
                XCTAssertTrue(try pool.apply(values[0]) { $0 } == values[0], "\(codec)")
            }
        }
    }

    func testChunkFastPathAndGenericPathAgree() throws {
        var random = SeededGenerator(seed: Self.seed &+ 3)
        let ints = (0..<10_000).map { _ in Int.random(in: .min ... .max, using: &random) }
        let bytes = try ints.withUnsafeBufferPointer { try BinaryEncoder.encodeChunk($0) }
        XCTAssertEqual(bytes.count, 2 + 8 * ints.count, "a varint count and one bulk copy")
        let decoded = UnsafeMutablePointer<Int>.allocate(capacity: ints.count)
        defer { decoded.deallocate() }
        try BinaryDecoder.decodeChunk(Int.self, from: bytes, count: ints.count, into: decoded)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: decoded, count: ints.count)), ints)
        decoded.deinitialize(count: ints.count)
        // The same numbers inside a struct field go through the bulk array path too.
        let wrapped = try BinaryDecoder().decode([[Int]].self, from: BinaryEncoder().encode([ints]))
        XCTAssertEqual(wrapped, [ints])
    }

    func testOptionalFieldsInteroperateAsInJSON() throws {
        struct Writer: Encodable {
            var value: Int?
            enum CodingKeys: String, CodingKey { case value }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(value, forKey: .value)  // nil is written, not skipped
            }
        }
        struct Reader: Decodable, Equatable {
            var value: Int?
            enum CodingKeys: String, CodingKey { case value }
            init(from decoder: any Decoder) throws {
                value = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Int.self, forKey: .value)
            }
        }
        for value in [nil, 0, 78, -1] as [Int?] {
            let bytes = try BinaryEncoder().encode(Writer(value: value))
            XCTAssertEqual(try BinaryDecoder().decode(Reader.self, from: bytes).value, value)
        }
    }

    func testMisusedContainersThrowInsteadOfWritingGarbage() {
        struct Interleaved: Encodable {
            enum Keys: String, CodingKey { case a, b }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                var first = container.nestedUnkeyedContainer(forKey: .a)
                var second = container.nestedUnkeyedContainer(forKey: .b)
                try second.encode(1)
                try first.encode(2)  // the binary format is written in order
            }
        }
        XCTAssertThrowsError(try BinaryEncoder().encode(Interleaved())) { XCTAssertTrue($0 is EncodingError, "\($0)") }

        struct TwoKinds: Encodable {
            enum Keys: String, CodingKey { case a }
            func encode(to encoder: any Encoder) throws {
                _ = encoder.container(keyedBy: Keys.self)
                var list = encoder.unkeyedContainer()
                try list.encode(1)
            }
        }
        XCTAssertThrowsError(try BinaryEncoder().encode(TwoKinds())) { XCTAssertTrue($0 is EncodingError, "\($0)") }
    }

    func testTypeMismatchesThrowDecodingErrors() throws {
        let recordBytes = try BinaryEncoder().encode(Record(id: 1, name: "x", score: 2))
        XCTAssertThrowsError(try BinaryDecoder().decode([Int].self, from: recordBytes)) { XCTAssertTrue($0 is DecodingError) }
        XCTAssertThrowsError(try BinaryDecoder().decode(Shape.self, from: recordBytes)) { XCTAssertTrue($0 is DecodingError) }
        XCTAssertThrowsError(try BinaryDecoder().decode(Int.self, from: recordBytes)) { XCTAssertTrue($0 is DecodingError) }
        XCTAssertThrowsError(try BinaryDecoder().decode(Record.self, from: BinaryEncoder().encode(["id": 1]))) {
            guard case .keyNotFound? = $0 as? DecodingError else { return XCTFail("\($0)") }
        }
        XCTAssertThrowsError(try BinaryDecoder().decode(Record.self, from: Data())) { XCTAssertTrue($0 is DecodingError) }
    }
}

// MARK: Fuzzing

final class CodecFuzzTests: PoolTestCase {
    /// Truncated, bit-flipped and random inputs, 10,000 rounds of three decodes (a whole value, a
    /// chunk of records, a chunk of nested records): the decoder may succeed (a flip can give
    /// another valid value) but otherwise throws a DecodingError: never a trap, never an
    /// out-of-bounds read (the ASan run of this test checks the latter).
    func testCorruptedInputOnlyEverThrows() throws {
        let seed: UInt64 = 0xF022_2026
        print("CodecFuzzTests seed \(seed), 10000 iterations")
        var random = SeededGenerator(seed: seed)
        let samples = try (0..<20).map { _ in try BinaryEncoder().encode(random.everything()) }
        let chunkSamples = try (0..<5).map { _ in
            try (0..<8).map { _ in random.record() }.withUnsafeBufferPointer { try BinaryEncoder.encodeChunk($0) }
        }
        // Chunks of records holding a list, a nested record and an optional: nested slots, a key
        // table of seven keys, fields skipped by wire type.
        let nestedSamples = try (0..<5).map { _ in
            try (0..<8).map { _ in NestedRecord(Int.random(in: 0...1_000_000, using: &random)) }
                .withUnsafeBufferPointer { try BinaryEncoder.encodeChunk($0) }
        }
        var decoded = 0, threw = 0
        for iteration in 0..<10_000 {
            var bytes: [UInt8]
            let kind = iteration % 4
            if kind == 3 {
                bytes = (0..<Int.random(in: 0...256, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            } else {
                bytes = [UInt8](iteration % 8 < 4 ? samples.randomElement(using: &random)! : chunkSamples.randomElement(using: &random)!.withUnsafeBytes { Data($0) })
                if kind == 0 || bytes.isEmpty {
                    bytes = Array(bytes.prefix(Int.random(in: 0...max(bytes.count - 1, 0), using: &random)))
                } else {
                    for _ in 0..<Int.random(in: 1...8, using: &random) {
                        bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
                    }
                }
            }
            do {
                _ = try BinaryDecoder().decode(Everything.self, from: Data(bytes))
                decoded += 1
            } catch {
                threw += 1
                XCTAssertTrue(error is DecodingError, "iteration \(iteration): \(error)")
            }
            do {
                let buffer = ByteBuffer(copying: Data(bytes))
                let out = UnsafeMutablePointer<Record>.allocate(capacity: 8)
                defer { out.deallocate() }
                try BinaryDecoder.decodeChunk(Record.self, from: buffer, count: 8, into: out)
                out.deinitialize(count: 8)
                decoded += 1
            } catch {
                threw += 1
                XCTAssertTrue(error is DecodingError, "iteration \(iteration): \(error)")
            }
            do {
                var nested = [UInt8](nestedSamples.randomElement(using: &random)!.withUnsafeBytes { Data($0) })
                if iteration % 2 == 0 {
                    nested = Array(nested.prefix(Int.random(in: 0..<nested.count, using: &random)))
                } else {
                    for _ in 0..<Int.random(in: 1...8, using: &random) {
                        nested[Int.random(in: 0..<nested.count, using: &random)] ^= UInt8(1) << UInt8.random(in: 0...7, using: &random)
                    }
                }
                let out = UnsafeMutablePointer<NestedRecord>.allocate(capacity: 8)
                defer { out.deallocate() }
                try BinaryDecoder.decodeChunk(NestedRecord.self, from: ByteBuffer(copying: Data(nested)), count: 8, into: out)
                out.deinitialize(count: 8)
                decoded += 1
            } catch {
                threw += 1
                XCTAssertTrue(error is DecodingError, "iteration \(iteration): \(error)")
            }
        }
        XCTAssertEqual(decoded + threw, 30_000)
        XCTAssertGreaterThan(threw, 15_000, "corruption was mostly detected")
    }
}

// MARK: Codec failures inside the pool

/// A result whose encoding fails for one value.
struct Fragile: Codable, Equatable, Sendable {
    var value: Int
    struct Refused: Error {}
    func encode(to encoder: any Encoder) throws {
        if value == 13 { throw Refused() }
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
    init(value: Int) { self.value = value }
    init(from decoder: any Decoder) throws {
        value = try decoder.singleValueContainer().decode(Int.self)
        if value == 66 { throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "66 refused")) }
    }
}

final class CodecFailureTests: PoolTestCase {
    func testAResultThatFailsToEncodeFailsOnlyItsJob() throws {
        for codec in [TaskCodec.binary, .json] {
            try withPool(workers: 2, codec: codec) { pool in
                let bad = try pool.applyAsync(13) { Fragile(value: $0) }
                let good = try pool.applyAsync(12) { Fragile(value: $0) }
                XCTAssertThrowsError(try bad.get(timeout: generous)) { error in
                    guard case .encodingFailed(let message)? = error as? PoolError else { return XCTFail("\(error)") }
                    XCTAssertTrue(message.contains("encode the result of type Fragile"), message)
                }
                XCTAssertEqual(try good.get(timeout: generous), Fragile(value: 12))
                XCTAssertEqual(try pool.apply(1) { $0 + 1 }, 2, "the pool goes on")
            }
        }
    }

    func testAnArgumentThatFailsToEncodeFailsOnlyItsJob() throws {
        try withPool(workers: 2) { pool in
            let errors = Recorder<Bool>()
            let bad = try pool.applyAsync(Fragile(value: 13)) { $0.value } errorCallback: { errors.append(isEncodingFailure($0)) }
            XCTAssertThrowsError(try bad.get(timeout: generous)) { XCTAssertTrue(isEncodingFailure($0), "\($0)") }
            XCTAssertEqual(errors.values, [true])
            XCTAssertEqual(try pool.apply(Fragile(value: 3)) { $0.value }, 3)
        }
    }

    func testAnArgumentThatFailsToDecodeOnTheWorker() throws {
        try withPool(workers: 2) { pool in
            XCTAssertThrowsError(try pool.apply(Fragile(value: 66)) { $0.value }) { error in
                guard case .encodingFailed(let message)? = error as? PoolError else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains("decode the argument of type Fragile"), message)
            }
        }
    }

    func testMapFailsWithEncodingFailedAndImapFailsOnlyThatItem() throws {
        try withPool(workers: 2) { pool in
            XCTAssertThrowsError(try pool.map(Array(0..<30), chunksize: 5) { Fragile(value: $0) }) {
                XCTAssertTrue(isEncodingFailure($0), "\($0)")
            }
            let iterator = try pool.imap(Array(0..<30), chunksize: 5) { Fragile(value: $0) }
            var values: [Int] = []
            var failedAt: [Int] = []
            while true {
                do {
                    guard let value = try iterator.next(timeout: generous) else { break }
                    values.append(value.value)
                } catch {
                    XCTAssertTrue(isEncodingFailure(error), "\(error)")
                    failedAt.append(values.count + failedAt.count)
                }
            }
            XCTAssertEqual(failedAt, [13], "only the item whose result failed")
            XCTAssertEqual(values, (0..<30).filter { $0 != 13 })
            // Arguments too: the chunk is retried item by item, only 66 fails.
            let args = try pool.imap((60..<70).map { Fragile(value: $0) }, chunksize: 10) { $0.value }
            var got: [Int] = []
            var argFailures = 0
            while true {
                do {
                    guard let value = try args.next(timeout: generous) else { break }
                    got.append(value)
                } catch {
                    argFailures += 1
                }
            }
            XCTAssertEqual(argFailures, 1)
            XCTAssertEqual(got, [60, 61, 62, 63, 64, 65, 67, 68, 69])
        }
    }
}
