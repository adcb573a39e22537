import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The keys of one encoding, each written once: keyed fields refer to a key by its index here.
///
/// The table goes at the end of the bytes (the header says where), so it can grow while the values
/// are written. Looking a key up by its text hashes it; keyed containers avoid even that for the
/// usual `CodingKeys` enum through `KeyIndexCache`.
struct KeyTableWriter {
    private(set) var names: [String] = []
    private var indices: [String: Int] = [:]

    /// The index of `name`, added to the table if it is new.
    mutating func index(of name: String) -> Int {
        if let index = indices[name] { return index }
        let index = names.count
        names.append(name)
        indices[name] = index
        return index
    }

    /// Writes the table: a varint count, then each key as a varint length and UTF-8.
    func write(to writer: inout RawWriter) {
        writer.writeVarint(UInt64(names.count))
        for name in names { writer.writeString(name) }
    }
}

/// The key table of an encoding being decoded: where each key's UTF-8 is in the input. Every key
/// is checked to be UTF-8 once, when the table is read.
struct KeyTableReader {
    private let base: UnsafeRawPointer
    private var starts: [Int] = []
    private var lengths: [Int] = []
    /// Built on the first lookup by name in a large table (a dictionary's many keys).
    private var byName: [String: Int]?

    /// Reads the table at `reader`, which must end exactly where the table ends.
    init(_ reader: inout RawReader) throws {
        base = reader.base
        let count = try reader.readCount()
        starts.reserveCapacity(count)
        lengths.reserveCapacity(count)
        for _ in 0..<count {
            let length = try reader.readCount()
            let bytes = try reader.readBytes(length)
            guard String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) != nil else {
                throw RawReader.corrupted("a key in the key table is not UTF-8")
            }
            starts.append(reader.position - length)
            lengths.append(length)
        }
        guard reader.isAtEnd else { throw RawReader.corrupted("\(reader.remaining) bytes after the key table") }
    }

    var count: Int { starts.count }

    /// The text of key `index` (which must be less than `count`).
    func name(_ index: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(start: base + starts[index], count: lengths[index]), as: UTF8.self)
    }

    /// The index of the key spelled `name`, or nil when no field of the input uses that key.
    mutating func index(of name: String) -> Int? {
        if starts.count > 16 {
            if byName == nil {
                var table: [String: Int] = [:]
                for index in 0..<starts.count { table[self.name(index)] = index }
                byName = table
            }
            return byName![name]
        }
        var name = name
        return name.withUTF8 { wanted -> Int? in
            for index in 0..<starts.count where lengths[index] == wanted.count {
                if wanted.isEmpty || memcmp(base + starts[index], wanted.baseAddress!, wanted.count) == 0 { return index }
            }
            return nil
        }
    }
}

/// Maps a key to its index in the key table without asking for its text, for key types whose
/// value is at most one byte of plain data: the `CodingKeys` enums that `Codable` synthesizes, and
/// most written by hand. That byte is the key's identity (a key's `stringValue` is assumed to
/// depend only on its value), so a 256-entry array answers after each key's first use. Other key
/// types (a dictionary's, say) go through the key's text every time.
struct KeyIndexCache<Key: CodingKey> {
    /// Per key byte: the key's index in the table, `unknown`, or `absent` (decoding: no field of the
    /// input has this key).
    private var slots: [Int32]
    static var unknown: Int32 { -1 }
    static var absent: Int32 { -2 }

    init() {
        slots = _isPOD(Key.self) && MemoryLayout<Key>.size <= 1 ? Array(repeating: KeyIndexCache.unknown, count: 256) : []
    }

    var isUsable: Bool { !slots.isEmpty }

    @inline(__always)
    static func byte(of key: Key) -> Int {
        if MemoryLayout<Key>.size == 0 { return 0 }
        return Int(unsafeBitCast(key, to: UInt8.self))
    }

    /// The cached entry for `key` (`unknown` when not cached or not usable).
    @inline(__always)
    func lookup(_ key: Key) -> Int32 {
        guard isUsable else { return KeyIndexCache.unknown }
        return slots[KeyIndexCache.byte(of: key)]
    }

    @inline(__always)
    mutating func store(_ value: Int32, for key: Key) {
        guard isUsable else { return }
        slots[KeyIndexCache.byte(of: key)] = value
    }
}
