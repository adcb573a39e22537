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
final class ApplyTask<T: Codable & Sendable, R: Codable & Sendable>: AsyncResult<R>, Job, @unchecked Sendable {  // `cacheSlot` is guarded by the job cache shard's lock; `argument`/`hasArgument` are written before submission and taken only by the worker that wins `runState`; the rest is immutable
    @usableFromInline let id: Int
    @exclusivity(unchecked) @usableFromInline var cacheSlot = -1
    /// Queued, running or finished: the worker that starts it and a cancellation race on it.
    @usableFromInline let runState = Atomic<Int>(ApplyTask.queued)
    /// The argument, when the codec did not encode it at submission (`.passthrough`): a slot, not
    /// a `T?` (see `ValueSlot`).
    @exclusivity(unchecked) @usableFromInline var argument = ValueSlot()
    @exclusivity(unchecked) @usableFromInline var hasArgument = false
    /// The argument as the codec encoded it at submission (as a process pool pickles it).
    @usableFromInline let encoded: EncodedValue?
    @usableFromInline let body: @Sendable (T) throws -> R
    @usableFromInline let onSuccess: (@Sendable (R) -> Void)?
    @usableFromInline let onFailure: (@Sendable (any Error) -> Void)?
    @usableFromInline let callbacksRunInline: Bool
    @usableFromInline let runner: @Sendable (ApplyTask<T, R>, WorkerContext) -> Void

    @usableFromInline static var queued: Int { 0 }
    @usableFromInline static var running: Int { 1 }
    @usableFromInline static var finished: Int { 2 }

    @inlinable
    init(core: PoolCore, argument: T?, encoded: EncodedValue?, body: @escaping @Sendable (T) throws -> R, callbacks: Callbacks<R>) {
        id = JobIDs.next()
        if let argument {
            self.argument.store(argument)
            hasArgument = true
        }
        self.encoded = encoded
        self.body = body
        onSuccess = callbacks.onSuccess
        onFailure = callbacks.onFailure
        callbacksRunInline = callbacks.runsInline
        runner = { task, worker in task.execute(on: worker) }
        super.init(core: core)
    }

    deinit {
        if hasArgument { argument.destroy(as: T.self) }
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

    /// Runs the task on `worker` and delivers its result: decodes the argument, runs the body,
    /// encodes and decodes the result (as a process pool pickles it back). Compiled for the
    /// caller's types; one value, so none of a chunk's buffers.
    @inlinable
    func execute(on worker: WorkerContext) {
        // The pool's core, borrowed for the whole task: reached through an unowned reference it
        // was retained and released around each call on it, atomics on a line every thread shares.
        Unmanaged.passUnretained(self.core!)._withUnsafeGuaranteedRef { core in
            let outer = worker.begin(self)
            let outcome: Result<R, any Error>
            do {
                let input: T
                if let encoded {
                    do { input = try TaskCodec.decodeOne(encoded, as: T.self, tag: core.codecTag, coder: core.customCoder) } catch {
                        throw core.encodingFailure(step: "decode", side: "argument", type: T.self, error)
                    }
                } else {
                    // The task no longer keeps its argument alive.
                    input = argument.take(as: T.self)
                    hasArgument = false
                }
                // The body's value goes straight into the crossing, which frees it once encoded.
                outcome = .success(try crossResult(try body(input), core))
            } catch {
                outcome = .failure(error)
            }
            // A failure is the body's or the codec's: the item counts as failed either way.
            let succeeded = outcome.isSuccess
            worker.end(resuming: outer, completed: succeeded ? 1 : 0, failed: succeeded ? 0 : 1, cancelled: 0)
            runState.store(ApplyTask.finished, ordering: .releasing)
            core.deliver(outcome, to: self, callbacks: Callbacks(onSuccess: onSuccess, onFailure: onFailure, runsInline: callbacksRunInline), job: self)
        }
    }

    /// A result crosses back through the codec (encoded, then decoded), as from another process.
    /// The body's value is released once encoded, before the bytes are decoded: at most two copies
    /// are alive at once (the value and its bytes, then the bytes and the decoded value), as in a
    /// process pool, where each process holds two.
    @inlinable
    func crossResult(_ value: consuming R, _ core: PoolCore) throws -> R {
        let encoded: EncodedValue?
        do { encoded = try TaskCodec.encodeOne(value, tag: core.codecTag, coder: core.customCoder) } catch {
            throw core.encodingFailure(step: "encode", side: "result", type: R.self, error)
        }
        guard let encoded else { return value }
        _ = consume value
        do { return try TaskCodec.decodeOne(encoded, as: R.self, tag: core.codecTag, coder: core.customCoder) } catch {
            throw core.encodingFailure(step: "decode", side: "result", type: R.self, error)
        }
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
        core.deliver(.failure(error), to: self, callbacks: Callbacks(onSuccess: onSuccess, onFailure: onFailure, runsInline: callbacksRunInline), job: self)
    }
}

extension Result {
    @inlinable
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}

extension Pool {
    /// Builds and submits an apply task; `reserved` says whether room was taken for it.
    /// Inlinable so that the task's typed work is compiled for `T` and `R`.
    @inlinable
    func submitApply<T: Codable & Sendable, R: Codable & Sendable>(
        _ argument: T,
        _ body: @escaping @Sendable (T) throws -> R,
        _ callbacks: Callbacks<R>,
        reserved: Bool
    ) throws -> AsyncResult<R> {
        unowned(unsafe) let core = self.core
        let encoded: EncodedValue?
        // The argument is encoded now, on the submitting thread, as a process pool pickles it.
        do {
            encoded = try TaskCodec.encodeOne(argument, tag: core.codecTag, coder: core.customCoder)
        } catch {
            if reserved { core.releaseReservation() }
            try core.checkAcceptingWork()
            let result = AsyncResult<R>(core: nil)
            core.deliver(.failure(core.encodingFailure(step: "encode", side: "argument", type: T.self, error)), to: result,
                         callbacks: callbacks, job: nil)
            return result
        }
        let task = ApplyTask(core: core, argument: encoded == nil ? argument : nil, encoded: encoded, body: body, callbacks: callbacks)
        try core.submit(task, items: 1, reserved: reserved)
        return task
    }
}
