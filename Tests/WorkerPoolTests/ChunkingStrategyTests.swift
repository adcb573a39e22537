import Foundation
import XCTest
@testable import WorkerPool

/// A deterministic simulation of workers cutting chunks from one job, on a virtual clock: the
/// "injected clock" that lets the adaptive strategy be tested without timing anything real.
/// Workers ask for a chunk when they are free, as the pool's workers do; the sizer hears each
/// chunk's duration before the cut that follows the chunk's end.
struct ChunkSimulation {
    struct Chunk { let start: Int; let size: Int; let duration: Duration }

    let chunks: [Chunk]
    let makespan: Duration

    init(sizer: any ChunkSizer, count: Int?, items: Int, workers: Int, overhead: Duration = .microseconds(2), cost: (Int) -> Duration) {
        var sizer = sizer
        var freeAt = Array(repeating: Duration.zero, count: workers)
        var lastChunk: [Chunk?] = Array(repeating: nil, count: workers)
        var chunks: [Chunk] = []
        var next = 0
        while next < items {
            let worker = freeAt.indices.min { freeAt[$0] < freeAt[$1] }!
            if let finished = lastChunk[worker] {
                // Stage times as the pool reports them to a sizer that measures stages: the
                // overhead split between arguments and results, the rest in bodies.
                let body = finished.duration - overhead
                sizer.chunkFinished(ChunkMeasurement(
                    items: finished.size, duration: finished.duration,
                    stages: ChunkStages(dispatch: .zero, arguments: overhead / 2, bodies: body, results: overhead / 2)))
            }
            let remaining = count.map { $0 - next }
            let size = min(max(sizer.nextChunkSize(remaining: remaining), 1), items - next)
            var duration = overhead
            for index in next..<(next + size) { duration += cost(index) }
            let chunk = Chunk(start: next, size: size, duration: duration)
            chunks.append(chunk)
            lastChunk[worker] = chunk
            freeAt[worker] += duration
            next += size
        }
        self.chunks = chunks
        makespan = freeAt.max()!
    }

    var sizes: [Int] { chunks.map(\.size) }
}

final class ChunkingStrategyTests: PoolTestCase {
    private let strategies: [ChunkingStrategy] = [
        .cpython, .fixed(1), .fixed(7), .fixed(10_000), .guided(minimum: 1), .guided(minimum: 8),
        .adaptive(target: .milliseconds(1)), .adaptive(target: .microseconds(10)),
        .factoring(minimum: 1), .factoring(minimum: 5), .trapezoid(), .trapezoid(first: 50, last: 3), .measuredFixed(probes: 3),
        .custom(name: "zeros") { _ in ZeroSizer() },
    ]

    func testEveryStrategyCoversTheInputExactlyWithoutEmptyChunks() {
        for strategy in strategies {
            for count in [1, 2, 7, 100, 1000, 100_003] {
                for workers in [1, 2, 4] {
                    let sizes = strategy.chunkSizes(count: count, workers: workers)
                    XCTAssertEqual(sizes.reduce(0, +), count, "\(strategy) count \(count) workers \(workers)")
                    XCTAssertTrue(sizes.allSatisfy { $0 >= 1 }, "\(strategy): an empty chunk")
                }
            }
        }
    }

    func testCPythonHeuristicNeverOverflows() {
        XCTAssertEqual(ChunkingStrategy.cpythonChunkSize(count: Int.max, workers: 2), Int.max / 8 + 1)
        XCTAssertEqual(ChunkingStrategy.cpythonChunkSize(count: Int.max, workers: Int.max), 1)
        XCTAssertEqual(ChunkingStrategy.cpythonChunkSize(count: Int.max - 1, workers: 1), Int.max / 4 + 1)
        XCTAssertEqual(ChunkingStrategy.cpythonChunkSize(count: 8, workers: 2), 1)
        XCTAssertEqual(ChunkingStrategy.cpythonChunkSize(count: 9, workers: 2), 2)
    }

    func testCPythonHeuristic() {
        XCTAssertEqual(ChunkingStrategy.cpythonChunkSize(count: 1_000_000, workers: 2), 125_000)
        XCTAssertEqual(ChunkingStrategy.cpythonChunkSize(count: 1001, workers: 2), 126)  // divmod rounds up
        XCTAssertEqual(ChunkingStrategy.cpythonChunkSize(count: 3, workers: 4), 1)
        XCTAssertEqual(ChunkingStrategy.cpythonChunkSize(count: 0, workers: 4), 1)
        XCTAssertEqual(ChunkingStrategy.cpythonChunkSize(count: nil, workers: 4), 1)
        let sizes = ChunkingStrategy.cpython.chunkSizes(count: 1001, workers: 2)
        XCTAssertEqual(sizes, Array(repeating: 126, count: 7) + [119])
    }

    func testGuidedDecreasesToItsMinimum() {
        let sizes = ChunkingStrategy.guided(minimum: 4).chunkSizes(count: 10_000, workers: 2)
        XCTAssertEqual(sizes.first, 2500, "remaining / (2 * workers)")
        for (a, b) in zip(sizes, sizes.dropFirst()) { XCTAssertGreaterThanOrEqual(a, b, "\(sizes)") }
        XCTAssertTrue(sizes.dropLast().allSatisfy { $0 >= 4 })
        XCTAssertEqual(sizes.dropLast().last, 4, "ends at the minimum")
        // Without a count (imap) every chunk is the minimum.
        var sizer = ChunkingStrategy.guided(minimum: 3).makeSizer(for: ChunkingContext(workers: 2, count: nil))
        XCTAssertEqual((0..<5).map { _ in sizer.nextChunkSize(remaining: nil) }, [3, 3, 3, 3, 3])
    }

    func testAdaptiveGrowsFastWhenItemsAreCheap() {
        let target = Duration.milliseconds(1)
        let simulation = ChunkSimulation(
            sizer: ChunkingStrategy.adaptive(target: target).makeSizer(for: ChunkingContext(workers: 2, count: nil)),
            count: nil, items: 2_000_000, workers: 2, cost: { _ in .nanoseconds(10) })
        let sizes = simulation.sizes
        XCTAssertEqual(sizes.first, 1, "starts small")
        // It reaches the target within a dozen chunks: 1 ms of 10 ns items is about 100,000 items.
        let firstBig = sizes.firstIndex { $0 >= 50_000 }
        XCTAssertNotNil(firstBig, "\(sizes.prefix(30))")
        XCTAssertLessThanOrEqual(firstBig ?? .max, 14, "\(sizes.prefix(30))")
        // Grows at most 8x per step, and settles near the target (1 ms of 10 ns items).
        for (a, b) in zip(sizes, sizes.dropFirst()) { XCTAssertLessThanOrEqual(b, max(a, 1) * 8, "\(sizes.prefix(30))") }
        XCTAssertLessThanOrEqual(sizes.max() ?? 0, 120_000)
    }

    func testAdaptiveShrinksTowardTheTargetWhenItemsTurnSlow() {
        let target = Duration.microseconds(500)
        // The first 20,000 items cost 1 µs, the rest 200 µs each.
        let simulation = ChunkSimulation(
            sizer: ChunkingStrategy.adaptive(target: target).makeSizer(for: ChunkingContext(workers: 2, count: 22_000)),
            count: 22_000, items: 22_000, workers: 2, cost: { $0 < 20_000 ? .microseconds(1) : .microseconds(200) })
        let slowChunks = simulation.chunks.filter { $0.start >= 20_000 }
        XCTAssertGreaterThan(simulation.chunks.filter { $0.start < 20_000 }.map(\.size).max() ?? 0, 100, "grew while cheap")
        // After a few chunks in the slow part, chunks hold 2 or 3 items: about the target.
        let settled = slowChunks.dropFirst(4)
        XCTAssertFalse(settled.isEmpty)
        for chunk in settled {
            XCTAssertLessThanOrEqual(chunk.size, 4, "\(slowChunks.map(\.size).prefix(20))")
            XCTAssertLessThanOrEqual(chunk.duration, target * 2)
        }
    }

    func testAdaptiveKeepsTheEndBalancedWhenTheCountIsKnown() {
        let simulation = ChunkSimulation(
            sizer: ChunkingStrategy.adaptive(target: .milliseconds(50)).makeSizer(for: ChunkingContext(workers: 2, count: 100_000)),
            count: 100_000, items: 100_000, workers: 2, overhead: .zero, cost: { _ in .microseconds(1) })
        // Chunks shrink toward the end (guided's share), so both workers finish close together.
        let ideal = Duration.microseconds(100_000) / 2
        XCTAssertLessThanOrEqual(simulation.makespan, ideal * 1.05, "\(simulation.sizes)")
        XCTAssertLessThanOrEqual(simulation.sizes.count, 40, "\(simulation.sizes)")
    }

    /// On a ramp, the first, cheap items make the estimate tiny; a sizer that then split the rest
    /// into one equal share per worker by count gave the expensive tail to one worker. Costs that
    /// rise, fall, jump or vary along the input must all end balanced.
    func testAdaptiveEndsBalancedWhicheverWayCostsChange() {
        let n = 20_000
        let shapes: [(String, (Int) -> Duration)] = [
            ("ramp", { .nanoseconds(Int64(20_000 * $0 / n)) }),
            ("ramp down", { .nanoseconds(Int64(20_000 * (n - 1 - $0) / n)) }),
            ("step", { $0 < n / 2 ? .microseconds(2) : .microseconds(18) }),
            ("step down", { $0 < n / 2 ? .microseconds(18) : .microseconds(2) }),
        ]
        for (name, cost) in shapes {
            for workers in [2, 8] {
                let simulation = ChunkSimulation(
                    sizer: ChunkingStrategy.adaptive(target: .milliseconds(1)).makeSizer(for: ChunkingContext(workers: workers, count: n)),
                    count: n, items: n, workers: workers, overhead: .zero, cost: cost)
                let total = (0..<n).reduce(Duration.zero) { $0 + cost($1) }
                // Balanced: the last worker finishes within a millisecond (the target) of an even split.
                XCTAssertLessThanOrEqual(simulation.makespan, total / workers + .milliseconds(1),
                                         "\(name) on \(workers) workers: \(simulation.sizes.suffix(12))")
                // Near the end, no chunk holds more than guided's share of what was left, unless
                // it is short (a sixteenth of the target, with room for the estimate's lag):
                // never one equal share per worker.
                var remaining = n
                for chunk in simulation.chunks {
                    let share = (remaining + 2 * workers - 1) / (2 * workers)
                    if remaining < n / 4 && chunk.size > share {
                        XCTAssertLessThanOrEqual(chunk.duration, .microseconds(125), "\(name) on \(workers) workers: \(simulation.sizes.suffix(12))")
                    }
                    remaining -= chunk.size
                }
            }
        }
    }

    func testFactoringCutsBatchesOfHalfWhatIsLeft() {
        // FAC2 by hand: 100 items, 2 workers. Batches start at 100, 50, 24, 12, 6, 2 items left;
        // each batch is 2 chunks of ceil(left / 4).
        XCTAssertEqual(ChunkingStrategy.factoring().chunkSizes(count: 100, workers: 2), [25, 25, 13, 13, 6, 6, 3, 3, 2, 2, 1, 1])
        // With a minimum of 4: batches at 100, 50, 24, 12 (max(4, 3) = 4), 4.
        XCTAssertEqual(ChunkingStrategy.factoring(minimum: 4).chunkSizes(count: 100, workers: 2), [25, 25, 13, 13, 6, 6, 4, 4, 4])
        // 1,000 items, 3 workers: batches at 1000, 499, 247, 121, 58, 28, 13, 4, 1.
        XCTAssertEqual(ChunkingStrategy.factoring().chunkSizes(count: 1000, workers: 3),
                       [167, 167, 167, 84, 84, 84, 42, 42, 42, 21, 21, 21, 10, 10, 10, 5, 5, 5, 3, 3, 3, 1, 1, 1, 1])
        var lazy = ChunkingStrategy.factoring(minimum: 6).makeSizer(for: ChunkingContext(workers: 2, count: nil))
        XCTAssertEqual((0..<3).map { _ in lazy.nextChunkSize(remaining: nil) }, [6, 6, 6], "imap: the minimum")
        XCTAssertEqual(ChunkingStrategy.factoring(minimum: 2).description, "factoring(2)")
    }

    func testTrapezoidFallsLinearly() {
        // Tzen and Ni by hand: 100 items, 2 workers: f = ceil(100 / 4) = 25, l = 1,
        // c = ceil(200 / 26) = 8, chunk i = 25 - floor(24 i / 7): 25, 22, 19, 15, 12, 8, ... and
        // the 7 items left after 93.
        XCTAssertEqual(ChunkingStrategy.trapezoid().chunkSizes(count: 100, workers: 2), [25, 22, 19, 15, 12, 7])
        // f = 10, l = 2: c = ceil(200 / 12) = 17, chunk i = 10 - floor(8 i / 16).
        XCTAssertEqual(ChunkingStrategy.trapezoid(first: 10, last: 2).chunkSizes(count: 100, workers: 2),
                       [10, 10, 9, 9, 8, 8, 7, 7, 6, 6, 5, 5, 4, 4, 2])
        // 1,000 items, 4 workers: f = 125, c = ceil(2000 / 126) = 16, chunk i = 125 - floor(124 i / 15).
        XCTAssertEqual(ChunkingStrategy.trapezoid().chunkSizes(count: 1000, workers: 4),
                       [125, 117, 109, 101, 92, 84, 76, 68, 59, 51, 43, 35, 26, 14])
        var lazy = ChunkingStrategy.trapezoid(first: 40, last: 5).makeSizer(for: ChunkingContext(workers: 2, count: nil))
        XCTAssertEqual((0..<3).map { _ in lazy.nextChunkSize(remaining: nil) }, [5, 5, 5], "imap: the last size")
        XCTAssertEqual(ChunkingStrategy.trapezoid().description, "trapezoid")
        XCTAssertEqual(ChunkingStrategy.trapezoid(first: 10, last: 2).description, "trapezoid(10…2)")
        // Huge counts neither overflow nor trap.
        XCTAssertEqual(TrapezoidChunkSizer(first: nil, last: 1, workers: 2, count: Int.max).first, Int.max / 4 + 1)
        var huge = TrapezoidChunkSizer(first: nil, last: 1, workers: 2, count: Int.max)
        XCTAssertEqual(huge.nextChunkSize(remaining: Int.max), Int.max / 4 + 1)
        XCTAssertGreaterThan(huge.nextChunkSize(remaining: Int.max), 1)
    }

    func testMeasuredFixedProbesThenFixesKruskalWeissSize() {
        var sizer = MeasuredFixedChunkSizer(probes: 4, workers: 4)
        XCTAssertTrue(sizer.measuresStages)
        XCTAssertEqual((0..<4).map { _ in sizer.nextChunkSize(remaining: 10_000) }, [1, 2, 4, 8], "probes of 1, 2, 4, 8")
        XCTAssertEqual(sizer.nextChunkSize(remaining: 9_985), 8, "the last probe size until every probe is measured")
        // Bodies of 1,100, 2,000, 4,000 and 7,900 ns: mu = 15,000 / 15 = 1,000 ns; the deviations
        // +100, 0, 0, -100 give sigma^2 = (100^2 / 1 + 100^2 / 8) / 3 = 3,750. Each probe's
        // overhead is 2,000 ns whatever its size: h = 2,000.
        for (items, body) in [(1, 1_100), (2, 2_000), (4, 4_000), (8, 7_900)] {
            sizer.chunkFinished(ChunkMeasurement(
                items: items, duration: .nanoseconds(body + 1_500),
                stages: ChunkStages(dispatch: .nanoseconds(500), arguments: .nanoseconds(700), bodies: .nanoseconds(body), results: .nanoseconds(800))))
        }
        // k = (sqrt(2) * 10,000 * 2,000 / (sqrt(3,750) * 4 * sqrt(ln 4)))^(2/3)
        //   = (28,284,271 / 288.41)^(2/3) = 98,071^(2/3) = 2,126.6.
        XCTAssertEqual(sizer.nextChunkSize(remaining: 10_000), 2126)
        XCTAssertEqual(sizer.estimates?.overhead ?? 0, 2_000, accuracy: 1e-6)
        XCTAssertEqual(sizer.estimates?.itemTime ?? 0, 1_000, accuracy: 1e-6)
        XCTAssertEqual(sizer.estimates?.spread ?? 0, 3_750.0.squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(sizer.nextChunkSize(remaining: 7_000), 2126, "fixed from then on")
        // Closed forms: one worker, or no spread, give one share per worker.
        XCTAssertEqual(MeasuredFixedChunkSizer.optimalSize(remaining: 1000, workers: 1, overhead: 2000, itemTime: 1000, spread: 50), 1000)
        XCTAssertEqual(MeasuredFixedChunkSizer.optimalSize(remaining: 1000, workers: 4, overhead: 2000, itemTime: 1000, spread: 0), 250)
        // No count: the overhead is 1 % of a chunk: 2,000 / (0.01 * 1,000) = 200 items.
        XCTAssertEqual(MeasuredFixedChunkSizer.optimalSize(remaining: nil, workers: 4, overhead: 2000, itemTime: 1000, spread: 50), 200)
        XCTAssertEqual(ChunkingStrategy.measuredFixed().description, "measured-fixed(8)")
    }

    func testMeasuredFixedSplitsPerItemCodecFromPerChunkOverhead() {
        // Overheads of 1,000 ns per chunk plus 50 ns per item: the intercept is the per-chunk part.
        let probes = [1, 2, 4, 8, 16].map { items in
            ChunkMeasurement(items: items, duration: .zero,
                             stages: ChunkStages(dispatch: .nanoseconds(400), arguments: .nanoseconds(300 + 25 * items),
                                                 bodies: .nanoseconds(1_000 * items), results: .nanoseconds(300 + 25 * items)))
        }
        let estimates = MeasuredFixedChunkSizer.estimate(probes)
        XCTAssertEqual(estimates.overhead, 1_000, accuracy: 1e-6)
        XCTAssertEqual(estimates.itemTime, 1_050, accuracy: 1e-6)
        XCTAssertEqual(estimates.spread, 0, accuracy: 1e-6)
    }

    func testCustomStrategyIsClampedAndUsedByThePool() throws {
        let calls = Counter()
        let strategy = ChunkingStrategy.custom(name: "threes") { context in
            calls.increment()
            return CountingSizer(size: 3)
        }
        XCTAssertEqual(strategy.description, "threes")
        XCTAssertEqual(ChunkingStrategy.custom(name: "zeros") { _ in ZeroSizer() }.chunkSizes(count: 5, workers: 2), [1, 1, 1, 1, 1])
        try withPool(workers: 2) { pool in
            let before = pool.statistics.chunksCompleted
            XCTAssertEqual(try pool.map(Array(0..<10), chunking: strategy) { $0 * 2 }, (0..<10).map { $0 * 2 })
            XCTAssertEqual(pool.statistics.chunksCompleted - before, 4, "chunks of 3, 3, 3 and 1")
        }
        XCTAssertEqual(calls.value, 1, "one sizer per job")
    }

    func testPrecedenceChunksizeThenCallThenPool() throws {
        try withPool(workers: 2, chunking: .fixed(10)) { pool in
            func chunks(_ body: () throws -> Void) rethrows -> Int {
                let before = pool.statistics.chunksCompleted
                try body()
                return pool.statistics.chunksCompleted - before
            }
            let input = Array(0..<100)
            XCTAssertEqual(try chunks { _ = try pool.map(input) { $0 } }, 10, "the pool's strategy")
            XCTAssertEqual(try chunks { _ = try pool.map(input, chunking: .fixed(25)) { $0 } }, 4, "the call's strategy")
            XCTAssertEqual(try chunks { _ = try pool.map(input, chunksize: 50, chunking: .fixed(25)) { $0 } }, 2, "an explicit chunksize wins")
            // imap keeps CPython's chunk size of 1 unless the call says otherwise.
            XCTAssertEqual(try chunks { _ = try drainAll(pool.imap(input) { $0 }) }, 100)
            XCTAssertEqual(try chunks { _ = try drainAll(pool.imap(input, chunking: .fixed(20)) { $0 }) }, 5)
            XCTAssertEqual(try chunks { _ = try drainAll(pool.imap(input, chunksize: 50, chunking: .fixed(20)) { $0 }) }, 2)
            XCTAssertEqual(try pool.map(input, chunking: .guided(minimum: 4)) { $0 + 1 }, input.map { $0 + 1 })
            XCTAssertEqual(try pool.map(input, chunking: .adaptive(target: .microseconds(50))) { $0 + 1 }, input.map { $0 + 1 })
        }
    }

    func testStrategyDescriptions() {
        XCTAssertEqual(ChunkingStrategy.cpython.description, "cpython")
        XCTAssertEqual(ChunkingStrategy.fixed(64).description, "fixed(64)")
        XCTAssertEqual(ChunkingStrategy.guided(minimum: 4).description, "guided(4)")
        XCTAssertEqual(ChunkingStrategy.adaptive(target: .milliseconds(1)).description, "adaptive(1ms)")
        XCTAssertEqual(ChunkingStrategy.adaptive(target: .microseconds(250)).description, "adaptive(250µs)")
        XCTAssertEqual(ChunkingStrategy.guided(minimum: 4).traced(by: ChunkTraceRecorder()).description, "guided(4)")
    }

    func testNewStrategiesRunInThePool() throws {
        try withPool(workers: 2) { pool in
            let input = Array(0..<1_000)
            for strategy in [ChunkingStrategy.factoring(minimum: 3), .trapezoid(), .trapezoid(first: 100, last: 10), .measuredFixed(probes: 4)] {
                XCTAssertEqual(try pool.map(input, chunking: strategy) { $0 * 3 }, input.map { $0 * 3 }, "\(strategy)")
                let streamed = try drainAll(pool.imap(input, chunking: strategy) { $0 * 3 })
                XCTAssertEqual(streamed, input.map { $0 * 3 }, "imap \(strategy)")
            }
        }
    }
}

private func drainAll<R>(_ iterator: IMapIterator<R>) throws -> [R] {
    var values: [R] = []
    while let value = try iterator.next(timeout: generous) { values.append(value) }
    return values
}

/// A sizer that asks for empty chunks, which the pool turns into chunks of one.
struct ZeroSizer: ChunkSizer {
    mutating func nextChunkSize(remaining: Int?) -> Int { 0 }
}

struct CountingSizer: ChunkSizer {
    let size: Int
    mutating func nextChunkSize(remaining: Int?) -> Int { size }
}
