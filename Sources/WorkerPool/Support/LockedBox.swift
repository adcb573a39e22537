#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The storage of a `LockedBox`: the value (as the header), its mutex and a condition variable in
/// one allocation.
@usableFromInline
final class LockedBoxStorage<Value>: ManagedBuffer<Value, LockedBoxStorage<Value>.Primitives> {
    @usableFromInline
    struct Primitives {
        @usableFromInline var mutex = pthread_mutex_t()
        @usableFromInline var condition = pthread_cond_t()
    }

    static func make(_ value: Value) -> LockedBoxStorage<Value> {
        let box = unsafeDowncast(LockedBoxStorage<Value>.create(minimumCapacity: 1) { _ in value }, to: LockedBoxStorage<Value>.self)
        box.withUnsafeMutablePointerToElements { primitives in
            primitives.initialize(to: Primitives())
            let raw = UnsafeMutableRawPointer(primitives)
            initializeMutex((raw + MemoryLayout<Primitives>.offset(of: \.mutex)!).assumingMemoryBound(to: pthread_mutex_t.self))
            initializeCondition((raw + MemoryLayout<Primitives>.offset(of: \.condition)!).assumingMemoryBound(to: pthread_cond_t.self))
        }
        return box
    }

    deinit {
        // ManagedBuffer destroys the value (its header) itself.
        withUnsafeMutablePointerToElements { primitives in
            pthread_cond_destroy(&primitives.pointee.condition)
            pthread_mutex_destroy(&primitives.pointee.mutex)
            primitives.deinitialize(count: 1)
        }
    }
}

/// A value that can only be reached with its lock held (the shape of swift-nio's
/// `NIOLockedValueBox`): the value, its mutex and a condition variable share one allocation.
///
/// Never call user code, resume a continuation, or take a lock that is not a leaf inside
/// `withLockedValue`: decide there, act after. Keep a box only as a stored `let` of the object
/// that uses it (or a `static let`), never only in a local or a temporary: locking goes through
/// raw pointers into the storage and does not keep it alive by itself, so the owner must. Never
/// box a zero-sized value (`Void`): its inout access sits at the object's own address, where
/// ThreadSanitizer then reports the buffer's metadata read as a race.
@usableFromInline
struct LockedBox<Value>: @unchecked Sendable {  // the value is guarded by the storage's mutex
    @usableFromInline let storage: LockedBoxStorage<Value>
    /// The value and the mutex inside `storage` (an object's tail never moves while it lives).
    /// Locking through them touches no reference count: through `storage`, every lock retained
    /// and released the box, two atomic writes to a line that every thread using the lock shares
    /// (a pool's channel and cache shards: the submitter's and both workers').
    @usableFromInline let valuePointer: UnsafeMutablePointer<Value>
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    @usableFromInline init(storage: LockedBoxStorage<Value>) {
        self.storage = storage
        (valuePointer, mutex) = storage.withUnsafeMutablePointers { value, primitives in
            (value, UnsafeMutableRawPointer(primitives).assumingMemoryBound(to: pthread_mutex_t.self))
        }
    }

    static func make(_ value: Value) -> LockedBox<Value> { LockedBox(storage: .make(value)) }

    /// Runs `body` with exclusive access to the value.
    @inlinable @inline(__always)
    func withLockedValue<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        // No retain of `storage`: the box's owner keeps it alive (see the type's comment).
        lockMutex(mutex)
        defer { unlockMutex(mutex) }
        return try body(&valuePointer.pointee)
    }

    /// Waits, with the lock held, until `isDone(value)` is true or `deadline` passes; then runs
    /// `body` on the value, still under the lock. Returns nil when the deadline passed first.
    func wait<T>(until deadline: Deadline = .distantFuture, for isDone: (inout Value) -> Bool,
                 then body: (inout Value) throws -> T) rethrows -> T? {
        try storage.withUnsafeMutablePointers { value, primitives in
            let raw = UnsafeMutableRawPointer(primitives)
            let mutex = raw.assumingMemoryBound(to: pthread_mutex_t.self)
            let condition = (raw + MemoryLayout<LockedBoxStorage<Value>.Primitives>.offset(of: \.condition)!)
                .assumingMemoryBound(to: pthread_cond_t.self)
            lockMutex(mutex)
            defer { unlockMutex(mutex) }
            while !isDone(&value.pointee) {
                if !waitCondition(condition, mutex, until: deadline) && !isDone(&value.pointee) { return nil }
            }
            return try body(&value.pointee)
        }
    }

    /// The box's lock and value without its reference, for a box reached through a copy (an
    /// element of an array): copying a `LockedBox` retains its storage, this trivial view does not.
    /// Valid only while the box itself is kept alive elsewhere.
    var unretained: Unretained { Unretained(valuePointer: valuePointer, mutex: mutex) }

    /// See `unretained`.
    struct Unretained: @unchecked Sendable {  // the value is guarded by the mutex
        let valuePointer: UnsafeMutablePointer<Value>
        let mutex: UnsafeMutablePointer<pthread_mutex_t>

        /// Runs `body` with exclusive access to the value.
        @inline(__always)
        func withLockedValue<T>(_ body: (inout Value) throws -> T) rethrows -> T {
            lockMutex(mutex)
            defer { unlockMutex(mutex) }
            return try body(&valuePointer.pointee)
        }
    }

    /// Wakes every thread in `wait`. Call it after changing the value (with or without the lock).
    func broadcast() {
        storage.withUnsafeMutablePointerToElements { primitives in
            _ = pthread_cond_broadcast(&primitives.pointee.condition)
        }
    }
}
