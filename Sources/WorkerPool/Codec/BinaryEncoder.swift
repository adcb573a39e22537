import Foundation

/// WorkerPool's compact binary encoder for `Encodable` values (the `.binary` task codec).
///
/// Numbers are fixed-width little-endian, strings and data are length-prefixed, arrays of numbers
/// are one bulk copy, keyed containers carry their keys so a type may decode them in any order.
/// `docs/codecs.md` describes the wire format. The encoder is a value type; `encode` may be called
/// from any thread.
public struct BinaryEncoder: Sendable {
    /// Values handed to every `Encoder` the encoding creates (`Encoder.userInfo`).
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    public init() {}

    /// Encodes `value`.
    ///
    /// - Throws: `EncodingError` if the value's `encode(to:)` throws or uses the containers in a way
    ///   the format cannot represent (writing to a container after a later sibling was opened).
    public func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoding = BinaryEncoding(userInfo: userInfo)
        defer { encoding.writer.discard() }
        try encoding.encodeValue(value, path: .root)
        try encoding.finish()
        return Data(bytes: encoding.writer.base, count: encoding.writer.count)
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
        let encoding = BinaryEncoding(userInfo: [:])
        do {
            encoding.writer.writeVarint(UInt64(values.count))
            let kind = BinaryKind.of(T.self)
            for value in values {
                try encoding.encodeValue(value, kind: kind, path: .root)
            }
            try encoding.finish()
        } catch {
            encoding.writer.discard()
            throw error
        }
        return encoding.writer.finish()
    }
}

/// Writes values one after another into one buffer; what `starmap` uses for argument tuples.
struct BinaryWriter {
    private let encoding = BinaryEncoding(userInfo: [:])

    init() {}

    func writeCount(_ count: Int) { encoding.writer.writeVarint(UInt64(count)) }

    func encodeValue<T: Encodable>(_ value: T) throws {
        do {
            try encoding.encodeValue(value, path: .root)
        } catch {
            encoding.writer.discard()
            encoding.writer = RawWriter(capacity: 16)
            throw error
        }
    }

    func finish() -> ByteBuffer { encoding.writer.finish() }
}

/// The tags that open an encoded value slot: which container the value's `encode(to:)` used.
enum SlotTag {
    static let keyed: UInt8 = 0x4B      // "K" + UInt32 length + fields
    static let unkeyed: UInt8 = 0x55    // "U" + UInt32 length + UInt32 count + elements
    static let single: UInt8 = 0x53     // "S" + UInt32 length + value
    static let null: UInt8 = 0x4E       // "N": a single-value container holding nil
    static let empty: UInt8 = 0x45      // "E": no container was used
}

/// The length that marks a keyed field whose value is nil.
let nilFieldLength = UInt32.max

/// The coding path of a value: its last key, and a chain of nodes for the keys above it, shared by
/// every container below. Appending a key allocates only when the path is already one level deep
/// (a record in an array costs nothing); the array of keys is only built if someone reads it (an
/// error message, a type that asks for `codingPath`).
struct CodingPath {
    private final class Node {
        let parent: Node?
        let key: any CodingKey

        init(parent: Node?, key: any CodingKey) {
            self.parent = parent
            self.key = key
        }
    }

    private enum Last {
        case index(Int)
        case key(any CodingKey)

        var codingKey: any CodingKey {
            switch self {
            case .index(let index): return BinaryCodingKey.index(index)
            case .key(let key): return key
            }
        }
    }

    private let parent: Node?
    private let last: Last?

    static var root: CodingPath { CodingPath(parent: nil, last: nil) }

    private init(parent: Node?, last: Last?) {
        self.parent = parent
        self.last = last
    }

    var keys: [any CodingKey] {
        var keys: [any CodingKey] = last.map { [$0.codingKey] } ?? []
        var current = parent
        while let node = current {
            keys.append(node.key)
            current = node.parent
        }
        return keys.reversed()
    }

    func appending(_ key: some CodingKey) -> CodingPath {
        CodingPath(parent: pushed, last: .key(key))
    }

    func appending(index: Int) -> CodingPath {
        CodingPath(parent: pushed, last: .index(index))
    }

    /// The parent chain with `last` moved into it.
    private var pushed: Node? {
        guard let last else { return parent }
        return Node(parent: parent, key: last.codingKey)
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

/// The state of one encoding: the output bytes and the stack of containers still open.
///
/// The format is written front to back, so containers must be filled in order: opening a
/// container closes (and length-patches) every container opened after the one written to. Writing
/// to a container that was already closed that way is an error, which no synthesized `Codable`
/// conformance ever does.
final class BinaryEncoding {
    // One encoding runs on one thread, and no access to these spans a call back into the
    // encoding, so the runtime's dynamic exclusivity checks (a quarter of a record's cost) are off.
    @exclusivity(unchecked) var writer = RawWriter()
    @exclusivity(unchecked) private var frames: [Frame] = []
    @exclusivity(unchecked) private var nextFrameID = 0
    @exclusivity(unchecked) private var deferredError: (any Error)?
    let userInfo: [CodingUserInfoKey: Any]

    struct Frame {
        let id: Int
        var kind: Kind
        /// Where the enclosing keyed field's length placeholder is, when this frame is the value of
        /// a field whose write returned before the value was written (nested containers, `superEncoder`).
        let patchAt: Int?

        enum Kind {
            case slot
            case keyed(lengthAt: Int)
            case unkeyed(lengthAt: Int, countAt: Int, count: UInt32)
            case single(used: Bool)
        }
    }

    init(userInfo: [CodingUserInfoKey: any Sendable]) {
        self.userInfo = userInfo.isEmpty ? [:] : userInfo.mapValues { $0 as Any }
    }

    func finish() throws {
        try closeFrames(downTo: 0)
        if let deferredError { throw deferredError }
    }

    // MARK: Values

    /// Writes one value: its bytes directly when the codec knows its type, else its containers.
    @inline(__always)
    func encodeValue<T: Encodable>(_ value: T, path: @autoclosure () -> CodingPath) throws {
        try encodeValue(value, kind: BinaryKind.of(T.self), path: path())
    }

    /// `path` is only evaluated when the value runs its own `encode(to:)`: values the codec writes
    /// directly never need it, and building it for every field was most of a record's cost.
    func encodeValue<T: Encodable>(_ value: T, kind: BinaryKind, path: @autoclosure () -> CodingPath) throws {
        switch kind {
        case .int: writer.write(Int64(unsafeBitCast(value, to: Int.self)))
        case .string: writer.writeString(unsafeBitCast(value, to: String.self))
        case .double: writer.write(unsafeBitCast(value, to: Double.self).bitPattern)
        case .bool: writer.writeByte(unsafeBitCast(value, to: Bool.self) ? 1 : 0)
        case .float: writer.write(unsafeBitCast(value, to: Float.self).bitPattern)
        case .int64: writer.write(unsafeBitCast(value, to: Int64.self))
        case .int32: writer.write(unsafeBitCast(value, to: Int32.self))
        case .int16: writer.write(unsafeBitCast(value, to: Int16.self))
        case .int8: writer.write(unsafeBitCast(value, to: Int8.self))
        case .uint: writer.write(UInt64(unsafeBitCast(value, to: UInt.self)))
        case .uint64: writer.write(unsafeBitCast(value, to: UInt64.self))
        case .uint32: writer.write(unsafeBitCast(value, to: UInt32.self))
        case .uint16: writer.write(unsafeBitCast(value, to: UInt16.self))
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
        case .other:
            try encodeSlot(value, path: path())
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

    /// Runs the value's own `encode(to:)` in a fresh slot; closes whatever it opened.
    private func encodeSlot<T: Encodable>(_ value: T, path: CodingPath) throws {
        let depth = frames.count
        let id = pushFrame(.slot, patchAt: nil)
        try value.encode(to: BinarySlotEncoder(encoding: self, id: id, depth: depth, path: path))
        try closeFrames(downTo: depth)
        if let deferredError { throw deferredError }
    }

    // MARK: Frames

    @inline(__always)
    func pushFrame(_ kind: Frame.Kind, patchAt: Int?) -> Int {
        nextFrameID += 1
        frames.append(Frame(id: nextFrameID, kind: kind, patchAt: patchAt))
        return nextFrameID
    }

    /// Makes the container `id` at `depth` the one being written: closes every frame above it.
    @inline(__always)
    func activate(_ id: Int, _ depth: Int) throws {
        if let deferredError { throw deferredError }
        if depth == frames.count - 1 && frames[depth].id == id { return }
        guard depth < frames.count, frames[depth].id == id else {
            throw EncodingError.invalidValue(id, .init(codingPath: [], debugDescription:
                "a container was written to after a later container of the same value was opened; the binary codec writes containers in order"))
        }
        try closeFrames(downTo: depth + 1)
    }

    func closeFrames(downTo depth: Int) throws {
        while frames.count > depth {
            let frame = frames.removeLast()
            switch frame.kind {
            case .slot:
                writer.writeByte(SlotTag.empty)
            case .single(let used):
                if !used { writer.writeByte(SlotTag.empty) }
            case .keyed(let lengthAt):
                try writer.patchLength(at: lengthAt)
            case .unkeyed(let lengthAt, let countAt, let count):
                try writer.patchLength(at: lengthAt)
                writer.patch(count, at: countAt)
            }
            if let patchAt = frame.patchAt { try writer.patchLength(at: patchAt) }
        }
    }

    func frameKind(_ depth: Int) -> Frame.Kind { frames[depth].kind }

    func setFrameKind(_ depth: Int, _ kind: Frame.Kind) { frames[depth].kind = kind }

    /// Records an error from a call that cannot throw (`container(keyedBy:)` and friends); the
    /// next throwing call, or the end of the encoding, throws it.
    func recordDeferred(_ error: any Error) {
        if deferredError == nil { deferredError = error }
    }

    func countElement(_ depth: Int) {
        if case .unkeyed(let lengthAt, let countAt, let count) = frames[depth].kind {
            frames[depth].kind = .unkeyed(lengthAt: lengthAt, countAt: countAt, count: count &+ 1)
        }
    }
}

/// The `Encoder` a value's `encode(to:)` receives: one slot of the output.
struct BinarySlotEncoder: Encoder {
    let encoding: BinaryEncoding
    let id: Int
    let depth: Int
    let path: CodingPath

    var codingPath: [any CodingKey] { path.keys }
    var userInfo: [CodingUserInfoKey: Any] { encoding.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let container = BinaryKeyedEncoder<Key>(encoding: encoding, id: id, depth: depth, path: path)
        do {
            try encoding.activate(id, depth)
            switch encoding.frameKind(depth) {
            case .slot:
                encoding.writer.writeByte(SlotTag.keyed)
                encoding.setFrameKind(depth, .keyed(lengthAt: encoding.writer.placeholder32()))
            case .keyed:
                break  // a subclass and its superclass sharing one encoder share one container
            case .unkeyed, .single:
                throw EncodingError.invalidValue(type, .init(codingPath: path.keys, debugDescription:
                    "a keyed container was requested after another kind of container for the same value"))
            }
        } catch {
            encoding.recordDeferred(error)
        }
        return KeyedEncodingContainer(container)
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        do {
            try encoding.activate(id, depth)
            switch encoding.frameKind(depth) {
            case .slot:
                encoding.writer.writeByte(SlotTag.unkeyed)
                let lengthAt = encoding.writer.placeholder32()
                let countAt = encoding.writer.placeholder32()
                encoding.setFrameKind(depth, .unkeyed(lengthAt: lengthAt, countAt: countAt, count: 0))
            case .unkeyed:
                break
            case .keyed, .single:
                throw EncodingError.invalidValue([Any](), .init(codingPath: path.keys, debugDescription:
                    "an unkeyed container was requested after another kind of container for the same value"))
            }
        } catch {
            encoding.recordDeferred(error)
        }
        return BinaryUnkeyedEncoder(encoding: encoding, id: id, depth: depth, path: path)
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
                throw EncodingError.invalidValue(0, .init(codingPath: path.keys, debugDescription:
                    "a single-value container was requested after another kind of container for the same value"))
            }
        } catch {
            encoding.recordDeferred(error)
        }
        return BinarySingleValueEncoder(encoding: encoding, id: id, depth: depth, path: path)
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
