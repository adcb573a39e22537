import Foundation

/// How the binary codec writes a value of a given static type: the types it knows write their bytes
/// directly (no container calls); everything else goes through its own `Encodable` conformance.
///
/// The classification compares type identities, which is a few pointer compares; a chunk computes
/// it once for its element type, not once per item.
enum BinaryKind {
    case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float, double
    case string
    /// Foundation types with a compact form of their own: `Data` (length + bytes), `Date`
    /// (seconds since 2001 as a Double), `UUID` (16 bytes), `Decimal` (its exact decimal string;
    /// Foundation's own `Decimal.init(from:)` does not validate what it reads).
    case data, date, uuid, decimal
    /// An array of fixed-width numbers (or `Bool`s): a count and one bulk copy of the elements.
    case bulk(BulkElement)
    /// `[String]`: written and read directly, in the same bytes as `Array`'s own `Codable` would
    /// write through an unkeyed container (so a type may still read it with one).
    case strings
    /// Any other type: its `encode(to:)` / `init(from:)` run against the codec's containers.
    case other

    /// The kind of `type`. Candidates are grouped by size, so a type the codec does not know costs
    /// a few compares, not one per known type.
    @inline(__always)
    static func of<T>(_ type: T.Type) -> BinaryKind {
        let id = ObjectIdentifier(type)
        switch MemoryLayout<T>.size {
        case 8:
            if id == ObjectIdentifier(Int.self) { return .int }
            if id == ObjectIdentifier(Double.self) { return .double }
            if id == ObjectIdentifier(Int64.self) { return .int64 }
            if id == ObjectIdentifier(UInt.self) { return .uint }
            if id == ObjectIdentifier(UInt64.self) { return .uint64 }
            if id == ObjectIdentifier(Date.self) { return .date }
            if id == ObjectIdentifier([String].self) { return .strings }
            if let element = BulkElement.ofArray(type) { return .bulk(element) }
        case 16:
            if id == ObjectIdentifier(String.self) { return .string }
            if id == ObjectIdentifier(Data.self) { return .data }
            if id == ObjectIdentifier(UUID.self) { return .uuid }
        case 1:
            if id == ObjectIdentifier(Bool.self) { return .bool }
            if id == ObjectIdentifier(UInt8.self) { return .uint8 }
            if id == ObjectIdentifier(Int8.self) { return .int8 }
        case 4:
            if id == ObjectIdentifier(Float.self) { return .float }
            if id == ObjectIdentifier(Int32.self) { return .int32 }
            if id == ObjectIdentifier(UInt32.self) { return .uint32 }
        case 2:
            if id == ObjectIdentifier(Int16.self) { return .int16 }
            if id == ObjectIdentifier(UInt16.self) { return .uint16 }
        case MemoryLayout<Decimal>.size:
            if id == ObjectIdentifier(Decimal.self) { return .decimal }
        default:
            break
        }
        return .other
    }

    /// How a keyed field of this kind is marked, so a decoder can step over it without knowing
    /// its type.
    var wireType: WireType {
        switch self {
        case .bool, .int8, .uint8: return .fixed8
        case .int, .int16, .int32, .int64, .uint, .uint16, .uint32, .uint64: return .varint
        case .float: return .fixed32
        case .double, .date: return .fixed64
        case .string, .data, .decimal, .uuid, .bulk: return .bytes
        case .other, .strings: return .slot
        }
    }

    /// Whether a keyed field puts a varint byte length before the value: values whose own bytes
    /// do not start with their length (a UUID, a numeric array) need one to be skippable.
    var isWrappedInField: Bool {
        switch self {
        case .uuid, .bulk: return true
        default: return false
        }
    }
}

/// What follows a keyed field's header (`key index << 3 | wire type`, a varint): enough to find
/// where the field ends without knowing the field's type.
enum WireType: UInt8 {
    /// A varint: every integer wider than a byte (signed ones zigzag-encoded).
    case varint = 0
    /// One byte: `Bool`, `Int8`, `UInt8`.
    case fixed8 = 1
    /// Four bytes: `Float`.
    case fixed32 = 2
    /// Eight bytes: `Double`, `Date`.
    case fixed64 = 3
    /// A varint byte length, then that many bytes: `String`, `Data`, `Decimal`, and (the length
    /// put before their own bytes) `UUID` and numeric arrays.
    case bytes = 4
    /// A slot: a tag, and a varint length for the tags that have contents.
    case slot = 5
    /// Nothing: the field holds nil.
    case null = 6
}

/// The element types that an array can be copied as in bulk.
enum BulkElement {
    case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float, double, bool

    @inline(__always)
    static func ofArray<T>(_ type: T.Type) -> BulkElement? {
        let id = ObjectIdentifier(type)
        if id == ObjectIdentifier([Int].self) { return .int }
        if id == ObjectIdentifier([Double].self) { return .double }
        if id == ObjectIdentifier([UInt8].self) { return .uint8 }
        if id == ObjectIdentifier([Float].self) { return .float }
        if id == ObjectIdentifier([Int64].self) { return .int64 }
        if id == ObjectIdentifier([Int32].self) { return .int32 }
        if id == ObjectIdentifier([UInt].self) { return .uint }
        if id == ObjectIdentifier([UInt64].self) { return .uint64 }
        if id == ObjectIdentifier([UInt32].self) { return .uint32 }
        if id == ObjectIdentifier([Int16].self) { return .int16 }
        if id == ObjectIdentifier([UInt16].self) { return .uint16 }
        if id == ObjectIdentifier([Int8].self) { return .int8 }
        if id == ObjectIdentifier([Bool].self) { return .bool }
        return nil
    }

    /// The element kind when `T` itself is one of the bulk element types (a chunk of `Int`s is
    /// copied in bulk like an `[Int]`).
    @inline(__always)
    static func ofElement<T>(_ type: T.Type) -> BulkElement? {
        switch BinaryKind.of(type) {
        case .int: return .int
        case .double: return .double
        case .uint8: return .uint8
        case .float: return .float
        case .int64: return .int64
        case .int32: return .int32
        case .uint: return .uint
        case .uint64: return .uint64
        case .uint32: return .uint32
        case .int16: return .int16
        case .uint16: return .uint16
        case .int8: return .int8
        case .bool: return .bool
        default: return nil
        }
    }

    var stride: Int {
        switch self {
        case .int, .int64, .uint, .uint64, .double: return 8
        case .int32, .uint32, .float: return 4
        case .int16, .uint16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }
}

// MARK: Bulk copies

extension RawWriter {
    /// Writes `count` elements of `element.stride` bytes at `source` as a count and one copy.
    /// The wire format is little-endian, so this is the host's memory on every platform Swift
    /// ships for (a big-endian host fails to compile here rather than write wrong bytes).
    mutating func writeBulk(_ source: UnsafeRawPointer?, count: Int, element: BulkElement) {
        writeVarint(UInt64(count))
        let byteCount = count * element.stride
        guard let source, byteCount > 0 else { return }
        #if _endian(little)
        writeBytes(UnsafeRawBufferPointer(start: source, count: byteCount))
        #else
        #error("big-endian hosts are not supported by the binary codec's bulk path")
        #endif
    }
}

extension RawReader {
    /// Reads a bulk run of `count` elements (count read first) into `destination`, which has room
    /// for them; validates `Bool` bytes.
    mutating func readBulk(into destination: UnsafeMutableRawPointer, count: Int, element: BulkElement) throws {
        let byteCount = count * element.stride
        let bytes = try readBytes(byteCount)
        if element == .bool {
            for i in 0..<count where bytes[i] > 1 {
                throw RawReader.corrupted("byte \(bytes[i]) is not a Bool")
            }
        }
        guard byteCount > 0, let source = bytes.baseAddress else { return }
        #if _endian(little)
        destination.copyMemory(from: source, byteCount: byteCount)
        #else
        #error("big-endian hosts are not supported by the binary codec's bulk path")
        #endif
    }
}

/// Builds an array of `count` bulk elements straight from the reader.
@inline(__always)
func readBulkArray<E>(_ reader: inout RawReader, _ type: E.Type, element: BulkElement) throws -> [E] {
    let count = try reader.readCount(minimumSize: element.stride)
    return try makeArray(count: count) { (base: UnsafeMutablePointer<E>) in
        try reader.readBulk(into: UnsafeMutableRawPointer(base), count: count, element: element)
    }
}
