import Foundation

/// A keyed container kept for reuse by one encoding (see `BinaryEncoding`): which frame it is
/// bound to now. The key type's box lives in the generic subclass.
class KeyedEncoderEntryBase {
    let keyType: ObjectIdentifier
    /// The frame the container writes to, and its depth; a frame id that is no longer open
    /// means the entry is free.
    @exclusivity(unchecked) final var frameID = -1
    @exclusivity(unchecked) final var depth = 0

    init(keyType: ObjectIdentifier) { self.keyType = keyType }

    /// Drops the box, which holds this entry and the encoding.
    func unlink() {}
}

final class KeyedEncoderEntry<Key: CodingKey>: KeyedEncoderEntryBase {
    @exclusivity(unchecked) var keyIndices = KeyIndexCache<Key>()
    @exclusivity(unchecked) private var box: KeyedEncodingContainer<Key>?

    init(encoding: BinaryEncoding) {
        super.init(keyType: ObjectIdentifier(Key.self))
        box = KeyedEncodingContainer(BinaryKeyedEncoder<Key>(encoding: encoding, entry: self))
    }

    var container: KeyedEncodingContainer<Key> { box! }

    override func unlink() { box = nil }
}

/// A keyed container: fields one after another, each a header (`key index << 3 | wire type`, a
/// varint) and the value. The key's text is written once per encoding, in the key table; here a
/// key costs one byte for the first 16 keys of an encoding.
struct BinaryKeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoding: BinaryEncoding
    let entry: KeyedEncoderEntry<Key>

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
        try encoding.encodeField(value, kind: kind, header: try begin(key), at: .key(key))
    }

    private func encodeField<T: Encodable>(_ value: T, _ key: Key) throws {
        try encoding.encodeField(value, kind: BinaryKind.of(T.self), header: try begin(key), at: .key(key))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        do {
            try header(key, .slot)
            encoding.writer.writeByte(SlotTag.keyed)
            let lengthAt = encoding.writer.lengthPlaceholder()
            let id = encoding.pushFrame(.keyed(lengthAt: lengthAt), element: .key(key))
            return encoding.keyedContainer(NestedKey.self, id: id, depth: entry.depth + 1)
        } catch {
            encoding.recordDeferred(error)
            return encoding.keyedContainer(NestedKey.self, id: -1, depth: entry.depth + 1)
        }
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        do {
            try header(key, .slot)
            encoding.writer.writeByte(SlotTag.unkeyed)
            let lengthAt = encoding.writer.lengthPlaceholder()
            _ = encoding.writer.lengthPlaceholder()  // the element count
            let id = encoding.pushFrame(.unkeyed(lengthAt: lengthAt, count: 0), element: .key(key))
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
            return openSuperSlot(header: UInt64(index) << 3, element: .key(BinaryCodingKey.superKey))
        } catch {
            encoding.recordDeferred(error)
            return BinarySlotEncoder(encoding: encoding, id: -1, depth: entry.depth + 1)
        }
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        do {
            return openSuperSlot(header: try begin(key), element: .key(key))
        } catch {
            encoding.recordDeferred(error)
            return BinarySlotEncoder(encoding: encoding, id: -1, depth: entry.depth + 1)
        }
    }

    private func openSuperSlot(header: UInt64, element: PathElement) -> any Encoder {
        encoding.writer.writeVarint(header | UInt64(WireType.slot.rawValue))
        let id = encoding.pushFrame(.slot, element: element)
        return BinarySlotEncoder(encoding: encoding, id: id, depth: entry.depth + 1)
    }
}
