import Foundation

// Arrays of any element type the codec knows how to write, taken past `Array`'s own `Codable`.
//
// `Array.encode(to:)` and `Array.init(from:)` go through an unkeyed container one element at a
// time: a call through the container's existential, the element's kind worked out again, and on
// decoding a generic-metadata lookup and an `append` per element (about 550 instructions per
// element of a chunk of records). Here the element kind is found once per array and the
// elements are built in place. The bytes are the same as `Array`'s own `Codable` writes through
// the codec's unkeyed container (`U`, length, count, then a presence byte and the value per
// element), so a type may still read an array with an unkeyed container, and the other way round.

/// An array the encoder writes element by element itself.
protocol BinaryEncodableArray {
    /// Whether the elements are optionals (left to `Array`'s own `Codable`).
    static var hasOptionalElements: Bool { get }
    /// Writes the array as an unkeyed slot; `element` is where it sits in its parent.
    func encodeElements(into encoding: BinaryEncoding, at element: PathElement?) throws
}

extension BinaryEncodableArray {
    /// `value`, which is of this type, written by `encodeElements`.
    static func encodeArray<T>(_ value: T, into encoding: BinaryEncoding, at element: PathElement?) throws {
        try (value as! Self).encodeElements(into: encoding, at: element)
    }
}

/// An array the decoder reads element by element itself.
protocol BinaryDecodableArray {
    static var hasOptionalElements: Bool { get }
    /// Reads an unkeyed slot at the reader into an array.
    static func decodeElements(from decoding: BinaryDecoding, _ reader: inout RawReader, at element: PathElement?) throws -> Self
}

extension BinaryDecodableArray {
    /// `decodeElements`, as the `T` (this type) that the caller knows it by.
    static func decodeArray<T>(_ type: T.Type, from decoding: BinaryDecoding, _ reader: inout RawReader, at element: PathElement?) throws -> T {
        try decodeElements(from: decoding, &reader, at: element) as! T
    }
}

extension Array: BinaryEncodableArray where Element: Encodable {
    static var hasOptionalElements: Bool { _isOptional(Element.self) }

    func encodeElements(into encoding: BinaryEncoding, at element: PathElement?) throws {
        let kind = BinaryKind.of(Element.self)
        try encoding.writeUnkeyed(count: count, at: element) {
            for index in indices {
                encoding.writer.writeByte(1)
                try encoding.encodeValue(self[index], kind: kind, at: .index(index))
            }
        }
    }
}

extension Array: BinaryDecodableArray where Element: Decodable {
    static var hasOptionalElements: Bool { _isOptional(Element.self) }

    static func decodeElements(from decoding: BinaryDecoding, _ reader: inout RawReader, at element: PathElement?) throws -> [Element] {
        let kind = BinaryKind.of(Element.self)
        return try decoding.readUnkeyed(&reader, at: element) { elements, count in
            guard count > 0 else { return [] }  // see makeArray: never fill the shared empty array
            return try [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
                for index in 0..<count {
                    try decoding.expectPresent(&elements, Element.self, index: index)
                    (buffer.baseAddress! + index).initialize(to: try decoding.decodeValue(Element.self, kind: kind, from: &elements, at: .index(index)))
                    initialized = index + 1
                }
            }
        }
    }
}

/// Per coder, which types are arrays it can take past `Array`'s own `Codable`: a dynamic cast
/// costs hundreds of instructions, so each type is cast once and remembered (a handful of types
/// per chunk, searched in order).
struct ArrayConformances<Conformance> {
    private var types: [ObjectIdentifier] = []
    private var conformances: [Conformance?] = []

    @inline(__always)
    mutating func lookup<T>(_ type: T.Type, _ cast: () -> Conformance?) -> Conformance? {
        let id = ObjectIdentifier(type)
        for index in types.indices where types[index] == id { return conformances[index] }
        let conformance = cast()
        if types.count < 32 {
            types.append(id)
            conformances.append(conformance)
        }
        return conformance
    }
}
