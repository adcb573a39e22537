import Foundation

// MARK: Unkeyed

/// An unkeyed container: `count` elements, each a presence byte (0 nil, 1 value) and the value.
/// A class, so the `any UnkeyedDecodingContainer` it travels as holds a reference; the decoding
/// pools them and hands one out again once nothing else holds it.
final class BinaryUnkeyedDecoder: UnkeyedDecodingContainer {
    private let decoding: BinaryDecoding
    @exclusivity(unchecked) private var reader: RawReader
    @exclusivity(unchecked) private var path: [any CodingKey]
    @exclusivity(unchecked) private(set) var count: Int?
    @exclusivity(unchecked) private(set) var currentIndex = 0

    init(decoding: BinaryDecoding, reader: RawReader, count: Int, path: [any CodingKey]) {
        self.decoding = decoding
        self.reader = reader
        self.count = count
        self.path = path
    }

    func reset(reader: RawReader, count: Int, path: [any CodingKey]) {
        self.reader = reader
        self.count = count
        self.path = path
        currentIndex = 0
    }

    var codingPath: [any CodingKey] { path }
    var isAtEnd: Bool { currentIndex >= count! }

    private var elementPath: [any CodingKey] { path + [BinaryCodingKey.index(currentIndex)] }

    /// Consumes the presence byte of the next element, which must hold a value; returns its index.
    @inline(__always)
    private func beginValue<T>(_ type: T.Type) throws -> Int {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: elementPath, debugDescription: "unkeyed container is at its end"))
        }
        switch try reader.readByte() {
        case 1:
            currentIndex += 1
            return currentIndex - 1
        case 0:
            reader.position -= 1
            throw DecodingError.valueNotFound(type, .init(codingPath: elementPath, debugDescription: "the element is nil"))
        case let tag:
            throw RawReader.corrupted("unknown element tag \(tag)")
        }
    }

    func decodeNil() throws -> Bool {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any?.self, .init(codingPath: elementPath, debugDescription: "unkeyed container is at its end"))
        }
        if try reader.peekByte() == 0 {
            reader.position += 1
            currentIndex += 1
            return true
        }
        return false
    }

    @inline(__always)
    private func decodeElement<T: Decodable>(_ type: T.Type, _ kind: BinaryKind) throws -> T {
        let index = try beginValue(type)
        return try decoding.decodeValue(type, kind: kind, from: &reader, at: .index(index))
    }

    func decode(_ type: Bool.Type) throws -> Bool { try decodeElement(type, .bool) }
    func decode(_ type: String.Type) throws -> String {
        _ = try beginValue(type)
        return try reader.readString()
    }
    func decode(_ type: Double.Type) throws -> Double { try decodeElement(type, .double) }
    func decode(_ type: Float.Type) throws -> Float { try decodeElement(type, .float) }
    func decode(_ type: Int.Type) throws -> Int { try decodeElement(type, .int) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeElement(type, .int8) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeElement(type, .int16) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeElement(type, .int32) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeElement(type, .int64) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeElement(type, .uint) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeElement(type, .uint8) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeElement(type, .uint16) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeElement(type, .uint32) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeElement(type, .uint64) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let kind = BinaryKind.of(T.self)
        if case .other = kind, _isOptional(T.self), let optional = T.self as? any OptionalDecodable.Type {
            if try decodeNil() { return optional.noneValue as! T }
            let index = try beginValue(type)
            return try optional.decodeWrapped(decoding, from: &reader, at: .index(index)) as! T
        }
        return try decodeElement(type, kind)
    }

    /// Consumes the next element as a slot; returns its bounds.
    private func nextSlot<T>(_ type: T.Type) throws -> (start: Int, end: Int) {
        _ = try beginValue(type)
        let start = reader.position
        let end = try decoding.slotEnd(&reader)
        reader.position = end
        return (start, end)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let path = elementPath
        let slot = try nextSlot(type)
        return try decoding.keyedContainer(type, slotStart: slot.start, end: slot.end, path: path)
    }

    func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let path = elementPath
        let slot = try nextSlot([Any].self)
        return try decoding.unkeyedContainer(slotStart: slot.start, end: slot.end, path: path)
    }

    func superDecoder() throws -> any Decoder {
        let slot = try nextSlot(Any.self)
        return BinarySlotDecoder(decoding: decoding, start: slot.start, end: slot.end)
    }
}

// MARK: Single value

/// A single-value container over one value, or nil (`valueStart` -1). Three words, so the
/// `any SingleValueDecodingContainer` it travels as holds it inline.
struct BinarySingleValueDecoder: SingleValueDecodingContainer {
    let decoding: BinaryDecoding
    let valueStart: Int
    let end: Int

    var codingPath: [any CodingKey] { decoding.codingPath() }

    func decodeNil() -> Bool { valueStart < 0 }

    private func decodeSingle<T: Decodable>(_ type: T.Type) throws -> T {
        guard valueStart >= 0 else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath, debugDescription: "the value is nil"))
        }
        var reader = decoding.reader(valueStart, end)
        let value = try decoding.decodeValue(type, from: &reader, at: nil)
        guard reader.isAtEnd else {
            throw decoding.mismatch(type, "the value holds \(reader.remaining) more bytes than a \(type)")
        }
        return value
    }

    func decode(_ type: Bool.Type) throws -> Bool { try decodeSingle(type) }
    func decode(_ type: String.Type) throws -> String { try decodeSingle(type) }
    func decode(_ type: Double.Type) throws -> Double { try decodeSingle(type) }
    func decode(_ type: Float.Type) throws -> Float { try decodeSingle(type) }
    func decode(_ type: Int.Type) throws -> Int { try decodeSingle(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeSingle(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeSingle(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeSingle(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeSingle(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeSingle(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeSingle(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeSingle(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeSingle(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeSingle(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeSingle(type) }
}
