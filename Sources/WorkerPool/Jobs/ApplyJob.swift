/// `apply`/`applyAsync`: one item, whose argument was encoded when the task was queued.
///
/// The job itself is not generic: everything typed (the argument, the pipeline, the result and its
/// callbacks) lives in the `perform` closure, which `Pool.submitApply` makes in `@inlinable` code, so
/// that it is compiled for the caller's concrete types. A generic job class would run its protocol
/// methods and its deinit unspecialized, and looking up generic metadata there cost more than
/// the whole of a small task's bookkeeping.
@usableFromInline
final class ApplyJob: Job, Cancellable, @unchecked Sendable {  // `phase` and `failed` are guarded by `lock` (the result's lock); `cacheSlot` by the pool's mutex; the rest is immutable after submission
    /// What `perform` is asked to do.
    @usableFromInline
    enum Command {
        /// Run the task on this worker and deliver its result.
        case run(WorkerContext)
        /// Fail the result with this error (cancellation, termination).
        case fail(any Error)
    }

    @usableFromInline let id: Int
    @exclusivity(unchecked) @usableFromInline var cacheSlot = -1
    @usableFromInline let core: PoolCore
    @usableFromInline let admitted: Bool
    /// The result's lock, which also guards the job's own small state.
    @usableFromInline let lock: ConditionLock
    @exclusivity(unchecked) @usableFromInline var phase = ApplyPhase.queued
    /// Whether the result was failed by `cancel()` or `terminate()` (for `isCurrentTaskCancelled`).
    @exclusivity(unchecked) @usableFromInline var failed = false
    /// The typed work, set once by the submitting code before the job is shared.
    @exclusivity(unchecked) @usableFromInline var perform: (@Sendable (ApplyJob, Command) -> Void)?

    @usableFromInline
    init(core: PoolCore, lock: ConditionLock, admitted: Bool) {
        id = JobIDs.next()
        self.core = core
        self.lock = lock
        self.admitted = admitted
    }

    @usableFromInline
    var isCancelled: Bool { lock.withLock { failed } }

    @usableFromInline
    var queuedChunks: Int { lock.withLock { phase == .queued ? 1 : 0 } }

    @usableFromInline
    func runChunk(on worker: WorkerContext) -> Bool {
        guard start() else { return false }  // cancelled or terminated before it started
        perform!(self, .run(worker))
        return true
    }

    @usableFromInline
    func cancel() { fail(with: CancellationError()) }

    @usableFromInline
    func abort(_ error: PoolError) { fail(with: error) }

    @usableFromInline
    func stopReading() {}

    /// Moves the job from queued to running; false if it was dropped first.
    private func start() -> Bool {
        let start = lock.withLock { () -> Bool in
            guard phase == .queued else { return false }
            phase = .running
            return true
        }
        if start && admitted { core.gate?.release(1) }
        return start
    }

    /// The task has run; the job is done whatever happens to its result.
    @usableFromInline
    func markFinished() {
        lock.withLock { phase = .finished }
    }

    /// Fails the result now. A queued task is dropped (the channel skips it when a worker takes it);
    /// a running body finishes and its result is discarded.
    private func fail(with error: any Error) {
        let wasQueued = lock.withLock { () -> Bool in
            failed = true
            guard phase == .queued else { return false }
            phase = .finished
            return true
        }
        if wasQueued {
            if admitted { core.gate?.release(1) }
            core.countCancelled(1)
        }
        perform!(self, .fail(error))
    }
}

/// Where an apply job is: not started, running on a worker, done or dropped.
@usableFromInline
enum ApplyPhase {
    case queued, running, finished
}

extension Pool {
    /// Builds and submits an apply job; `admitted` says whether a gate slot was taken for it.
    /// Inlinable so that the job's typed work is compiled for `T` and `R`.
    @inlinable
    func submitApply<T: Codable & Sendable, R: Codable & Sendable>(
        _ argument: T,
        _ kernel: @escaping Kernel<T, R>,
        _ callbacks: Callbacks<R>,
        admitted: Bool
    ) throws -> AsyncResult<R> {
        let core = self.core
        let codec = core.configuration.codec
        let pipeline = ChunkPipeline(
            arguments: codec.chunkCoder(for: T.self),
            results: codec.chunkCoder(for: R.self),
            kernel: kernel,
            codecName: codec.name)
        let result = AsyncResult<R>()
        // The argument is encoded now, on the submitting thread, as a process pool pickles it.
        let encoded: EncodedChunk?
        if let coder = pipeline.arguments {
            do {
                encoded = try withUnsafePointer(to: argument) { try coder.encode(UnsafeBufferPointer(start: $0, count: 1)) }
            } catch {
                if admitted { core.gate?.release(1) }
                try core.checkAcceptingWork()
                let failure = pipeline.encodingFailure(step: "encode", side: "argument", type: T.self, error)
                core.deliver(.failure(failure), to: result, callbacks: callbacks, job: nil)
                return result
            }
        } else {
            encoded = nil
        }
        let job = ApplyJob(core: core, lock: result.event.lock, admitted: admitted)
        job.perform = { job, command in
            switch command {
            case .run(let worker):
                worker.begin(job)
                let delivered = withUnsafeTemporaryAllocation(of: R.self, capacity: 1) { buffer -> Result<R, any Error> in
                    let slot = buffer.baseAddress!
                    let outcome: ChunkOutcome
                    if let encoded {
                        outcome = pipeline.run(.encoded(encoded, count: 1), stopAtFirstError: true, into: slot)
                    } else {
                        outcome = withUnsafePointer(to: argument) { pointer in
                            pipeline.run(.values(UnsafeBufferPointer(start: pointer, count: 1)), stopAtFirstError: true, into: slot)
                        }
                    }
                    worker.end(completed: outcome.produced, failed: outcome.failures.count, cancelled: 0)
                    return outcome.produced == 1 ? .success(slot.move()) : .failure(outcome.failures[0].error)
                }
                job.markFinished()
                core.deliver(delivered, to: result, callbacks: callbacks, job: job)
            case .fail(let error):
                core.deliver(.failure(error), to: result, callbacks: callbacks, job: job)
            }
        }
        result.attach(job)
        do {
            try core.submit(job, items: 1)
        } catch {
            if admitted { core.gate?.release(1) }
            // Refused: break the job -> work -> result -> job cycle, or both would leak.
            job.perform = nil
            throw error
        }
        return result
    }
}
