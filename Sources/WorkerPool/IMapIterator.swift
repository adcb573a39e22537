import Synchronization

/// The results of `imap` (in input order) or `imapUnordered` (in completion order), one item at a
/// time: Python's `IMapIterator`.
///
/// - `next(timeout:)` blocks the calling thread (on one of the pool's own workers it runs the
///   pool's queued work while it waits); from Swift concurrency iterate it as an `AsyncSequence`
///   instead: `for try await r in try pool.imap(xs) { ... }`.
/// - A body that threw: `next` throws that error at the failed item's position, and the following
///   call continues with the next item.
/// - The end: `next` returns nil once every item of the input has been delivered.
/// - `close()` on an imap with `buffersize`: reading stops; the items read are delivered in order,
///   then `next` throws `PoolError.notRunning` (never a bare nil: the stream was cut short).
/// - `terminate()`, a broken pool or `cancel()`: the items already computed are still returned in
///   order, then `next` throws `.terminated`, `.broken` or `CancellationError`, and keeps throwing it.
///
/// The iterator is meant for one consumer; calls from several threads are safe but share one stream.
/// Releasing the iterator before the end cancels the rest of its job. A task iterating it that is
/// cancelled stops its own wait; when no other consumer is waiting, the job is cancelled too.
public final class IMapIterator<R: Sendable>: AsyncSequence, Sendable {
    public typealias Element = R
    public typealias Failure = any Error

    @usableFromInline
    struct State {
        @usableFromInline var buffer: IMapBuffer<R>
        var waiters = WaiterQueue<Waiter.Kind>()
        var job: (any IMapFeedback)?

        init(buffer: IMapBuffer<R>) {
            self.buffer = buffer
        }
    }

    @usableFromInline let state: LockedBox<State>
    /// The pool, for a consumer that is one of its workers.
    private let core: PoolCore
    /// Items computed and handed to the iterator so far, for `progress`.
    private let itemsArrived = Atomic<Int>(0)
    /// The number of items in the input once it has been read to its end; -1 until then (and for
    /// good when reading stopped early).
    private let itemsRead = Atomic<Int>(-1)

    init(ordered: Bool, core: PoolCore) {
        state = LockedBox.make(State(buffer: IMapBuffer(ordered: ordered)))
        self.core = core
    }

    func attach(_ job: any IMapFeedback) {
        state.withLockedValue { $0.job = job }
    }

    deinit {
        state.withLockedValue { $0.job }?.cancel()
    }

    /// The next result.
    ///
    /// - Parameter timeout: how long to wait; `nil` waits as long as it takes; zero or negative
    ///   only checks.
    /// - Returns: the next result, or nil at the end.
    /// - Throws: `PoolError.timeout` if nothing arrived in time (the iterator stays usable); the
    ///   error a body threw for this position; `.notRunning` (reading stopped by `close()`),
    ///   `.terminated`, `.broken`, `.encodingFailed` or `CancellationError`.
    @available(*, noasync, message: "next(timeout:) blocks its thread; iterate with `for try await`")
    @inlinable
    public func next(timeout: Duration? = nil) throws -> R? {
        // The usual case, compiled for `R`: the next item of a chunk being consumed.
        switch state.withLockedValue({ $0.buffer.takeFromCurrent() }) {
        case .value(let value, let chunkFinished):
            if chunkFinished { consumedChunk() }
            return value
        case .failure(let error, let chunkFinished):
            if chunkFinished { consumedChunk() }
            throw error
        case .none:
            return try nextStep(timeout: timeout)
        }
    }

    /// `next(timeout:)` when no chunk was being consumed: starts the next chunk, or waits for one
    /// (another consumer may start one meanwhile: then its next item is taken here), or ends.
    /// Throws as `next(timeout:)`: `.timeout`, the item's error or the stream's.
    @usableFromInline
    func nextStep(timeout: Duration?) throws -> R? {
        let deadline = Deadline.after(timeout)
        while true {
            if let (step, job) = poll() { return try settle(step, job: job) }
            let ready: Bool
            if let worker = WorkerContext.current, worker.core === core {
                ready = core.helpWhileWaiting(worker, until: deadline, isReady: { !isWaiting },
                                              register: { register(.thread($0), id: $1) }, unregister: { unregister($0) })
            } else {
                ready = block(until: deadline)
            }
            if !ready && isWaiting { throw PoolError.timeout }
        }
    }

    /// The consumer took the last item of a chunk: tells the job (frees room in its read-ahead
    /// window). A job that has finished has detached itself and needs no telling.
    @usableFromInline
    func consumedChunk() {
        state.withLockedValue { $0.job }?.consumedChunk()
    }

    /// How far the job has got: the items computed so far (consumed or not), of the number of items
    /// in the input, which is known once the input has been read to its end (`total` is nil until
    /// then). Two atomic loads: cheap enough to poll for a progress bar, from any thread.
    public var progress: JobProgress {
        let total = itemsRead.load(ordering: .acquiring)
        return JobProgress(done: itemsArrived.load(ordering: .relaxed), total: total < 0 ? nil : total)
    }

    /// Cancels the rest of the job: chunks not yet started are skipped, the input is no longer read,
    /// and once the items already computed are consumed `next` throws `CancellationError`.
    /// Never blocks.
    public func cancel() {
        state.withLockedValue { $0.job }?.cancel()
    }

    // MARK: AsyncSequence

    public struct AsyncIterator: AsyncIteratorProtocol {
        @usableFromInline let results: IMapIterator<R>

        @usableFromInline
        init(results: IMapIterator<R>) {
            self.results = results
        }

        /// Suspends until the next result. Cancelling the task ends its wait with
        /// `CancellationError` (and cancels the job when no other consumer waits).
        @inlinable
        public mutating func next() async throws -> R? {
            // As in `next(timeout:)`: the next item of a chunk being consumed, compiled for `R`.
            switch results.state.withLockedValue({ $0.buffer.takeFromCurrent() }) {
            case .value(let value, let chunkFinished):
                if chunkFinished { results.consumedChunk() }
                return value
            case .failure(let error, let chunkFinished):
                if chunkFinished { results.consumedChunk() }
                throw error
            case .none:
                return try await results.nextAsync()
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(results: self) }

    @usableFromInline
    func nextAsync() async throws -> R? {
        let id = Waiter.nextID()
        while true {
            if let (step, job) = poll() { return try settle(step, job: job) }
            let wake = await withTaskCancellationHandler {
                await withUnsafeContinuation { (continuation: UnsafeContinuation<Wake, Never>) in
                    let immediate: Wake? = state.withLockedValue { state in
                        if Task.isCancelled { return .cancelled(last: state.waiters.isEmpty) }
                        if !state.buffer.isWaiting { return .ready }
                        state.waiters.append(.task(continuation), id: id)
                        return nil
                    }
                    if let immediate { continuation.resume(returning: immediate) }
                }
            } onCancel: {
                // Only this task's own waiter, resumed after unlocking; nothing else runs here.
                let removed = state.withLockedValue { state -> (Waiter.Kind, Int)? in
                    state.waiters.remove(id: id).map { ($0, state.waiters.count) }
                }
                if case let (.task(continuation), remaining)? = removed {
                    ThreadSanitizer.resumeHidingAccesses { continuation.resume(returning: .cancelled(last: remaining == 0)) }
                }
            }
            // Every resumer took the continuation out under this lock and resumed it after
            // unlocking: passing through the lock gives ThreadSanitizer that ordering.
            state.withLockedValue { _ in }
            if case .cancelled(let last) = wake {
                if last { cancel() }
                throw CancellationError()
            }
        }
    }

    // MARK: Waiting

    /// Takes the next step unless there is none yet.
    private func poll() -> (IMapBuffer<R>.Step, (any IMapFeedback)?)? {
        state.withLockedValue { state in
            if state.buffer.isWaiting { return nil }
            return (state.buffer.next(), state.job)
        }
    }

    private var isWaiting: Bool { state.withLockedValue { $0.buffer.isWaiting } }

    /// Registers a waiter unless a step is ready. Returns whether it registered.
    private func register(_ waiter: Waiter.Kind, id: UInt64) -> Bool {
        state.withLockedValue { state in
            guard state.buffer.isWaiting else { return false }
            state.waiters.append(waiter, id: id)
            return true
        }
    }

    /// Removes a waiter; false if a waker took it already.
    private func unregister(_ id: UInt64) -> Bool {
        state.withLockedValue { $0.waiters.remove(id: id) != nil }
    }

    /// Blocks the calling thread until a step is ready or `deadline` passes.
    private func block(until deadline: Deadline) -> Bool {
        let parker = Parker.current
        let id = Waiter.nextID()
        guard register(.thread(parker), id: id) else { return true }
        while true {
            if parker.park(until: deadline) {
                if !isWaiting || !state.withLockedValue({ $0.waiters.contains(id: id) }) { return true }
                continue  // a permit left from an earlier wait of this thread
            }
            if unregister(id) { return false }
            _ = parker.park()  // the waker's unpark is on its way
            return true
        }
    }

    /// Turns a step into a value or an error, and tells the job when a chunk was fully consumed.
    private func settle(_ step: IMapBuffer<R>.Step, job: (any IMapFeedback)?) throws -> R? {
        switch step {
        case .item(let value, let chunkFinished):
            if chunkFinished { job?.consumedChunk() }
            return try value.get()
        case .end:
            return nil
        case .failed(let error):
            throw error
        case .wait:
            preconditionFailure("settle(.wait)")
        }
    }

    // MARK: The job's side

    /// A chunk's results arrived.
    func deliver(_ chunk: ChunkResults<R>, index: Int) {
        itemsArrived.wrappingAdd(chunk.count, ordering: .relaxed)
        update { $0.deliver(chunk, index: index) }
    }

    /// The input ended after `chunks` chunks, or reading stopped early (`endedEarly`).
    func setTotal(_ chunks: Int, items: Int, endedEarly: Bool) {
        // A stream cut short (close() with buffersize) never learned its input's length: the
        // total stays unknown rather than claiming the items read were all of it.
        if !endedEarly { itemsRead.store(items, ordering: .releasing) }
        update { $0.setTotal(chunks, endedEarly: endedEarly) }
    }

    /// The job failed as a whole (terminated, broken, cancelled).
    func fail(_ error: any Error) {
        update { $0.fail(error) }
    }

    func detachJob() {
        state.withLockedValue { $0.job = nil }
    }

    /// Applies a change, then wakes every waiter (after unlocking): each looks again.
    private func update(_ change: (inout IMapBuffer<R>) -> Void) {
        let waiters = state.withLockedValue { state -> [Waiter.Kind] in
            change(&state.buffer)
            return state.waiters.removeAll()
        }
        for waiter in waiters {
            switch waiter {
            case .thread(let parker): parker.unpark()
            case .task(let continuation): ThreadSanitizer.resumeHidingAccesses { continuation.resume(returning: .ready) }
            }
        }
    }
}
