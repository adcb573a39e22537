#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Every lock in WorkerPool is a pthread mutex. `Synchronization.Mutex` was rejected because
// ThreadSanitizer on Linux does not see its futex-based implementation and reports false races;
// `NSLock`/`NSCondition` were rejected because their timed wait takes a wall-clock `Date`, which
// jumps with the system clock, and because each costs three allocations. The types here keep their
// pthread objects in the same allocation as the object itself (the `ManagedBuffer` layout of
// swift-nio's `NIOLock`), so a lock costs one allocation, and wait on CLOCK_MONOTONIC.
//
// Class properties that a lock guards are marked `@exclusivity(unchecked)`: the lock already
// serializes every access, and the runtime's dynamic exclusivity check (a thread-local access set,
// about 65 instructions per access) was a seventh of a small task's cost.

/// A mutex and a condition variable side by side in one allocation.
@usableFromInline
struct MutexAndCondition {
    @usableFromInline var mutex = pthread_mutex_t()
    @usableFromInline var condition = pthread_cond_t()

    @usableFromInline init() {}
}

/// The flag of an `Event`, kept in its lock's allocation.
@usableFromInline
struct EventFlag {
    @usableFromInline var isSet = false
    @usableFromInline var waiters = 0

    @usableFromInline init() {}
}

/// The storage of a `ConditionLock`: the object, its pthread objects and an event flag (used when
/// the lock backs an `Event`) in one allocation.
@usableFromInline
final class ConditionStorage: ManagedBuffer<EventFlag, MutexAndCondition> {
    @usableFromInline
    static func make() -> ConditionStorage {
        let storage = unsafeDowncast(ConditionStorage.create(minimumCapacity: 1) { _ in EventFlag() }, to: ConditionStorage.self)
        storage.withUnsafeMutablePointerToElements { pointer in
            pointer.initialize(to: MutexAndCondition())
            var rc = pthread_mutex_init(&pointer.pointee.mutex, nil)
            precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            #if !canImport(Darwin)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            #endif
            rc = pthread_cond_init(&pointer.pointee.condition, &attributes)
            pthread_condattr_destroy(&attributes)
            precondition(rc == 0, "pthread_cond_init failed: \(rc)")
        }
        return storage
    }

    deinit {
        withUnsafeMutablePointerToElements { pointer in
            pthread_cond_destroy(&pointer.pointee.condition)
            pthread_mutex_destroy(&pointer.pointee.mutex)
            pointer.deinitialize(count: 1)
        }
    }
}

/// A non-recursive pthread mutex with one condition variable bound to `CLOCK_MONOTONIC`.
@usableFromInline
struct ConditionLock: @unchecked Sendable {  // the pthread objects are their own guard
    @usableFromInline let storage: ConditionStorage

    @usableFromInline
    init(storage: ConditionStorage) { self.storage = storage }

    /// Makes an unlocked lock.
    static func make() -> ConditionLock { ConditionLock(storage: .make()) }

    @inlinable
    var mutex: UnsafeMutablePointer<pthread_mutex_t> {
        storage.withUnsafeMutablePointerToElements {
            (UnsafeMutableRawPointer($0) + MemoryLayout<MutexAndCondition>.offset(of: \.mutex)!).assumingMemoryBound(to: pthread_mutex_t.self)
        }
    }

    @inlinable
    var condition: UnsafeMutablePointer<pthread_cond_t> {
        storage.withUnsafeMutablePointerToElements {
            (UnsafeMutableRawPointer($0) + MemoryLayout<MutexAndCondition>.offset(of: \.condition)!).assumingMemoryBound(to: pthread_cond_t.self)
        }
    }

    @inlinable
    func lock() {
        let rc = pthread_mutex_lock(mutex)
        precondition(rc == 0, "pthread_mutex_lock failed: \(rc)")
    }

    @inlinable
    func unlock() {
        let rc = pthread_mutex_unlock(mutex)
        precondition(rc == 0, "pthread_mutex_unlock failed: \(rc)")
    }

    /// Runs `body` with the mutex held. `body` must not call user code.
    @inlinable
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Waits until signalled. The caller holds the mutex.
    @usableFromInline
    func wait() {
        let rc = pthread_cond_wait(condition, mutex)
        precondition(rc == 0, "pthread_cond_wait failed: \(rc)")
    }

    /// Waits until signalled or until `deadline`; returns false once the deadline has passed.
    /// The caller holds the mutex and re-checks its predicate either way (wake-ups may be spurious).
    @usableFromInline
    func wait(until deadline: Deadline) -> Bool {
        if deadline.isDistantFuture {
            wait()
            return true
        }
        #if canImport(Darwin)
        let remaining = deadline.remaining
        if remaining <= .zero { return false }
        var relative = remaining.asTimespec
        let rc = pthread_cond_timedwait_relative_np(condition, mutex, &relative)
        #else
        var absolute = deadline.asTimespec
        let rc = pthread_cond_timedwait(condition, mutex, &absolute)
        #endif
        if rc == ETIMEDOUT { return false }
        precondition(rc == 0, "pthread_cond_timedwait failed: \(rc)")
        return true
    }

    @inlinable
    func signal() { pthread_cond_signal(condition) }

    @inlinable
    func broadcast() { pthread_cond_broadcast(condition) }
}

/// The storage of a `PThreadMutex`: the object and the mutex in one allocation.
final class MutexStorage: ManagedBuffer<Void, pthread_mutex_t> {
    static func make() -> MutexStorage {
        let storage = unsafeDowncast(MutexStorage.create(minimumCapacity: 1) { _ in () }, to: MutexStorage.self)
        storage.withUnsafeMutablePointerToElements { pointer in
            pointer.initialize(to: pthread_mutex_t())
            let rc = pthread_mutex_init(pointer, nil)
            precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
        }
        return storage
    }

    deinit {
        withUnsafeMutablePointerToElements { pointer in
            pthread_mutex_destroy(pointer)
            pointer.deinitialize(count: 1)
        }
    }
}

/// A non-recursive pthread mutex, in one allocation.
struct PThreadMutex: @unchecked Sendable {  // the pthread mutex is its own guard
    private let storage: MutexStorage

    static func make() -> PThreadMutex { PThreadMutex(storage: .make()) }

    @inline(__always)
    var raw: UnsafeMutablePointer<pthread_mutex_t> { storage.withUnsafeMutablePointerToElements { $0 } }

    @inline(__always)
    func lock() {
        let rc = pthread_mutex_lock(raw)
        precondition(rc == 0, "pthread_mutex_lock failed: \(rc)")
    }

    @inline(__always)
    func unlock() {
        let rc = pthread_mutex_unlock(raw)
        precondition(rc == 0, "pthread_mutex_unlock failed: \(rc)")
    }

    /// Runs `body` with the mutex held. `body` must not call user code.
    @inline(__always)
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Locks and unlocks: the awaiting half of an *ordered resume*.
    ///
    /// Every continuation this library resumes from another thread is resumed while that thread
    /// holds a mutex, and the resumed task passes through the same mutex before it goes on. The
    /// concurrency runtime orders the two threads itself, in code ThreadSanitizer does not watch, so
    /// TSan can see no ordering between the resumer's last read of the continuation (in the task's
    /// frame) and the task's next write to that memory. CI once reported exactly that, as a race in
    /// `withUnsafeThrowingContinuation`; it needs the resume to land in a narrow window (most likely
    /// before the task has suspended), which is why it is rare. The mutex makes the ordering
    /// visible. Resuming never runs user code (it only enqueues the task), so it is allowed under
    /// the lock.
    @inline(__always)
    func passThrough() {
        lock()
        unlock()
    }
}

/// A pthread condition variable bound to `CLOCK_MONOTONIC`, waited on with a separate
/// `PThreadMutex` (for a mutex with several conditions, as the channel has).
struct PThreadCondition: @unchecked Sendable {  // waits and signals happen under the caller's mutex
    private let storage: ConditionVariableStorage

    static func make() -> PThreadCondition { PThreadCondition(storage: .make()) }

    @inline(__always)
    private var raw: UnsafeMutablePointer<pthread_cond_t> { storage.withUnsafeMutablePointerToElements { $0 } }

    /// Waits until signalled. The caller holds `mutex`.
    @inline(__always)
    func wait(_ mutex: PThreadMutex) {
        let rc = pthread_cond_wait(raw, mutex.raw)
        precondition(rc == 0, "pthread_cond_wait failed: \(rc)")
    }

    /// Waits until signalled or until `deadline`; returns false once the deadline has passed.
    func wait(_ mutex: PThreadMutex, until deadline: Deadline) -> Bool {
        if deadline.isDistantFuture {
            wait(mutex)
            return true
        }
        #if canImport(Darwin)
        let remaining = deadline.remaining
        if remaining <= .zero { return false }
        var relative = remaining.asTimespec
        let rc = pthread_cond_timedwait_relative_np(raw, mutex.raw, &relative)
        #else
        var absolute = deadline.asTimespec
        let rc = pthread_cond_timedwait(raw, mutex.raw, &absolute)
        #endif
        if rc == ETIMEDOUT { return false }
        precondition(rc == 0, "pthread_cond_timedwait failed: \(rc)")
        return true
    }

    @inline(__always)
    func signal() { pthread_cond_signal(raw) }

    @inline(__always)
    func broadcast() { pthread_cond_broadcast(raw) }
}

/// The storage of a `LockedBox`: the value (as the header) and its mutex in one allocation.
final class LockedBoxStorage<Value>: ManagedBuffer<Value, pthread_mutex_t> {
    static func make(_ value: Value) -> LockedBoxStorage<Value> {
        let box = unsafeDowncast(LockedBoxStorage<Value>.create(minimumCapacity: 1) { _ in value }, to: LockedBoxStorage<Value>.self)
        box.withUnsafeMutablePointerToElements { pointer in
            pointer.initialize(to: pthread_mutex_t())
            let rc = pthread_mutex_init(pointer, nil)
            precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
        }
        return box
    }

    deinit {
        // ManagedBuffer destroys the value (its header) itself.
        withUnsafeMutablePointerToElements { mutex in
            pthread_mutex_destroy(mutex)
            mutex.deinitialize(count: 1)
        }
    }
}

/// A value that can only be reached with its lock held (the shape of swift-nio's
/// `NIOLockedValueBox`): the value and its mutex share one allocation.
struct LockedBox<Value>: @unchecked Sendable {  // the value is guarded by the storage's mutex
    private let storage: LockedBoxStorage<Value>

    static func make(_ value: Value) -> LockedBox<Value> { LockedBox(storage: .make(value)) }

    /// Runs `body` with exclusive access to the value. `body` must not call user code.
    @inline(__always)
    func withLockedValue<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try storage.withUnsafeMutablePointers { value, mutex in
            pthread_mutex_lock(mutex)
            defer { pthread_mutex_unlock(mutex) }
            return try body(&value.pointee)
        }
    }
}

/// The storage of a `PThreadCondition`.
final class ConditionVariableStorage: ManagedBuffer<Void, pthread_cond_t> {
    static func make() -> ConditionVariableStorage {
        let storage = unsafeDowncast(ConditionVariableStorage.create(minimumCapacity: 1) { _ in () }, to: ConditionVariableStorage.self)
        storage.withUnsafeMutablePointerToElements { pointer in
            pointer.initialize(to: pthread_cond_t())
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            #if !canImport(Darwin)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            #endif
            let rc = pthread_cond_init(pointer, &attributes)
            pthread_condattr_destroy(&attributes)
            precondition(rc == 0, "pthread_cond_init failed: \(rc)")
        }
        return storage
    }

    deinit {
        withUnsafeMutablePointerToElements { pointer in
            pthread_cond_destroy(pointer)
            pointer.deinitialize(count: 1)
        }
    }
}

/// An event's flag and its lock, in one allocation: what `Event` and `AsyncResult` are built on.
@usableFromInline
struct EventCore: @unchecked Sendable {  // the flag is guarded by `lock`
    @usableFromInline let lock: ConditionLock

    @usableFromInline
    init() { lock = .make() }

    /// The flag; read and written only with `lock` held.
    @inlinable
    var flag: UnsafeMutablePointer<EventFlag> {
        lock.storage.withUnsafeMutablePointerToHeader { $0 }
    }

    /// Raises the flag while the caller holds `lock`. Returns whether the caller must call
    /// `lock.broadcast()` (there are waiters).
    @inlinable
    func setLocked() -> Bool {
        flag.pointee.isSet = true
        return flag.pointee.waiters > 0
    }

    @inlinable
    func set() {
        lock.lock()
        let wake = setLocked()
        lock.unlock()
        if wake { lock.broadcast() }
    }

    func clear() {
        lock.withLock { flag.pointee.isSet = false }
    }

    var isSet: Bool {
        lock.withLock { flag.pointee.isSet }
    }

    /// Waits, with `lock` held, until `ready()` is true or `deadline` passes; returns `ready()`.
    @inlinable
    func waitLocked(until deadline: Deadline, for ready: () -> Bool) -> Bool {
        while !ready() {
            flag.pointee.waiters += 1
            let inTime = lock.wait(until: deadline)
            flag.pointee.waiters -= 1
            if !inTime { return ready() }
        }
        return true
    }

    func wait(until deadline: Deadline) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return waitLocked(until: deadline) { flag.pointee.isSet }
    }
}
