import Foundation

/// A keyed container kept for reuse by one decoding: its box and the state the box's container
/// reads (see `KeyedEncoderEntryBase`).
class KeyedDecoderEntryBase {
    let keyType: ObjectIdentifier
    let state: KeyedDecoderState

    init(keyType: ObjectIdentifier, state: KeyedDecoderState) {
        self.keyType = keyType
        self.state = state
    }
}

final class KeyedDecoderEntry<Key: CodingKey>: KeyedDecoderEntryBase {
    let container: KeyedDecodingContainer<Key>

    init(decoding: BinaryDecoding) {
        let state = KeyedDecoderStateOf<Key>()
        container = KeyedDecodingContainer(BinaryKeyedDecoder<Key>(decoding: decoding, entry: state))
        super.init(keyType: ObjectIdentifier(Key.self), state: state)
    }
}

/// The fields a reused keyed container reads now, and the slot it belongs to (it is free once
/// that slot is done).
class KeyedDecoderState {
    @exclusivity(unchecked) final var slotDepth = 0
    @exclusivity(unchecked) final var slotID = -1
    /// The fields are in `start..<end`; `cursor` is where the field after the last one read starts.
    @exclusivity(unchecked) final var start = 0
    @exclusivity(unchecked) final var end = 0
    @exclusivity(unchecked) final var cursor = 0
    /// The coding path, when it is not the slot's (a nested container's).
    @exclusivity(unchecked) final var path: [any CodingKey]?
}

final class KeyedDecoderStateOf<Key: CodingKey>: KeyedDecoderState {
    @exclusivity(unchecked) var keyIndices = KeyIndexCache<Key>()
}

/// A keyed field found by a decoder: a reader at its value, the value's wire type, and the key's
/// index in the key table. Outside the generic container, so using one needs no metadata lookup.
struct KeyedField {
    let reader: RawReader
    let wire: WireType
    let key: Int

    var element: PathElement { .key(key) }
}

/// A keyed container over a run of fields (see `BinaryKeyedEncoder`). Lookups first try the field
/// at the cursor (types usually decode in the order they encoded), then scan from the start,
/// stepping over each field by its wire type, so keys decoded in another order, skipped or
/// unknown still resolve.
struct BinaryKeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoding: BinaryDecoding
    let entry: KeyedDecoderStateOf<Key>

    var codingPath: [any CodingKey] { entry.path ?? decoding.codingPath(depth: entry.slotDepth) }

    var allKeys: [Key] {
        var keys: [Key] = []
        var reader = decoding.reader(entry.start, entry.end)
        while !reader.isAtEnd {
            guard let header = try? reader.readVarint(), let wire = WireType(rawValue: UInt8(header & 7)),
                  (try? decoding.skip(wire, &reader)) != nil else { break }
            let index = header >> 3
            if index < UInt64(decoding.keys.count), let key = Key(stringValue: decoding.keys.name(Int(index))) {
                keys.append(key)
            }
        }
        return keys
    }

    /// The key's index in the key table, or nil when no field of the input has this key.
    @inline(__always)
    private func keyIndex(_ key: Key) -> Int? {
        let cached = entry.keyIndices.lookup(key)
        if cached >= 0 { return Int(cached) }
        if cached == KeyIndexCache<Key>.absent { return nil }
        let found = decoding.keys.index(of: key.stringValue)
        entry.keyIndices.store(found.map { Int32(truncatingIfNeeded: $0) } ?? KeyIndexCache<Key>.absent, for: key)
        return found
    }

    /// The field with `key`: a reader at its value and the value's wire type; nil when absent.
    @inline(__always)
    private func find(_ key: Key) throws -> KeyedField? {
        guard let index = keyIndex(key) else { return nil }
        return try find(index: UInt64(index))
    }

    private func find(index wanted: UInt64) throws -> KeyedField? {
        if entry.cursor < entry.end {
            var reader = decoding.reader(entry.cursor, entry.end)
            let header = try reader.readVarint()
            if header >> 3 == wanted { return KeyedField(reader: reader, wire: try wireType(header), key: Int(wanted)) }
        }
        var reader = decoding.reader(entry.start, entry.end)
        while !reader.isAtEnd {
            let header = try reader.readVarint()
            let wire = try wireType(header)
            if header >> 3 == wanted { return KeyedField(reader: reader, wire: wire, key: Int(wanted)) }
            try decoding.skip(wire, &reader)
        }
        return nil
    }

    @inline(__always)
    private func wireType(_ header: UInt64) throws -> WireType {
        guard let wire = WireType(rawValue: UInt8(header & 7)) else {
            throw RawReader.corrupted("unknown wire type \(header & 7) in a keyed field")
        }
        return wire
    }

    private func keyNotFound(_ key: Key) -> DecodingError {
        DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for key \"\(key.stringValue)\""))
    }

    /// A reader at the value of the present, non-nil field `key` of wire type `wire`.
    @inline(__always)
    private func value<T>(_ key: Key, _ wire: WireType, _ type: T.Type) throws -> RawReader {
        // The usual case in one compare: the field at the cursor has this key (one of the first
        // 16 of the table, so its header is one byte) and the expected wire type.
        let index = entry.keyIndices.lookup(key)
        if index >= 0 && index < 16 && entry.cursor < entry.end
            && decoding.base.load(fromByteOffset: entry.cursor, as: UInt8.self) == UInt8(truncatingIfNeeded: index) << 3 | wire.rawValue {
            return decoding.reader(entry.cursor + 1, entry.end)
        }
        guard let field = try find(key) else { throw keyNotFound(key) }
        guard field.wire == wire else { throw decoding.wrongWire(type, field.wire) }
        return field.reader
    }

    /// The same for `decodeIfPresent`: nil for an absent or nil field.
    @inline(__always)
    private func valueIfPresent<T>(_ key: Key, _ wire: WireType, _ type: T.Type) throws -> RawReader? {
        guard let field = try find(key), field.wire != .null else { return nil }
        guard field.wire == wire else { throw decoding.wrongWire(type, field.wire) }
        return field.reader
    }

    func contains(_ key: Key) -> Bool { (try? find(key)) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let field = try find(key) else { throw keyNotFound(key) }
        return field.wire == .null
    }

    // The primitives read their bytes directly: no generic code, no metadata, per field.

    @inline(__always)
    private func read<T: Decodable>(_ reader: inout RawReader, _ type: T.Type, _ kind: BinaryKind) throws -> T {
        let value: T = try decoding.decodeValue(type, kind: kind, from: &reader, at: nil)
        entry.cursor = reader.position
        return value
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        var reader = try value(key, .fixed8, type)
        let value = try decoding.readBool(&reader)
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        var reader = try value(key, .bytes, type)
        let value = try reader.readString()
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        var reader = try value(key, .fixed64, type)
        let value = Double(bitPattern: try reader.read(UInt64.self))
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        var reader = try value(key, .fixed32, type)
        let value = Float(bitPattern: try reader.read(UInt32.self))
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        var reader = try value(key, .varint, type)
        let value = try decoding.narrow(try reader.readZigzag(), type)
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 {
        var reader = try value(key, .fixed8, type)
        let value = try reader.read(Int8.self)
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
        var reader = try value(key, .varint, type)
        let value = try decoding.narrow(try reader.readZigzag(), type)
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
        var reader = try value(key, .varint, type)
        let value = try decoding.narrow(try reader.readZigzag(), type)
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        var reader = try value(key, .varint, type)
        let value = try reader.readZigzag()
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt {
        var reader = try value(key, .varint, type)
        let value = try decoding.narrow(try reader.readVarint(), type)
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
        var reader = try value(key, .fixed8, type)
        let value = try reader.read(UInt8.self)
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
        var reader = try value(key, .varint, type)
        let value = try decoding.narrow(try reader.readVarint(), type)
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
        var reader = try value(key, .varint, type)
        let value = try decoding.narrow(try reader.readVarint(), type)
        entry.cursor = reader.position
        return value
    }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        var reader = try value(key, .varint, type)
        let value = try reader.readVarint()
        entry.cursor = reader.position
        return value
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let kind = BinaryKind.of(T.self)
        if case .other = kind, _isOptional(T.self), let optional = T.self as? any OptionalDecodable.Type {
            guard let field = try find(key) else { throw keyNotFound(key) }
            if field.wire == .null { return optional.noneValue as! T }
            var reader = field.reader
            let value = try optional.decodeWrappedField(decoding, wire: field.wire, from: &reader, at: field.element) as! T
            entry.cursor = reader.position
            return value
        }
        guard let field = try find(key) else { throw keyNotFound(key) }
        var reader = field.reader
        let value = try decoding.decodeField(type, kind: kind, wire: field.wire, from: &reader, at: field.element)
        entry.cursor = reader.position
        return value
    }

    // `decodeIfPresent` in one lookup (the protocol's default makes three: contains, decodeNil, decode).

    private func present<T: Decodable>(_ type: T.Type, _ kind: BinaryKind, _ key: Key) throws -> T? {
        guard var reader = try valueIfPresent(key, kind.wireType, type) else { return nil }
        return try read(&reader, type, kind)
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try present(type, .bool, key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard var reader = try valueIfPresent(key, .bytes, type) else { return nil }
        let value = try reader.readString()
        entry.cursor = reader.position
        return value
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try present(type, .double, key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try present(type, .float, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard var reader = try valueIfPresent(key, .varint, type) else { return nil }
        let value = try decoding.narrow(try reader.readZigzag(), type)
        entry.cursor = reader.position
        return value
    }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try present(type, .int8, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try present(type, .int16, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try present(type, .int32, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try present(type, .int64, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try present(type, .uint, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try present(type, .uint8, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try present(type, .uint16, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try present(type, .uint32, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try present(type, .uint64, key) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let field = try find(key), field.wire != .null else { return nil }
        let kind = BinaryKind.of(T.self)
        var reader = field.reader
        let value: T
        if case .other = kind, _isOptional(T.self), let optional = T.self as? any OptionalDecodable.Type {
            value = try optional.decodeWrappedField(decoding, wire: field.wire, from: &reader, at: field.element) as! T
        } else {
            value = try decoding.decodeField(type, kind: kind, wire: field.wire, from: &reader, at: field.element)
        }
        entry.cursor = reader.position
        return value
    }

    // MARK: Nested containers

    /// The bounds of the slot in field `key`.
    private func slot<T>(_ key: Key, _ type: T.Type) throws -> (start: Int, end: Int) {
        var reader = try value(key, .slot, type)
        let start = reader.position
        let end = try decoding.slotEnd(&reader)
        entry.cursor = end
        return (start, end)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        let slot = try slot(key, [String: Any].self)
        return try decoding.keyedContainer(type, slotStart: slot.start, end: slot.end, path: codingPath + [key])
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        let slot = try slot(key, [Any].self)
        return try decoding.unkeyedContainer(slotStart: slot.start, end: slot.end, path: codingPath + [key])
    }

    func superDecoder() throws -> any Decoder {
        guard let index = decoding.keys.index(of: BinaryCodingKey.superKey.stringValue),
              let field = try find(index: UInt64(index)) else {
            throw DecodingError.keyNotFound(BinaryCodingKey.superKey, .init(codingPath: codingPath, debugDescription: "no superclass value"))
        }
        guard field.wire == .slot else { throw decoding.wrongWire(Any.self, field.wire) }
        var reader = field.reader
        let start = reader.position
        return BinarySlotDecoder(decoding: decoding, start: start, end: try decoding.slotEnd(&reader))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        let slot = try slot(key, Any.self)
        return BinarySlotDecoder(decoding: decoding, start: slot.start, end: slot.end)
    }
}
