#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The storage of a `PThreadCondition`.
final class ConditionVariableStorage: ManagedBuffer<Void, pthread_cond_t> {
    static func make() -> ConditionVariableStorage {
        let storage = unsafeDowncast(ConditionVariableStorage.create(minimumCapacity: 1) { _ in () }, to: ConditionVariableStorage.self)
        storage.withUnsafeMutablePointerToElements { initializeCondition($0) }
        return storage
    }

    deinit {
        withUnsafeMutablePointerToElements { condition in
            pthread_cond_destroy(condition)
            condition.deinitialize(count: 1)
        }
    }
}

/// A pthread condition variable bound to `CLOCK_MONOTONIC`, waited on with a separate
/// `PThreadMutex` (for a mutex with several conditions, as the public `Channel` has).
struct PThreadCondition: @unchecked Sendable {  // waits and signals happen under the caller's mutex
    private let storage: ConditionVariableStorage

    static func make() -> PThreadCondition { PThreadCondition(storage: .make()) }

    private var raw: UnsafeMutablePointer<pthread_cond_t> { storage.withUnsafeMutablePointerToElements { $0 } }

    /// Waits until signalled or until `deadline`; returns false once the deadline has passed.
    /// The caller holds `mutex` and re-checks its predicate either way.
    func wait(_ mutex: PThreadMutex, until deadline: Deadline) -> Bool {
        waitCondition(raw, mutex.raw, until: deadline)
    }

    func signal() { pthread_cond_signal(raw) }

    func broadcast() { pthread_cond_broadcast(raw) }
}
