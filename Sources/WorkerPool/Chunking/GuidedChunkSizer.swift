/// `.guided(minimum:)` (OpenMP's guided schedule): `ceil(remaining / (2 * workers))`, at least
/// `minimum`; every chunk `minimum` when the count is unknown.
public struct GuidedChunkSizer: ChunkSizer {
    /// The smallest chunk.
    public let minimum: Int
    /// The pool's workers: each chunk is `remaining / (2 × workers)`.
    public let workers: Int
    /// Guided self-scheduling for `workers` workers, never below `minimum` items per chunk.
    public init(minimum: Int, workers: Int) {
        self.minimum = max(minimum, 1)
        self.workers = max(workers, 1)
    }
    public mutating func nextChunkSize(remaining: Int?) -> Int {
        guard let remaining else { return minimum }
        return max(minimum, ceilDivide(remaining, 2 * workers))
    }
}
