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
// jumps with the system clock. These wrappers wait on CLOCK_MONOTONIC instead.

/// A non-recursive pthread mutex.
///
/// The mutex lives in its own allocation so that its address never moves.
final class PThreadMutex: @unchecked Sendable {  // the pthread mutex is its own guard
    let raw: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        raw = .allocate(capacity: 1)
        raw.initialize(to: pthread_mutex_t())
        let rc = pthread_mutex_init(raw, nil)
        precondition(rc == 0, "pthread_mutex_init failed: \(rc)")
    }

    deinit {
        pthread_mutex_destroy(raw)
        raw.deinitialize(count: 1)
        raw.deallocate()
    }

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
}

/// A pthread condition variable bound to `CLOCK_MONOTONIC`, used together with a `PThreadMutex`.
final class PThreadCondition: @unchecked Sendable {  // waits and signals happen under the caller's mutex
    private let raw: UnsafeMutablePointer<pthread_cond_t>

    init() {
        raw = .allocate(capacity: 1)
        raw.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if !canImport(Darwin)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        let rc = pthread_cond_init(raw, &attributes)
        pthread_condattr_destroy(&attributes)
        precondition(rc == 0, "pthread_cond_init failed: \(rc)")
    }

    deinit {
        pthread_cond_destroy(raw)
        raw.deinitialize(count: 1)
        raw.deallocate()
    }

    /// Waits until signalled. The caller holds `mutex`.
    @inline(__always)
    func wait(_ mutex: PThreadMutex) {
        let rc = pthread_cond_wait(raw, mutex.raw)
        precondition(rc == 0, "pthread_cond_wait failed: \(rc)")
    }

    /// Waits until signalled or until `deadline`; returns false once the deadline has passed.
    /// The caller holds `mutex` and re-checks its predicate either way (wake-ups may be spurious).
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

/// A value that can only be reached with its lock held (the shape of swift-nio's `NIOLockedValueBox`).
final class LockedBox<Value>: @unchecked Sendable {  // `value` is guarded by `mutex`
    private let mutex = PThreadMutex()
    private var value: Value

    init(_ value: Value) { self.value = value }

    /// Runs `body` with exclusive access to the value. `body` must not call user code.
    @inline(__always)
    func withLockedValue<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        mutex.lock()
        defer { mutex.unlock() }
        return try body(&value)
    }
}
