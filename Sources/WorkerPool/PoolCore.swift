import Dispatch
import Foundation
import Synchronization

/// A pool's settings, fixed at `Pool.init`.
@usableFromInline
struct PoolConfiguration: Sendable {
    let workers: Int
    let maxTasksPerWorker: Int?
    @usableFromInline let codec: TaskCodec
    let chunking: ChunkingStrategy
    let maxQueuedChunks: Int?
    let initializer: (@Sendable () throws -> Void)?
}

/// Everything a pool's threads share. `Pool` is the user's handle on it: when the last handle goes
/// away the core is closed, while worker threads, queued jobs and pending results keep the core
/// itself alive until their work is delivered.
///
/// Three parts, each with its own lock, none taken on another's behalf:
/// - the task channel (`TaskChannel`): the queue the workers take from, and a bounded pool's room;
/// - the job cache (`JobCache`): every undelivered job, sharded;
/// - the lifecycle (`PoolStateMachine` in a `LockedBox`): phase, workers, threads, `join()`.
/// The per-task path takes the channel's lock and one cache shard's; never the lifecycle's.
@usableFromInline
final class PoolCore: Sendable {
    @usableFromInline let configuration: PoolConfiguration
    /// The codec's kind and custom coder, for the per-task path (see `TaskCodec.encodeOne`).
    @usableFromInline let codecTag: TaskCodec.Tag
    @usableFromInline let customCoder: (any TaskCoder)?
    let channel: TaskChannel
    let cache = JobCache()
    private let lifecycle = LockedBox.make(PoolStateMachine())
    /// The phase for the per-task path (`Acceptance` raw values), written after the lifecycle
    /// machine decides, read by submissions under a cache shard's lock.
    private let acceptance = Atomic<Int>(Acceptance.running.rawValue)
    /// Why the pool is broken, once it is.
    private let brokenReason = LockedBox.make(String?.none)
    /// Where callbacks run, one at a time (CPython's result-handler thread).
    @usableFromInline let callbackQueue: DispatchQueue
    /// Callbacks queued and not yet run; `join()` waits for them.
    @usableFromInline let callbacksPending = DispatchGroup()
    private let callbackTarget: DispatchQueue?
    /// Items submitted (apply and map count at submission; imap as it reads).
    @usableFromInline let itemsSubmitted = Atomic<Int>(0)
    /// Items dropped before any worker took them (cancel, terminate).
    @usableFromInline let itemsCancelled = Atomic<Int>(0)

    private static let callbackQueueKey = DispatchSpecificKey<ObjectIdentifier>()
    private static let targetKey = DispatchSpecificKey<CallbackTargets>()
    /// Serializes marking a target queue (two pools may target one queue at once).
    private static let targetRegistration = LockedBox.make(0)

    enum Acceptance: Int {
        case running, closed, terminated, broken
    }

    init(configuration: PoolConfiguration, callbackTarget: DispatchQueue?) {
        self.configuration = configuration
        codecTag = configuration.codec.tag
        customCoder = configuration.codec.coder
        channel = TaskChannel(limit: configuration.maxQueuedChunks, workers: configuration.workers)
        callbackQueue = DispatchQueue(label: "WorkerPool.callbacks", target: callbackTarget)
        self.callbackTarget = callbackTarget
        callbackQueue.setSpecific(key: PoolCore.callbackQueueKey, value: ObjectIdentifier(self))
        if let callbackTarget {
            // Mark the target queue, so that `join()` on it (which would wait for callbacks that
            // can only run there) is refused instead of deadlocking.
            PoolCore.targetRegistration.withLockedValue { _ in
                let targets = callbackTarget.getSpecific(key: PoolCore.targetKey) ?? {
                    let targets = CallbackTargets()
                    callbackTarget.setSpecific(key: PoolCore.targetKey, value: targets)
                    return targets
                }()
                targets.pools.withLockedValue { _ = $0.insert(ObjectIdentifier(self)) }
            }
        }
    }

    deinit {
        if let callbackTarget, let targets = callbackTarget.getSpecific(key: PoolCore.targetKey) {
            targets.pools.withLockedValue { _ = $0.remove(ObjectIdentifier(self)) }
        }
    }

    /// Starts the first workers.
    func start() {
        lifecycle.withLockedValue { machine in
            let records = (0..<configuration.workers).map { _ in
                PoolStateMachine.WorkerRecord(id: WorkerIDs.next(), counters: WorkerCounters(), thread: nil)
            }
            machine.started(records)
            for record in records {
                machine.threadCreated(startThread(record, predecessor: nil), worker: record.id)
            }
        }
    }

    /// Creates a worker's thread. Called under the lifecycle lock, so that the thread's handle is
    /// recorded before the thread can report its exit.
    private func startThread(_ record: PoolStateMachine.WorkerRecord, predecessor: WorkerThread?) -> WorkerThread {
        let worker = WorkerContext(id: record.id, core: self, counters: record.counters, predecessor: predecessor)
        return WorkerThread.start(name: worker.name) { worker.main() }
    }

    // MARK: Submission

    /// Why a submission is refused right now, or nil while the pool runs.
    @usableFromInline
    func refusal() -> PoolError? {
        switch Acceptance(rawValue: acceptance.load(ordering: .sequentiallyConsistent))! {
        case .running: return nil
        case .closed, .terminated: return .notRunning
        case .broken: return .broken(brokenReason.withLockedValue { $0 } ?? "an initializer threw")
        }
    }

    /// Throws what a submission would now: `.notRunning` or `.broken`.
    @usableFromInline
    func checkAcceptingWork() throws {
        if let refusal = refusal() { throw refusal }
    }

    /// Takes room for one queued entry in a bounded pool, blocking while it is full (a worker of
    /// this pool runs queued work instead of blocking). Returns whether room was taken.
    ///
    /// - Throws: `.notRunning` or `.broken` if the pool stops accepting work first.
    @usableFromInline
    func reserve() throws -> Bool {
        guard configuration.maxQueuedChunks != nil else { return false }
        if let worker = WorkerContext.current, worker.core === self {
            try channel.reserve(helping: { self.helpOnce(worker) })
        } else {
            try channel.reserve(helping: nil)
        }
        return true
    }

    /// `reserve()` for Swift concurrency: suspends while the pool is full.
    ///
    /// - Throws: as `reserve()`, and `CancellationError` if the task is cancelled while it waits.
    @usableFromInline
    func reserveSuspending() async throws -> Bool {
        guard configuration.maxQueuedChunks != nil else { return false }
        try await channel.reserve()
        return true
    }

    /// The `.encodingFailed` error for a value that could not cross the codec: it names the step,
    /// the side, the type, the codec and the codec's own error (kept for `underlyingError`).
    @usableFromInline
    func encodingFailure(step: String, side: String, type: Any.Type, _ error: any Error) -> PoolError {
        .encodingFailure("could not \(step) the \(side) of type \(type) with the \(configuration.codec.name) codec: \(error)", underlying: error)
    }

    /// Gives back room that was reserved for a submission that will not be made.
    @usableFromInline
    func releaseReservation() {
        channel.releaseReservation()
    }

    /// Puts `job` in the cache and its first entry on the channel. `items` counts what it brings
    /// (statistics); `reserved` says whether room was taken for it (given back if it is refused).
    ///
    /// - Throws: `.notRunning` after `close()`/`terminate()`, `.broken` after an initializer threw.
    @usableFromInline
    func submit(_ job: any Job, items: Int, reserved: Bool) throws {
        do {
            try cache.insert(job) { refusal() }
        } catch {
            if reserved { channel.releaseReservation() }
            throw error
        }
        if items > 0 { itemsSubmitted.wrappingAdd(items, ordering: .relaxed) }
        // Refused only after `terminate()`, which has failed the job by now.
        channel.push(job)
    }

    /// Puts a lazy job (imap) in the cache and its token in line for the channel: submitting it
    /// never blocks, even in a full bounded pool (its first chunk waits for room like a later one).
    ///
    /// - Throws: as `submit`.
    func submitLazily(_ job: any Job) throws {
        try cache.insert(job) { refusal() }
        channel.requeue(job)
    }

    /// Puts a job's feed token back on the channel (or in a full bounded pool's line).
    func requeue(_ job: any Job) {
        channel.requeue(job)
    }

    /// Counts items that a lazy input read after submission (statistics).
    func countSubmitted(_ items: Int) {
        if items > 0 { itemsSubmitted.wrappingAdd(items, ordering: .relaxed) }
    }

    /// Counts items dropped before a worker took them.
    @usableFromInline
    func countCancelled(_ items: Int) {
        if items > 0 { itemsCancelled.wrappingAdd(items, ordering: .relaxed) }
    }

    // MARK: Delivery

    /// Decides `result` with `outcome` unless something decided it first, then runs the callbacks
    /// on the callback queue, removes the job from the cache and makes the result ready (CPython's
    /// `_set`: callback, then `del cache[job]`, then the event). Without callbacks the calling thread
    /// does it all at once. Returns whether `outcome` was the one delivered. `job` is nil for a
    /// result that never entered the cache (an empty map, an argument that could not be encoded).
    @inlinable
    @discardableResult
    func deliver<Value>(_ outcome: Result<Value, any Error>, to result: AsyncResult<Value>, callbacks: Callbacks<Value>, job: (any Job)?) -> Bool {
        guard result.settle(outcome) else { return false }
        if callbacks.isEmpty {
            if let job { finished(job) }
            result.publish()
        } else if callbacks.runsInline {
            callbacks.run(outcome)
            if let job { finished(job) }
            result.publish()
        } else {
            callbacksPending.enter()
            callbackQueue.async {
                callbacks.run(outcome)
                if let job { self.finished(job) }
                result.publish()
                self.callbacksPending.leave()
            }
        }
        return true
    }

    /// The job left the cache. After `close()`, the last one closes the channel, and the workers
    /// exit once they have drained it.
    @usableFromInline
    func finished(_ job: any Job) {
        guard cache.remove(job) else { return }
        if acceptance.load(ordering: .sequentiallyConsistent) == Acceptance.closed.rawValue && cache.isEmpty {
            channel.closeReceivers()
        }
    }

    // MARK: Lifecycle

    /// `close()`: no new work; waiting submitters are refused; lazy inputs are told; the channel
    /// closes once every job is delivered.
    func close() {
        guard case .closed = lifecycle.withLockedValue({ $0.close() }) else { return }
        acceptance.store(Acceptance.closed.rawValue, ordering: .sequentiallyConsistent)
        channel.refuseSubmissions(.notRunning)
        for job in cache.jobs { job.poolClosed() }
        if cache.isEmpty { channel.closeReceivers() }
    }

    func terminate() {
        if case .abort(let error) = lifecycle.withLockedValue({ $0.terminate() }) {
            abort(error, acceptance: .terminated)
        } else {
            // A broken pool that is terminated afterwards still refuses with `.broken`.
            lifecycle.broadcast()
        }
    }

    func initializerFailed(worker: Int, error: any Error) {
        let reason = "the initializer threw on worker \(worker): \(error)"
        if case .abort(let failure) = lifecycle.withLockedValue({ $0.initializerFailed(reason: reason) }) {
            brokenReason.withLockedValue { $0 = reason }
            abort(failure, acceptance: .broken)
        }
    }

    /// Stops everything: refuses submitters (`.notRunning` after `terminate()`, `.broken` for a
    /// broken pool), drops the queue, fails every job in the cache with `error`.
    private func abort(_ error: PoolError, acceptance phase: Acceptance) {
        acceptance.store(phase.rawValue, ordering: .sequentiallyConsistent)
        channel.terminate(refusing: error == .terminated ? .notRunning : error)
        for job in cache.removeAll() { job.abort(error) }
    }

    /// The last `Pool` handle went away: acts as `close()`, and threads that nobody will join
    /// detach themselves.
    func release() {
        close()
        if case .detach(let threads) = lifecycle.withLockedValue({ $0.release() }) {
            for thread in threads { thread.detach() }
        }
    }

    /// Called by a worker thread as its last act.
    func workerExiting(_ worker: WorkerContext, wantsReplacement: Bool) {
        let action = lifecycle.withLockedValue { machine -> PoolStateMachine.WorkerExitAction in
            let action = machine.workerExiting(id: worker.id, wantsReplacement: wantsReplacement,
                                               replacement: WorkerIDs.next(), counters: worker.counters)
            if case .replace(let record, let predecessor) = action {
                machine.threadCreated(startThread(record, predecessor: predecessor), worker: record.id)
            }
            return action
        }
        lifecycle.broadcast()
        if case .exitDetached = action { WorkerThread.current.detach() }
    }

    /// Waits until every thread the pool started has exited and been joined, then until every
    /// callback queued so far has run.
    func join() throws {
        if let worker = WorkerContext.current, worker.core === self {
            throw PoolError.invalidArgument("join() was called from one of the pool's own worker threads, which would wait for itself")
        }
        if DispatchQueue.getSpecific(key: PoolCore.callbackQueueKey) == ObjectIdentifier(self) {
            throw PoolError.invalidArgument("join() was called from a callback of the same pool, which would wait for itself")
        }
        if isOnCallbackTarget {
            throw PoolError.invalidArgument(
                "join() was called on the queue that the pool's callbackQueue targets, where the callbacks it waits for would have to run")
        }
        while true {
            let action = lifecycle.wait(for: { $0.canAnswerJoin }, then: { $0.join() })!
            switch action {
            case .stillRunning:
                throw PoolError.stillRunning
            case .join(let threads):
                for thread in threads { thread.join() }
                lifecycle.withLockedValue { $0.joinFinished() }
                lifecycle.broadcast()
            case .waitForWorkers, .waitForOtherJoin:
                continue
            case .done:
                callbacksPending.wait()
                return
            }
        }
    }

    /// Whether the calling code runs on the queue (or the thread of the main queue) that this
    /// pool's callbacks target.
    private var isOnCallbackTarget: Bool {
        guard let callbackTarget else { return false }
        if callbackTarget === DispatchQueue.main && Thread.isMainThread { return true }
        guard let targets = DispatchQueue.getSpecific(key: PoolCore.targetKey) else { return false }
        return targets.pools.withLockedValue { $0.contains(ObjectIdentifier(self)) }
    }

    // MARK: Nested waits

    /// Runs one queued job on `worker` if there is one (a worker that needs room in its own
    /// bounded pool). Returns whether it ran one.
    func helpOnce(_ worker: WorkerContext) -> Bool {
        guard let job = channel.tryTake() else { return false }
        _ = job.runChunk(on: worker)
        return true
    }

    /// Blocks `worker` (one of this pool's) until `isReady()`, running the pool's queued jobs while
    /// it waits, so that a body waiting for work it submitted never deadlocks the pool (rayon's
    /// `join`, Java's ForkJoinPool). `register` adds the worker's parker to what it waits for
    /// (false: it is ready already), `unregister` removes it (false: a waker took it already).
    func helpWhileWaiting(_ worker: WorkerContext, until deadline: Deadline, isReady: () -> Bool,
                          register: (Parker, UInt64) -> Bool, unregister: (UInt64) -> Bool) -> Bool {
        let parker = Parker.current
        let id = Waiter.nextID()
        var registered = false
        while !isReady() {
            if helpOnce(worker) { continue }
            if !registered {
                guard register(parker, id) else { return true }
                registered = true
                continue  // look at the queue once more before parking
            }
            guard channel.registerIdle(worker: worker.id, parker: parker) else { continue }
            let inTime = parker.park(until: deadline)
            channel.leaveIdle(worker: worker.id)
            if !inTime && !isReady() {
                if unregister(id) { return false }
                _ = parker.park()  // the waker's unpark is on its way; do not leave it for later
                return true
            }
        }
        return true
    }

    // MARK: Introspection

    var phase: PoolStateMachine.Phase { lifecycle.withLockedValue { $0.phase } }

    /// A snapshot: a few atomics and one short lock per part; never O(jobs).
    func snapshot() -> PoolStatistics {
        let (alive, busy, counts, restarts) = lifecycle.withLockedValue { machine in
            let totals = machine.totals
            return (totals.workersAlive, totals.workersBusy, totals.counts, machine.workerRestarts)
        }
        var statistics = PoolStatistics()
        statistics.workersAlive = alive
        statistics.workersBusy = busy
        statistics.workerRestarts = restarts
        statistics.chunksCompleted = counts.chunksCompleted
        statistics.itemsCompleted = counts.itemsCompleted
        statistics.itemsFailed = counts.itemsFailed
        statistics.itemsCancelled = counts.itemsCancelled + itemsCancelled.load(ordering: .relaxed)
        statistics.itemsSubmitted = itemsSubmitted.load(ordering: .relaxed)
        statistics.chunksQueued = channel.queuedCount
        statistics.jobsInCache = cache.count
        return statistics
    }
}

/// The pools whose callbacks target a queue (set as a specific on that queue).
final class CallbackTargets: Sendable {
    let pools = LockedBox.make(Set<ObjectIdentifier>())
}
