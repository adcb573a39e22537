import Synchronization

/// The result of `applyAsync` (Python's `AsyncResult`/`ApplyResult`); `MapResult` is the same type
/// with an array value.
///
/// A result is *pending* until its job is decided, then *ready*. Once ready it never changes.
/// When the job has callbacks, the callback runs on the pool's callback queue first, and the result
/// becomes ready only after it returned: so a callback has always finished before `get()` returns.
///
/// All members may be called from any thread. `get` and `wait` block the calling thread (on one of
/// the pool's own workers they run the pool's queued work while they wait, so a body that waits for
/// work it submitted never deadlocks the pool); from Swift concurrency, `await result.value`.
///
/// The result is backed by an event: one atomic word (settled, ready, waiters) and the pool's wait
/// registry for threads and tasks that wait before it is ready (`WaitRegistry`). For an `apply`,
/// the result *is* the job: one object from submission to delivery.
public class AsyncResult<Value: Sendable>: @unchecked Sendable {  // `valueSlot`/`hasValue`/`storedError` are written once by the thread that wins `settle` (a compare-and-swap on `flags`) before `publish` releases the ready bit, and read only after an acquiring load sees it
    @usableFromInline static var settledBit: Int { 1 }
    @usableFromInline static var readyBit: Int { 2 }
    @usableFromInline static var waitersBit: Int { 4 }

    @usableFromInline final let flags = Atomic<Int>(0)
    // The outcome. Written once, by the thread that wins `settle`, and read only after the ready
    // bit is seen: the atomic `flags` order every access, so the runtime's dynamic exclusivity
    // checks (a thread-local access set, measured at about 80 instructions per access, four per
    // task) are skipped.
    /// The value once settled with success (a `ValueSlot`, not a `Value?`: see there why).
    @exclusivity(unchecked) @usableFromInline final var valueSlot = ValueSlot()
    @exclusivity(unchecked) @usableFromInline final var storedError: (any Error)?
    /// Whether `valueSlot` holds a value (settled with success).
    @exclusivity(unchecked) @usableFromInline final var hasValue = false
    /// The pool whose workers deliver this result (for waits on its own workers); nil for a result
    /// that was decided at submission (an empty map, an argument that could not be encoded).
    @usableFromInline final let core: PoolCore?

    @usableFromInline
    init(core: PoolCore?) {
        self.core = core
    }

    deinit {
        if hasValue { valueSlot.destroy(as: Value.self) }
    }

    // MARK: Python's API

    /// Waits for the result and returns it (Python's `get`).
    ///
    /// On one of the pool's own workers (a body waiting for work it submitted), runs the pool's
    /// queued work while it waits.
    ///
    /// - Parameter timeout: how long to wait; `nil` waits as long as it takes; zero or negative
    ///   only checks.
    /// - Throws: `PoolError.timeout` if the result is not ready in time (the result stays usable);
    ///   `PoolError.terminated`, `.broken`, `.encodingFailed`, `CancellationError`, or the error the
    ///   body threw, unwrapped.
    @available(*, noasync, message: "get() blocks its thread; use `try await result.value`")
    @inlinable
    public final func get(timeout: Duration? = nil) throws -> Value {
        if !isReady {
            guard waitUntilReady(until: Deadline.after(timeout)) else { throw PoolError.timeout }
        }
        return try readyValue()
    }

    /// Waits until the result is ready or `timeout` has passed (Python's `wait`).
    ///
    /// - Returns: whether the result is ready.
    @available(*, noasync, message: "wait() blocks its thread; use `await result.value`")
    @discardableResult
    public final func wait(timeout: Duration? = nil) -> Bool {
        isReady || waitUntilReady(until: Deadline.after(timeout))
    }

    /// Whether the result is ready (Python's `ready()`).
    @inlinable
    public final var isReady: Bool { flags.load(ordering: .acquiring) & AsyncResult.readyBit != 0 }

    /// How far the job has got, cheap enough to poll for a progress bar from any thread: for a
    /// `MapResult`, the items whose bodies have run of the input's count (one short lock); for an
    /// `apply`, 0 or 1 of 1.
    public var progress: JobProgress { currentProgress() }

    /// What `progress` reads: overridden by the jobs that are their own results.
    @usableFromInline
    func currentProgress() -> JobProgress { JobProgress(done: isReady ? 1 : 0, total: 1) }

    /// Whether the job succeeded (Python's `successful()`).
    ///
    /// - Throws: `PoolError.notReady` while the result is pending.
    public final var isSuccessful: Bool {
        get throws {
            guard isReady else { throw PoolError.notReady }
            return storedError == nil
        }
    }

    /// The value, awaited without blocking any thread: the task is resumed by the pool's result path.
    ///
    /// Cancelling the awaiting task stops only its own wait: the await throws `CancellationError`.
    /// When it was the last task or thread waiting for this result, the job is cancelled too (as
    /// `cancel()` does); other awaiters of the same result are unaffected. The async forms
    /// `await pool.apply/map/starmap(...)` own their job, so cancelling them cancels it.
    ///
    /// - Throws: as `get()`, without `.timeout`; `CancellationError` if the task was cancelled.
    public final var value: Value {
        get async throws {
            if !isReady {
                let object = ObjectIdentifier(self)
                let wake = await FlagWait.suspend(
                    object: object,
                    isReady: { isReady },
                    setWaitersBitAndCheckReady: { setWaitersBitAndCheckReady() },
                    edge: { self.flags.wrappingAdd(0, ordering: .releasing) })
                // The acquiring load pairs with the resumer's release: the ready bit's, or the
                // cancellation handler's edge.
                _ = flags.load(ordering: .acquiring)
                if case .cancelled(let last) = wake {
                    if last { cancel() }
                    throw CancellationError()
                }
            }
            return try readyValue()
        }
    }

    /// Cancels the job if it is not finished: chunks that have not started are skipped, the result
    /// fails with `CancellationError`, the error callback gets that error, and the job leaves the
    /// pool's cache. A body that is already running finishes (it may poll
    /// `Pool.isCurrentTaskCancelled` to stop early); its result is discarded.
    /// Cancelling a finished result does nothing. Never blocks; may be called from any thread.
    public final func cancel() {
        cancelJob()
    }

    // MARK: The result path (pool side)

    /// What `cancel()` does: overridden by the jobs that are their own results.
    @usableFromInline
    func cancelJob() {}

    /// Decides the result; the first decision wins. Returns whether this call decided it.
    /// After a successful `settle`, the caller runs the callbacks and then calls `publish()`.
    @inlinable
    final func settle(_ outcome: Result<Value, any Error>) -> Bool {
        var current = flags.load(ordering: .relaxed)
        while true {
            if current & AsyncResult.settledBit != 0 { return false }
            let (exchanged, original) = flags.compareExchange(
                expected: current, desired: current | AsyncResult.settledBit,
                successOrdering: .acquiringAndReleasing, failureOrdering: .relaxed)
            if exchanged { break }
            current = original
        }
        switch outcome {
        case .success(let value):
            valueSlot.store(value)
            hasValue = true
        case .failure(let error): storedError = error
        }
        return true
    }

    /// Whether the result was decided (its callback may still be running).
    @inlinable
    final var isSettled: Bool { flags.load(ordering: .acquiring) & AsyncResult.settledBit != 0 }

    /// Makes a settled result ready: raises the ready bit and wakes every waiting thread and task.
    @inlinable
    final func publish() {
        let old = flags.bitwiseOr(AsyncResult.readyBit, ordering: .acquiringAndReleasing).oldValue
        if old & AsyncResult.waitersBit != 0 { WaitRegistry.wakeAll(for: ObjectIdentifier(self)) }
    }

    @usableFromInline
    final func setWaitersBitAndCheckReady() -> Bool {
        flags.bitwiseOr(AsyncResult.waitersBit, ordering: .acquiringAndReleasing).oldValue & AsyncResult.readyBit != 0
    }

    /// Blocks until ready or `deadline`; on one of the pool's workers, helps while it waits.
    @usableFromInline
    final func waitUntilReady(until deadline: Deadline) -> Bool {
        let object = ObjectIdentifier(self)
        if let core, let worker = WorkerContext.current, worker.core === core {
            return core.helpWhileWaiting(
                worker, until: deadline, isReady: { isReady },
                register: { parker, id in
                    if case .registered = WaitRegistry.register(Waiter(id: id, kind: .thread(parker)), for: object,
                                                                unlessReady: { setWaitersBitAndCheckReady() }) {
                        return true
                    }
                    return false
                },
                unregister: { WaitRegistry.remove(id: $0, for: object) != nil })
        }
        return FlagWait.block(until: deadline, object: object, isReady: { isReady }) { setWaitersBitAndCheckReady() }
    }

    /// The value or error of a ready result.
    @inlinable
    final func readyValue() throws -> Value {
        if let storedError { throw storedError }
        return valueSlot.load(as: Value.self)
    }
}

/// The result of `mapAsync`/`starmapAsync` (Python's `MapResult`): an `AsyncResult` whose value is
/// the array of results in input order.
public typealias MapResult<R: Sendable> = AsyncResult<[R]>
