/// `.trapezoid(first:last:)`: Tzen and Ni's trapezoid self-scheduling (IEEE TPDS 4(1), 1993).
///
/// For `n` items and `p` workers: the first chunk `f` (by default `ceil(n / (2p))`), the last `l`
/// (by default 1), `c = ceil(2n / (f + l))` chunks, and chunk `i` (from 0) of
/// `f - floor(i * (f - l) / (c - 1))` items: sizes that fall linearly from `f` to `l`, so the
/// number of chunks, and with it the per-chunk cost, is known in advance (about `4p` by
/// default). The sizes add up to at least `n`, so the input usually runs out a chunk or two
/// before `l` is reached, and the last chunk is what is left. 100 items on 2 workers: f = 25,
/// c = 8, sizes 25, 22, 19, 15, 12 and the 7 left. With an unknown count (imap) every chunk is
/// `l` items, as is every chunk after the `c`-th.
public struct TrapezoidChunkSizer: ChunkSizer {
    /// The first chunk's size; nil when the count is unknown.
    public let first: Int?
    /// The last chunk's size.
    public let last: Int
    /// The planned number of chunks `c`; nil when the count is unknown.
    public let plannedChunks: Int?
    private var issued = 0

    /// Sizes falling linearly from `first` (default `ceil(count / (2 × workers))`) to `last`.
    public init(first: Int?, last: Int, workers: Int, count: Int?) {
        let last = max(last, 1)
        self.last = last
        guard let count, count > 0 else {
            self.first = nil
            plannedChunks = nil
            return
        }
        let first = max(first ?? ceilDivide(count, 2 * max(workers, 1)), last)
        self.first = first
        // c = ceil(2n / (f + l)), without overflow for counts near Int.max.
        let (doubled, overflow) = count.multipliedReportingOverflow(by: 2)
        let sum = first.addingReportingOverflow(last)
        if overflow || sum.overflow {
            plannedChunks = max(1, ceilDivide(count, first / 2 + last / 2 + 1))
        } else {
            plannedChunks = ceilDivide(doubled, sum.partialValue)
        }
    }

    public mutating func nextChunkSize(remaining: Int?) -> Int {
        guard let first, let plannedChunks, remaining != nil else { return last }
        defer { issued += 1 }
        if issued >= plannedChunks { return last }
        if plannedChunks == 1 || issued == 0 { return first }
        // floor(i * (f - l) / (c - 1)) in full width: i * (f - l) may not fit in an Int.
        let product = issued.multipliedFullWidth(by: first - last)
        let step = (plannedChunks - 1).dividingFullWidth(product).quotient
        return max(first - step, last)
    }
}
