import Foundation

/// Decodes what `BinaryEncoder` wrote (the `.binary` task codec).
///
/// Every read is bounds-checked and every count is checked against the bytes left before anything
/// is allocated, so truncated, corrupted or mistyped input throws a `DecodingError`; it never traps
/// and never reads outside the input. Nesting deeper than 512 containers is refused the same way.
public struct BinaryDecoder: Sendable {
    /// Values handed to every `Decoder` the decoding creates (`Decoder.userInfo`).
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    /// A decoder of the binary codec's format.
    public init() {}

    /// Decodes a value of `type` from `data`.
    ///
    /// - Throws: `DecodingError` if the bytes are not an encoding of `type`, or if bytes are left over.
    public func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoding = try BinaryDecoding(buffer: ByteBuffer(copying: data), userInfo: userInfo)
        defer { decoding.tearDown() }
        var reader = decoding.reader()
        let value = try decoding.decodeValue(T.self, from: &reader, at: nil)
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
        let decoding = try BinaryDecoding(buffer: buffer, userInfo: [:])
        defer { decoding.tearDown() }
        var reader = decoding.reader()
        let stored = try reader.readCount()
        try checkChunkCount(stored, count)
        let kind = BinaryKind.of(T.self)
        var initialized = 0
        do {
            while initialized < count {
                (destination + initialized).initialize(to: try decoding.decodeValue(T.self, kind: kind, from: &reader, at: nil))
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
    /// Tears the decoding down when the reader goes away.
    private final class Owner {
        let decoding: BinaryDecoding
        init(_ decoding: BinaryDecoding) { self.decoding = decoding }
        deinit { decoding.tearDown() }
    }

    private let owner: Owner
    private var reader: RawReader

    init(_ buffer: ByteBuffer) throws {
        owner = Owner(try BinaryDecoding(buffer: buffer, userInfo: [:]))
        reader = owner.decoding.reader()
    }

    mutating func readCount() throws -> Int { try reader.readCount() }

    mutating func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        try owner.decoding.decodeValue(type, from: &reader, at: nil)
    }

    func expectEnd() throws { try owner.decoding.expectEnd(reader) }
}

/// The state of one decoding: the input (kept alive here, so containers that escape stay safe),
/// its key table, the stack of slots being decoded, and the containers kept for reuse (see
/// `BinaryEncoding` for why). The reused containers hold the decoding, so `tearDown()` must end
/// every decoding.
final class BinaryDecoding {
    let buffer: ByteBuffer
    let base: UnsafeRawPointer
    let userInfo: [CodingUserInfoKey: Any]
    /// Where the values end and the key table starts.
    private let bodyEnd: Int
    // One decoding runs on one thread; dynamic exclusivity checks are off (see BinaryEncoding).
    @exclusivity(unchecked) var keys: KeyTableReader
    @exclusivity(unchecked) private var slots: [SlotFrame] = []
    @exclusivity(unchecked) private var nextSlotID = 0
    @exclusivity(unchecked) private var keyedEntries: [KeyedDecoderEntryBase] = []
    @exclusivity(unchecked) private var unkeyedPool: [BinaryUnkeyedDecoder] = []
    @exclusivity(unchecked) private var arrayTypes = ArrayConformances<any BinaryDecodableArray.Type>()
    static let maximumDepth = 512

    /// A slot whose `init(from:)` is running.
    struct SlotFrame {
        let id: Int
        let element: PathElement?
    }

    /// Reads the header and the key table.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when they are not there or not well formed.
    init(buffer: ByteBuffer, userInfo: [CodingUserInfoKey: any Sendable]) throws {
        self.buffer = buffer
        base = UnsafeRawPointer(buffer.base)
        self.userInfo = userInfo.isEmpty ? [:] : userInfo.mapValues { $0 as Any }
        var header = RawReader(base: base, end: buffer.count)
        let tableAt = Int(try header.read(UInt32.self))
        guard tableAt >= header.position, tableAt <= buffer.count else {
            throw RawReader.corrupted("key table offset \(tableAt) is outside the \(buffer.count) bytes")
        }
        var table = RawReader(base: base, position: tableAt, end: buffer.count)
        keys = try KeyTableReader(&table)
        bodyEnd = tableAt
    }

    /// Breaks the reference cycles between the decoding and its reused containers.
    func tearDown() {
        keyedEntries = []
        unkeyedPool = []
    }

    /// A reader over the values.
    func reader() -> RawReader { RawReader(base: base, position: 4, end: bodyEnd) }

    func reader(_ start: Int, _ end: Int) -> RawReader { RawReader(base: base, position: start, end: end) }

    func expectEnd(_ reader: RawReader) throws {
        guard reader.isAtEnd else { throw RawReader.corrupted("\(reader.remaining) bytes left over after the value") }
    }

    // MARK: Values

    @inline(__always)
    func decodeValue<T: Decodable>(_ type: T.Type, from reader: inout RawReader, at element: @autoclosure () -> PathElement?) throws -> T {
        try decodeValue(type, kind: BinaryKind.of(T.self), from: &reader, at: element())
    }

    /// `element` is only evaluated when the type runs its own `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type, kind: BinaryKind, from reader: inout RawReader, at element: @autoclosure () -> PathElement?) throws -> T {
        switch kind {
        case .int: return unsafeBitCast(try narrow(try reader.readZigzag(), Int.self), to: T.self)
        case .string: return unsafeBitCast(try reader.readString(), to: T.self)
        case .double: return unsafeBitCast(Double(bitPattern: try reader.read(UInt64.self)), to: T.self)
        case .bool: return unsafeBitCast(try readBool(&reader), to: T.self)
        case .float: return unsafeBitCast(Float(bitPattern: try reader.read(UInt32.self)), to: T.self)
        case .int64: return unsafeBitCast(try reader.readZigzag(), to: T.self)
        case .int32: return unsafeBitCast(try narrow(try reader.readZigzag(), Int32.self), to: T.self)
        case .int16: return unsafeBitCast(try narrow(try reader.readZigzag(), Int16.self), to: T.self)
        case .int8: return unsafeBitCast(try reader.read(Int8.self), to: T.self)
        case .uint: return unsafeBitCast(try narrow(try reader.readVarint(), UInt.self), to: T.self)
        case .uint64: return unsafeBitCast(try reader.readVarint(), to: T.self)
        case .uint32: return unsafeBitCast(try narrow(try reader.readVarint(), UInt32.self), to: T.self)
        case .uint16: return unsafeBitCast(try narrow(try reader.readVarint(), UInt16.self), to: T.self)
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
                throw mismatch(type, "\"\(text.prefix(64))\" is not a Decimal")
            }
            return decimal as! T
        case .bulk(let element):
            return try readBulkValue(type, element: element, from: &reader)
        case .strings:
            return unsafeBitCast(try readStrings(&reader, at: element()), to: T.self)
        case .other:
            if let array = decodableArray(T.self) {
                return try array.decodeArray(T.self, from: self, &reader, at: element())
            }
            return try decodeSlot(type, from: &reader, at: element())
        }
    }

    @inline(__always)
    func readBool(_ reader: inout RawReader) throws -> Bool {
        let byte = try reader.readByte()
        guard byte <= 1 else { throw mismatch(Bool.self, "byte \(byte) is not a Bool") }
        return byte == 1
    }

    @inline(__always)
    func narrow<Source: BinaryInteger, Target: FixedWidthInteger>(_ value: Source, _ type: Target.Type) throws -> Target {
        guard let narrowed = Target(exactly: value) else { throw mismatch(type, "\(value) does not fit \(type)") }
        return narrowed
    }

    /// Reads a keyed field's value, whose header said `wire`.
    @inline(__always)
    func decodeField<T: Decodable>(_ type: T.Type, kind: BinaryKind, wire: WireType, from reader: inout RawReader,
                                   at element: @autoclosure () -> PathElement) throws -> T {
        guard wire == kind.wireType else { throw wrongWire(type, wire) }
        if kind.isWrappedInField {
            let length = try reader.readCount()
            var inner = self.reader(reader.position, reader.position + length)
            let value = try decodeValue(type, kind: kind, from: &inner, at: nil)
            guard inner.isAtEnd else { throw mismatch(type, "the field holds \(inner.remaining) more bytes than a \(type)") }
            reader.position = inner.end
            return value
        }
        return try decodeValue(type, kind: kind, from: &reader, at: element())
    }

    func wrongWire<T>(_ type: T.Type, _ wire: WireType) -> DecodingError {
        if wire == .null {
            return DecodingError.valueNotFound(type, .init(codingPath: codingPath(), debugDescription: "the value is nil"))
        }
        return mismatch(type, "the field holds a value of wire type \(wire), not a \(type)")
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

    /// Reads an unkeyed slot of strings (see `BinaryEncoding.writeStrings`).
    private func readStrings(_ reader: inout RawReader, at element: PathElement?) throws -> [String] {
        try readUnkeyed(&reader, at: element) { elements, count in
            var strings: [String] = []
            strings.reserveCapacity(count)  // at most the bytes left: readUnkeyed checked the count
            for index in 0..<count {
                try expectPresent(&elements, String.self, index: index)
                strings.append(try elements.readString())
            }
            return strings
        }
    }

    /// `T` as an array the decoder reads itself, or nil (see `BinaryEncoding.encodableArray`).
    @inline(__always)
    private func decodableArray<T>(_ type: T.Type) -> (any BinaryDecodableArray.Type)? {
        arrayTypes.lookup(type) {
            guard let array = type as? any BinaryDecodableArray.Type, !array.hasOptionalElements else { return nil }
            return array
        }
    }

    /// Reads an unkeyed slot (`U`, or `E` for none): `body` gets a reader over the elements and
    /// their count, and must read them all. The slot counts as one level of nesting.
    @inline(__always)
    func readUnkeyed<R>(_ reader: inout RawReader, at element: PathElement?, _ body: (inout RawReader, Int) throws -> R) throws -> R {
        let start = reader.position
        let end = try slotEnd(&reader)
        var elements = self.reader(reader.position, end)
        var count = 0
        switch base.load(fromByteOffset: start, as: UInt8.self) {
        case SlotTag.unkeyed: count = try elements.readCount()
        case SlotTag.empty: break
        case let tag: throw mismatch([Any].self, "expected an unkeyed container, found tag \(tag)")
        }
        guard slots.count < BinaryDecoding.maximumDepth else {
            throw RawReader.corrupted("nesting deeper than \(BinaryDecoding.maximumDepth) containers")
        }
        nextSlotID += 1
        slots.append(SlotFrame(id: nextSlotID, element: element))
        defer { slots.removeLast() }
        let result = try body(&elements, count)
        try expectEnd(elements)
        reader.position = end
        return result
    }

    /// Reads an element's presence byte, which must say a value follows.
    @inline(__always)
    func expectPresent<T>(_ reader: inout RawReader, _ type: T.Type, index: Int) throws {
        switch try reader.readByte() {
        case 1: return
        case 0: throw DecodingError.valueNotFound(type, .init(codingPath: codingPath() + [BinaryCodingKey.index(index)], debugDescription: "the element is nil"))
        case let tag: throw RawReader.corrupted("unknown element tag \(tag)")
        }
    }

    // MARK: Slots

    /// Runs `T.init(from:)` on the slot at the reader, then moves the reader past the whole slot,
    /// however much of it the type chose to read.
    private func decodeSlot<T: Decodable>(_ type: T.Type, from reader: inout RawReader, at element: PathElement?) throws -> T {
        let start = reader.position
        let end = try slotEnd(&reader)
        guard slots.count < BinaryDecoding.maximumDepth else {
            throw RawReader.corrupted("nesting deeper than \(BinaryDecoding.maximumDepth) containers")
        }
        nextSlotID += 1
        slots.append(SlotFrame(id: nextSlotID, element: element))
        defer { slots.removeLast() }
        let value = try T(from: BinarySlotDecoder(decoding: self, start: start, end: end))
        reader.position = end
        return value
    }

    /// Reads a slot's tag and length; returns where the slot ends. The reader is left after the length.
    func slotEnd(_ reader: inout RawReader) throws -> Int {
        switch try reader.readByte() {
        case SlotTag.keyed, SlotTag.unkeyed, SlotTag.single:
            let length = try reader.readCount()
            return reader.position + length
        case SlotTag.null, SlotTag.empty:
            return reader.position
        case let tag:
            throw RawReader.corrupted("unknown value tag \(tag)")
        }
    }

    /// Moves the reader past a keyed field's value, whose header said `wire`.
    func skip(_ wire: WireType, _ reader: inout RawReader) throws {
        switch wire {
        case .varint: try reader.skipVarint()
        case .fixed8: _ = try reader.readBytes(1)
        case .fixed32: _ = try reader.readBytes(4)
        case .fixed64: _ = try reader.readBytes(8)
        case .bytes: _ = try reader.readBytes(try reader.readCount())
        case .slot: reader.position = try slotEnd(&reader)
        case .null: break
        }
    }

    // MARK: Containers

    /// The keyed container over the slot at `slotStart` (a `K` slot, or `E` for no fields): a reused
    /// box of this key type when one is free, else a new one.
    func keyedContainer<Key: CodingKey>(_ type: Key.Type, slotStart: Int, end: Int, path: [any CodingKey]? = nil) throws -> KeyedDecodingContainer<Key> {
        var reader = self.reader(slotStart, end)
        let start: Int
        switch try reader.readByte() {
        case SlotTag.keyed:
            _ = try reader.readVarint()
            start = reader.position
        case SlotTag.empty:
            start = end
        case let tag:
            throw mismatch([String: Any].self, "expected a keyed container, found tag \(tag)")
        }
        let keyType = ObjectIdentifier(Key.self)
        var found: KeyedDecoderEntry<Key>?
        for index in keyedEntries.indices {
            let entry = keyedEntries[index]
            if entry.keyType == keyType && !isOpen(entry.state) {
                found = unsafeDowncast(entry, to: KeyedDecoderEntry<Key>.self)
                break
            }
        }
        let entry = found ?? {
            let entry = KeyedDecoderEntry<Key>(decoding: self)
            keyedEntries.append(entry)
            return entry
        }()
        let state = entry.state
        state.slotDepth = slots.count
        state.slotID = slots.last?.id ?? 0
        state.start = start
        state.end = end
        state.cursor = start
        state.path = path
        return entry.container
    }

    private func isOpen(_ entry: KeyedDecoderState) -> Bool {
        entry.slotDepth > 0 && entry.slotDepth <= slots.count && slots[entry.slotDepth - 1].id == entry.slotID
    }

    /// The unkeyed container over the slot at `slotStart` (a `U` slot, or `E` for no elements):
    /// a pooled one that nothing else holds any more, else a new one.
    func unkeyedContainer(slotStart: Int, end: Int, path: [any CodingKey]? = nil) throws -> BinaryUnkeyedDecoder {
        var reader = self.reader(slotStart, end)
        var count = 0
        switch try reader.readByte() {
        case SlotTag.unkeyed:
            _ = try reader.readVarint()
            count = try reader.readCount()
        case SlotTag.empty:
            break
        case let tag:
            throw mismatch([Any].self, "expected an unkeyed container, found tag \(tag)")
        }
        let path = path ?? codingPath()
        for index in unkeyedPool.indices where isKnownUniquelyReferenced(&unkeyedPool[index]) {
            unkeyedPool[index].reset(reader: reader, count: count, path: path)
            return unkeyedPool[index]
        }
        let container = BinaryUnkeyedDecoder(decoding: self, reader: reader, count: count, path: path)
        unkeyedPool.append(container)
        return container
    }

    // MARK: Errors

    /// The coding path of the slot being decoded (or of the one `depth` slots down).
    func codingPath(depth: Int? = nil) -> [any CodingKey] {
        slots.prefix(depth ?? slots.count).compactMap { $0.element?.codingKey { keys.name($0) } }
    }

    func mismatch<T>(_ type: T.Type, _ message: String) -> DecodingError {
        DecodingError.typeMismatch(type, .init(codingPath: codingPath(), debugDescription: message))
    }
}

/// The `Decoder` a type's `init(from:)` receives: one slot of the input, from its tag to its end.
/// Three words, so the `any Decoder` it travels as holds it inline.
struct BinarySlotDecoder: Decoder {
    let decoding: BinaryDecoding
    let start: Int
    let end: Int

    var codingPath: [any CodingKey] { decoding.codingPath() }
    var userInfo: [CodingUserInfoKey: Any] { decoding.userInfo }

    private var tag: UInt8 { decoding.base.load(fromByteOffset: start, as: UInt8.self) }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        try decoding.keyedContainer(type, slotStart: start, end: end)
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try decoding.unkeyedContainer(slotStart: start, end: end)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        switch tag {
        case SlotTag.single:
            var reader = decoding.reader(start + 1, end)
            _ = try reader.readVarint()
            return BinarySingleValueDecoder(decoding: decoding, valueStart: reader.position, end: end)
        case SlotTag.null:
            return BinarySingleValueDecoder(decoding: decoding, valueStart: -1, end: end)
        default:
            throw decoding.mismatch(Any.self, "expected a single value, found tag \(tag)")
        }
    }
}

/// Lets the containers build an `Optional` of a type they only know generically.
protocol OptionalDecodable {
    static var noneValue: Self { get }
    static func decodeWrapped(_ decoding: BinaryDecoding, from reader: inout RawReader, at element: PathElement?) throws -> Self
    static func decodeWrappedField(_ decoding: BinaryDecoding, wire: WireType, from reader: inout RawReader, at element: PathElement) throws -> Self
}

extension Optional: OptionalDecodable where Wrapped: Decodable {
    static var noneValue: Self { .none }

    static func decodeWrapped(_ decoding: BinaryDecoding, from reader: inout RawReader, at element: PathElement?) throws -> Self {
        .some(try decoding.decodeValue(Wrapped.self, from: &reader, at: element))
    }

    static func decodeWrappedField(_ decoding: BinaryDecoding, wire: WireType, from reader: inout RawReader, at element: PathElement) throws -> Self {
        .some(try decoding.decodeField(Wrapped.self, kind: BinaryKind.of(Wrapped.self), wire: wire, from: &reader, at: element))
    }
}
