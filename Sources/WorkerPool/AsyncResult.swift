/// The result of `applyAsync` (Python's `AsyncResult`/`ApplyResult`); `MapResult` is the same type
/// with an array value.
///
/// A result is *pending* until its job is decided, then *ready*. Once ready it never changes.
/// When the job has callbacks, the callback runs on the pool's callback queue first, and the result
/// becomes ready only after it returned: so a callback has always finished before `get()` returns.
///
/// All members may be called from any thread. `get` and `wait` block the calling thread;
/// from Swift concurrency, `await result.value` instead.
public final class AsyncResult<Value: Sendable>: @unchecked Sendable {  // `phase`, `outcome`, `waiters` and `canceller` are guarded by `event.lock`
    // This generic class stores no value of a generic type: the outcome sits in a closure, and
    // awaiting tasks are resumed with `Void`, then read it. A class's deinit always runs
    // unspecialized, and destroying a generic stored value there costs a generic-metadata lookup
    // per result: as much as the rest of a small task's bookkeeping.

    /// Raised when the result becomes ready; blocking waits wait on it. Its lock also guards this
    /// result's state.
    @usableFromInline let event = EventCore()
    @exclusivity(unchecked) @usableFromInline var phase = ResultPhase.pending
    /// The decided outcome, once settled.
    @exclusivity(unchecked) @usableFromInline var outcome: (@Sendable () -> Result<Value, any Error>)?
    /// Tasks awaiting `value`, resumed once the result is ready.
    @exclusivity(unchecked) @usableFromInline var waiters: [UnsafeContinuation<Void, Never>] = []
    /// The job, while it can still be cancelled. Dropped once the result is ready, which breaks the
    /// job → result → job cycle.
    @exclusivity(unchecked) @usableFromInline var canceller: (any Cancellable)?

    @inlinable var mutex: ConditionLock { event.lock }

    @usableFromInline
    init() {}

    /// Links the job for `cancel()`. Called before the result is shared with any other thread.
    @inlinable
    func attach(_ canceller: any Cancellable) {
        self.canceller = canceller
    }

    /// Unlinks the job of a result that will never be delivered (its submission was refused),
    /// breaking the job -> result -> job cycle that `publish()` otherwise breaks.
    func detach() {
        mutex.withLock { canceller = nil }
    }

    // MARK: Python's API

    /// Waits for the result and returns it (Python's `get`).
    ///
    /// - Parameter timeout: how long to wait; `nil` waits as long as it takes; zero or negative
    ///   only checks.
    /// - Throws: `PoolError.timeout` if the result is not ready in time (the result stays usable);
    ///   `PoolError.terminated`, `.broken`, `.encodingFailed`, `CancellationError`, or the error the
    ///   body threw, unwrapped.
    @available(*, noasync, message: "get() blocks its thread; use `try await result.value`")
    @inlinable
    public func get(timeout: Duration? = nil) throws -> Value {
        guard let outcome = waitForOutcome(timeout: timeout) else { throw PoolError.timeout }
        return try outcome().get()
    }

    /// Waits until the result is ready or `timeout` has passed (Python's `wait`).
    ///
    /// - Returns: whether the result is ready.
    @available(*, noasync, message: "wait() blocks its thread; use `await result.value`")
    @discardableResult
    public func wait(timeout: Duration? = nil) -> Bool {
        waitForOutcome(timeout: timeout) != nil
    }

    /// Whether the result is ready (Python's `ready()`).
    public var isReady: Bool { event.isSet }

    /// Whether the job succeeded (Python's `successful()`).
    ///
    /// - Throws: `PoolError.notReady` while the result is pending.
    public var isSuccessful: Bool {
        get throws {
            guard let outcome = readyOutcome() else { throw PoolError.notReady }
            if case .success = outcome() { return true }
            return false
        }
    }

    /// The value, awaited without blocking any thread: the continuation is resumed by the pool's
    /// result path.
    ///
    /// Cancelling the awaiting task cancels the job (as `cancel()` does): the await then throws
    /// `CancellationError`, unless the job had already finished.
    ///
    /// - Throws: as `get()`, without `.timeout`.
    public var value: Value {
        get async throws {
            if let outcome = readyOutcome() { return try outcome().get() }
            await withTaskCancellationHandler {
                await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                    mutex.lock()
                    if phase == .ready {
                        mutex.unlock()
                        continuation.resume()
                    } else {
                        waiters.append(continuation)
                        mutex.unlock()
                    }
                }
            } onCancel: {
                self.cancel()
            }
            guard let outcome = readyOutcome() else { preconditionFailure("resumed before the result was ready") }
            return try outcome().get()
        }
    }

    /// Cancels the job if it is not finished: chunks that have not started are skipped, the result
    /// fails with `CancellationError`, the error callback gets that error, and the job leaves the
    /// pool's cache. A body that is already running finishes (it may poll
    /// `Pool.isCurrentTaskCancelled` to stop early); its result is discarded.
    /// Cancelling a finished result does nothing.
    public func cancel() {
        let canceller = mutex.withLock { self.canceller }
        canceller?.cancel()
    }

    // MARK: The result path (pool side)

    /// Decides the result; the first decision wins. Returns whether this call decided it.
    /// After a successful `settle`, the caller runs the callbacks and then calls `publish()`.
    @inlinable
    func settle(_ result: Result<Value, any Error>) -> Bool {
        mutex.lock()
        defer { mutex.unlock() }
        guard phase == .pending else { return false }
        phase = .settled
        outcome = { result }
        return true
    }

    /// Whether the result was decided (it may not be ready yet: its callback may still be running).
    @inlinable
    var isSettled: Bool {
        mutex.withLock { phase != .pending }
    }

    /// Makes a settled result ready: raises the event and resumes every awaiting task.
    @inlinable
    func publish() {
        mutex.lock()
        precondition(phase == .settled, "publish() without settle()")
        phase = .ready
        canceller = nil
        let wake = event.setLocked()
        // An ordered resume (see `PThreadMutex.passThrough()`): resumed under the mutex, and the
        // resumed task reads the outcome under it.
        for waiter in waiters { waiter.resume() }
        waiters = []
        mutex.unlock()
        if wake { mutex.broadcast() }
    }

    /// The outcome once ready, or nil when `timeout` passed first: the flag and the outcome are
    /// read under the one lock that guards both.
    @usableFromInline
    func waitForOutcome(timeout: Duration?) -> (@Sendable () -> Result<Value, any Error>)? {
        let deadline = Deadline.after(timeout)
        mutex.lock()
        defer { mutex.unlock() }
        guard event.waitLocked(until: deadline, for: { phase == .ready }) else { return nil }
        return outcome
    }

    @usableFromInline
    func readyOutcome() -> (@Sendable () -> Result<Value, any Error>)? {
        mutex.withLock { phase == .ready ? outcome : nil }
    }
}

/// The result of `mapAsync`/`starmapAsync` (Python's `MapResult`): an `AsyncResult` whose value is
/// the array of results in input order.
public typealias MapResult<R: Sendable> = AsyncResult<[R]>

/// The life of one result: pending, settled (decided, callbacks running), ready. Only ever moves
/// forward: `settle` moves pending to settled (the first decision wins), `publish` settled to ready.
@usableFromInline
enum ResultPhase: Equatable {
    case pending, settled, ready
}

/// Something a user can cancel: a job of the pool.
@usableFromInline
protocol Cancellable: AnyObject, Sendable {
    func cancel()
}
