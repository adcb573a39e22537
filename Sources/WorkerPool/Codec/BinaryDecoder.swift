import Foundation

/// Decodes what `BinaryEncoder` wrote (the `.binary` task codec).
///
/// Every read is bounds-checked and every count is checked against the bytes left before anything
/// is allocated, so truncated, corrupted or mistyped input throws a `DecodingError`; it never traps
/// and never reads outside the input. Nesting deeper than 512 containers is refused the same way.
public struct BinaryDecoder: Sendable {
    /// Values handed to every `Decoder` the decoding creates (`Decoder.userInfo`).
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    public init() {}

    /// Decodes a value of `type` from `data`.
    ///
    /// - Throws: `DecodingError` if the bytes are not an encoding of `type`, or if bytes are left over.
    public func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let buffer = ByteBuffer(copying: data)
        let decoding = BinaryDecoding(buffer: buffer, userInfo: userInfo)
        var reader = decoding.reader()
        let value = try decoding.decodeValue(T.self, from: &reader, path: .root)
        try decoding.expectEnd(reader)
        return value
    }

    /// Decodes one chunk written by `BinaryEncoder.encodeChunk` into `count` values at `destination`.
    /// On throw, nothing is left initialized.
    @usableFromInline
    static func decodeChunk<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer, count: Int, into destination: UnsafeMutablePointer<T>) throws {
        if let element = BulkElement.ofElement(T.self) {
            var reader = RawReader(base: UnsafeRawPointer(buffer.base), end: buffer.count)
            let stored = try reader.readCount(minimumSize: element.stride)
            try checkChunkCount(stored, count)
            try reader.readBulk(into: UnsafeMutableRawPointer(destination), count: count, element: element)
            guard reader.isAtEnd else { throw RawReader.corrupted("\(reader.remaining) bytes left over after the chunk") }
            return
        }
        let decoding = BinaryDecoding(buffer: buffer, userInfo: [:])
        var reader = decoding.reader()
        let stored = try reader.readCount()
        try checkChunkCount(stored, count)
        let kind = BinaryKind.of(T.self)
        var initialized = 0
        do {
            while initialized < count {
                (destination + initialized).initialize(to: try decoding.decodeValue(T.self, kind: kind, from: &reader, path: .root))
                initialized += 1
            }
            try decoding.expectEnd(reader)
        } catch {
            destination.deinitialize(count: initialized)
            throw error
        }
    }

    private static func checkChunkCount(_ stored: Int, _ expected: Int) throws {
        guard stored == expected else {
            throw RawReader.corrupted("chunk holds \(stored) values, expected \(expected)")
        }
    }
}

/// Reads values one after another from one buffer; what `starmap` uses for argument tuples.
struct BinaryReader {
    private let decoding: BinaryDecoding
    private var reader: RawReader

    init(_ buffer: ByteBuffer) throws {
        decoding = BinaryDecoding(buffer: buffer, userInfo: [:])
        reader = decoding.reader()
    }

    mutating func readCount() throws -> Int { try reader.readCount() }

    mutating func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        try decoding.decodeValue(type, from: &reader, path: .root)
    }

    func expectEnd() throws { try decoding.expectEnd(reader) }
}

/// The state of one decoding: the input (kept alive here, so containers that escape stay safe)
/// and the nesting depth.
final class BinaryDecoding {
    let buffer: ByteBuffer
    let userInfo: [CodingUserInfoKey: Any]
    // One decoding runs on one thread; dynamic exclusivity checks are off (see BinaryEncoding).
    @exclusivity(unchecked) private var depth = 0
    static let maximumDepth = 512

    init(buffer: ByteBuffer, userInfo: [CodingUserInfoKey: any Sendable]) {
        self.buffer = buffer
        self.userInfo = userInfo.isEmpty ? [:] : userInfo.mapValues { $0 as Any }
    }

    func reader() -> RawReader { RawReader(base: UnsafeRawPointer(buffer.base), end: buffer.count) }

    func reader(_ start: Int, _ end: Int) -> RawReader {
        RawReader(base: UnsafeRawPointer(buffer.base), position: start, end: end)
    }

    func expectEnd(_ reader: RawReader) throws {
        guard reader.isAtEnd else { throw RawReader.corrupted("\(reader.remaining) bytes left over after the value") }
    }

    // MARK: Values

    @inline(__always)
    func decodeValue<T: Decodable>(_ type: T.Type, from reader: inout RawReader, path: @autoclosure () -> CodingPath) throws -> T {
        try decodeValue(type, kind: BinaryKind.of(T.self), from: &reader, path: path())
    }

    /// `path` is only evaluated for an error or when the type runs its own `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type, kind: BinaryKind, from reader: inout RawReader, path: @autoclosure () -> CodingPath) throws -> T {
        switch kind {
        case .int:
            let raw = try reader.read(Int64.self)
            guard let value = Int(exactly: raw) else { throw mismatch(type, path(), "\(raw) does not fit Int") }
            return unsafeBitCast(value, to: T.self)
        case .string: return unsafeBitCast(try reader.readString(), to: T.self)
        case .double: return unsafeBitCast(Double(bitPattern: try reader.read(UInt64.self)), to: T.self)
        case .bool:
            let byte = try reader.readByte()
            guard byte <= 1 else { throw mismatch(type, path(), "byte \(byte) is not a Bool") }
            return unsafeBitCast(byte == 1, to: T.self)
        case .float: return unsafeBitCast(Float(bitPattern: try reader.read(UInt32.self)), to: T.self)
        case .int64: return unsafeBitCast(try reader.read(Int64.self), to: T.self)
        case .int32: return unsafeBitCast(try reader.read(Int32.self), to: T.self)
        case .int16: return unsafeBitCast(try reader.read(Int16.self), to: T.self)
        case .int8: return unsafeBitCast(try reader.read(Int8.self), to: T.self)
        case .uint:
            let raw = try reader.read(UInt64.self)
            guard let value = UInt(exactly: raw) else { throw mismatch(type, path(), "\(raw) does not fit UInt") }
            return unsafeBitCast(value, to: T.self)
        case .uint64: return unsafeBitCast(try reader.read(UInt64.self), to: T.self)
        case .uint32: return unsafeBitCast(try reader.read(UInt32.self), to: T.self)
        case .uint16: return unsafeBitCast(try reader.read(UInt16.self), to: T.self)
        case .uint8: return unsafeBitCast(try reader.read(UInt8.self), to: T.self)
        case .date:
            let seconds = Double(bitPattern: try reader.read(UInt64.self))
            return Date(timeIntervalSinceReferenceDate: seconds) as! T
        case .data:
            let count = try reader.readCount()
            return Data(try reader.readBytes(count)) as! T
        case .uuid:
            let bytes = try reader.readBytes(16)
            var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            withUnsafeMutableBytes(of: &uuid) { $0.copyMemory(from: bytes) }
            return UUID(uuid: uuid) as! T
        case .decimal:
            let text = try reader.readString()
            if text == Decimal.nan.description { return Decimal.nan as! T }
            guard let decimal = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")), decimal.description == text else {
                throw mismatch(type, path(), "\"\(text.prefix(64))\" is not a Decimal")
            }
            return decimal as! T
        case .bulk(let element):
            return try readBulkValue(type, element: element, from: &reader)
        case .other:
            return try decodeSlot(type, from: &reader, path: path())
        }
    }

    private func readBulkValue<T>(_ type: T.Type, element: BulkElement, from reader: inout RawReader) throws -> T {
        switch element {
        case .int: return unsafeBitCast(try readBulkArray(&reader, Int.self, element: element), to: T.self)
        case .int8: return unsafeBitCast(try readBulkArray(&reader, Int8.self, element: element), to: T.self)
        case .int16: return unsafeBitCast(try readBulkArray(&reader, Int16.self, element: element), to: T.self)
        case .int32: return unsafeBitCast(try readBulkArray(&reader, Int32.self, element: element), to: T.self)
        case .int64: return unsafeBitCast(try readBulkArray(&reader, Int64.self, element: element), to: T.self)
        case .uint: return unsafeBitCast(try readBulkArray(&reader, UInt.self, element: element), to: T.self)
        case .uint8: return unsafeBitCast(try readBulkArray(&reader, UInt8.self, element: element), to: T.self)
        case .uint16: return unsafeBitCast(try readBulkArray(&reader, UInt16.self, element: element), to: T.self)
        case .uint32: return unsafeBitCast(try readBulkArray(&reader, UInt32.self, element: element), to: T.self)
        case .uint64: return unsafeBitCast(try readBulkArray(&reader, UInt64.self, element: element), to: T.self)
        case .float: return unsafeBitCast(try readBulkArray(&reader, Float.self, element: element), to: T.self)
        case .double: return unsafeBitCast(try readBulkArray(&reader, Double.self, element: element), to: T.self)
        case .bool: return unsafeBitCast(try readBulkArray(&reader, Bool.self, element: element), to: T.self)
        }
    }

    /// Runs `T.init(from:)` on the slot at the reader, then moves the reader past the whole slot,
    /// however much of it the type chose to read.
    private func decodeSlot<T: Decodable>(_ type: T.Type, from reader: inout RawReader, path: CodingPath) throws -> T {
        let start = reader.position
        let end = try slotEnd(reader)
        depth += 1
        defer { depth -= 1 }
        guard depth <= BinaryDecoding.maximumDepth else {
            throw RawReader.corrupted("nesting deeper than \(BinaryDecoding.maximumDepth) containers")
        }
        let value = try T(from: BinarySlotDecoder(decoding: self, start: start, end: end, path: path))
        reader.position = end
        return value
    }

    /// Where the slot that starts at the reader ends, from its tag and length.
    func slotEnd(_ reader: RawReader) throws -> Int {
        var probe = reader
        switch try probe.readByte() {
        case SlotTag.keyed, SlotTag.unkeyed, SlotTag.single:
            let length = try probe.readLength32()
            return probe.position + length
        case SlotTag.null, SlotTag.empty:
            return probe.position
        case let tag:
            throw RawReader.corrupted("unknown value tag \(tag)")
        }
    }

    func mismatch<T>(_ type: T.Type, _ path: CodingPath, _ message: String) -> DecodingError {
        DecodingError.typeMismatch(type, .init(codingPath: path.keys, debugDescription: message))
    }
}

/// The `Decoder` a type's `init(from:)` receives: one slot of the input, from its tag to its end.
struct BinarySlotDecoder: Decoder {
    let decoding: BinaryDecoding
    let start: Int
    let end: Int
    let path: CodingPath

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { decoding.userInfo }

    private var tag: UInt8 { UnsafeRawPointer(decoding.buffer.base).load(fromByteOffset: start, as: UInt8.self) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch tag {
        case SlotTag.keyed:
            return KeyedDecodingContainer(BinaryKeyedDecoder<Key>(decoding: decoding, start: start + 5, end: end, path: path))
        case SlotTag.empty:
            return KeyedDecodingContainer(BinaryKeyedDecoder<Key>(decoding: decoding, start: end, end: end, path: path))
        default:
            throw decoding.mismatch([String: Any].self, path, "expected a keyed container, found tag \(tag)")
        }
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch tag {
        case SlotTag.unkeyed:
            var reader = decoding.reader(start + 5, end)
            let count = Int(try reader.read(UInt32.self))
            guard count <= reader.remaining else {
                throw RawReader.corrupted("unkeyed container claims \(count) elements in \(reader.remaining) bytes")
            }
            return BinaryUnkeyedDecoder(decoding: decoding, reader: reader, count: count, path: path)
        case SlotTag.empty:
            return BinaryUnkeyedDecoder(decoding: decoding, reader: decoding.reader(end, end), count: 0, path: path)
        default:
            throw decoding.mismatch([Any].self, path, "expected an unkeyed container, found tag \(tag)")
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        switch tag {
        case SlotTag.single:
            return BinarySingleValueDecoder(decoding: decoding, valueStart: start + 5, end: end, isNil: false, path: path)
        case SlotTag.null:
            return BinarySingleValueDecoder(decoding: decoding, valueStart: end, end: end, isNil: true, path: path)
        default:
            throw decoding.mismatch(Any.self, path, "expected a single value, found tag \(tag)")
        }
    }
}

/// Lets the containers build an `Optional` of a type they only know generically.
protocol OptionalDecodable {
    static var noneValue: Self { get }
    static func decodeWrapped(_ decoding: BinaryDecoding, from reader: inout RawReader, path: @autoclosure () -> CodingPath) throws -> Self
}

extension Optional: OptionalDecodable where Wrapped: Decodable {
    static var noneValue: Self { .none }
    static func decodeWrapped(_ decoding: BinaryDecoding, from reader: inout RawReader, path: @autoclosure () -> CodingPath) throws -> Self {
        .some(try decoding.decodeValue(Wrapped.self, from: &reader, path: path()))
    }
}
