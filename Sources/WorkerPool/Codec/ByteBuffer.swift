import Foundation

/// An immutable run of bytes that one chunk's encoding produced. Owns its memory.
@usableFromInline
final class ByteBuffer: @unchecked Sendable {  // immutable after init; the bytes are never written again
    let base: UnsafeMutableRawPointer
    let count: Int

    /// Takes ownership of `count` bytes at `base`, which must come from `UnsafeMutableRawPointer.allocate`.
    init(taking base: UnsafeMutableRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    convenience init(copying bytes: UnsafeRawBufferPointer) {
        let base = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        if let source = bytes.baseAddress, bytes.count > 0 { base.copyMemory(from: source, byteCount: bytes.count) }
        self.init(taking: base, count: bytes.count)
    }

    convenience init(copying data: Data) {
        let count = data.count
        let base = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 16)
        data.withUnsafeBytes { bytes in
            if let source = bytes.baseAddress, count > 0 { base.copyMemory(from: source, byteCount: count) }
        }
        self.init(taking: base, count: count)
    }

    deinit { base.deallocate() }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }
}

/// An append-only byte buffer that grows by doubling: the binary encoder writes into one per chunk,
/// then hands its memory to a `ByteBuffer` without copying.
struct RawWriter {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    private(set) var count = 0

    init(capacity: Int = 256) {
        self.capacity = max(capacity, 16)
        base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    /// Frees the memory of a writer that was not finished (an encoding that threw).
    func discard() { base.deallocate() }

    /// Hands the bytes over; the writer must not be used afterwards.
    func finish() -> ByteBuffer { ByteBuffer(taking: base, count: count) }

    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        // Doubling amortizes many small writes; one big write (a bulk array) gets what it needs
        // and a little room for what usually follows it (the key table), not up to twice that: a
        // 64 MiB array would otherwise take a 128 MiB buffer, copied into once more at the end.
        let newCapacity = max(capacity * 2, needed + 4096)
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func writeByte(_ byte: UInt8) {
        reserve(1)
        base.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Writes a fixed-width integer, little-endian.
    @inline(__always)
    mutating func write<T: FixedWidthInteger>(_ value: T) {
        let size = MemoryLayout<T>.size
        reserve(size)
        base.storeBytes(of: value.littleEndian, toByteOffset: count, as: T.self)
        count += size
    }

    /// Writes an unsigned LEB128 varint (7 bits per byte, at most 10 bytes).
    @inline(__always)
    mutating func writeVarint(_ value: UInt64) {
        if value < 0x80 {
            writeByte(UInt8(truncatingIfNeeded: value))
            return
        }
        reserve(10)
        var v = value
        while v >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: count, as: UInt8.self)
            count += 1
            v >>= 7
        }
        base.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Writes a signed integer as a zigzag varint: small magnitudes of either sign take one byte.
    @inline(__always)
    mutating func writeZigzag(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value &<< 1) ^ (value >> 63)))
    }

    mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    /// Writes a varint length and the UTF-8 bytes of `string`, straight from the string's storage.
    @inline(__always)
    mutating func writeString(_ string: String) {
        if let done = string.utf8.withContiguousStorageIfAvailable({ utf8 -> Bool in
            writeVarint(UInt64(utf8.count))
            writeBytes(UnsafeRawBufferPointer(utf8))
            return true
        }), done { return }
        var string = string
        string.withUTF8 { utf8 in
            writeVarint(UInt64(utf8.count))
            writeBytes(UnsafeRawBufferPointer(utf8))
        }
    }

    /// Reserves one byte for a varint length that `patchLength(at:)` fills in once the bytes it
    /// counts are written. Most lengths fit that byte; a longer one moves the bytes after it up.
    @inline(__always)
    mutating func lengthPlaceholder() -> Int {
        let offset = count
        writeByte(0)
        return offset
    }

    /// Fills the placeholder at `offset` with the number of bytes written after it.
    @inline(__always)
    mutating func patchLength(at offset: Int) {
        let length = count - offset - 1
        if length < 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: length), toByteOffset: offset, as: UInt8.self)
        } else {
            patchLengthAndCount(at: offset, count: nil)
        }
    }

    /// Fills two adjacent placeholders at `offset` (a length, then an element count) with the
    /// number of bytes written after the length's placeholder and `elements`; when either needs
    /// more than one byte, moves the bytes after them up once.
    mutating func patchLengthAndCount(at offset: Int, count elements: Int?) {
        let placeholders = elements == nil ? 1 : 2
        let payloadStart = offset + placeholders
        let payload = count - payloadStart
        let countWidth = elements.map { varintWidth(UInt64($0)) } ?? 0
        let length = payload + countWidth
        let lengthWidth = varintWidth(UInt64(length))
        let shift = lengthWidth + countWidth - placeholders
        if shift > 0 {
            reserve(shift)
            (base + payloadStart + shift).copyMemory(from: base + payloadStart, byteCount: payload)
            count += shift
        }
        var at = storeVarint(UInt64(length), at: offset)
        if let elements { at = storeVarint(UInt64(elements), at: at) }
    }

    /// Stores a varint at `offset`, inside bytes already written; returns the offset after it.
    private mutating func storeVarint(_ value: UInt64, at offset: Int) -> Int {
        var v = value, at = offset
        while v >= 0x80 {
            base.storeBytes(of: UInt8(truncatingIfNeeded: v) | 0x80, toByteOffset: at, as: UInt8.self)
            at += 1
            v >>= 7
        }
        base.storeBytes(of: UInt8(truncatingIfNeeded: v), toByteOffset: at, as: UInt8.self)
        return at + 1
    }

    /// Reserves a 4-byte little-endian slot to be filled in later by `patch(_:at:)`.
    @inline(__always)
    mutating func placeholder32() -> Int {
        let offset = count
        write(UInt32(0))
        return offset
    }

    @inline(__always)
    mutating func patch(_ value: UInt32, at offset: Int) {
        base.storeBytes(of: value.littleEndian, toByteOffset: offset, as: UInt32.self)
    }
}

/// How many bytes `value` takes as a varint.
@inline(__always)
func varintWidth(_ value: UInt64) -> Int {
    (64 - value.leadingZeroBitCount + 6) / 7 + (value == 0 ? 1 : 0)
}

/// A bounds-checked cursor over encoded bytes: every read checks the remaining length first and
/// throws `DecodingError.dataCorrupted` when the bytes run out, so corrupted input never reads out
/// of bounds.
struct RawReader {
    let base: UnsafeRawPointer
    var position: Int
    var end: Int

    init(base: UnsafeRawPointer, position: Int = 0, end: Int) {
        self.base = base
        self.position = position
        self.end = end
    }

    var remaining: Int { end - position }
    var isAtEnd: Bool { position >= end }

    static func corrupted(_ message: String) -> DecodingError {
        DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: message))
    }

    @inline(__always)
    func need(_ n: Int) throws {
        guard n >= 0, n <= end - position else {
            throw RawReader.corrupted("truncated input: needed \(n) bytes, \(end - position) left")
        }
    }

    @inline(__always)
    mutating func readByte() throws -> UInt8 {
        try need(1)
        let byte = base.load(fromByteOffset: position, as: UInt8.self)
        position += 1
        return byte
    }

    @inline(__always)
    func peekByte() throws -> UInt8 {
        try need(1)
        return base.load(fromByteOffset: position, as: UInt8.self)
    }

    @inline(__always)
    mutating func read<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        try need(size)
        let value = base.loadUnaligned(fromByteOffset: position, as: T.self)
        position += size
        return T(littleEndian: value)
    }

    @inline(__always)
    mutating func readVarint() throws -> UInt64 {
        if position < end {
            let first = base.load(fromByteOffset: position, as: UInt8.self)
            if first < 0x80 {
                position += 1
                return UInt64(first)
            }
        }
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try readByte()
            if shift == 63 && byte > 1 { throw RawReader.corrupted("varint overflows 64 bits") }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw RawReader.corrupted("varint longer than 10 bytes") }
        }
    }

    /// Reads a zigzag varint (see `RawWriter.writeZigzag`).
    @inline(__always)
    mutating func readZigzag() throws -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// Moves past one varint without decoding it.
    @inline(__always)
    mutating func skipVarint() throws {
        for _ in 0..<10 where try readByte() < 0x80 { return }
        throw RawReader.corrupted("varint longer than 10 bytes")
    }

    /// Reads a varint count or length and checks it against the bytes left, given that each counted
    /// thing takes at least `minimumSize` bytes. Guards every allocation against corrupted counts.
    @inline(__always)
    mutating func readCount(minimumSize: Int = 1) throws -> Int {
        let raw = try readVarint()
        guard raw <= UInt64(Int.max / max(minimumSize, 1)), Int(raw) * minimumSize <= end - position else {
            throw RawReader.corrupted("count \(raw) exceeds the \(end - position) bytes left")
        }
        return Int(raw)
    }

    @inline(__always)
    mutating func readString() throws -> String {
        let length = try readCount()
        let bytes = UnsafeBufferPointer(start: (base + position).assumingMemoryBound(to: UInt8.self), count: length)
        // ASCII needs no validation (and is most keys and names); anything else is validated.
        // (`String(validating:)` alone costs more for short ASCII strings than this loop.)
        var ascii = true
        for byte in bytes where byte >= 0x80 {
            ascii = false
            break
        }
        let string: String
        if ascii {
            string = String(decoding: bytes, as: UTF8.self)
        } else {
            guard let validated = String(validating: bytes, as: UTF8.self) else {
                throw RawReader.corrupted("invalid UTF-8 in a string")
            }
            string = validated
        }
        position += length
        return string
    }

    /// Returns the next `count` bytes and moves past them.
    @inline(__always)
    mutating func readBytes(_ count: Int) throws -> UnsafeRawBufferPointer {
        try need(count)
        let bytes = UnsafeRawBufferPointer(start: base + position, count: count)
        position += count
        return bytes
    }
}
