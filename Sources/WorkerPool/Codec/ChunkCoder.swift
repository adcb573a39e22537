import Foundation

/// The bytes a codec produced for one chunk.
@usableFromInline
enum EncodedChunk: Sendable {
    case data(Data)
    case bytes(ByteBuffer)
}

/// One value as a codec encoded it (an `apply`'s argument or result).
@usableFromInline
enum EncodedValue: Sendable {
    /// A fixed-width number's or a `Bool`'s little-endian bytes, in place: what the binary codec
    /// writes for each element of a chunk of them (one bulk copy), without a buffer to allocate.
    case fixedWidth(UInt64, UInt64)
    /// Anything else: a chunk of one value.
    case chunk(EncodedChunk)
}

/// The types whose binary encoding is their own little-endian bytes (the bulk path's elements).
@usableFromInline
enum FixedWidth {
    /// Whether `T` is one of them; a constant once specialized.
    @inlinable
    static func covers<T>(_ type: T.Type) -> Bool {
        MemoryLayout<T>.size <= 16
            && (T.self == Int.self || T.self == Double.self || T.self == Bool.self || T.self == Int64.self || T.self == UInt64.self
                || T.self == Int32.self || T.self == UInt32.self || T.self == Float.self || T.self == UInt.self
                || T.self == Int16.self || T.self == UInt16.self || T.self == Int8.self || T.self == UInt8.self)
    }

    @inlinable
    static func pack<T>(_ value: T) -> EncodedValue {
        var words: (UInt64, UInt64) = (0, 0)
        withUnsafeBytes(of: value) { source in
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: source) }
        }
        return .fixedWidth(words.0, words.1)
    }

    @inlinable
    static func unpack<T>(_ first: UInt64, _ second: UInt64, as type: T.Type) throws -> T {
        let words = (first, second)
        if T.self == Bool.self && first > 1 {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "byte \(first) is not a Bool"))
        }
        return withUnsafeBytes(of: words) { $0.loadUnaligned(as: T.self) }
    }
}

/// How one chunk of values of type `T` crosses a codec: built once per job from the pool's
/// `TaskCodec`, then called once per chunk and direction by whichever thread moves the chunk.
@usableFromInline
struct ChunkCoder<T>: Sendable {
    /// Encodes the chunk's values into one buffer.
    @usableFromInline let encode: @Sendable (UnsafeBufferPointer<T>) throws -> EncodedChunk
    /// Initializes `count` values at the destination from the bytes; on throw it has initialized none.
    @usableFromInline let decode: @Sendable (EncodedChunk, _ count: Int, _ destination: UnsafeMutablePointer<T>) throws -> Void

    @inlinable
    init(encode: @escaping @Sendable (UnsafeBufferPointer<T>) throws -> EncodedChunk,
         decode: @escaping @Sendable (EncodedChunk, _ count: Int, _ destination: UnsafeMutablePointer<T>) throws -> Void) {
        self.encode = encode
        self.decode = decode
    }
}

extension TaskCodec {
    /// Encodes one value (an `apply`'s argument or result); nil for `.passthrough`. Fixed-width
    /// numbers cross the binary codec in place, with no allocation. Static, on the codec's tag and
    /// coder: the per-task path never copies a `TaskCodec` (its existential would be retained and
    /// released, on an object every thread shares). The coder is read only when the tag says it is
    /// used: reading it from the pool's core retained and released the core around the copy.
    @inlinable
    static func encodeOne<T: Codable & Sendable>(_ value: T, tag: Tag, coder: @autoclosure () -> (any TaskCoder)?) throws -> EncodedValue? {
        switch tag {
        case .passthrough:
            return nil
        case .binary:
            if FixedWidth.covers(T.self) { return FixedWidth.pack(value) }
            return .chunk(.bytes(try withSingleElementBuffer(value) { try BinaryEncoder.encodeChunk($0) }))
        case .coder:
            return .chunk(.data(try coder()!.encode([value])))
        }
    }

    /// Decodes one value that `encodeOne` encoded.
    @inlinable
    static func decodeOne<T: Codable & Sendable>(_ encoded: EncodedValue, as type: T.Type, tag: Tag, coder: @autoclosure () -> (any TaskCoder)?) throws -> T {
        switch encoded {
        case .fixedWidth(let first, let second):
            return try FixedWidth.unpack(first, second, as: T.self)
        case .chunk(let chunk):
            switch tag {
            case .coder:
                let values = try coder()!.decode([T].self, from: chunk.data)
                try checkCount(values.count, expected: 1)
                return values[0]
            case .binary, .passthrough:
                return try withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { slot in
                    try BinaryDecoder.decodeChunk(T.self, from: chunk.byteBuffer, count: 1, into: slot.baseAddress!)
                    return slot.baseAddress!.move()
                }
            }
        }
    }

    /// The coder for chunks of `T`, or `nil` for `.passthrough` (values cross in memory).
    /// Inlinable so its closures are made for the caller's concrete type.
    @inlinable
    func chunkCoder<T: Codable & Sendable>(for type: T.Type) -> ChunkCoder<T>? {
        switch kind {
        case .passthrough:
            return nil
        case .binary:
            return ChunkCoder(
                encode: { values in .bytes(try BinaryEncoder.encodeChunk(values)) },
                decode: { chunk, count, destination in
                    try BinaryDecoder.decodeChunk(T.self, from: chunk.byteBuffer, count: count, into: destination)
                }
            )
        case .coder(let coder):
            return ChunkCoder(
                encode: { values in .data(try coder.encode(Array(values))) },
                decode: { chunk, count, destination in
                    let values = try coder.decode([T].self, from: chunk.data)
                    try initialize(destination, count: count, from: values)
                }
            )
        }
    }

    /// The coder for chunks of argument tuples (`starmap`): each element of each tuple crosses
    /// the codec in order. `nil` for `.passthrough`.
    func packCoder<each A: Codable & Sendable>(for types: repeat (each A).Type) -> ChunkCoder<(repeat each A)>? {
        switch kind {
        case .passthrough:
            return nil
        case .binary:
            return ChunkCoder(
                encode: { rows in
                    let writer = BinaryWriter()
                    writer.writeCount(rows.count)
                    for i in 0..<rows.count {
                        let row = rows[i]
                        repeat try writer.encodeValue(each row)
                    }
                    return .bytes(writer.finish())
                },
                decode: { chunk, count, destination in
                    var reader = try BinaryReader(chunk.byteBuffer)
                    let stored = try reader.readCount()
                    try checkCount(stored, expected: count)
                    var initialized = 0
                    do {
                        while initialized < count {
                            (destination + initialized).initialize(to: (repeat try reader.decodeValue((each A).self)))
                            initialized += 1
                        }
                        try reader.expectEnd()
                    } catch {
                        destination.deinitialize(count: initialized)
                        throw error
                    }
                }
            )
        case .coder(let coder):
            return ChunkCoder(
                encode: { rows in .data(try coder.encode(PackRows<repeat each A>(Array(rows)))) },
                decode: { chunk, count, destination in
                    let rows = try coder.decode(PackRows<repeat each A>.self, from: chunk.data).rows
                    try initialize(destination, count: count, from: rows)
                }
            )
        }
    }
}

@usableFromInline
func checkCount(_ stored: Int, expected: Int) throws {
    guard stored == expected else {
        throw DecodingError.dataCorrupted(.init(
            codingPath: [], debugDescription: "chunk holds \(stored) values, expected \(expected)"))
    }
}

@usableFromInline
func initialize<T>(_ destination: UnsafeMutablePointer<T>, count: Int, from values: [T]) throws {
    try checkCount(values.count, expected: count)
    values.withUnsafeBufferPointer { buffer in
        if let base = buffer.baseAddress { destination.initialize(from: base, count: count) }
    }
}

extension EncodedChunk {
    @usableFromInline
    var data: Data {
        switch self {
        case .data(let data): return data
        case .bytes(let buffer): return buffer.withUnsafeBytes { Data($0) }
        }
    }

    @usableFromInline
    var byteBuffer: ByteBuffer {
        switch self {
        case .bytes(let buffer): return buffer
        case .data(let data): return ByteBuffer(copying: data)
        }
    }
}

/// A chunk of argument tuples as one `Codable` value: an unkeyed container holding each tuple's
/// elements in order. A class because a struct that stores a parameter-pack tuple crashes the
/// Swift 6.3 compiler.
final class PackRows<each A: Codable & Sendable>: Codable, @unchecked Sendable {  // immutable after init
    let rows: [(repeat each A)]

    init(_ rows: [(repeat each A)]) { self.rows = rows }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(rows.count)
        for i in rows.indices {
            let row = rows[i]
            repeat try container.encode(each row)
        }
    }

    required init(from decoder: any Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let count = try container.decode(Int.self)
        guard count >= 0 else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "negative row count \(count)")
        }
        var rows: [(repeat each A)] = []
        rows.reserveCapacity(min(count, 1 << 16))
        for _ in 0..<count {
            rows.append((repeat try container.decode((each A).self)))
        }
        self.rows = rows
    }
}
