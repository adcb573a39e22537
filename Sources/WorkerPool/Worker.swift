import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-worker counters for `Pool.statistics`. Each worker owns one and only its own thread writes
/// it, so the hot path takes an uncontended lock of its own instead of one pool-wide lock.
struct WorkerCounters {
    var busy = false
    var chunksCompleted = 0
    var itemsCompleted = 0
    var itemsFailed = 0
    var itemsCancelled = 0
}

/// One worker thread: its id, its pool, what it is running. Reachable from a body through a
/// thread-local (`Pool.currentWorkerID`, `Pool.isCurrentTaskCancelled`).
@usableFromInline
final class WorkerContext: @unchecked Sendable {  // `counters` is guarded by its LockedBox; `currentJob` is only touched by the worker's own thread
    let id: Int
    let core: PoolCore
    let counters = LockedBox.make(WorkerCounters())
    /// The job whose chunk this thread is running; only this thread reads or writes it.
    @exclusivity(unchecked) var currentJob: (any Job)?

    init(id: Int, core: PoolCore) {
        self.id = id
        self.core = core
    }

    /// Marks the start of a chunk of `job` (for `isCurrentTaskCancelled` and `workersBusy`).
    @usableFromInline
    func begin(_ job: any Job) {
        currentJob = job
        counters.withLockedValue { $0.busy = true }
    }

    /// Marks the end of a chunk and counts its items.
    @usableFromInline
    func end(completed: Int, failed: Int, cancelled: Int) {
        currentJob = nil
        counters.withLockedValue {
            $0.busy = false
            $0.chunksCompleted += 1
            $0.itemsCompleted += completed
            $0.itemsFailed += failed
            $0.itemsCancelled += cancelled
        }
    }

    /// Counts items that this worker dropped without running them (a chunk of a failed job).
    func countCancelled(_ items: Int) {
        guard items > 0 else { return }
        counters.withLockedValue { $0.itemsCancelled += items }
    }

    // MARK: The thread-local

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key, nil)
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        return key
    }()

    /// The worker running the calling thread, or nil off the pool's workers.
    static var current: WorkerContext? {
        guard let pointer = pthread_getspecific(key) else { return nil }
        return Unmanaged<WorkerContext>.fromOpaque(pointer).takeUnretainedValue()
    }

    // MARK: The worker loop

    /// The prefix of every worker thread's name.
    static let namePrefix = "WPool."

    /// The thread's name, `WPool.<id>`: Linux keeps 15 bytes of a thread's name, so the prefix is
    /// short enough for ids up to 999,999,999 to fit (a long-running pool that replaces its
    /// workers reaches five-digit ids soon, and `WorkerPool.` would leave room for four).
    var name: String { "\(WorkerContext.namePrefix)\(id)" }

    /// Starts the worker's dedicated thread.
    func start() {
        let thread = Thread { [self] in self.main() }
        thread.name = name
        if let stackSize = core.configuration.threadStackSize { thread.stackSize = stackSize }
        thread.start()
    }

    /// Python's `worker()`: initializer once, then chunks until the channel closes or
    /// `maxTasksPerWorker` chunks are done.
    private func main() {
        // Foundation's `Thread.name` on Linux is the OS name (what `top -H`, gdb and /proc show).
        OSThread.setCurrentName(name)
        let tid = OSThread.currentTID()
        pthread_setspecific(WorkerContext.key, Unmanaged.passUnretained(self).toOpaque())
        defer { pthread_setspecific(WorkerContext.key, nil) }

        if let initializer = core.configuration.initializer {
            do {
                try initializer()
            } catch {
                core.initializerFailed(worker: id, error: error)
                core.workerExiting(self, tid: tid, wantsReplacement: false)
                return
            }
        }
        var chunksDone = 0
        let limit = core.configuration.maxTasksPerWorker
        while let job = core.tasks.receiveWithoutTimeout() {
            guard job.runChunk(on: self) else { continue }
            chunksDone += 1
            if let limit, chunksDone >= limit {
                core.workerExiting(self, tid: tid, wantsReplacement: true)
                return
            }
        }
        core.workerExiting(self, tid: tid, wantsReplacement: false)
    }
}
