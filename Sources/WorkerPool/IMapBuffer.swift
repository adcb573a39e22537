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
///
/// The chunk being consumed is kept flat (its values, failures and count as fields), so that
/// `takeFromCurrent`, the consumer's per-item step, reads it in place. That step is `@inlinable`:
/// compiled into the caller for its result type, it looks no type metadata up (in the library's
/// generic code each item looked up the metadata of `Step`, `Result<R, _>` and their optionals,
/// about half of an item's cost). Moving to the next chunk and the stream's end stay in `next()`,
/// unspecialized (once per chunk); waiting is the iterator's.
@usableFromInline
struct IMapBuffer<R> {
    enum Step {
        case item(Result<R, any Error>, chunkFinished: Bool)
        case end
        case failed(any Error)
        case wait
    }

    /// What `takeFromCurrent` found.
    @usableFromInline
    enum Ready {
        case value(R, chunkFinished: Bool)
        case failure(any Error, chunkFinished: Bool)
        /// No chunk is being consumed: the caller goes the slow way (`next`).
        case none
    }

    let ordered: Bool
    private var early: [Int: ChunkResults<R>] = [:]
    private var arrivals = RingBuffer<ChunkResults<R>>()
    /// Whether a chunk is being consumed; its values, failures and count follow.
    @usableFromInline var hasCurrent = false
    @usableFromInline var currentValues: [R] = []
    @usableFromInline var currentFailures: [ItemFailure] = []
    @usableFromInline var currentCount = 0
    /// The next position in the current chunk, and where its next value and failure are.
    @usableFromInline var position = 0
    @usableFromInline var valueIndex = 0
    @usableFromInline var failureIndex = 0
    /// `imap`: the index of the next chunk to release.
    private var nextIndex = 0
    @usableFromInline var chunksReleased = 0
    private var total: Int?
    /// Reading stopped before the input ended: after the chunks read, the stream says so.
    private var endedEarly = false
    private var terminal: (any Error)?

    init(ordered: Bool) {
        self.ordered = ordered
    }

    mutating func deliver(_ chunk: ChunkResults<R>, index: Int) {
        if ordered { early[index] = chunk } else { arrivals.append(chunk) }
    }

    mutating func setTotal(_ chunks: Int, endedEarly: Bool) {
        total = chunks
        self.endedEarly = endedEarly
    }

    mutating func fail(_ error: any Error) {
        if terminal == nil { terminal = error }
    }

    /// Whether `next()` would answer `.wait` (nothing to give yet).
    var isWaiting: Bool {
        if hasCurrent { return false }
        if ordered ? early[nextIndex] != nil : !arrivals.isEmpty { return false }
        if terminal != nil { return false }
        if let total, chunksReleased >= total { return false }
        return true
    }

    /// The next item of the chunk being consumed, if there is one. A chunk is never empty, so a
    /// chunk being consumed always has a next item; the last one releases the chunk's storage.
    @inlinable
    mutating func takeFromCurrent() -> Ready {
        guard hasCurrent else { return .none }
        let finished = position + 1 == currentCount
        let ready: Ready
        if failureIndex < currentFailures.count && currentFailures[failureIndex].index == position {
            ready = .failure(currentFailures[failureIndex].error, chunkFinished: finished)
            failureIndex += 1
        } else {
            ready = .value(currentValues[valueIndex], chunkFinished: finished)
            valueIndex += 1
        }
        position += 1
        if finished {
            hasCurrent = false
            currentValues = []
            currentFailures = []
            chunksReleased += 1
        }
        return ready
    }

    /// The next step: an item (starting the next chunk when the current one is done), the end,
    /// the stream's failure, or `.wait`.
    mutating func next() -> Step {
        if !hasCurrent {
            let chunk: ChunkResults<R>?
            if ordered {
                chunk = early.removeValue(forKey: nextIndex)
                if chunk != nil { nextIndex += 1 }
            } else {
                chunk = arrivals.popFirst()
            }
            if let chunk {
                precondition(chunk.count > 0, "an imap chunk is never empty")
                hasCurrent = true
                currentValues = chunk.values
                currentFailures = chunk.failures
                currentCount = chunk.count
                position = 0
                valueIndex = 0
                failureIndex = 0
            }
        }
        switch takeFromCurrent() {
        case .value(let value, let finished): return .item(.success(value), chunkFinished: finished)
        case .failure(let error, let finished): return .item(.failure(error), chunkFinished: finished)
        case .none:
            if let terminal { return .failed(terminal) }
            if let total, chunksReleased >= total { return endedEarly ? .failed(PoolError.notRunning) : .end }
            return .wait
        }
    }
}
