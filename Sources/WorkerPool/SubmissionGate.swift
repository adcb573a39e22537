/// Bounded submission (`Pool(maxQueuedChunks:)`): a submission waits while the pool holds
/// `limit` or more chunks that have not started, so that a burst of requests cannot queue
/// unbounded memory.
///
/// A submission is admitted as soon as fewer than `limit` chunks are queued, whatever its own size,
/// so a job larger than the limit still runs (alone). Blocking submitters wait on a condition;
/// async ones suspend, in arrival order, and are resumed by whichever thread frees room.
@usableFromInline
final class SubmissionGate: @unchecked Sendable {  // `queued`, `closed` and `waiters` are guarded by `mutex`
    let limit: Int
    private let mutex = PThreadMutex.make()
    private let roomAvailable = PThreadCondition.make()
    @exclusivity(unchecked) private var queued = 0
    @exclusivity(unchecked) private var closed = false
    @exclusivity(unchecked) private var waiters: [(id: Int, chunks: Int, continuation: UnsafeContinuation<Void, any Error>)] = []
    @exclusivity(unchecked) private var nextWaiterID = 0

    init(limit: Int) {
        self.limit = limit
    }

    var queuedChunks: Int { mutex.withLock { queued } }

    /// Blocks until there is room, then counts `chunks` as queued.
    ///
    /// - Throws: `.notRunning` if the pool closes or terminates first; `.timeout` if `deadline` passes.
    func acquire(_ chunks: Int, deadline: Deadline = .distantFuture) throws {
        mutex.lock()
        defer { mutex.unlock() }
        while !closed && (queued >= limit || !waiters.isEmpty) {
            if deadline.hasPassed { throw PoolError.timeout }
            _ = roomAvailable.wait(mutex, until: deadline)
        }
        if closed { throw PoolError.notRunning }
        queued += chunks
    }

    /// Suspends until there is room, then counts `chunks` as queued.
    ///
    /// - Throws: `.notRunning` if the pool closes first; `CancellationError` if the task is cancelled
    ///   while it waits.
    @usableFromInline
    func acquire(_ chunks: Int) async throws {
        let id = mutex.withLock { () -> Int in nextWaiterID += 1; return nextWaiterID }
        // Waiters are resumed under `mutex`: an ordered resume (see `PThreadMutex.passThrough()`).
        defer { mutex.passThrough() }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = mutex.withLock {
                    if closed { return .failure(PoolError.notRunning) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if queued < limit && waiters.isEmpty {
                        queued += chunks
                        return .success(())
                    }
                    waiters.append((id, chunks, continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            mutex.withLock {
                guard let index = waiters.firstIndex(where: { $0.id == id }) else { return }
                waiters.remove(at: index).continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// Frees room for `chunks` chunks (they were started, skipped or dropped).
    @usableFromInline
    func release(_ chunks: Int) {
        guard chunks > 0 else { return }
        mutex.withLock {
            queued -= chunks
            while queued < limit, !waiters.isEmpty {
                let waiter = waiters.removeFirst()
                queued += waiter.chunks
                waiter.continuation.resume()
            }
        }
        roomAvailable.broadcast()
    }

    /// Refuses every waiting and later submission with `.notRunning`.
    func close() {
        mutex.withLock {
            closed = true
            for waiter in waiters { waiter.continuation.resume(throwing: PoolError.notRunning) }
            waiters.removeAll()
        }
        roomAvailable.broadcast()
    }
}
