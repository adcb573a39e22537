import Synchronization

/// `apply`/`applyAsync`: one task, which is its own result. One object from submission to delivery:
/// the job the cache holds and the channel carries, the `AsyncResult` the caller gets, and the
/// event behind it.
///
/// The typed work runs in `runner`, a closure made in `@inlinable` code, so that it is compiled for
/// the caller's concrete types: the worker reaches the task through the `Job` protocol, whose
/// methods on a generic class run unspecialized, and generic code there looked up type metadata
/// per task (more than the rest of a small task's bookkeeping).
@usableFromInline
final class ApplyTask<T: Codable & Sendable, R: Codable & Sendable>: AsyncResult<R>, Job, @unchecked Sendable {  // `cacheSlot` is guarded by the job cache shard's lock; `argument` is written before submission and read only by the worker that wins `runState`; the rest is immutable
    @usableFromInline let id: Int
    @usableFromInline var cacheSlot = -1
    /// Queued, running or finished: the worker that starts it and a cancellation race on it.
    @usableFromInline let runState = Atomic<Int>(ApplyTask.queued)
    /// The argument, when the codec did not encode it at submission (`.passthrough`).
    @usableFromInline var argument: T?
    /// The argument as the codec encoded it at submission (as a process pool pickles it).
    @usableFromInline let encoded: EncodedChunk?
    @usableFromInline let kernel: Kernel<T, R>
    @usableFromInline let onSuccess: (@Sendable (R) -> Void)?
    @usableFromInline let onFailure: (@Sendable (any Error) -> Void)?
    @usableFromInline let runner: @Sendable (ApplyTask<T, R>, WorkerContext) -> Void

    @usableFromInline static var queued: Int { 0 }
    @usableFromInline static var running: Int { 1 }
    @usableFromInline static var finished: Int { 2 }

    @inlinable
    init(core: PoolCore, argument: T?, encoded: EncodedChunk?, kernel: @escaping Kernel<T, R>, callbacks: Callbacks<R>) {
        id = JobIDs.next()
        self.argument = argument
        self.encoded = encoded
        self.kernel = kernel
        onSuccess = callbacks.onSuccess
        onFailure = callbacks.onFailure
        runner = { task, worker in task.execute(on: worker) }
        super.init(core: core)
    }

    @usableFromInline
    var isCancelled: Bool { isSettled }

    @usableFromInline
    func runChunk(on worker: WorkerContext) -> Bool {
        guard runState.compareExchange(expected: ApplyTask.queued, desired: ApplyTask.running, ordering: .acquiringAndReleasing).exchanged else {
            return false  // cancelled or terminated before it started
        }
        runner(self, worker)
        return true
    }

    /// Runs the task on `worker` and delivers its result. Compiled for the caller's types.
    @inlinable
    func execute(on worker: WorkerContext) {
        let core = self.core!
        let codec = core.configuration.codec
        let pipeline = ChunkPipeline(arguments: codec.chunkCoder(for: T.self), results: codec.chunkCoder(for: R.self),
                                     kernel: kernel, codecName: codec.name)
        let outer = worker.begin(self)
        let outcome = withUnsafeTemporaryAllocation(of: R.self, capacity: 1) { buffer -> Result<R, any Error> in
            let slot = buffer.baseAddress!
            let chunk: ChunkOutcome
            if let encoded {
                chunk = pipeline.run(.encoded(encoded, count: 1), stopAtFirstError: true, into: slot)
            } else {
                chunk = withSingleElementBuffer(argument!) { pipeline.run(.values($0), stopAtFirstError: true, into: slot) }
            }
            worker.end(resuming: outer, completed: chunk.produced, failed: chunk.failures.count, cancelled: chunk.skipped)
            return chunk.produced == 1 ? .success(slot.move()) : .failure(chunk.failures[0].error)
        }
        argument = nil  // the task no longer keeps its argument alive
        runState.store(ApplyTask.finished, ordering: .releasing)
        core.deliver(outcome, to: self, callbacks: Callbacks(onSuccess: onSuccess, onFailure: onFailure), job: self)
    }

    @usableFromInline
    override func cancelJob() { fail(with: CancellationError()) }

    @usableFromInline
    func abort(_ error: PoolError) { fail(with: error) }

    /// Fails the result now. A queued task is dropped (the worker that takes it skips it, and a
    /// bounded pool gets its room back at once); a running body finishes and its result is discarded.
    private func fail(with error: any Error) {
        guard !isSettled, let core else { return }
        if runState.compareExchange(expected: ApplyTask.queued, desired: ApplyTask.finished, ordering: .acquiringAndReleasing).exchanged {
            core.countCancelled(1)
            core.channel.withdraw(self)
        }
        core.deliver(.failure(error), to: self, callbacks: Callbacks(onSuccess: onSuccess, onFailure: onFailure), job: self)
    }
}

extension Pool {
    /// Builds and submits an apply task; `reserved` says whether room was taken for it.
    /// Inlinable so that the task's typed work is compiled for `T` and `R`.
    @inlinable
    func submitApply<T: Codable & Sendable, R: Codable & Sendable>(
        _ argument: T,
        _ kernel: @escaping Kernel<T, R>,
        _ callbacks: Callbacks<R>,
        reserved: Bool
    ) throws -> AsyncResult<R> {
        let core = self.core
        let codec = core.configuration.codec
        var encoded: EncodedChunk?
        if let coder = codec.chunkCoder(for: T.self) {
            // The argument is encoded now, on the submitting thread, as a process pool pickles it.
            do {
                encoded = try withSingleElementBuffer(argument) { try coder.encode($0) }
            } catch {
                if reserved { core.releaseReservation() }
                try core.checkAcceptingWork()
                let failure = PoolError.encodingFailure(
                    "could not encode the argument of type \(T.self) with the \(codec.name) codec: \(error)", underlying: error)
                let result = AsyncResult<R>(core: nil)
                core.deliver(.failure(failure), to: result, callbacks: callbacks, job: nil)
                return result
            }
        }
        let task = ApplyTask(core: core, argument: encoded == nil ? argument : nil, encoded: encoded, kernel: kernel, callbacks: callbacks)
        try core.submit(task, items: 1, reserved: reserved)
        return task
    }
}
