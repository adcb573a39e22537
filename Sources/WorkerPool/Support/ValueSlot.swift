/// Room for one value of a type that only the code storing and loading it knows: in place when
/// the value fits 32 bytes (and 8-byte alignment), in one allocation otherwise.
///
/// A generic class's deinit always runs unspecialized, and destroying a stored `Optional<T>` there
/// looks the metadata of `Optional<T>` up in the runtime's hash table: measured at about 325
/// instructions, four times per `apply` (its argument and its result, in the job and the result),
/// a fifth of a small task's whole cost. A slot is not generic, so a class that holds one has
/// nothing to look up: it destroys the value through `T`'s own metadata, which it already has.
///
/// The slot does not know whether it holds a value, nor its type: its owner does, and calls
/// `destroy(as:)` exactly once for every `store`.
@usableFromInline
struct ValueSlot {
    @usableFromInline var bytes: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    @usableFromInline var outOfLine: UnsafeMutableRawPointer?

    @inlinable
    init() {}

    @inlinable
    static func fitsInline<T>(_ type: T.Type) -> Bool {
        MemoryLayout<T>.size <= MemoryLayout<(UInt64, UInt64, UInt64, UInt64)>.size && MemoryLayout<T>.alignment <= 8
    }

    /// Stores `value`; the slot must be empty.
    @inlinable
    mutating func store<T>(_ value: T) {
        if ValueSlot.fitsInline(T.self) {
            withUnsafeMutableBytes(of: &bytes) { _ = $0.baseAddress!.initializeMemory(as: T.self, to: value) }
        } else {
            let cell = UnsafeMutablePointer<T>.allocate(capacity: 1)
            cell.initialize(to: value)
            outOfLine = UnsafeMutableRawPointer(cell)
        }
    }

    /// A copy of the stored value.
    @inlinable
    func load<T>(as type: T.Type) -> T {
        if ValueSlot.fitsInline(T.self) {
            return withUnsafeBytes(of: bytes) { $0.baseAddress!.assumingMemoryBound(to: T.self).pointee }
        }
        return outOfLine.unsafelyUnwrapped.assumingMemoryBound(to: T.self).pointee
    }

    /// Moves the stored value out; the slot is empty afterwards.
    @inlinable
    mutating func take<T>(as type: T.Type) -> T {
        if ValueSlot.fitsInline(T.self) {
            return withUnsafeMutableBytes(of: &bytes) { $0.baseAddress!.assumingMemoryBound(to: T.self).move() }
        }
        let cell = outOfLine.unsafelyUnwrapped.assumingMemoryBound(to: T.self)
        defer {
            cell.deallocate()
            outOfLine = nil
        }
        return cell.move()
    }

    /// Destroys the stored value; the slot is empty afterwards.
    @inlinable
    mutating func destroy<T>(as type: T.Type) {
        if ValueSlot.fitsInline(T.self) {
            withUnsafeMutableBytes(of: &bytes) { _ = $0.baseAddress!.assumingMemoryBound(to: T.self).deinitialize(count: 1) }
        } else {
            let cell = outOfLine.unsafelyUnwrapped.assumingMemoryBound(to: T.self)
            cell.deinitialize(count: 1)
            cell.deallocate()
            outOfLine = nil
        }
    }
}
