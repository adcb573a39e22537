/// `.adaptive(target:)`: chunks sized from measured time per item.
///
/// - Estimate: the time per item over the last four finished chunks, total time over total items,
///   so that a big chunk outweighs the per-chunk overhead that dominates a small one, and a change
///   in item cost (a ramp) shows within a few chunks.
/// - Growth: one item first, doubling until a chunk has finished; then `target / time-per-item`,
///   but at most 8× the largest chunk so far (a first estimate is mostly per-chunk overhead, and
///   early items need not be typical). Shrinking is immediate.
/// - The end (known count only): no chunk is larger than guided's share, `ceil(remaining /
///   (2 * workers))` items, unless that share would take less than a sixteenth of `target` by the
///   estimate; then up to that sixteenth, but never more than the largest chunk measured so far.
///   So the last chunks get smaller and smaller, down to about `target / 16`, and the workers
///   finish within about that of each other.
///
/// Why not split the end into one equal share per worker (what this sizer once did): shares equal
/// by count are equal in time only when item costs are. On a ramp, the worker that got the last
/// share did three quarters of what was left. A fraction of what is left, re-cut as workers come
/// back, balances costs that rise, fall, jump or vary at random, without assuming any of them.
public struct AdaptiveChunkSizer: ChunkSizer {
    /// The time each chunk should take on its worker.
    public let target: Duration
    /// The pool's workers (the end of a job is cut for them).
    public let workers: Int
    private var recent: [(items: Int, nanoseconds: Double)] = []
    private var largest = 0
    /// The largest chunk that has finished (was measured).
    private var largestMeasured = 0

    /// A sizer aiming at `target` per chunk for a pool of `workers`.
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
        let share = remaining.map { ceilDivide(max($0, 1), 2 * workers) }
        guard let perItem = nanosecondsPerItem.map({ max($0, 0.01) }) else {
            // Nothing measured yet: 1, 2, 4, … (never above guided's share).
            let doubling = largest == 0 ? 1 : min(saturatingMultiply(largest, 2), Int.max / 16)
            return issue(min(doubling, share ?? .max))
        }
        let ideal = Self.items(in: Double(target.nanosecondsClamped), perItem: perItem)
        let grown = min(ideal, saturatingMultiply(max(largest, 1), 8))
        guard let share else { return issue(grown) }
        // Above guided's share only when the share would be tiny in time (under a sixteenth of
        // the target by the estimate), and then never above the largest chunk measured so far:
        // an estimate from early, cheap items must not cut a large piece off the rest (a ramp on
        // many workers, where every worker cuts before the first big chunk has finished).
        let floor = min(ideal / 16, largestMeasured)
        return issue(min(grown, max(share, floor)))
    }

    /// How many items of `perItem` nanoseconds fit in `nanoseconds`: at least 1, and small enough
    /// that growing it 8× cannot overflow.
    private static func items(in nanoseconds: Double, perItem: Double) -> Int {
        let ideal = nanoseconds / perItem
        return ideal >= Double(Int.max / 16) ? Int.max / 16 : max(1, Int(ideal))
    }

    private mutating func issue(_ size: Int) -> Int {
        let size = max(size, 1)
        largest = max(largest, size)
        return size
    }

    public mutating func chunkFinished(items: Int, duration: Duration) {
        guard items > 0 else { return }
        recent.append((items, max(Double(duration.nanosecondsClamped), 0)))
        largestMeasured = max(largestMeasured, items)
        if recent.count > 4 { recent.removeFirst() }
    }
}
