#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `.measuredFixed(probes:)`: Kruskal and Weiss's optimal fixed chunk size (IEEE TSE 11(10), 1985),
/// from measurements of the job itself.
///
/// - Probes: the first `probes` chunks hold 1, 2, 4, … items (at most 1,024 each). The pool times
///   each one stage by stage (`measuresStages`).
/// - Once every probe has been measured (until then, chunks of the last probe size go out), it
///   estimates, from the probes:
///   - μ, the mean time of an item's body: total body time over total items;
///   - σ², the variance of an item's body time: a chunk of `k` items has a variance of `k σ²`, so
///     `σ² = Σ (B_i - k_i μ)² / k_i / (probes - 1)` over the probes' body times `B_i`;
///   - h, the per-chunk overhead: the intercept of a least-squares line through each probe's
///     overhead (dispatch and codec) against its size, so that a codec's per-item cost is not
///     counted as per-chunk (the smallest probe's overhead if the line's intercept is not
///     positive).
/// - Then every chunk has `k = (√2 · n · h / (σ · p · √ln p))^(2/3)` items, Kruskal and Weiss's
///   optimum for `n` items (those left when the size is fixed) on `p` workers, at least 1 and at
///   most `ceil(n / p)`. With one worker, or no spread at all, that bound is the size; with an
///   unknown count (imap), the size at which h is 1 % of a chunk's time.
///
/// The model assumes independent item times from one distribution; when costs trend along the
/// input (a ramp, a step) the probes see only its start, and a large fixed size ends unbalanced.
public struct MeasuredFixedChunkSizer: ChunkSizer {
    /// How many chunks (of 1, 2, 4, … items) are timed before the size is fixed.
    public let probes: Int
    /// The pool's workers (the `p` of Kruskal and Weiss's formula).
    public let workers: Int
    private var issuedProbes = 0
    private var measured: [ChunkMeasurement] = []
    /// The fixed size, once the probes are measured.
    public private(set) var chosenSize: Int?
    /// What the probes measured, in nanoseconds.
    public struct Estimates: Sendable, Equatable {
        /// h: the per-chunk overhead.
        public var overhead: Double
        /// μ: an item's mean time, its body and its share of the codec.
        public var itemTime: Double
        /// σ: the standard deviation of an item's body time.
        public var spread: Double
    }

    /// The estimates the size came from, once the probes are measured.
    public private(set) var estimates: Estimates?

    /// A sizer that times `probes` chunks, then fixes the size for `workers` workers.
    public init(probes: Int, workers: Int) {
        self.probes = max(probes, 2)
        self.workers = max(workers, 1)
    }

    public var measuresTime: Bool { true }
    public var measuresStages: Bool { true }

    private func probeSize(_ index: Int) -> Int { 1 << min(index, 10) }

    public mutating func nextChunkSize(remaining: Int?) -> Int {
        if let chosenSize { return chosenSize }
        if issuedProbes < probes {
            defer { issuedProbes += 1 }
            return probeSize(issuedProbes)
        }
        guard measured.count >= probes else { return probeSize(probes - 1) }
        let estimates = Self.estimate(measured)
        self.estimates = estimates
        let size = Self.optimalSize(remaining: remaining, workers: workers, overhead: estimates.overhead,
                                    itemTime: estimates.itemTime, spread: estimates.spread)
        chosenSize = size
        measured = []
        return size
    }

    public mutating func chunkFinished(_ measurement: ChunkMeasurement) {
        guard chosenSize == nil, measurement.items > 0 else { return }
        measured.append(measurement)
    }

    /// h, μ and σ in nanoseconds from measured probes (see the type's documentation).
    static func estimate(_ probes: [ChunkMeasurement]) -> Estimates {
        func ns(_ duration: Duration) -> Double { Double(duration.nanosecondsClamped) }
        let sizes = probes.map { Double($0.items) }
        let bodies = probes.map { $0.stages.map { ns($0.bodies) } ?? ns($0.duration) }
        let overheads = probes.map { $0.stages.map { ns($0.overhead) } ?? 0 }
        let totalItems = sizes.reduce(0, +)
        let mean = bodies.reduce(0, +) / max(totalItems, 1)
        var variance = 0.0
        for (size, body) in zip(sizes, bodies) {
            let deviation = body - size * mean
            variance += deviation * deviation / size
        }
        variance /= Double(max(probes.count - 1, 1))
        // Least squares: overhead = h + c * size.
        let meanSize = totalItems / Double(probes.count)
        let meanOverhead = overheads.reduce(0, +) / Double(probes.count)
        var covariance = 0.0, spreadOfSizes = 0.0
        for (size, overhead) in zip(sizes, overheads) {
            covariance += (size - meanSize) * (overhead - meanOverhead)
            spreadOfSizes += (size - meanSize) * (size - meanSize)
        }
        let slope = spreadOfSizes > 0 ? covariance / spreadOfSizes : 0
        var perChunk = meanOverhead - slope * meanSize
        if perChunk <= 0 {
            perChunk = zip(sizes, overheads).min { $0.0 < $1.0 }.map { $0.1 } ?? 0
        }
        return Estimates(overhead: max(perChunk, 1), itemTime: mean + max(slope, 0), spread: variance.squareRoot())
    }

    /// Kruskal and Weiss's `(√2 · n · h / (σ · p · √ln p))^(2/3)`, bounded to `1...ceil(n / p)`.
    static func optimalSize(remaining: Int?, workers: Int, overhead: Double, itemTime: Double, spread: Double) -> Int {
        guard let remaining else {
            // No count: overhead at 1 % of a chunk.
            let size = overhead / (0.01 * max(itemTime, 0.01))
            return size >= 1e15 ? 1_000_000_000_000_000 : max(1, Int(size))
        }
        let bound = ceilDivide(max(remaining, 1), workers)
        guard workers > 1, spread > 0 else { return bound }
        let p = Double(workers)
        let k = pow(2.0.squareRoot() * Double(remaining) * overhead / (spread * p * log(p).squareRoot()), 2.0 / 3.0)
        guard k.isFinite else { return bound }
        return k >= Double(bound) ? bound : max(1, Int(k))
    }
}
