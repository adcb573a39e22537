/// Room for one value of a type that only the code storing and loading it knows: in place for a
/// trivial value (no references: `Int`, `Double`, a struct of them) of up to 32 bytes, in one
/// allocation otherwise.
///
/// A generic class's deinit always runs unspecialized, and destroying a stored `Optional<T>` there
/// looks the metadata of `Optional<T>` up in the runtime's hash table: measured at about 325
/// instructions, four times per `apply` (its argument and its result, in the job and the result),
/// a fifth of a small task's whole cost. A slot is not generic, so a class that holds one has
/// nothing to look up: it destroys the value through `T`'s own metadata, which it already has.
///
/// Only trivial values live in place, and they cross in and out as bytes (`copyMemory`,
/// `loadUnaligned`), never through a pointer to `T` bound over the words: the words are typed
/// memory, and the optimizer may assume that a store through a `T` pointer does not change them.
/// An earlier version stored any small value (an array, a string) through such a pointer; release
/// builds then lost the store, and the result later released a null reference (a crash in
/// `pool-bench map`, only with optimization).
///
/// The slot does not know whether it holds a value, nor its type: its owner does, and calls
/// `destroy(as:)` exactly once for every `store`.
@usableFromInline
struct ValueSlot {
    @usableFromInline var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    @usableFromInline var outOfLine: UnsafeMutableRawPointer?

    @inlinable
    init() {}

    /// Whether a `T` lives in the words: trivial (copied as bytes, nothing to release), small
    /// enough, and aligned no more strictly than the words. A constant once specialized.
    @inlinable
    static func fitsInline<T>(_ type: T.Type) -> Bool {
        _isPOD(T.self)
            && MemoryLayout<T>.size <= MemoryLayout<(UInt64, UInt64, UInt64, UInt64)>.size
            && MemoryLayout<T>.alignment <= MemoryLayout<UInt64>.alignment
    }

    /// Stores `value`; the slot must be empty.
    @inlinable
    mutating func store<T>(_ value: T) {
        if ValueSlot.fitsInline(T.self) {
            var packed: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            withUnsafeBytes(of: value) { source in
                withUnsafeMutableBytes(of: &packed) { $0.copyMemory(from: source) }
            }
            words = packed
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
            return withUnsafeBytes(of: words) { $0.loadUnaligned(as: T.self) }
        }
        return outOfLine.unsafelyUnwrapped.assumingMemoryBound(to: T.self).pointee
    }

    /// Moves the stored value out; the slot is empty afterwards.
    @inlinable
    mutating func take<T>(as type: T.Type) -> T {
        if ValueSlot.fitsInline(T.self) {
            return withUnsafeBytes(of: words) { $0.loadUnaligned(as: T.self) }
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
        // A trivial value in the words has nothing to release.
        guard !ValueSlot.fitsInline(T.self) else { return }
        let cell = outOfLine.unsafelyUnwrapped.assumingMemoryBound(to: T.self)
        cell.deinitialize(count: 1)
        cell.deallocate()
        outOfLine = nil
    }
}
