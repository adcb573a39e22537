import Foundation

// MARK: Unkeyed

/// An unkeyed container: its elements in order, each a presence byte (0 nil, 1 value) and the
/// value. Three words, so the `any UnkeyedEncodingContainer` it travels as holds it inline; its
/// count lives in the encoding's frame.
struct BinaryUnkeyedEncoder: UnkeyedEncodingContainer {
    let encoding: BinaryEncoding
    let id: Int
    let depth: Int

    var codingPath: [any CodingKey] { encoding.codingPath(depth: depth) }
    var count: Int { encoding.elementCount(id, depth) }

    /// Starts the next element; returns its index.
    @inline(__always)
    @discardableResult
    private func beginElement(present: Bool) throws -> Int {
        try encoding.activate(id, depth)
        encoding.writer.writeByte(present ? 1 : 0)
        return encoding.countElement(depth)
    }

    mutating func encodeNil() throws { try beginElement(present: false) }

    mutating func encode(_ value: Bool) throws { try beginElement(present: true); encoding.writer.writeByte(value ? 1 : 0) }
    mutating func encode(_ value: Int) throws { try beginElement(present: true); encoding.writer.writeZigzag(Int64(value)) }
    mutating func encode(_ value: Int8) throws { try beginElement(present: true); encoding.writer.write(value) }
    mutating func encode(_ value: Int16) throws { try beginElement(present: true); encoding.writer.writeZigzag(Int64(value)) }
    mutating func encode(_ value: Int32) throws { try beginElement(present: true); encoding.writer.writeZigzag(Int64(value)) }
    mutating func encode(_ value: Int64) throws { try beginElement(present: true); encoding.writer.writeZigzag(value) }
    mutating func encode(_ value: UInt) throws { try beginElement(present: true); encoding.writer.writeVarint(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { try beginElement(present: true); encoding.writer.write(value) }
    mutating func encode(_ value: UInt16) throws { try beginElement(present: true); encoding.writer.writeVarint(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { try beginElement(present: true); encoding.writer.writeVarint(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { try beginElement(present: true); encoding.writer.writeVarint(value) }
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

    private func encodeElement<T: Encodable>(_ value: T) throws {
        try encodeElement(value, kind: BinaryKind.of(T.self))
    }

    private func encodeElement<T: Encodable>(_ value: T, kind: BinaryKind) throws {
        let index = try beginElement(present: true)
        try encoding.encodeValue(value, kind: kind, at: .index(index))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        do {
            let index = try beginElement(present: true)
            encoding.writer.writeByte(SlotTag.keyed)
            let lengthAt = encoding.writer.lengthPlaceholder()
            let nested = encoding.pushFrame(.keyed(lengthAt: lengthAt), element: .index(index))
            return encoding.keyedContainer(NestedKey.self, id: nested, depth: depth + 1)
        } catch {
            encoding.recordDeferred(error)
            return encoding.keyedContainer(NestedKey.self, id: -1, depth: depth + 1)
        }
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        do {
            let index = try beginElement(present: true)
            encoding.writer.writeByte(SlotTag.unkeyed)
            let lengthAt = encoding.writer.lengthPlaceholder()
            _ = encoding.writer.lengthPlaceholder()  // the element count
            let nested = encoding.pushFrame(.unkeyed(lengthAt: lengthAt, count: 0), element: .index(index))
            return BinaryUnkeyedEncoder(encoding: encoding, id: nested, depth: depth + 1)
        } catch {
            encoding.recordDeferred(error)
            return BinaryUnkeyedEncoder(encoding: encoding, id: -1, depth: depth + 1)
        }
    }

    mutating func superEncoder() -> any Encoder {
        do {
            let index = try beginElement(present: true)
            let slot = encoding.pushFrame(.slot, element: .index(index))
            return BinarySlotEncoder(encoding: encoding, id: slot, depth: depth + 1)
        } catch {
            encoding.recordDeferred(error)
            return BinarySlotEncoder(encoding: encoding, id: -1, depth: depth + 1)
        }
    }
}

// MARK: Single value

/// A single-value container: `S`, a varint length and the value, or `N` for nil.
struct BinarySingleValueEncoder: SingleValueEncodingContainer {
    let encoding: BinaryEncoding
    let id: Int
    let depth: Int

    var codingPath: [any CodingKey] { encoding.codingPath(depth: depth) }

    private func claim() throws {
        try encoding.activate(id, depth)
        guard case .single(used: false) = encoding.frameKind(depth) else {
            throw EncodingError.invalidValue(0, .init(codingPath: codingPath, debugDescription:
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
        let lengthAt = encoding.writer.lengthPlaceholder()
        try encoding.encodeValue(value, at: nil)
        encoding.writer.patchLength(at: lengthAt)
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
