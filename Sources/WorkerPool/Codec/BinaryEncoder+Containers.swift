import Foundation

// MARK: Keyed

/// A keyed container: each field is its key (length-prefixed UTF-8), a UInt32 value length
/// (`UInt32.max` for nil), and the value. The lengths let a decoder find fields in any order.
struct BinaryKeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoding: BinaryEncoding
    let id: Int
    let depth: Int
    let path: CodingPath

    var codingPath: [any CodingKey] { path.keys }

    @inline(__always)
    private func beginField(_ key: Key) throws {
        try encoding.activate(id, depth)
        encoding.writer.writeString(key.stringValue)
    }

    @inline(__always)
    private func field<T: FixedWidthInteger>(_ key: Key, _ bits: T) throws {
        try beginField(key)
        encoding.writer.write(UInt32(MemoryLayout<T>.size))
        encoding.writer.write(bits)
    }

    mutating func encodeNil(forKey key: Key) throws {
        try beginField(key)
        encoding.writer.write(nilFieldLength)
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws { try field(key, UInt8(value ? 1 : 0)) }
    mutating func encode(_ value: Int, forKey key: Key) throws { try field(key, Int64(value)) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { try field(key, value) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { try field(key, value) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { try field(key, value) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { try field(key, value) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { try field(key, UInt64(value)) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { try field(key, value) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { try field(key, value) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { try field(key, value) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { try field(key, value) }
    mutating func encode(_ value: Float, forKey key: Key) throws { try field(key, value.bitPattern) }
    mutating func encode(_ value: Double, forKey key: Key) throws { try field(key, value.bitPattern) }

    mutating func encode(_ value: String, forKey key: Key) throws {
        try beginField(key)
        let lengthAt = encoding.writer.placeholder32()
        encoding.writer.writeString(value)
        try encoding.writer.patchLength(at: lengthAt)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        let kind = BinaryKind.of(T.self)
        if case .other = kind, _isOptional(T.self), let optional = value as? any OptionalEncodable {
            guard let wrapped = optional.wrappedEncodable else { return try encodeNil(forKey: key) }
            return try encodeField(wrapped, key)
        }
        try encodeField(value, key, kind: kind)
    }

    private func encodeField<T: Encodable>(_ value: T, _ key: Key) throws {
        try encodeField(value, key, kind: BinaryKind.of(T.self))
    }

    private func encodeField<T: Encodable>(_ value: T, _ key: Key, kind: BinaryKind) throws {
        try beginField(key)
        let lengthAt = encoding.writer.placeholder32()
        try encoding.encodeValue(value, kind: kind, path: path.appending(key))
        try encoding.writer.patchLength(at: lengthAt)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        do {
            try beginField(key)
            let fieldAt = encoding.writer.placeholder32()
            encoding.writer.writeByte(SlotTag.keyed)
            let lengthAt = encoding.writer.placeholder32()
            let nestedID = encoding.pushFrame(.keyed(lengthAt: lengthAt), patchAt: fieldAt)
            return KeyedEncodingContainer(BinaryKeyedEncoder<NestedKey>(encoding: encoding, id: nestedID, depth: depth + 1, path: path.appending(key)))
        } catch {
            encoding.recordDeferred(error)
            return KeyedEncodingContainer(BinaryKeyedEncoder<NestedKey>(encoding: encoding, id: -1, depth: depth + 1, path: path.appending(key)))
        }
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        do {
            try beginField(key)
            let fieldAt = encoding.writer.placeholder32()
            return pushUnkeyed(encoding, depth: depth + 1, patchAt: fieldAt, path: path.appending(key))
        } catch {
            encoding.recordDeferred(error)
            return BinaryUnkeyedEncoder(encoding: encoding, id: -1, depth: depth + 1, path: path.appending(key))
        }
    }

    mutating func superEncoder() -> any Encoder {
        superEncoder(named: BinaryCodingKey.superKey)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        superEncoder(named: key)
    }

    private func superEncoder(named key: any CodingKey) -> any Encoder {
        do {
            try encoding.activate(id, depth)
            encoding.writer.writeString(key.stringValue)
            let fieldAt = encoding.writer.placeholder32()
            let slotID = encoding.pushFrame(.slot, patchAt: fieldAt)
            return BinarySlotEncoder(encoding: encoding, id: slotID, depth: depth + 1, path: path.appending(key))
        } catch {
            encoding.recordDeferred(error)
            return BinarySlotEncoder(encoding: encoding, id: -1, depth: depth + 1, path: path.appending(key))
        }
    }
}

/// Opens an unkeyed container as a new frame at `depth`.
private func pushUnkeyed(_ encoding: BinaryEncoding, depth: Int, patchAt: Int?, path: CodingPath) -> BinaryUnkeyedEncoder {
    encoding.writer.writeByte(SlotTag.unkeyed)
    let lengthAt = encoding.writer.placeholder32()
    let countAt = encoding.writer.placeholder32()
    let id = encoding.pushFrame(.unkeyed(lengthAt: lengthAt, countAt: countAt, count: 0), patchAt: patchAt)
    return BinaryUnkeyedEncoder(encoding: encoding, id: id, depth: depth, path: path)
}

/// Opens a keyed container as a new frame at `depth`.
private func pushKeyed<NestedKey: CodingKey>(_ encoding: BinaryEncoding, _ type: NestedKey.Type, depth: Int, path: CodingPath) -> KeyedEncodingContainer<NestedKey> {
    encoding.writer.writeByte(SlotTag.keyed)
    let lengthAt = encoding.writer.placeholder32()
    let id = encoding.pushFrame(.keyed(lengthAt: lengthAt), patchAt: nil)
    return KeyedEncodingContainer(BinaryKeyedEncoder<NestedKey>(encoding: encoding, id: id, depth: depth, path: path))
}

// MARK: Unkeyed

/// An unkeyed container: its elements in order, each a presence byte (0 nil, 1 value) and the value.
struct BinaryUnkeyedEncoder: UnkeyedEncodingContainer {
    let encoding: BinaryEncoding
    let id: Int
    let depth: Int
    let path: CodingPath
    private(set) var count = 0

    init(encoding: BinaryEncoding, id: Int, depth: Int, path: CodingPath) {
        self.encoding = encoding
        self.id = id
        self.depth = depth
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }

    @inline(__always)
    private mutating func beginElement(present: Bool) throws {
        try encoding.activate(id, depth)
        encoding.writer.writeByte(present ? 1 : 0)
        encoding.countElement(depth)
        count += 1
    }

    private var elementPath: CodingPath { path.appending(index: count) }

    mutating func encodeNil() throws { try beginElement(present: false) }

    mutating func encode(_ value: Bool) throws { try beginElement(present: true); encoding.writer.writeByte(value ? 1 : 0) }
    mutating func encode(_ value: Int) throws { try beginElement(present: true); encoding.writer.write(Int64(value)) }
    mutating func encode(_ value: Int8) throws { try beginElement(present: true); encoding.writer.write(value) }
    mutating func encode(_ value: Int16) throws { try beginElement(present: true); encoding.writer.write(value) }
    mutating func encode(_ value: Int32) throws { try beginElement(present: true); encoding.writer.write(value) }
    mutating func encode(_ value: Int64) throws { try beginElement(present: true); encoding.writer.write(value) }
    mutating func encode(_ value: UInt) throws { try beginElement(present: true); encoding.writer.write(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try beginElement(present: true); encoding.writer.write(value) }
    mutating func encode(_ value: UInt16) throws { try beginElement(present: true); encoding.writer.write(value) }
    mutating func encode(_ value: UInt32) throws { try beginElement(present: true); encoding.writer.write(value) }
    mutating func encode(_ value: UInt64) throws { try beginElement(present: true); encoding.writer.write(value) }
    mutating func encode(_ value: Float) throws { try beginElement(present: true); encoding.writer.write(value.bitPattern) }
    mutating func encode(_ value: Double) throws { try beginElement(present: true); encoding.writer.write(value.bitPattern) }
    mutating func encode(_ value: String) throws { try beginElement(present: true); encoding.writer.writeString(value) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let kind = BinaryKind.of(T.self)
        if case .other = kind, _isOptional(T.self), let optional = value as? any OptionalEncodable {
            guard let wrapped = optional.wrappedEncodable else { return try encodeNil() }
            return try encodeElement(wrapped)
        }
        try encodeElement(value, kind: kind)
    }

    private mutating func encodeElement<T: Encodable>(_ value: T) throws {
        try encodeElement(value, kind: BinaryKind.of(T.self))
    }

    private mutating func encodeElement<T: Encodable>(_ value: T, kind: BinaryKind) throws {
        let index = count
        try beginElement(present: true)
        try encoding.encodeValue(value, kind: kind, path: path.appending(index: index))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = elementPath
        do {
            try beginElement(present: true)
            return pushKeyed(encoding, keyType, depth: depth + 1, path: path)
        } catch {
            encoding.recordDeferred(error)
            return KeyedEncodingContainer(BinaryKeyedEncoder<NestedKey>(encoding: encoding, id: -1, depth: depth + 1, path: path))
        }
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = elementPath
        do {
            try beginElement(present: true)
            return pushUnkeyed(encoding, depth: depth + 1, patchAt: nil, path: path)
        } catch {
            encoding.recordDeferred(error)
            return BinaryUnkeyedEncoder(encoding: encoding, id: -1, depth: depth + 1, path: path)
        }
    }

    mutating func superEncoder() -> any Encoder {
        let path = elementPath
        do {
            try beginElement(present: true)
            let slotID = encoding.pushFrame(.slot, patchAt: nil)
            return BinarySlotEncoder(encoding: encoding, id: slotID, depth: depth + 1, path: path)
        } catch {
            encoding.recordDeferred(error)
            return BinarySlotEncoder(encoding: encoding, id: -1, depth: depth + 1, path: path)
        }
    }
}

// MARK: Single value

/// A single-value container: `S`, a UInt32 length and the value, or `N` for nil.
struct BinarySingleValueEncoder: SingleValueEncodingContainer {
    let encoding: BinaryEncoding
    let id: Int
    let depth: Int
    let path: CodingPath

    var codingPath: [any CodingKey] { path.keys }

    private func claim() throws {
        try encoding.activate(id, depth)
        guard case .single(used: false) = encoding.frameKind(depth) else {
            throw EncodingError.invalidValue(0, .init(codingPath: path.keys, debugDescription:
                "a single-value container was asked to encode a second value"))
        }
        encoding.setFrameKind(depth, .single(used: true))
    }

    mutating func encodeNil() throws {
        try claim()
        encoding.writer.writeByte(SlotTag.null)
    }

    private func encodeSingle<T: Encodable>(_ value: T) throws {
        try claim()
        encoding.writer.writeByte(SlotTag.single)
        let lengthAt = encoding.writer.placeholder32()
        try encoding.encodeValue(value, path: path)
        try encoding.writer.patchLength(at: lengthAt)
    }

    mutating func encode(_ value: Bool) throws { try encodeSingle(value) }
    mutating func encode(_ value: String) throws { try encodeSingle(value) }
    mutating func encode(_ value: Double) throws { try encodeSingle(value) }
    mutating func encode(_ value: Float) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int8) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int16) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int32) throws { try encodeSingle(value) }
    mutating func encode(_ value: Int64) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt8) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt16) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt32) throws { try encodeSingle(value) }
    mutating func encode(_ value: UInt64) throws { try encodeSingle(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try encodeSingle(value) }
}
