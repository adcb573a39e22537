#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Parks one thread until another unparks it (the primitive under every blocking wait of the pool:
/// an idle worker, `get()`, a bounded submission, a worker helping while it waits).
///
/// A permit that `unpark()` grants and `park()` consumes, with a mutex and a condition variable, in
/// one allocation. An `unpark()` that comes before the `park()` is not lost: the park then returns
/// at once. Each thread has its own (`Parker.current`), so a thread can register its parker in
/// several places at once (a result it waits for and the task channel it helps from) and be woken
/// by whichever comes first.
struct Parker: @unchecked Sendable {  // the permit is guarded by the storage's mutex
    private let storage: ParkerStorage

    static func make() -> Parker {
        let storage = unsafeDowncast(ParkerStorage.create(minimumCapacity: 1) { _ in false }, to: ParkerStorage.self)
        storage.withUnsafeMutablePointerToElements { primitives in
            primitives.initialize(to: ParkerStorage.Primitives())
            let raw = UnsafeMutableRawPointer(primitives)
            initializeMutex((raw + MemoryLayout<ParkerStorage.Primitives>.offset(of: \.mutex)!).assumingMemoryBound(to: pthread_mutex_t.self))
            initializeCondition((raw + MemoryLayout<ParkerStorage.Primitives>.offset(of: \.condition)!).assumingMemoryBound(to: pthread_cond_t.self))
        }
        return Parker(storage: storage)
    }

    /// Blocks until `unpark()` grants the permit (or granted it already) or `deadline` passes;
    /// consumes the permit. Returns false on timeout.
    func park(until deadline: Deadline = .distantFuture) -> Bool {
        storage.withUnsafeMutablePointers { permit, primitives in
            lockMutex(&primitives.pointee.mutex)
            defer { unlockMutex(&primitives.pointee.mutex) }
            while !permit.pointee {
                if !waitCondition(&primitives.pointee.condition, &primitives.pointee.mutex, until: deadline) && !permit.pointee {
                    return false
                }
            }
            permit.pointee = false
            return true
        }
    }

    /// Grants the permit and wakes the parked thread, if any.
    func unpark() {
        storage.withUnsafeMutablePointers { permit, primitives in
            lockMutex(&primitives.pointee.mutex)
            permit.pointee = true
            unlockMutex(&primitives.pointee.mutex)
            pthread_cond_signal(&primitives.pointee.condition)
        }
    }

    // MARK: One per thread

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        #if canImport(Darwin)
        let rc = pthread_key_create(&key) { Unmanaged<ParkerStorage>.fromOpaque($0).release() }
        #else
        let rc = pthread_key_create(&key) { if let pointer = $0 { Unmanaged<ParkerStorage>.fromOpaque(pointer).release() } }
        #endif
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        return key
    }()

    /// The calling thread's parker, made on first use and released when the thread exits.
    static var current: Parker {
        if let pointer = pthread_getspecific(key) {
            return Parker(storage: Unmanaged<ParkerStorage>.fromOpaque(pointer).takeUnretainedValue())
        }
        let parker = Parker.make()
        pthread_setspecific(key, Unmanaged.passRetained(parker.storage).toOpaque())
        return parker
    }
}

/// The storage of a `Parker`: the permit (as the header), its mutex and its condition variable.
final class ParkerStorage: ManagedBuffer<Bool, ParkerStorage.Primitives> {
    struct Primitives {
        var mutex = pthread_mutex_t()
        var condition = pthread_cond_t()
    }

    deinit {
        withUnsafeMutablePointerToElements { primitives in
            pthread_cond_destroy(&primitives.pointee.condition)
            pthread_mutex_destroy(&primitives.pointee.mutex)
            primitives.deinitialize(count: 1)
        }
    }
}
