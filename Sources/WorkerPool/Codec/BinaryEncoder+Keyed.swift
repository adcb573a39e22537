import Foundation

/// A keyed container kept for reuse by one encoding (see `BinaryEncoding`): its box, and the
/// state the box's container reads (which frame it is bound to now). The encoding holds the
/// entry, the entry the box, the box the state and the encoding: `tearDown()` drops the entries.
class KeyedEncoderEntryBase {
    let keyType: ObjectIdentifier
    let state: KeyedEncoderState

    init(keyType: ObjectIdentifier, state: KeyedEncoderState) {
        self.keyType = keyType
        self.state = state
    }
}

/// The box is a stored constant, not an optional: an `Optional<KeyedEncodingContainer<Key>>`
/// costs a generic-metadata lookup each time it is read, which was a sixth of a record's cost.
final class KeyedEncoderEntry<Key: CodingKey>: KeyedEncoderEntryBase {
    let container: KeyedEncodingContainer<Key>

    init(encoding: BinaryEncoding) {
        let state = KeyedEncoderStateOf<Key>()
        container = KeyedEncodingContainer(BinaryKeyedEncoder<Key>(encoding: encoding, entry: state))
        super.init(keyType: ObjectIdentifier(Key.self), state: state)
    }
}

/// Which frame a reused keyed container writes to, and its depth; a frame id that is no longer
/// open means the container is free.
class KeyedEncoderState {
    @exclusivity(unchecked) final var frameID = -1
    @exclusivity(unchecked) final var depth = 0
}

final class KeyedEncoderStateOf<Key: CodingKey>: KeyedEncoderState {
    @exclusivity(unchecked) var keyIndices = KeyIndexCache<Key>()
}

/// A keyed container: fields one after another, each a header (`key index << 3 | wire type`, a
/// varint) and the value. The key's text is written once per encoding, in the key table; here a
/// key costs one byte for the first 16 keys of an encoding.
struct BinaryKeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoding: BinaryEncoding
    let entry: KeyedEncoderStateOf<Key>

    var codingPath: [any CodingKey] { encoding.codingPath(depth: entry.depth) }

    /// Checks the container may be written and returns the field header's key part.
    @inline(__always)
    private func begin(_ key: Key) throws -> UInt64 {
        try encoding.activate(entry.frameID, entry.depth)
        var index = entry.keyIndices.lookup(key)
        if index < 0 {
            index = Int32(truncatingIfNeeded: encoding.keys.index(of: key.stringValue))
            entry.keyIndices.store(index, for: key)
        }
        return UInt64(UInt32(bitPattern: index)) << 3
    }

    @inline(__always)
    private func header(_ key: Key, _ wire: WireType) throws {
        encoding.writer.writeVarint(try begin(key) | UInt64(wire.rawValue))
    }

    @inline(__always)
    private func signed(_ key: Key, _ value: Int64) throws {
        try header(key, .varint)
        encoding.writer.writeZigzag(value)
    }

    @inline(__always)
    private func unsigned(_ key: Key, _ value: UInt64) throws {
        try header(key, .varint)
        encoding.writer.writeVarint(value)
    }

    mutating func encodeNil(forKey key: Key) throws { try header(key, .null) }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try header(key, .fixed8)
        encoding.writer.writeByte(value ? 1 : 0)
    }
    mutating func encode(_ value: Int, forKey key: Key) throws { try signed(key, Int64(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws {
        try header(key, .fixed8)
        encoding.writer.write(value)
    }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try signed(key, Int64(value)) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try signed(key, Int64(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try signed(key, value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try unsigned(key, UInt64(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws {
        try header(key, .fixed8)
        encoding.writer.write(value)
    }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try unsigned(key, UInt64(value)) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try unsigned(key, UInt64(value)) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try unsigned(key, value) }
    mutating func encode(_ value: Float, forKey key: Key) throws {
        try header(key, .fixed32)
        encoding.writer.write(value.bitPattern)
    }
    mutating func encode(_ value: Double, forKey key: Key) throws {
        try header(key, .fixed64)
        encoding.writer.write(value.bitPattern)
    }
    mutating func encode(_ value: String, forKey key: Key) throws {
        try header(key, .bytes)
        encoding.writer.writeString(value)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let kind = BinaryKind.of(T.self)
        if case .other = kind, _isOptional(T.self), let optional = value as? any OptionalEncodable {
            guard let wrapped = optional.wrappedEncodable else { return try encodeNil(forKey: key) }
            return try encodeField(wrapped, key)
        }
        let header = try begin(key)
        try encoding.encodeField(value, kind: kind, header: header, at: .key(Int(header >> 3)))
    }

    private func encodeField<T: Encodable>(_ value: T, _ key: Key) throws {
        let header = try begin(key)
        try encoding.encodeField(value, kind: BinaryKind.of(T.self), header: header, at: .key(Int(header >> 3)))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        do {
            let header = try begin(key)
            encoding.writer.writeVarint(header | UInt64(WireType.slot.rawValue))
            encoding.writer.writeByte(SlotTag.keyed)
            let lengthAt = encoding.writer.lengthPlaceholder()
            let id = encoding.pushFrame(.keyed(lengthAt: lengthAt), element: .key(Int(header >> 3)))
            return encoding.keyedContainer(NestedKey.self, id: id, depth: entry.depth + 1)
        } catch {
            encoding.recordDeferred(error)
            return encoding.keyedContainer(NestedKey.self, id: -1, depth: entry.depth + 1)
        }
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        do {
            let header = try begin(key)
            encoding.writer.writeVarint(header | UInt64(WireType.slot.rawValue))
            encoding.writer.writeByte(SlotTag.unkeyed)
            let lengthAt = encoding.writer.lengthPlaceholder()
            _ = encoding.writer.lengthPlaceholder()  // the element count
            let id = encoding.pushFrame(.unkeyed(lengthAt: lengthAt, count: 0), element: .key(Int(header >> 3)))
            return BinaryUnkeyedEncoder(encoding: encoding, id: id, depth: entry.depth + 1)
        } catch {
            encoding.recordDeferred(error)
            return BinaryUnkeyedEncoder(encoding: encoding, id: -1, depth: entry.depth + 1)
        }
    }

    mutating func superEncoder() -> any Encoder {
        do {
            try encoding.activate(entry.frameID, entry.depth)
            let index = encoding.keys.index(of: BinaryCodingKey.superKey.stringValue)
            return openSuperSlot(header: UInt64(index) << 3)
        } catch {
            encoding.recordDeferred(error)
            return BinarySlotEncoder(encoding: encoding, id: -1, depth: entry.depth + 1)
        }
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        do {
            return openSuperSlot(header: try begin(key))
        } catch {
            encoding.recordDeferred(error)
            return BinarySlotEncoder(encoding: encoding, id: -1, depth: entry.depth + 1)
        }
    }

    private func openSuperSlot(header: UInt64) -> any Encoder {
        encoding.writer.writeVarint(header | UInt64(WireType.slot.rawValue))
        let id = encoding.pushFrame(.slot, element: .key(Int(header >> 3)))
        return BinarySlotEncoder(encoding: encoding, id: id, depth: entry.depth + 1)
    }
}
