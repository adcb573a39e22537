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
// jumps with the system clock. The pthread objects live in a `ManagedBuffer`'s tail (the layout of
// swift-nio's `NIOLock`): a stored property of a class has no stable address, a tail element does.
// Debug builds use error-checking mutexes, so that a relock or an unlock from the wrong thread traps
// at once instead of deadlocking or corrupting state.

/// Initializes a pthread mutex in place: error-checking in debug builds, normal otherwise.
@usableFromInline
func initializeMutex(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
    mutex.initialize(to: pthread_mutex_t())
    var attributes = pthread_mutexattr_t()
    pthread_mutexattr_init(&attributes)
    #if DEBUG
    pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ERRORCHECK))
    #elseif os(Linux) && canImport(Glibc)
    // glibc's adaptive mutex spins briefly before it sleeps in the kernel: the pool's critical
    // sections are a few dozen instructions, so a contended lock is usually free again within the
    // spin, and each avoided futex wait and wake is a system call (PTHREAD_MUTEX_ADAPTIVE_NP, which
    // Glibc's Swift module does not export by name).
    pthread_mutexattr_settype(&attributes, 3)
    #endif
    let rc = pthread_mutex_init(mutex, &attributes)
    pthread_mutexattr_destroy(&attributes)
    precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
}

/// Initializes a pthread condition variable in place, bound to `CLOCK_MONOTONIC` where the platform
/// allows (Darwin's timed wait takes a relative time instead).
func initializeCondition(_ condition: UnsafeMutablePointer<pthread_cond_t>) {
    condition.initialize(to: pthread_cond_t())
    var attributes = pthread_condattr_t()
    pthread_condattr_init(&attributes)
    #if !canImport(Darwin)
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
    #endif
    let rc = pthread_cond_init(condition, &attributes)
    pthread_condattr_destroy(&attributes)
    precondition(rc == 0, "pthread_cond_init failed: \(rc)")
}

@usableFromInline @inline(__always)
func lockMutex(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
    let rc = pthread_mutex_lock(mutex)
    precondition(rc == 0, "pthread_mutex_lock failed: \(rc)")
}

@usableFromInline @inline(__always)
func unlockMutex(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
    let rc = pthread_mutex_unlock(mutex)
    precondition(rc == 0, "pthread_mutex_unlock failed: \(rc)")
}

/// Waits on `condition` with `mutex` held, until signalled or until `deadline`; returns false once
/// the deadline has passed. The caller re-checks its predicate either way (wake-ups may be spurious).
func waitCondition(_ condition: UnsafeMutablePointer<pthread_cond_t>, _ mutex: UnsafeMutablePointer<pthread_mutex_t>,
                   until deadline: Deadline) -> Bool {
    if deadline.isDistantFuture {
        let rc = pthread_cond_wait(condition, mutex)
        precondition(rc == 0, "pthread_cond_wait failed: \(rc)")
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

/// The storage of a `PThreadMutex`: the object and the mutex in one allocation.
@usableFromInline
final class MutexStorage: ManagedBuffer<Void, pthread_mutex_t> {
    static func make() -> MutexStorage {
        let storage = unsafeDowncast(MutexStorage.create(minimumCapacity: 1) { _ in () }, to: MutexStorage.self)
        storage.withUnsafeMutablePointerToElements { initializeMutex($0) }
        return storage
    }

    deinit {
        withUnsafeMutablePointerToElements { mutex in
            pthread_mutex_destroy(mutex)
            mutex.deinitialize(count: 1)
        }
    }
}

/// A non-recursive pthread mutex in one allocation, for state that cannot live inside the lock's
/// own box (`LockedBox` is the preferred shape).
@usableFromInline
struct PThreadMutex: @unchecked Sendable {  // the pthread mutex is its own guard
    @usableFromInline let storage: MutexStorage

    static func make() -> PThreadMutex { PThreadMutex(storage: .make()) }

    @usableFromInline init(storage: MutexStorage) { self.storage = storage }

    @inlinable @inline(__always)
    var raw: UnsafeMutablePointer<pthread_mutex_t> { storage.withUnsafeMutablePointerToElements { $0 } }

    @inlinable @inline(__always)
    func lock() { lockMutex(raw) }

    @inlinable @inline(__always)
    func unlock() { unlockMutex(raw) }

    /// Runs `body` with the mutex held. `body` must not call user code.
    @inlinable @inline(__always)
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}
