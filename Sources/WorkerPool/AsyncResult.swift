/// The result of `applyAsync` (Python's `AsyncResult`/`ApplyResult`); `MapResult` is the same type
/// with an array value.
///
/// A result is *pending* until its job is decided, then *ready*. Once ready it never changes.
/// When the job has callbacks, the callback runs on the pool's callback queue first, and the result
/// becomes ready only after it returned: so a callback has always finished before `get()` returns.
///
/// All members may be called from any thread. `get` and `wait` block the calling thread;
/// from Swift concurrency, `await result.value` instead.
public final class AsyncResult<Value: Sendable>: @unchecked Sendable {  // `state` and `canceller` are guarded by `mutex`
    /// Raised when the result becomes ready; blocking waits wait on it.
    let event = Event()
    private let mutex = PThreadMutex()
    private var state = ResultState<Value>.pending(waiters: [])
    /// The job, while it can still be cancelled. Dropped once the result is ready, which breaks the
    /// job → result → job cycle.
    private var canceller: (any Cancellable)?

    init() {}

    /// A result that is ready at once.
    convenience init(ready result: Result<Value, any Error>) {
        self.init()
        _ = settle(result)
        publish()
    }

    func attach(_ canceller: any Cancellable) {
        mutex.withLock {
            if case .pending = state { self.canceller = canceller }
        }
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
    public func get(timeout: Duration? = nil) throws -> Value {
        guard event.wait(until: Deadline.after(timeout)) else { throw PoolError.timeout }
        return try readyResult().get()
    }

    /// Waits until the result is ready or `timeout` has passed (Python's `wait`).
    ///
    /// - Returns: whether the result is ready.
    @available(*, noasync, message: "wait() blocks its thread; use `await result.value`")
    @discardableResult
    public func wait(timeout: Duration? = nil) -> Bool {
        event.wait(until: Deadline.after(timeout))
    }

    /// Whether the result is ready (Python's `ready()`).
    public var isReady: Bool { event.isSet }

    /// Whether the job succeeded (Python's `successful()`).
    ///
    /// - Throws: `PoolError.notReady` while the result is pending.
    public var isSuccessful: Bool {
        get throws {
            guard isReady else { throw PoolError.notReady }
            if case .success = readyResult() { return true }
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
            try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Value, any Error>) in
                    let ready: Result<Value, any Error>? = mutex.withLock {
                        switch state {
                        case .pending(var waiters):
                            waiters.append(continuation)
                            state = .pending(waiters: waiters)
                            return nil
                        case .settled(let result, var waiters):
                            waiters.append(continuation)
                            state = .settled(result, waiters: waiters)
                            return nil
                        case .ready(let result):
                            return result
                        }
                    }
                    if let ready { continuation.resume(with: ready) }
                }
            } onCancel: {
                self.cancel()
            }
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
    func settle(_ result: Result<Value, any Error>) -> Bool {
        mutex.withLock {
            guard case .pending(let waiters) = state else { return false }
            state = .settled(result, waiters: waiters)
            return true
        }
    }

    /// Whether the result was decided (it may not be ready yet: its callback may still be running).
    var isSettled: Bool {
        mutex.withLock {
            if case .pending = state { return false }
            return true
        }
    }

    /// Makes a settled result ready: raises the event and resumes every awaiting task.
    func publish() {
        let (result, waiters): (Result<Value, any Error>, [UnsafeContinuation<Value, any Error>]) = mutex.withLock {
            guard case .settled(let result, let waiters) = state else {
                preconditionFailure("publish() without settle()")
            }
            state = .ready(result)
            canceller = nil
            return (result, waiters)
        }
        event.set()
        for waiter in waiters { waiter.resume(with: result) }
    }

    private func readyResult() -> Result<Value, any Error> {
        mutex.withLock {
            guard case .ready(let result) = state else { preconditionFailure("result read before it was ready") }
            return result
        }
    }
}

/// The result of `mapAsync`/`starmapAsync` (Python's `MapResult`): an `AsyncResult` whose value is
/// the array of results in input order.
public typealias MapResult<R: Sendable> = AsyncResult<[R]>

/// The life of one result: pending (with the tasks awaiting it), settled (decided, callbacks
/// running), ready. Only ever moves forward.
enum ResultState<Value: Sendable> {
    case pending(waiters: [UnsafeContinuation<Value, any Error>])
    case settled(Result<Value, any Error>, waiters: [UnsafeContinuation<Value, any Error>])
    case ready(Result<Value, any Error>)
}

/// Something a user can cancel: a job of the pool.
protocol Cancellable: AnyObject, Sendable {
    func cancel()
}
