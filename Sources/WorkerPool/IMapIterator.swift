/// The results of `imap` (in input order) or `imapUnordered` (in completion order), one item at a
/// time: Python's `IMapIterator`.
///
/// - `next(timeout:)` blocks the calling thread; from Swift concurrency iterate it as an
///   `AsyncSequence` instead: `for try await r in try pool.imap(xs) { ... }`.
/// - A body that threw: `next` throws that error at the failed item's position, and the following
///   call continues with the next item.
/// - The end: `next` returns nil once every item of the input has been delivered (after
///   `close()`, every item read before the close).
/// - `terminate()`, a broken pool or `cancel()`: the items already computed are still returned in
///   order, then `next` throws `.terminated`, `.broken` or `CancellationError`, and keeps throwing it.
///
/// The iterator is meant for one consumer; calls from several threads are safe but share one stream.
/// Releasing the iterator before the end cancels the rest of its job.
public final class IMapIterator<R: Sendable>: AsyncSequence, @unchecked Sendable {  // `buffer`, `waiters` and `job` are guarded by `mutex`
    public typealias Element = R
    public typealias Failure = any Error

    private let mutex = PThreadMutex.make()
    private let changed = PThreadCondition.make()
    @exclusivity(unchecked) private var buffer: IMapBuffer<R>
    @exclusivity(unchecked) private var waiters: [UnsafeContinuation<R?, any Error>] = []
    @exclusivity(unchecked) private var job: (any IMapFeedback)?

    init(ordered: Bool) {
        buffer = IMapBuffer(ordered: ordered)
    }

    func attach(_ job: any IMapFeedback) {
        mutex.withLock { self.job = job }
    }

    deinit {
        job?.cancel()
    }

    /// The next result.
    ///
    /// - Parameter timeout: how long to wait; `nil` waits as long as it takes; zero or negative
    ///   only checks.
    /// - Returns: the next result, or nil at the end.
    /// - Throws: `PoolError.timeout` if nothing arrived in time (the iterator stays usable); the
    ///   error a body threw for this position; `.terminated`, `.broken`, `.encodingFailed` or
    ///   `CancellationError`.
    @available(*, noasync, message: "next(timeout:) blocks its thread; iterate with `for try await`")
    public func next(timeout: Duration? = nil) throws -> R? {
        let deadline = Deadline.after(timeout)
        mutex.lock()
        while true {
            let step = buffer.next()
            if case .wait = step {
                if deadline.hasPassed {
                    mutex.unlock()
                    throw PoolError.timeout
                }
                _ = changed.wait(mutex, until: deadline)
                continue
            }
            let job = self.job
            mutex.unlock()
            return try settle(step, job: job)
        }
    }

    /// Cancels the rest of the job: chunks not yet started are skipped, the input is no longer read,
    /// and once the items already computed are consumed `next` throws `CancellationError`.
    public func cancel() {
        let job = mutex.withLock { self.job }
        job?.cancel()
    }

    // MARK: AsyncSequence

    public struct AsyncIterator: AsyncIteratorProtocol {
        let results: IMapIterator<R>

        /// Suspends until the next result; cancelling the task cancels the job.
        public mutating func next() async throws -> R? {
            try await results.nextAsync()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(results: self) }

    private func nextAsync() async throws -> R? {
        // Waiters are resumed under `mutex`: an ordered resume (see `PThreadMutex.passThrough()`).
        defer { mutex.passThrough() }
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<R?, any Error>) in
                mutex.lock()
                let step = buffer.next()
                if case .wait = step {
                    waiters.append(continuation)
                    mutex.unlock()
                    return
                }
                let job = self.job
                mutex.unlock()
                continuation.resume(with: Result { try settle(step, job: job) })
            }
        } onCancel: {
            self.cancel()
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
        update { $0.deliver(chunk, index: index) }
    }

    /// The input ended after `chunks` chunks (or reading stopped).
    func setTotal(_ chunks: Int) {
        update { $0.setTotal(chunks) }
    }

    /// The job failed as a whole (terminated, broken, cancelled).
    func fail(_ error: any Error) {
        update { $0.fail(error) }
    }

    func detachJob() {
        mutex.withLock { job = nil }
    }

    /// Applies a change, then wakes blocked consumers and resumes the async waiters it can serve.
    private func update(_ change: (inout IMapBuffer<R>) -> Void) {
        var ready: [(UnsafeContinuation<R?, any Error>, IMapBuffer<R>.Step)] = []
        mutex.lock()
        change(&buffer)
        while !waiters.isEmpty {
            let step = buffer.next()
            if case .wait = step { break }
            ready.append((waiters.removeFirst(), step))
        }
        let job = self.job
        mutex.unlock()
        changed.broadcast()
        guard !ready.isEmpty else { return }
        // Settling may call into the job (its own locks), so it happens before taking `mutex` again.
        let outcomes = ready.map { continuation, step in (continuation, Result { try settle(step, job: job) }) }
        mutex.withLock {
            for (continuation, outcome) in outcomes { continuation.resume(with: outcome) }
        }
    }
}

/// What the iterator tells its job.
protocol IMapFeedback: AnyObject, Sendable {
    /// The consumer took the last item of a chunk (frees room in the read-ahead window).
    func consumedChunk()
    func cancel()
}

/// The results of one chunk of an imap: the values of the items that succeeded, in order, and the
/// failures by position.
struct ChunkResults<R> {
    let values: [R]
    let failures: [ItemFailure]
    let count: Int
}

/// The imap reorder buffer as a value: chunks arrive in any order; `imap` releases them in index
/// order (early arrivals wait in `early`), `imapUnordered` in arrival order.
struct IMapBuffer<R> {
    enum Step {
        case item(Result<R, any Error>, chunkFinished: Bool)
        case end
        case failed(any Error)
        case wait
    }

    let ordered: Bool
    private var early: [Int: ChunkResults<R>] = [:]
    private var arrivals = RingBuffer<ChunkResults<R>>()
    private var current: ChunkResults<R>?
    private var position = 0
    private var valueIndex = 0
    private var failureIndex = 0
    /// `imap`: the index of the next chunk to release.
    private var nextIndex = 0
    private var chunksReleased = 0
    private var total: Int?
    private var terminal: (any Error)?

    init(ordered: Bool) {
        self.ordered = ordered
    }

    mutating func deliver(_ chunk: ChunkResults<R>, index: Int) {
        if ordered { early[index] = chunk } else { arrivals.append(chunk) }
    }

    mutating func setTotal(_ chunks: Int) {
        total = chunks
    }

    mutating func fail(_ error: any Error) {
        if terminal == nil { terminal = error }
    }

    mutating func next() -> Step {
        if current == nil {
            if ordered {
                if let chunk = early.removeValue(forKey: nextIndex) {
                    current = chunk
                    nextIndex += 1
                }
            } else {
                current = arrivals.popFirst()
            }
            position = 0
            valueIndex = 0
            failureIndex = 0
        }
        guard let chunk = current else {
            if let terminal { return .failed(terminal) }
            if let total, chunksReleased >= total { return .end }
            return .wait
        }
        let value: Result<R, any Error>
        if failureIndex < chunk.failures.count && chunk.failures[failureIndex].index == position {
            value = .failure(chunk.failures[failureIndex].error)
            failureIndex += 1
        } else {
            value = .success(chunk.values[valueIndex])
            valueIndex += 1
        }
        position += 1
        let finished = position == chunk.count
        if finished {
            current = nil
            chunksReleased += 1
        }
        return .item(value, chunkFinished: finished)
    }
}
