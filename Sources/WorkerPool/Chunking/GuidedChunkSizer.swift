/// `.guided(minimum:)` (OpenMP's guided schedule): `ceil(remaining / (2 * workers))`, at least
/// `minimum`; every chunk `minimum` when the count is unknown.
public struct GuidedChunkSizer: ChunkSizer {
    public let minimum: Int
    public let workers: Int
    public init(minimum: Int, workers: Int) {
        self.minimum = max(minimum, 1)
        self.workers = max(workers, 1)
    }
    public mutating func nextChunkSize(remaining: Int?) -> Int {
        guard let remaining else { return minimum }
        return max(minimum, ceilDivide(remaining, 2 * workers))
    }
}
