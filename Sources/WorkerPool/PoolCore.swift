import Dispatch

/// A pool's settings, fixed at `Pool.init`.
@usableFromInline
struct PoolConfiguration: Sendable {
    let workers: Int
    let maxTasksPerWorker: Int?
    @usableFromInline let codec: TaskCodec
    let chunking: ChunkingStrategy
    let maxQueuedChunks: Int?
    let initializer: (@Sendable () throws -> Void)?
    let threadStackSize: Int?
}

/// Counts kept outside the workers: items dropped by `cancel()` or `terminate()`, and the
/// counters of workers that have exited.
struct PoolCounters {
    var retired = WorkerCounters()
    var itemsCancelled = 0
    var itemsSubmittedLazily = 0
}

/// Everything a pool's threads share. `Pool` is the user's handle on it: when the last handle goes
/// away the core is terminated, while worker threads and queued jobs keep the core itself alive
/// until they are done with it.
@usableFromInline
final class PoolCore: @unchecked Sendable {  // `machine`, `workers` and `exitedThreads` are guarded by `mutex`; the rest is immutable or guards itself
    @usableFromInline let configuration: PoolConfiguration
    /// The task channel (CPython's `_inqueue`): jobs whose next chunk is ready to be cut.
    let tasks = Channel<any Job>.unbounded()
    /// Where callbacks run, one at a time (CPython's result-handler thread).
    @usableFromInline let callbackQueue: DispatchQueue
    let counters = LockedBox.make(PoolCounters())
    @usableFromInline let gate: SubmissionGate?

    private let mutex = PThreadMutex.make()
    private let workersChanged = PThreadCondition.make()
    @exclusivity(unchecked) private var machine = PoolStateMachine()
    @exclusivity(unchecked) private var workers: [Int: WorkerContext] = [:]
    /// Kernel ids of exited workers, which `join()` confirms have left the process.
    @exclusivity(unchecked) private var exitedThreads: [Int32] = []

    private static let callbackQueueKey = DispatchSpecificKey<ObjectIdentifier>()

    init(configuration: PoolConfiguration, callbackTarget: DispatchQueue?) {
        self.configuration = configuration
        callbackQueue = DispatchQueue(label: "WorkerPool.callbacks", target: callbackTarget)
        gate = configuration.maxQueuedChunks.map { SubmissionGate(limit: $0) }
        callbackQueue.setSpecific(key: PoolCore.callbackQueueKey, value: ObjectIdentifier(self))
    }

    /// Starts the first workers.
    func start() {
        let ids = (0..<configuration.workers).map { _ in WorkerIDs.next() }
        let started = mutex.withLock {
            machine.started(workerIDs: ids)
            return ids.map { id -> WorkerContext in
                let worker = WorkerContext(id: id, core: self)
                workers[id] = worker
                return worker
            }
        }
        for worker in started { worker.start() }
    }

    // MARK: Submission

    /// Puts `job` in the cache and its first chunk on the channel.
    ///
    /// - Throws: `.notRunning` after `close()`/`terminate()`, `.broken` after an initializer failed.
    @usableFromInline
    func submit(_ job: any Job, items: Int) throws {
        let action = mutex.withLock { machine.transition(.submit(job, items: items)) }
        switch action {
        case .accepted:
            enqueue(job)
        case .rejected(let error):
            throw error
        default:
            preconditionFailure("unexpected action \(action) for a submission")
        }
    }

    /// Throws what a submission would now: `.notRunning` or `.broken`.
    @usableFromInline
    func checkAcceptingWork() throws {
        switch phase {
        case .running: return
        case .closed, .terminated: throw PoolError.notRunning
        case .broken(let reason): throw PoolError.broken(reason)
        }
    }

    /// Puts a job (back) on the task channel. A channel closed by `terminate()` refuses it, which
    /// is fine: the job was failed by then.
    func enqueue(_ job: any Job) {
        try? tasks.send(job, deadline: .distantFuture)
    }

    /// Counts items that a lazy input read after submission (statistics).
    func countSubmitted(_ items: Int) {
        counters.withLockedValue { $0.itemsSubmittedLazily += items }
    }

    @usableFromInline
    func countCancelled(_ items: Int) {
        guard items > 0 else { return }
        counters.withLockedValue { $0.itemsCancelled += items }
    }

    /// Decides `result` with `outcome` unless something decided it first, then runs the callbacks
    /// on the callback queue, makes the result ready and removes the job from the cache (CPython's
    /// `_set`: callback, then event, then `del cache[job]`). Without callbacks, the caller's
    /// thread makes the result ready at once. Returns whether `outcome` was the one delivered.
    /// `job` is nil for a result that never entered the cache (an empty map, an argument that
    /// could not be encoded).
    @inlinable
    @discardableResult
    func deliver<Value>(_ outcome: Result<Value, any Error>, to result: AsyncResult<Value>, callbacks: Callbacks<Value>, job: (any Job)?) -> Bool {
        guard result.settle(outcome) else { return false }
        // The job leaves the cache before its result becomes ready, so that once `get()` or
        // `value` returns, `statistics.jobsInCache` no longer counts it.
        if callbacks.isEmpty {
            if let job { finished(job) }
            result.publish()
        } else {
            callbackQueue.async {
                callbacks.run(outcome)
                if let job { self.finished(job) }
                result.publish()
            }
        }
        return true
    }

    /// The job left the cache.
    @usableFromInline
    func finished(_ job: any Job) {
        let action = mutex.withLock { machine.transition(.jobFinished(job)) }
        perform(action)
    }

    // MARK: Lifecycle

    func close() {
        let action = mutex.withLock { machine.transition(.close) }
        gate?.close()
        perform(action)
    }

    func terminate() {
        let action = mutex.withLock { machine.transition(.terminate) }
        gate?.close()
        perform(action)
    }

    func initializerFailed(worker: Int, error: any Error) {
        let reason = "the initializer threw on worker \(worker): \(error)"
        let action = mutex.withLock { machine.transition(.initializerFailed(reason: reason)) }
        gate?.close()
        perform(action)
    }

    /// Called by a worker thread as its last act.
    func workerExiting(_ worker: WorkerContext, tid: Int32?, wantsReplacement: Bool) {
        let finalCounts = worker.counters.withLockedValue { $0 }
        let action: PoolStateMachine.Action = mutex.withLock {
            workers[worker.id] = nil
            // Moved to the retired counters in the same critical section, so that a statistics
            // snapshot never misses them.
            counters.withLockedValue { counters in
                counters.retired.chunksCompleted += finalCounts.chunksCompleted
                counters.retired.itemsCompleted += finalCounts.itemsCompleted
                counters.retired.itemsFailed += finalCounts.itemsFailed
                counters.retired.itemsCancelled += finalCounts.itemsCancelled
            }
            if let tid {
                // Forget threads that are already gone, so a long-lived pool that replaces workers
                // does not grow this list.
                exitedThreads.removeAll { !OSThread.exists($0) }
                exitedThreads.append(tid)
            }
            let action = machine.transition(.workerExiting(id: worker.id, wantsReplacement: wantsReplacement))
            if case .startReplacement(let id) = action {
                workers[id] = WorkerContext(id: id, core: self)
            }
            return action
        }
        perform(action)
    }

    private func perform(_ action: PoolStateMachine.Action) {
        switch action {
        case .none, .accepted, .rejected:
            break
        case .closeChannel:
            tasks.close()
        case .stopReading(let jobs):
            for job in jobs { job.stopReading() }
        case .abort(let jobs, let error):
            _ = tasks.closeAndDrain()
            for job in jobs { job.abort(error) }
        case .startReplacement(let id):
            let replacement = mutex.withLock { workers[id] }
            replacement?.start()
        case .workerGone:
            mutex.withLock { workersChanged.broadcast() }
        }
    }

    /// Waits until every thread the pool started has exited, then until every callback queued so far
    /// has run.
    func join() throws {
        if let worker = WorkerContext.current, worker.core === self {
            throw PoolError.invalidArgument("join() was called from one of the pool's own worker threads, which would wait for itself")
        }
        if DispatchQueue.getSpecific(key: PoolCore.callbackQueueKey) == ObjectIdentifier(self) {
            throw PoolError.invalidArgument("join() was called from a callback of the same pool, which would wait for itself")
        }
        mutex.lock()
        guard machine.isStopped else {
            mutex.unlock()
            throw PoolError.stillRunning
        }
        while !machine.liveWorkers.isEmpty {
            workersChanged.wait(mutex)
        }
        let tids = exitedThreads
        mutex.unlock()
        OSThread.waitUntilGone(tids)
        callbackQueue.sync {}
    }

    // MARK: Introspection

    var phase: PoolStateMachine.Phase { mutex.withLock { machine.phase } }

    /// A consistent-enough snapshot: each counter is read under its own lock.
    func snapshot() -> PoolStatistics {
        let (liveWorkers, cachedJobs, submitted, restarts, pool) = mutex.withLock {
            (Array(workers.values), machine.cache.jobs, machine.itemsSubmitted, machine.workerRestarts,
             counters.withLockedValue { $0 })
        }
        var statistics = PoolStatistics()
        statistics.workersAlive = liveWorkers.count
        statistics.jobsInCache = cachedJobs.count
        statistics.workerRestarts = restarts
        var total = pool.retired
        for worker in liveWorkers {
            let counts = worker.counters.withLockedValue { $0 }
            if counts.busy { statistics.workersBusy += 1 }
            total.chunksCompleted += counts.chunksCompleted
            total.itemsCompleted += counts.itemsCompleted
            total.itemsFailed += counts.itemsFailed
            total.itemsCancelled += counts.itemsCancelled
        }
        statistics.itemsSubmitted = submitted + pool.itemsSubmittedLazily
        statistics.itemsCompleted = total.itemsCompleted
        statistics.itemsFailed = total.itemsFailed
        statistics.itemsCancelled = total.itemsCancelled + pool.itemsCancelled
        statistics.chunksCompleted = total.chunksCompleted
        statistics.chunksQueued = cachedJobs.reduce(0) { $0 + $1.queuedChunks }
        return statistics
    }
}
