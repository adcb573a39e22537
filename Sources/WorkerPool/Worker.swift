#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One worker: its id, its pool, its counters, what it is running. Reachable from a body through a
/// thread-local (`Pool.currentWorkerID`, `Pool.isCurrentTaskCancelled`).
@usableFromInline
final class WorkerContext: @unchecked Sendable {  // `currentJob` is only read and written by the worker's own thread; the rest is immutable
    let id: Int
    @usableFromInline let core: PoolCore
    let counters: WorkerCounters
    /// The thread this worker replaces (`maxTasksPerWorker`), joined before the first task.
    private let predecessor: WorkerThread?
    /// The job whose chunk this thread is running (the innermost, while it helps). Not counted:
    /// it is set only between `begin` and `end` of a chunk, while the caller holds the job (and
    /// the outer job it restores is held further up the same thread's stack). A counted reference
    /// cost a retain and a release per task, on the line of a job that other threads write.
    private unowned(unsafe) var currentJob: (any Job)?

    init(id: Int, core: PoolCore, counters: WorkerCounters, predecessor: WorkerThread?) {
        self.id = id
        self.core = core
        self.counters = counters
        self.predecessor = predecessor
    }

    /// Whether the job of the running chunk was cancelled, failed or terminated.
    var isCurrentJobCancelled: Bool { currentJob?.isCancelled ?? false }

    /// The job whose chunk an inner chunk interrupted (a worker that helps while it waits runs
    /// chunks inside a chunk), not counted: its chunk is still running further up the stack.
    @usableFromInline
    struct Interrupted {
        @usableFromInline unowned(unsafe) let job: (any Job)?
        /// Whether there is one (read without loading `job`, which would retain it).
        @usableFromInline let exists: Bool

        @usableFromInline
        init(_ job: (any Job)?) {
            self.job = job
            exists = job != nil
        }
    }

    /// Marks the start of a chunk of `job`, which the caller holds until `end`. Returns the job it
    /// interrupts, to hand back to `end`.
    @usableFromInline
    func begin(_ job: any Job) -> Interrupted {
        let outer = Interrupted(currentJob)
        currentJob = job
        counters.busy.store(true, ordering: .relaxed)
        return outer
    }

    /// Marks the end of a chunk and counts its items.
    @usableFromInline
    func end(resuming outer: Interrupted, completed: Int, failed: Int, cancelled: Int) {
        currentJob = outer.job
        counters.busy.store(outer.exists, ordering: .relaxed)
        counters.chunksCompleted.wrappingAdd(1, ordering: .relaxed)
        if completed > 0 { counters.itemsCompleted.wrappingAdd(completed, ordering: .relaxed) }
        if failed > 0 { counters.itemsFailed.wrappingAdd(failed, ordering: .relaxed) }
        if cancelled > 0 { counters.itemsCancelled.wrappingAdd(cancelled, ordering: .relaxed) }
    }

    /// Counts items that this worker dropped without running them (a chunk of a failed job).
    func countCancelled(_ items: Int) {
        guard items > 0 else { return }
        counters.itemsCancelled.wrappingAdd(items, ordering: .relaxed)
    }

    // MARK: The thread-local

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key, nil)
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        return key
    }()

    /// The worker running the calling thread, or nil off the pools' workers.
    @usableFromInline
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

    /// Python's `worker()`: initializer once, then chunks until the channel closes or
    /// `maxTasksPerWorker` chunks are done. Runs on the worker's own thread.
    func main() {
        pthread_setspecific(WorkerContext.key, Unmanaged.passUnretained(self).toOpaque())
        defer { pthread_setspecific(WorkerContext.key, nil) }
        predecessor?.join()
        let parker = Parker.current

        if let initializer = core.configuration.initializer {
            do {
                try initializer()
            } catch {
                core.initializerFailed(worker: id, error: error)
                core.workerExiting(self, wantsReplacement: false)
                return
            }
        }
        var chunksDone = 0
        let limit = core.configuration.maxTasksPerWorker
        var batch: [any Job] = []
        batch.reserveCapacity(TaskChannelState.maxBatch)
        while core.channel.take(worker: id, parker: parker, quota: limit.map { $0 - chunksDone } ?? Int.max, into: &batch) {
            for index in batch.indices where batch[index].runChunk(on: self) {
                chunksDone += 1
            }
            batch.removeAll(keepingCapacity: true)
            if let limit, chunksDone >= limit {
                core.workerExiting(self, wantsReplacement: true)
                return
            }
        }
        core.workerExiting(self, wantsReplacement: false)
    }
}
