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
        if current != nil { return false }
        if ordered ? early[nextIndex] != nil : !arrivals.isEmpty { return false }
        if terminal != nil { return false }
        if let total, chunksReleased >= total { return false }
        return true
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
            if let total, chunksReleased >= total { return endedEarly ? .failed(PoolError.notRunning) : .end }
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
