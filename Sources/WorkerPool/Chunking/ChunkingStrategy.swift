/// How a bulk call (`map`, `starmap`, `imap`, `imapUnordered`) cuts its input into chunks.
///
/// A chunk is the unit of work a worker takes: its arguments are encoded together, its body calls
/// run back to back, its results come back together. Big chunks amortize that per-chunk cost; small
/// chunks balance the load when item costs vary. Strategies cut chunks lazily, when a worker asks
/// for work, so they can use what was measured so far.
///
/// Precedence in one call: an explicit `chunksize:` wins, then the call's `chunking:`, then the
/// pool's. `imap` and `imapUnordered` keep CPython's chunk size of 1 unless the call gives
/// `chunksize:` or `chunking:`.
public struct ChunkingStrategy: Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case cpython
        case fixed(Int)
        case guided(minimum: Int)
        case adaptive(target: Duration)
        case custom(name: String, make: @Sendable (ChunkingContext) -> any ChunkSizer)
    }

    let kind: Kind

    /// CPython's heuristic: `ceil(count / (workers * 4))`, fixed for the whole job, so about four
    /// chunks per worker. One chunk per item when the count is unknown. The default.
    public static let cpython = ChunkingStrategy(kind: .cpython)

    /// Every chunk holds `size` items (the last one what is left). `size` must be at least 1.
    public static func fixed(_ size: Int) -> ChunkingStrategy { ChunkingStrategy(kind: .fixed(size)) }

    /// OpenMP's guided schedule: each new chunk is `remaining / (2 * workers)` items, never fewer
    /// than `minimum`: big chunks first, smaller ones toward the end to even out the finish.
    /// With an unknown count (imap) every chunk is `minimum` items. `minimum` must be at least 1.
    public static func guided(minimum: Int = 1) -> ChunkingStrategy { ChunkingStrategy(kind: .guided(minimum: minimum)) }

    /// Measures how long items take as the job runs and sizes the next chunks so that each takes
    /// about `target`: it starts with one item, doubles until a chunk has finished, then sizes
    /// chunks as `target / time-per-item`, growing at most 8× at a time and shrinking at once when
    /// items turn out slow. With a known count, once the rest would take each worker less than
    /// `target`, it is split into one equal share per worker, so the workers finish together.
    /// Works with an unknown count (imap). `target` must be positive.
    public static func adaptive(target: Duration) -> ChunkingStrategy { ChunkingStrategy(kind: .adaptive(target: target)) }

    /// A strategy of your own: `makeSizer` is called once per job, on the submitting thread, and
    /// the sizer it returns then decides that job's chunk sizes (see `ChunkSizer`).
    public static func custom(name: String, _ makeSizer: @escaping @Sendable (ChunkingContext) -> any ChunkSizer) -> ChunkingStrategy {
        ChunkingStrategy(kind: .custom(name: name, make: makeSizer))
    }

    /// A short name for tables: `cpython`, `fixed(64)`, `guided(4)`, `adaptive(1ms)` or the custom name.
    public var description: String {
        switch kind {
        case .cpython: return "cpython"
        case .fixed(let size): return "fixed(\(size))"
        case .guided(let minimum): return "guided(\(minimum))"
        case .adaptive(let target): return "adaptive(\(formatDuration(target)))"
        case .custom(let name, _): return name
        }
    }

    /// Checks the strategy's parameters.
    ///
    /// - Throws: `PoolError.invalidArgument` naming `argument` when a size is below 1 or the
    ///   target is not positive.
    func validate(argument: String) throws {
        switch kind {
        case .cpython, .custom:
            return
        case .fixed(let size):
            if size < 1 { throw PoolError.invalidArgument("\(argument): fixed chunk size must be at least 1, got \(size)") }
        case .guided(let minimum):
            if minimum < 1 { throw PoolError.invalidArgument("\(argument): guided minimum must be at least 1, got \(minimum)") }
        case .adaptive(let target):
            if target <= .zero { throw PoolError.invalidArgument("\(argument): adaptive target must be positive, got \(target)") }
        }
    }

    /// The sizer for one job: what the pool calls to cut that job's chunks.
    public func makeSizer(for context: ChunkingContext) -> any ChunkSizer {
        switch kind {
        case .cpython: return FixedChunkSizer(size: Self.cpythonChunkSize(count: context.count, workers: context.workers))
        case .fixed(let size): return FixedChunkSizer(size: size)
        case .guided(let minimum): return GuidedChunkSizer(minimum: minimum, workers: context.workers)
        case .adaptive(let target): return AdaptiveChunkSizer(target: target, workers: context.workers)
        case .custom(_, let make): return make(context)
        }
    }

    /// CPython's `divmod(len, workers * 4)` rounded up; 1 for an unknown or empty count.
    public static func cpythonChunkSize(count: Int?, workers: Int) -> Int {
        guard let count, count > 0 else { return 1 }
        let per = max(workers, 1) * 4
        return (count + per - 1) / per
    }

    /// The chunk sizes this strategy cuts for `count` items on `workers` workers when nothing is
    /// measured (every item taking no time): a quick way to see a strategy's shape.
    public func chunkSizes(count: Int, workers: Int) -> [Int] {
        var sizer = makeSizer(for: ChunkingContext(workers: workers, count: count))
        var sizes: [Int] = []
        var remaining = count
        while remaining > 0 {
            let size = min(max(sizer.nextChunkSize(remaining: remaining), 1), remaining)
            sizes.append(size)
            remaining -= size
        }
        return sizes
    }
}

/// What a sizer knows about its job when it is made.
public struct ChunkingContext: Sendable {
    /// The pool's number of workers.
    public var workers: Int
    /// How many items the job has, or nil when it is read lazily (imap).
    public var count: Int?

    public init(workers: Int, count: Int?) {
        self.workers = workers
        self.count = count
    }
}

/// Decides one job's chunk sizes. The pool calls a job's sizer from one thread at a time (whichever
/// worker cuts the next chunk), never while holding a lock, so a sizer needs no locking of its own.
public protocol ChunkSizer: Sendable {
    /// The size of the next chunk. `remaining` is the number of items not yet cut, or nil when
    /// the input is lazy. A result below 1 is taken as 1; the pool never cuts more than remains.
    mutating func nextChunkSize(remaining: Int?) -> Int
    /// A chunk of `items` items took `duration` on its worker (decoding its arguments, running the
    /// bodies, encoding the results). Reported before the next cut that follows the chunk's end.
    mutating func chunkFinished(items: Int, duration: Duration)
    /// Whether the pool should time chunks for `chunkFinished` (reading the clock twice per chunk).
    var measuresTime: Bool { get }
}

extension ChunkSizer {
    public mutating func chunkFinished(items: Int, duration: Duration) {}
    public var measuresTime: Bool { false }
}

/// The same size every time (`.fixed`, `.cpython`).
public struct FixedChunkSizer: ChunkSizer {
    public let size: Int
    public init(size: Int) { self.size = max(size, 1) }
    public mutating func nextChunkSize(remaining: Int?) -> Int { size }
}

/// `.guided(minimum:)`: `remaining / (2 * workers)`, at least `minimum`.
public struct GuidedChunkSizer: ChunkSizer {
    public let minimum: Int
    public let workers: Int
    public init(minimum: Int, workers: Int) {
        self.minimum = max(minimum, 1)
        self.workers = max(workers, 1)
    }
    public mutating func nextChunkSize(remaining: Int?) -> Int {
        guard let remaining else { return minimum }
        let share = 2 * workers
        return max(minimum, (remaining + share - 1) / share)
    }
}

/// `.adaptive(target:)`: chunks sized from measured time per item.
///
/// - Estimate: the time per item over the last four finished chunks, total time over total items,
///   so that a big chunk outweighs the per-chunk overhead that dominates a small one, and a change
///   in item cost (a ramp) shows within a few chunks.
/// - Growth: one item first, doubling until a chunk has finished; then `target / time-per-item`,
///   but at most 8x the largest chunk so far (a first estimate is mostly per-chunk overhead).
///   Shrinking is immediate.
/// - The end (known count only): once what remains would take each worker less than `target`,
///   the remainder is split into one equal share per worker, instead of halving it chunk after chunk.
public struct AdaptiveChunkSizer: ChunkSizer {
    public let target: Duration
    public let workers: Int
    private var recent: [(items: Int, nanoseconds: Double)] = []
    private var largest = 0
    private var tailShare: Int?

    public init(target: Duration, workers: Int) {
        self.target = target
        self.workers = max(workers, 1)
    }

    public var measuresTime: Bool { true }

    /// The current estimate of nanoseconds per item, once a chunk has finished.
    public var nanosecondsPerItem: Double? {
        let items = recent.reduce(0) { $0 + $1.items }
        guard items > 0 else { return nil }
        return recent.reduce(0) { $0 + $1.nanoseconds } / Double(items)
    }

    public mutating func nextChunkSize(remaining: Int?) -> Int {
        if let tailShare { return issue(tailShare) }
        guard let perItem = nanosecondsPerItem.map({ max($0, 0.01) }) else {
            return issue(largest == 0 ? 1 : min(largest * 2, Int.max / 16))
        }
        let targetNanoseconds = Double(target.nanosecondsClamped)
        if let remaining {
            let share = (remaining + workers - 1) / workers
            if Double(share) * perItem <= targetNanoseconds {
                tailShare = max(share, 1)
                return issue(tailShare!)
            }
        }
        let ideal = targetNanoseconds / perItem
        let size = ideal >= Double(Int.max / 16) ? Int.max / 16 : max(1, Int(ideal))
        return issue(min(size, max(largest, 1) * 8))
    }

    private mutating func issue(_ size: Int) -> Int {
        largest = max(largest, size)
        return size
    }

    public mutating func chunkFinished(items: Int, duration: Duration) {
        guard items > 0 else { return }
        recent.append((items, max(Double(duration.nanosecondsClamped), 0)))
        if recent.count > 4 { recent.removeFirst() }
    }
}

/// `1ms`, `250µs`, `2s`: durations in benchmark tables and strategy names.
func formatDuration(_ duration: Duration) -> String {
    let nanoseconds = Double(duration.nanosecondsClamped)
    if nanoseconds >= 1e9 { return trimmed(nanoseconds / 1e9) + "s" }
    if nanoseconds >= 1e6 { return trimmed(nanoseconds / 1e6) + "ms" }
    if nanoseconds >= 1e3 { return trimmed(nanoseconds / 1e3) + "µs" }
    return trimmed(nanoseconds) + "ns"
}

private func trimmed(_ value: Double) -> String {
    value == value.rounded() ? String(Int(value)) : "\((value * 100).rounded() / 100)"
}
