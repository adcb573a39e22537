import Foundation

/// WorkerPool's compact binary encoder for `Encodable` values (the `.binary` task codec).
///
/// Integers are varints, floating-point numbers fixed-width little-endian, strings and data
/// length-prefixed, arrays of numbers one bulk copy. Keyed containers refer to their keys by index
/// into one key table per encoding, so a chunk of records says each key once, and every field says
/// how long it is, so a type may decode its fields in any order. `docs/codecs.md` describes the
/// wire format. The encoder is a value type; `encode` may be called from any thread.
public struct BinaryEncoder: Sendable {
    /// Values handed to every `Encoder` the encoding creates (`Encoder.userInfo`).
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    /// An encoder of the binary codec's format.
    public init() {}

    /// Encodes `value`.
    ///
    /// - Throws: `EncodingError` if the value's `encode(to:)` throws or uses the containers in a way
    ///   the format cannot represent (writing to a container after a later sibling was opened).
    public func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoding = BinaryEncoding(userInfo: userInfo)
        defer { encoding.tearDown() }
        try encoding.encodeValue(value, at: nil)
        try encoding.end()
        return encoding.takeData()
    }

    /// Encodes one chunk of values: a count, then each value; a chunk of fixed-width numbers is the
    /// count and one bulk copy.
    @usableFromInline
    static func encodeChunk<T: Encodable>(_ values: UnsafeBufferPointer<T>) throws -> ByteBuffer {
        if let element = BulkElement.ofElement(T.self) {
            var writer = RawWriter(capacity: 16 + values.count * element.stride)
            writer.writeBulk(UnsafeRawPointer(values.baseAddress), count: values.count, element: element)
            return writer.finish()
        }
        let encoding = BinaryEncoding(userInfo: [:], capacity: 64 + 16 * values.count)
        defer { encoding.tearDown() }
        encoding.writer.writeVarint(UInt64(values.count))
        let kind = BinaryKind.of(T.self)
        for value in values {
            try encoding.encodeValue(value, kind: kind, at: nil)
        }
        try encoding.end()
        return encoding.takeBuffer()
    }
}

/// Writes values one after another into one encoding; what `starmap` uses for argument tuples.
struct BinaryWriter {
    /// Tears the encoding down when the writer goes away, finished or not.
    private final class Owner {
        let encoding = BinaryEncoding(userInfo: [:])
        deinit { encoding.tearDown() }
    }

    private let owner = Owner()

    init() {}

    func writeCount(_ count: Int) { owner.encoding.writer.writeVarint(UInt64(count)) }

    func encodeValue<T: Encodable>(_ value: T) throws {
        try owner.encoding.encodeValue(value, at: nil)
    }

    /// The bytes written so far, with their key table. Every value was closed when it was written,
    /// and a value whose encoding failed threw then, so nothing is left to fail here.
    func finish() -> ByteBuffer {
        owner.encoding.writeKeyTable()
        return owner.encoding.takeBuffer()
    }
}

/// The tags that open a slot: which container the value's `encode(to:)` used.
enum SlotTag {
    static let keyed: UInt8 = 0x4B      // "K" + varint length + fields
    static let unkeyed: UInt8 = 0x55    // "U" + varint length + varint count + elements
    static let single: UInt8 = 0x53     // "S" + varint length + value
    static let null: UInt8 = 0x4E       // "N": a single-value container holding nil
    static let empty: UInt8 = 0x45      // "E": no container was used
}

/// One step of a coding path: a key (by its index in the key table), or an index in an unkeyed
/// container. Kept on the encoding's and decoding's stacks as plain data, so a path costs nothing
/// until someone asks for it; then a key comes back as a `BinaryCodingKey` with the key's text.
enum PathElement {
    case key(Int)
    case index(Int)

    func codingKey(_ name: (Int) -> String) -> any CodingKey {
        switch self {
        case .key(let index): return BinaryCodingKey.name(name(index))
        case .index(let index): return BinaryCodingKey.index(index)
        }
    }
}

/// A key for `superEncoder()`/`superDecoder()` and for array indices in coding paths. An enum,
/// so it fits an existential's inline buffer, and an index's text is only made if someone asks.
enum BinaryCodingKey: CodingKey {
    case name(String)
    case index(Int)

    init(stringValue: String) { self = .name(stringValue) }
    init(intValue: Int) { self = .index(intValue) }

    var stringValue: String {
        switch self {
        case .name(let name): return name
        case .index(let index): return "Index \(index)"
        }
    }

    var intValue: Int? {
        if case .index(let index) = self { return index }
        return nil
    }

    static let superKey = BinaryCodingKey.name("super")
}

/// The state of one encoding: the output bytes, the stack of containers still open, the key table
/// and the keyed containers kept for reuse.
///
/// An encoding starts with a 4-byte offset of its key table, which follows the values. The
/// format is written front to back, so containers must be filled in order: opening a container
/// closes (and length-patches) every container opened after the one written to. Writing to a
/// container that was already closed that way is an error, which no synthesized `Codable`
/// conformance ever does.
///
/// Keyed containers are reused: `KeyedEncodingContainer` boxes its container in a class, and
/// making one per record (an allocation, generic metadata lookups, its release) cost more than the
/// record's bytes. Each box is made once per key type and encoding, and bound to whichever keyed
/// container of that type is open; a second box of the same type is made only when one is open
/// inside another. The boxes hold the encoding, so `tearDown()` must end every encoding.
final class BinaryEncoding {
    // One encoding runs on one thread, and no access to these spans a call back into the
    // encoding, so the runtime's dynamic exclusivity checks (a quarter of a record's cost) are off.
    @exclusivity(unchecked) var writer: RawWriter
    @exclusivity(unchecked) private var frames: [Frame] = []
    @exclusivity(unchecked) private var topFrameID = 0
    @exclusivity(unchecked) private var nextFrameID = 0
    @exclusivity(unchecked) private var deferredError: (any Error)?
    @exclusivity(unchecked) var keys = KeyTableWriter()
    @exclusivity(unchecked) private var keyedEntries: [KeyedEncoderEntryBase] = []
    @exclusivity(unchecked) private var handedOver = false
    @exclusivity(unchecked) private var arrayTypes = ArrayConformances<any BinaryEncodableArray.Type>()
    let userInfo: [CodingUserInfoKey: Any]
    private let tableOffsetAt: Int

    struct Frame {
        let id: Int
        var kind: Kind
        /// Where this frame's value sits in its parent (nil at the top of a chunk).
        let element: PathElement?

        enum Kind {
            case slot
            case keyed(lengthAt: Int)
            case unkeyed(lengthAt: Int, count: Int)
            case single(used: Bool)
        }
    }

    init(userInfo: [CodingUserInfoKey: any Sendable], capacity: Int = 256) {
        self.userInfo = userInfo.isEmpty ? [:] : userInfo.mapValues { $0 as Any }
        writer = RawWriter(capacity: capacity)
        tableOffsetAt = writer.placeholder32()
    }

    deinit {
        if !handedOver { writer.discard() }
    }

    /// Breaks the reference cycles between the encoding and its reused containers.
    func tearDown() {
        keyedEntries = []
    }

    /// Closes every container and writes the key table.
    ///
    /// - Throws: an error that a non-throwing container call recorded.
    func end() throws {
        closeFrames(downTo: 0)
        if let deferredError { throw deferredError }
        writeKeyTable()
    }

    func writeKeyTable() {
        writer.patch(UInt32(truncatingIfNeeded: writer.count), at: tableOffsetAt)
        keys.write(to: &writer)
    }

    func takeBuffer() -> ByteBuffer {
        handedOver = true
        return writer.finish()
    }

    func takeData() -> Data {
        handedOver = true
        return Data(bytesNoCopy: writer.base, count: writer.count, deallocator: .custom { base, _ in base.deallocate() })
    }

    // MARK: Values

    /// Writes one value: its bytes directly when the codec knows its type, else its containers.
    @inline(__always)
    func encodeValue<T: Encodable>(_ value: T, at element: @autoclosure () -> PathElement?) throws {
        try encodeValue(value, kind: BinaryKind.of(T.self), at: element())
    }

    /// `element` is only evaluated when the value runs its own `encode(to:)`: values the codec
    /// writes directly never need it.
    func encodeValue<T: Encodable>(_ value: T, kind: BinaryKind, at element: @autoclosure () -> PathElement?) throws {
        switch kind {
        case .int: writer.writeZigzag(Int64(unsafeBitCast(value, to: Int.self)))
        case .string: writer.writeString(unsafeBitCast(value, to: String.self))
        case .double: writer.write(unsafeBitCast(value, to: Double.self).bitPattern)
        case .bool: writer.writeByte(unsafeBitCast(value, to: Bool.self) ? 1 : 0)
        case .float: writer.write(unsafeBitCast(value, to: Float.self).bitPattern)
        case .int64: writer.writeZigzag(unsafeBitCast(value, to: Int64.self))
        case .int32: writer.writeZigzag(Int64(unsafeBitCast(value, to: Int32.self)))
        case .int16: writer.writeZigzag(Int64(unsafeBitCast(value, to: Int16.self)))
        case .int8: writer.write(unsafeBitCast(value, to: Int8.self))
        case .uint: writer.writeVarint(UInt64(unsafeBitCast(value, to: UInt.self)))
        case .uint64: writer.writeVarint(unsafeBitCast(value, to: UInt64.self))
        case .uint32: writer.writeVarint(UInt64(unsafeBitCast(value, to: UInt32.self)))
        case .uint16: writer.writeVarint(UInt64(unsafeBitCast(value, to: UInt16.self)))
        case .uint8: writer.write(unsafeBitCast(value, to: UInt8.self))
        case .date:
            writer.write((value as! Date).timeIntervalSinceReferenceDate.bitPattern)
        case .data:
            let data = value as! Data
            writer.writeVarint(UInt64(data.count))
            data.withUnsafeBytes { writer.writeBytes($0) }
        case .uuid:
            var uuid = (value as! UUID).uuid
            withUnsafeBytes(of: &uuid) { writer.writeBytes($0) }
        case .decimal:
            writer.writeString((value as! Decimal).description)
        case .bulk(let element):
            writeBulkArray(value, element: element)
        case .strings:
            writeStrings(unsafeBitCast(value, to: [String].self))
        case .other:
            let element = element()
            if let array = encodableArray(T.self) {
                try array.encodeArray(value, into: self, at: element)
            } else {
                try encodeSlot(value, at: element)
            }
        }
    }

    /// `T` as an array the encoder writes itself, or nil: arrays of optionals keep `Array`'s own
    /// `Codable`, which the unkeyed container turns into presence bytes.
    @inline(__always)
    private func encodableArray<T>(_ type: T.Type) -> (any BinaryEncodableArray.Type)? {
        arrayTypes.lookup(type) {
            guard let array = type as? any BinaryEncodableArray.Type, !array.hasOptionalElements else { return nil }
            return array
        }
    }

    /// Writes an unkeyed slot of `count` elements that `body` writes, each a presence byte and
    /// its value, as a frame (so paths and nesting below it are right).
    func writeUnkeyed(count: Int, at element: PathElement?, _ body: () throws -> Void) throws {
        writer.writeByte(SlotTag.unkeyed)
        let lengthAt = writer.lengthPlaceholder()
        _ = writer.lengthPlaceholder()  // the element count
        let depth = frames.count
        _ = pushFrame(.unkeyed(lengthAt: lengthAt, count: count), element: element)
        try body()
        closeFrames(downTo: depth)
        if let deferredError { throw deferredError }
    }

    /// Writes a keyed field: its header (key index and wire type), then the value; values that do
    /// not start with their own length and cannot be stepped over by wire type get one.
    @inline(__always)
    func encodeField<T: Encodable>(_ value: T, kind: BinaryKind, header: UInt64, at element: @autoclosure () -> PathElement) throws {
        writer.writeVarint(header | UInt64(kind.wireType.rawValue))
        if kind.isWrappedInField {
            let lengthAt = writer.lengthPlaceholder()
            try encodeValue(value, kind: kind, at: nil)
            writer.patchLength(at: lengthAt)
        } else {
            try encodeValue(value, kind: kind, at: element())
        }
    }

    private func writeBulkArray<T>(_ value: T, element: BulkElement) {
        func write<E>(_ array: [E]) {
            array.withUnsafeBufferPointer { buffer in
                writer.writeBulk(UnsafeRawPointer(buffer.baseAddress), count: buffer.count, element: element)
            }
        }
        switch element {
        case .int: write(unsafeBitCast(value, to: [Int].self))
        case .int8: write(unsafeBitCast(value, to: [Int8].self))
        case .int16: write(unsafeBitCast(value, to: [Int16].self))
        case .int32: write(unsafeBitCast(value, to: [Int32].self))
        case .int64: write(unsafeBitCast(value, to: [Int64].self))
        case .uint: write(unsafeBitCast(value, to: [UInt].self))
        case .uint8: write(unsafeBitCast(value, to: [UInt8].self))
        case .uint16: write(unsafeBitCast(value, to: [UInt16].self))
        case .uint32: write(unsafeBitCast(value, to: [UInt32].self))
        case .uint64: write(unsafeBitCast(value, to: [UInt64].self))
        case .float: write(unsafeBitCast(value, to: [Float].self))
        case .double: write(unsafeBitCast(value, to: [Double].self))
        case .bool: write(unsafeBitCast(value, to: [Bool].self))
        }
    }

    /// An unkeyed slot of present strings, as `Array.encode(to:)` would write it.
    private func writeStrings(_ strings: [String]) {
        writer.writeByte(SlotTag.unkeyed)
        let lengthAt = writer.lengthPlaceholder()
        _ = writer.lengthPlaceholder()  // the element count
        for string in strings {
            writer.writeByte(1)
            writer.writeString(string)
        }
        writer.patchLengthAndCount(at: lengthAt, count: strings.count)
    }

    /// Runs the value's own `encode(to:)` in a fresh slot; closes whatever it opened.
    private func encodeSlot<T: Encodable>(_ value: T, at element: PathElement?) throws {
        let depth = frames.count
        let id = pushFrame(.slot, element: element)
        try value.encode(to: BinarySlotEncoder(encoding: self, id: id, depth: depth))
        closeFrames(downTo: depth)
        if let deferredError { throw deferredError }
    }

    // MARK: Keyed containers

    /// The keyed container for the frame `id` at `depth`: a reused box of this key type when one
    /// is free (or already bound to this frame: a subclass sharing its superclass's encoder), else
    /// a new one.
    func keyedContainer<Key: CodingKey>(_ type: Key.Type, id: Int, depth: Int) -> KeyedEncodingContainer<Key> {
        let keyType = ObjectIdentifier(Key.self)
        var found: KeyedEncoderEntry<Key>?
        for index in keyedEntries.indices {
            let entry = keyedEntries[index]
            if entry.keyType == keyType && (entry.state.frameID == id || !isOpen(entry.state)) {
                found = unsafeDowncast(entry, to: KeyedEncoderEntry<Key>.self)
                break
            }
        }
        let entry = found ?? {
            let entry = KeyedEncoderEntry<Key>(encoding: self)
            keyedEntries.append(entry)
            return entry
        }()
        entry.state.frameID = id
        entry.state.depth = depth
        return entry.container
    }

    private func isOpen(_ entry: KeyedEncoderState) -> Bool {
        entry.depth < frames.count && frames[entry.depth].id == entry.frameID
    }

    // MARK: Frames

    @inline(__always)
    func pushFrame(_ kind: Frame.Kind, element: PathElement?) -> Int {
        nextFrameID += 1
        frames.append(Frame(id: nextFrameID, kind: kind, element: element))
        topFrameID = nextFrameID
        return nextFrameID
    }

    /// Makes the container `id` at `depth` the one being written: closes every frame above it.
    @inline(__always)
    func activate(_ id: Int, _ depth: Int) throws {
        if id == topFrameID && deferredError == nil { return }
        try activateSlow(id, depth)
    }

    private func activateSlow(_ id: Int, _ depth: Int) throws {
        if let deferredError { throw deferredError }
        guard depth >= 0, depth < frames.count, frames[depth].id == id else {
            throw EncodingError.invalidValue(id, .init(codingPath: codingPath(depth: frames.count - 1), debugDescription:
                "a container was written to after a later container of the same value was opened, or after its value was done; the binary codec writes containers in order"))
        }
        closeFrames(downTo: depth + 1)
    }

    func closeFrames(downTo depth: Int) {
        while frames.count > depth {
            let frame = frames.removeLast()
            switch frame.kind {
            case .slot:
                writer.writeByte(SlotTag.empty)
            case .single(let used):
                if !used { writer.writeByte(SlotTag.empty) }
            case .keyed(let lengthAt):
                writer.patchLength(at: lengthAt)
            case .unkeyed(let lengthAt, let count):
                writer.patchLengthAndCount(at: lengthAt, count: count)
            }
        }
        topFrameID = frames.last?.id ?? 0
    }

    func frameKind(_ depth: Int) -> Frame.Kind { frames[depth].kind }

    func setFrameKind(_ depth: Int, _ kind: Frame.Kind) { frames[depth].kind = kind }

    /// Counts one more element in the unkeyed frame at `depth`; returns the element's index.
    @inline(__always)
    func countElement(_ depth: Int) -> Int {
        guard case .unkeyed(let lengthAt, let count) = frames[depth].kind else { return 0 }
        frames[depth].kind = .unkeyed(lengthAt: lengthAt, count: count + 1)
        return count
    }

    /// The number of elements in the unkeyed frame `id` at `depth` (0 once it is closed).
    func elementCount(_ id: Int, _ depth: Int) -> Int {
        guard depth >= 0, depth < frames.count, frames[depth].id == id,
              case .unkeyed(_, let count) = frames[depth].kind else { return 0 }
        return count
    }

    /// Records an error from a call that cannot throw (`container(keyedBy:)` and friends); the
    /// next throwing call, or the end of the encoding, throws it.
    func recordDeferred(_ error: any Error) {
        if deferredError == nil { deferredError = error }
    }

    /// The coding path of the container at `depth`: the keys and indices of the open frames up to it.
    func codingPath(depth: Int) -> [any CodingKey] {
        guard depth >= 0 else { return [] }
        return frames.prefix(depth + 1).compactMap { $0.element?.codingKey { keys.names[$0] } }
    }
}

/// The `Encoder` a value's `encode(to:)` receives: one slot of the output. Three words, so the
/// `any Encoder` it travels as holds it inline, without an allocation.
struct BinarySlotEncoder: Encoder {
    let encoding: BinaryEncoding
    let id: Int
    let depth: Int

    var codingPath: [any CodingKey] { encoding.codingPath(depth: depth) }
    var userInfo: [CodingUserInfoKey: Any] { encoding.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        do {
            try encoding.activate(id, depth)
            switch encoding.frameKind(depth) {
            case .slot:
                encoding.writer.writeByte(SlotTag.keyed)
                encoding.setFrameKind(depth, .keyed(lengthAt: encoding.writer.lengthPlaceholder()))
            case .keyed:
                break  // a subclass and its superclass sharing one encoder share one container
            case .unkeyed, .single:
                throw EncodingError.invalidValue(type, .init(codingPath: codingPath, debugDescription:
                    "a keyed container was requested after another kind of container for the same value"))
            }
            return encoding.keyedContainer(Key.self, id: id, depth: depth)
        } catch {
            encoding.recordDeferred(error)
            return encoding.keyedContainer(Key.self, id: -1, depth: depth)
        }
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        do {
            try encoding.activate(id, depth)
            switch encoding.frameKind(depth) {
            case .slot:
                encoding.writer.writeByte(SlotTag.unkeyed)
                let lengthAt = encoding.writer.lengthPlaceholder()
                _ = encoding.writer.lengthPlaceholder()  // the element count
                encoding.setFrameKind(depth, .unkeyed(lengthAt: lengthAt, count: 0))
            case .unkeyed:
                break
            case .keyed, .single:
                throw EncodingError.invalidValue([Any](), .init(codingPath: codingPath, debugDescription:
                    "an unkeyed container was requested after another kind of container for the same value"))
            }
            return BinaryUnkeyedEncoder(encoding: encoding, id: id, depth: depth)
        } catch {
            encoding.recordDeferred(error)
            return BinaryUnkeyedEncoder(encoding: encoding, id: -1, depth: depth)
        }
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        do {
            try encoding.activate(id, depth)
            switch encoding.frameKind(depth) {
            case .slot:
                encoding.setFrameKind(depth, .single(used: false))
            case .single:
                break
            case .keyed, .unkeyed:
                throw EncodingError.invalidValue(0, .init(codingPath: codingPath, debugDescription:
                    "a single-value container was requested after another kind of container for the same value"))
            }
            return BinarySingleValueEncoder(encoding: encoding, id: id, depth: depth)
        } catch {
            encoding.recordDeferred(error)
            return BinarySingleValueEncoder(encoding: encoding, id: -1, depth: depth)
        }
    }
}

// MARK: Optionals

/// Lets the containers see through `Optional` without knowing its `Wrapped` type: a keyed field or
/// unkeyed element that holds nil is written as nil, a present one as its wrapped value, so
/// `encode(optional, forKey:)` and `decodeIfPresent` agree as they do in JSON.
protocol OptionalEncodable {
    var wrappedEncodable: (any Encodable)? { get }
}

extension Optional: OptionalEncodable where Wrapped: Encodable {
    var wrappedEncodable: (any Encodable)? {
        switch self {
        case .none: return nil
        case .some(let wrapped): return wrapped
        }
    }
}
