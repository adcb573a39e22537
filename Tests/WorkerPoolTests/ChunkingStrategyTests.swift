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
                sizer.chunkFinished(items: finished.size, duration: finished.duration)
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
        // The end is split into one share per worker, so both workers finish close together,
        // without a long tail of ever smaller chunks.
        let ideal = Duration.microseconds(100_000) / 2
        XCTAssertLessThanOrEqual(simulation.makespan, ideal * 1.05, "\(simulation.sizes)")
        XCTAssertLessThanOrEqual(simulation.sizes.count, 20, "\(simulation.sizes)")
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
