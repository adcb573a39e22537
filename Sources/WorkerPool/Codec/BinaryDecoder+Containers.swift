import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: Keyed

/// One field of an encoded keyed container.
struct BinaryField {
    let keyStart: Int
    let keyLength: Int
    /// Where the value starts; `valueLength` is nil for a nil field.
    let valueStart: Int
    let valueLength: Int?
    /// Where the next field starts.
    let next: Int
}

/// A keyed container over the fields in `start..<end`. Lookups first try the field after the last
/// one read (types usually decode in the order they encoded), then scan from the start, so keys
/// decoded in another order, or skipped, still resolve.
final class BinaryKeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    private let decoding: BinaryDecoding
    private let start: Int
    private let end: Int
    @exclusivity(unchecked) private var cursor: Int
    private let path: CodingPath

    init(decoding: BinaryDecoding, start: Int, end: Int, path: CodingPath) {
        self.decoding = decoding
        self.start = start
        self.end = end
        self.cursor = start
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }

    var allKeys: [Key] {
        var keys: [Key] = []
        var position = start
        while position < end, let field = try? parseField(at: position) {
            let bytes = UnsafeRawBufferPointer(start: decoding.buffer.base + field.keyStart, count: field.keyLength)
            if let name = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self), let key = Key(stringValue: name) {
                keys.append(key)
            }
            position = field.next
        }
        return keys
    }

    private func parseField(at position: Int) throws -> BinaryField {
        var reader = decoding.reader(position, end)
        let keyLength = try reader.readCount()
        let keyStart = reader.position
        reader.position += keyLength
        let rawLength = try reader.read(UInt32.self)
        if rawLength == nilFieldLength {
            return BinaryField(keyStart: keyStart, keyLength: keyLength, valueStart: reader.position, valueLength: nil, next: reader.position)
        }
        let length = Int(rawLength)
        try reader.need(length)
        return BinaryField(keyStart: keyStart, keyLength: keyLength, valueStart: reader.position, valueLength: length, next: reader.position + length)
    }

    private func find(_ key: Key) throws -> BinaryField? {
        var name = key.stringValue
        return try name.withUTF8 { wanted in
            func matches(_ field: BinaryField) -> Bool {
                field.keyLength == wanted.count
                    && (wanted.count == 0 || memcmp(decoding.buffer.base + field.keyStart, wanted.baseAddress!, wanted.count) == 0)
            }
            if cursor < end {
                let field = try parseField(at: cursor)
                if matches(field) {
                    cursor = field.next
                    return field
                }
            }
            var position = start
            while position < end {
                let field = try parseField(at: position)
                if matches(field) {
                    cursor = field.next
                    return field
                }
                position = field.next
            }
            return nil
        }
    }

    private func require(_ key: Key) throws -> BinaryField {
        guard let field = try find(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: path.keys, debugDescription: "no value for key \"\(key.stringValue)\""))
        }
        return field
    }

    /// The reader over a present field's value.
    private func valueReader(_ key: Key, _ type: Any.Type) throws -> RawReader {
        let field = try require(key)
        guard let length = field.valueLength else {
            throw DecodingError.valueNotFound(type, .init(codingPath: path.appending(key).keys, debugDescription: "the value is nil"))
        }
        return decoding.reader(field.valueStart, field.valueStart + length)
    }

    private func decodeField<T: Decodable>(_ type: T.Type, _ kind: BinaryKind, forKey key: Key) throws -> T {
        var reader = try valueReader(key, type)
        let value = try decoding.decodeValue(type, kind: kind, from: &reader, path: path.appending(key))
        guard reader.isAtEnd else {
            throw decoding.mismatch(type, path.appending(key), "the field holds \(reader.remaining) more bytes than a \(type)")
        }
        return value
    }

    func contains(_ key: Key) -> Bool { (try? find(key)) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { try require(key).valueLength == nil }

    // The primitives read their bytes directly: no generic code, no metadata, per field.

    @inline(__always)
    private func fixed<I: FixedWidthInteger>(_ key: Key, _ bits: I.Type, as type: Any.Type) throws -> I {
        var reader = try valueReader(key, type)
        guard reader.remaining == MemoryLayout<I>.size else {
            throw decoding.mismatch(type, path.appending(key), "the field holds \(reader.remaining) bytes, not a \(type)")
        }
        return try reader.read(I.self)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        let byte = try fixed(key, UInt8.self, as: type)
        guard byte <= 1 else { throw decoding.mismatch(type, path.appending(key), "byte \(byte) is not a Bool") }
        return byte == 1
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        var reader = try valueReader(key, type)
        let string = try reader.readString()
        guard reader.isAtEnd else {
            throw decoding.mismatch(type, path.appending(key), "the field holds \(reader.remaining) more bytes than a String")
        }
        return string
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { Double(bitPattern: try fixed(key, UInt64.self, as: type)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(bitPattern: try fixed(key, UInt32.self, as: type)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        let raw = try fixed(key, Int64.self, as: type)
        guard let value = Int(exactly: raw) else { throw decoding.mismatch(type, path.appending(key), "\(raw) does not fit Int") }
        return value
    }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try fixed(key, Int8.self, as: type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try fixed(key, Int16.self, as: type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try fixed(key, Int32.self, as: type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try fixed(key, Int64.self, as: type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt {
        let raw = try fixed(key, UInt64.self, as: type)
        guard let value = UInt(exactly: raw) else { throw decoding.mismatch(type, path.appending(key), "\(raw) does not fit UInt") }
        return value
    }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try fixed(key, UInt8.self, as: type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try fixed(key, UInt16.self, as: type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try fixed(key, UInt32.self, as: type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try fixed(key, UInt64.self, as: type) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let kind = BinaryKind.of(T.self)
        if case .other = kind, _isOptional(T.self), let optional = T.self as? any OptionalDecodable.Type {
            let field = try require(key)
            guard let length = field.valueLength else { return optional.noneValue as! T }
            var reader = decoding.reader(field.valueStart, field.valueStart + length)
            return try optional.decodeWrapped(decoding, from: &reader, path: path.appending(key)) as! T
        }
        return try decodeField(type, kind, forKey: key)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try slotDecoder(key, type).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try slotDecoder(key, [Any].self).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        try superDecoder(named: BinaryCodingKey.superKey)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        try slotDecoder(key, Any.self)
    }

    private func superDecoder(named key: BinaryCodingKey) throws -> any Decoder {
        guard let typedKey = Key(stringValue: key.stringValue) else {
            return try superSlot(named: key)
        }
        return try slotDecoder(typedKey, Any.self)
    }

    /// `superDecoder()` for a `Key` type that cannot spell "super": scan for the field by name.
    private func superSlot(named key: BinaryCodingKey) throws -> any Decoder {
        var position = start
        while position < end {
            let field = try parseField(at: position)
            let bytes = UnsafeRawBufferPointer(start: decoding.buffer.base + field.keyStart, count: field.keyLength)
            if bytes.elementsEqual(key.stringValue.utf8), let length = field.valueLength {
                var reader = decoding.reader(field.valueStart, field.valueStart + length)
                return try slot(&reader, path.appending(key))
            }
            position = field.next
        }
        throw DecodingError.keyNotFound(key, .init(codingPath: path.keys, debugDescription: "no superclass value"))
    }

    private func slotDecoder<T>(_ key: Key, _ type: T.Type) throws -> BinarySlotDecoder {
        var reader = try valueReader(key, type)
        return try slot(&reader, path.appending(key))
    }

    private func slot(_ reader: inout RawReader, _ path: CodingPath) throws -> BinarySlotDecoder {
        let start = reader.position
        let end = try decoding.slotEnd(reader)
        return BinarySlotDecoder(decoding: decoding, start: start, end: end, path: path)
    }
}

// MARK: Unkeyed

/// An unkeyed container: `count` elements, each a presence byte (0 nil, 1 value) and the value.
final class BinaryUnkeyedDecoder: UnkeyedDecodingContainer {
    private let decoding: BinaryDecoding
    @exclusivity(unchecked) private var reader: RawReader
    private let path: CodingPath
    let count: Int?
    @exclusivity(unchecked) private(set) var currentIndex = 0

    init(decoding: BinaryDecoding, reader: RawReader, count: Int, path: CodingPath) {
        self.decoding = decoding
        self.reader = reader
        self.count = count
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }
    var isAtEnd: Bool { currentIndex >= count! }

    private var elementPath: CodingPath { path.appending(index: currentIndex) }

    /// Consumes the presence byte of the next element, which must hold a value.
    private func beginValue<T>(_ type: T.Type) throws {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: elementPath.keys, debugDescription: "unkeyed container is at its end"))
        }
        switch try reader.readByte() {
        case 1:
            currentIndex += 1
        case 0:
            reader.position -= 1
            throw DecodingError.valueNotFound(type, .init(codingPath: elementPath.keys, debugDescription: "the element is nil"))
        case let tag:
            throw RawReader.corrupted("unknown element tag \(tag)")
        }
    }

    func decodeNil() throws -> Bool {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any?.self, .init(codingPath: elementPath.keys, debugDescription: "unkeyed container is at its end"))
        }
        if try reader.peekByte() == 0 {
            reader.position += 1
            currentIndex += 1
            return true
        }
        return false
    }

    private func decodeElement<T: Decodable>(_ type: T.Type, _ kind: BinaryKind) throws -> T {
        let index = currentIndex
        try beginValue(type)
        return try decoding.decodeValue(type, kind: kind, from: &reader, path: path.appending(index: index))
    }

    func decode(_ type: Bool.Type) throws -> Bool { try decodeElement(type, .bool) }
    func decode(_ type: String.Type) throws -> String { try decodeElement(type, .string) }
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
            let index = currentIndex
            try beginValue(type)
            return try optional.decodeWrapped(decoding, from: &reader, path: path.appending(index: index)) as! T
        }
        return try decodeElement(type, kind)
    }

    /// Consumes the next element as a slot and returns its decoder.
    private func nextSlot<T>(_ type: T.Type) throws -> BinarySlotDecoder {
        let path = elementPath
        try beginValue(type)
        let start = reader.position
        let end = try decoding.slotEnd(reader)
        reader.position = end
        return BinarySlotDecoder(decoding: decoding, start: start, end: end, path: path)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try nextSlot(type).container(keyedBy: type)
    }

    func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try nextSlot([Any].self).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        try nextSlot(Any.self)
    }
}

// MARK: Single value

/// A single-value container over one value (or nil).
struct BinarySingleValueDecoder: SingleValueDecodingContainer {
    let decoding: BinaryDecoding
    let valueStart: Int
    let end: Int
    let isNil: Bool
    let path: CodingPath

    var codingPath: [any CodingKey] { path.keys }

    func decodeNil() -> Bool { isNil }

    private func decodeSingle<T: Decodable>(_ type: T.Type) throws -> T {
        guard !isNil else {
            throw DecodingError.valueNotFound(type, .init(codingPath: path.keys, debugDescription: "the value is nil"))
        }
        var reader = decoding.reader(valueStart, end)
        let value = try decoding.decodeValue(type, from: &reader, path: path)
        guard reader.isAtEnd else {
            throw decoding.mismatch(type, path, "the value holds \(reader.remaining) more bytes than a \(type)")
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
