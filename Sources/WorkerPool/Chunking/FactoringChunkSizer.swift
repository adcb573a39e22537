/// `.factoring(minimum:)`: Hummel, Schonberg and Flynn's factoring with the FAC2 rule (CACM 35(8),
/// 1992).
///
/// Chunks go out in batches of `workers` chunks of one size. When a batch starts with `remaining`
/// items left, its chunks hold `max(minimum, ceil(remaining / (2 * workers)))` items, so each batch
/// hands out about half of what is left. Unlike guided, whose every chunk is a fraction of what is
/// left at its own cut, the workers of one batch get equal chunks: the first worker to ask does
/// not get a bigger share than the next. 100 items on 2 workers: 25, 25, 13, 13, 6, 6, 3, 3, 2, 2,
/// 1, 1. With an unknown count (imap) every chunk is `minimum` items.
public struct FactoringChunkSizer: ChunkSizer {
    /// The smallest chunk.
    public let minimum: Int
    /// Chunks per batch: the pool's workers.
    public let workers: Int
    private var batchSize = 0
    private var leftInBatch = 0

    /// FAC2 for `workers` workers, never below `minimum` items per chunk.
    public init(minimum: Int, workers: Int) {
        self.minimum = max(minimum, 1)
        self.workers = max(workers, 1)
    }

    public mutating func nextChunkSize(remaining: Int?) -> Int {
        guard let remaining else { return minimum }
        if leftInBatch == 0 {
            batchSize = max(minimum, ceilDivide(remaining, 2 * workers))
            leftInBatch = workers
        }
        leftInBatch -= 1
        return batchSize
    }
}
