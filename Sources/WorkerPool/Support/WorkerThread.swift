import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A joinable OS thread (pthread): what every worker runs on.
///
/// Foundation's `Thread` cannot be joined, so a pool built on it could only learn that a worker had
/// *signalled* its exit, not that the thread was gone; `/proc` polling was the workaround, and it
/// exists on Linux only. A pthread that the pool creates joinable and later joins gives
/// `join()`'s guarantee (no thread outlives it) on every platform. The handle must be joined or
/// detached exactly once.
struct WorkerThread: @unchecked Sendable {  // a pthread handle: joined or detached exactly once, by the pool's lifecycle state machine
    let handle: pthread_t

    /// The stack each worker gets: bodies that wait on their own pool run queued work while they
    /// wait (nested), so the stack is sized for depth, not Darwin's 512 KiB default. Virtual memory:
    /// pages are only committed as they are touched.
    static let stackSize = 8 << 20

    /// The pool threads of every pool in the process that were started and have not finished:
    /// counted from just before `pthread_create` to the end of the thread's body. What a thread
    /// leak check reads. Counting threads by name is not enough: on Linux a thread takes the name
    /// of the thread that created it, so a thread that libdispatch or the concurrency runtime
    /// starts from a worker (to run a callback or resume a task) is also called `WPool.<id>`,
    /// and may live on long after the pool.
    private static let live = Atomic<Int>(0)

    /// How many pool threads are running now (see `live`).
    static var liveCount: Int { live.load(ordering: .sequentiallyConsistent) }

    /// Starts a thread named `name` (Linux keeps 15 bytes of it) that runs `body`.
    static func start(name: String, _ body: @escaping @Sendable () -> Void) -> WorkerThread {
        let context = Unmanaged.passRetained(ThreadContext(name: name, body: body)).toOpaque()
        live.wrappingAdd(1, ordering: .sequentiallyConsistent)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, stackSize)
        #if canImport(Darwin)
        var handle: pthread_t?
        let rc = pthread_create(&handle, &attributes, { raw in
            WorkerThread.run(raw)
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return WorkerThread(handle: handle!)
        #else
        var handle = pthread_t()
        let rc = pthread_create(&handle, &attributes, { raw in
            WorkerThread.run(raw!)
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return WorkerThread(handle: handle)
        #endif
    }

    private static func run(_ raw: UnsafeMutableRawPointer) {
        let context = Unmanaged<ThreadContext>.fromOpaque(raw).takeRetainedValue()
        setCurrentName(context.name)
        context.body()
        live.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    }

    /// Waits until the thread has exited and frees its resources.
    func join() {
        let rc = pthread_join(handle, nil)
        precondition(rc == 0, "pthread_join failed: \(rc)")
    }

    /// Lets the thread free its resources by itself when it exits (nobody will join it).
    func detach() {
        let rc = pthread_detach(handle)
        precondition(rc == 0, "pthread_detach failed: \(rc)")
    }

    /// The calling thread's handle.
    static var current: WorkerThread { WorkerThread(handle: pthread_self()) }

    /// Sets the calling thread's OS name (what `top -H`, debuggers and crash reports show).
    static func setCurrentName(_ name: String) {
        #if canImport(Darwin)
        _ = pthread_setname_np(name)
        #elseif os(Linux)
        // Glibc's Swift module does not import `pthread_setname_np`; the kernel's file for the
        // calling thread's name does the same.
        let fd = open("/proc/thread-self/comm", O_WRONLY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        #endif
    }
}

private final class ThreadContext {
    let name: String
    let body: @Sendable () -> Void
    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}
