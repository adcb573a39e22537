import Foundation
import XCTest
@testable import WorkerPool

/// A collection whose `count` says more than its iteration yields.
private struct OverCountedCollection: Collection, Sendable {
    let real: Int
    let claimed: Int
    var startIndex: Int { 0 }
    var endIndex: Int { claimed }
    func index(after i: Int) -> Int { i + 1 }
    subscript(position: Int) -> Int { position }
    var count: Int { claimed }
    func makeIterator() -> IndexingIterator<[Int]> { Array(0..<real).makeIterator() }
}

/// Review of progress readings, chunk traces and the new sizers.
final class ProgressTraceTests: PoolTestCase {
    static let strategies: [ChunkingStrategy] = [
        .cpython, .fixed(3), .guided(minimum: 2), .factoring(minimum: 1), .factoring(minimum: 50), .trapezoid(),
        .trapezoid(first: 40, last: 5), .measuredFixed(probes: 2), .measuredFixed(probes: 12),
        .adaptive(target: .microseconds(200)),
    ]

    /// Traced maps with every strategy on a bounded pool, with a reader polling progress from
    /// another thread: progress never goes backwards nor above the total, the trace tiles the input,
    /// the room is all given back.
    func testTracedBoundedMapsWithEveryStrategyAndAProgressReader() throws {
        for strategy in Self.strategies {
            let recorder = ChunkTraceRecorder()
            let pool = try Pool(workers: 3, chunking: strategy.traced(by: recorder), maxQueuedChunks: 2)
            for round in 0..<3 {
                let count = [1, 97, 1000][round]
                let result = try pool.mapAsync(Array(0..<count)) { x -> Int in
                    if x % 97 == 0 { Thread.sleep(forTimeInterval: 0.0005) }
                    return x * 2
                }
                let stop = Event()
                let bad = Recorder<String>()
                let reader = Thread {
                    var last = 0
                    while !stop.isSet {
                        let p = result.progress
                        if p.total != count || p.done < last || p.done > count { bad.append("\(p) after \(last)") }
                        last = p.done
                    }
                }
                reader.start()
                XCTAssertEqual(try result.get(timeout: generous), (0..<count).map { $0 * 2 }, "\(strategy)")
                stop.set()
                XCTAssertEqual(result.progress, JobProgress(done: count, total: count), "\(strategy)")
                XCTAssertEqual(bad.values, [], "\(strategy)")
            }
            pool.close()
            try pool.join()
            XCTAssertEqual(pool.core.channel.roomHeld, 0, "\(strategy)")
            let jobs = recorder.trace.jobs
            XCTAssertEqual(jobs.count, 3, "\(strategy)")
            for (job, count) in zip(jobs, [1, 97, 1000]) {
                let sorted = job.chunks.sorted { $0.start < $1.start }
                var next = 0
                for chunk in sorted {
                    XCTAssertEqual(chunk.start, next, "\(strategy)")
                    next += chunk.items
                }
                XCTAssertEqual(next, count, "\(strategy): traced chunks tile the input")
            }
        }
    }

    /// A traced map over a collection whose count lies, with every strategy on a bounded pool:
    /// it fails with `.invalidArgument`, never hangs, and gives back its room.
    func testTracedMapsOverALyingCountFailWithEveryStrategy() throws {
        for strategy in Self.strategies {
            let recorder = ChunkTraceRecorder()
            let pool = try Pool(workers: 2, chunking: strategy.traced(by: recorder), maxQueuedChunks: 2)
            let result = try pool.mapAsync(OverCountedCollection(real: 40, claimed: 100)) { $0 }
            XCTAssertThrowsError(try result.get(timeout: generous), "\(strategy)") { error in
                guard case PoolError.invalidArgument = error else { return XCTFail("\(strategy): \(error)") }
            }
            let progress = result.progress
            XCTAssertEqual(progress.total, 100)
            XCTAssertLessThanOrEqual(progress.done, 40, "\(strategy): \(progress)")
            XCTAssertEqual(try pool.map(Array(0..<10)) { $0 + 1 }, Array(1...10), "\(strategy): the pool still works")
            pool.close()
            try pool.join()
            XCTAssertEqual(pool.core.channel.roomHeld, 0, "\(strategy)")
            let stats = pool.statistics
            XCTAssertEqual(stats.jobsInCache, 0)
        }
    }

    /// Progress read while the pool terminates a map mid-flight, and after a failure.
    func testProgressAfterFailureAndTermination() throws {
        try withPool(workers: 2) { pool in
            let failing = try pool.mapAsync(Array(0..<100), chunksize: 10) { x -> Int in
                if x == 42 { throw TestError.boom(x) }
                return x
            }
            XCTAssertThrowsError(try failing.get(timeout: generous))
            let p = failing.progress
            XCTAssertEqual(p.total, 100)
            XCTAssertLessThanOrEqual(p.done, 100)
            XCTAssertGreaterThanOrEqual(p.done, 3, "items 40, 41, 42 ran")
        }
        let pool = try Pool(workers: 2)
        let started = Event()
        let release = Event()
        let result = try pool.mapAsync(Array(0..<1000), chunksize: 1) { x -> Int in
            if x == 500 { started.set(); release.wait(timeout: generous) }
            return x
        }
        XCTAssertTrue(started.wait(timeout: generous))
        let stop = Event()
        let readings = Counter()
        let reader = Thread {
            while !stop.isSet { _ = result.progress; readings.increment() }
        }
        reader.start()
        pool.terminate()
        XCTAssertThrowsPoolError(.terminated, try result.get(timeout: generous))
        release.set()
        try pool.join()
        stop.set()
        let after = result.progress
        XCTAssertLessThanOrEqual(after.done, 1000)
        XCTAssertEqual(after.total, 1000)
    }

    /// imap with failures inside chunks of several items: when the iterator ends, done == total.
    func testImapProgressWithFailuresInsideChunksEndsAtItsTotal() throws {
        for strategy in Self.strategies {
            try withPool(workers: 2) { pool in
                let input = (0..<300).lazy.map { $0 }
                let iterator = try pool.imapUnordered(input, chunking: strategy) { x -> Int in
                    if x % 7 == 3 { throw TestError.boom(x) }
                    return x
                }
                var values = 0, errors = 0
                while true {
                    do {
                        guard try iterator.next(timeout: generous) != nil else { break }
                        values += 1
                    } catch TestError.boom {
                        errors += 1
                    }
                }
                XCTAssertEqual(values + errors, 300, "\(strategy)")
                XCTAssertEqual(iterator.progress, JobProgress(done: 300, total: 300), "\(strategy)")
            }
        }
    }

    /// Traced imap (tuple arguments and tuple results) with every strategy on a bounded pool.
    func testTracedTupleImapWithEveryStrategy() throws {
        for strategy in Self.strategies {
            let recorder = ChunkTraceRecorder()
            try withPool(workers: 2, maxQueuedChunks: 2) { pool in
                let input = (0..<200).lazy.map { ($0, String($0)) }
                let iterator = try pool.imap(input, chunking: strategy.traced(by: recorder), buffersize: 2) { n, s in (s, n * 2) }
                var seen = 0
                while let (s, doubled) = try iterator.next(timeout: generous) {
                    XCTAssertEqual(s, String(seen), "\(strategy)")
                    XCTAssertEqual(doubled, seen * 2)
                    seen += 1
                }
                XCTAssertEqual(seen, 200)
                XCTAssertEqual(iterator.progress, JobProgress(done: 200, total: 200), "\(strategy)")
            }
            let job = recorder.trace.jobs[0]
            XCTAssertEqual(job.chunks.map(\.items).reduce(0, +), 200, "\(strategy)")
        }
    }

    /// Every strategy's sizes cover the input exactly, for small and awkward counts on 1...64
    /// workers; huge minimums and counts near Int.max do not trap.
    func testSizersCoverEveryInputExactly() {
        let all: [ChunkingStrategy] = Self.strategies + [.factoring(minimum: .max), .guided(minimum: .max), .trapezoid(first: .max, last: .max),
                                                         .trapezoid(first: .max, last: 1), .fixed(.max), .adaptive(target: .seconds(1_000_000))]
        for strategy in all {
            for workers in [1, 2, 3, 7, 16, 63, 64] {
                for count in [0, 1, 2, 3, 5, 64, 65, 127, 1000, 4097] {
                    let sizes = strategy.chunkSizes(count: count, workers: workers)
                    XCTAssertEqual(sizes.reduce(0, +), count, "\(strategy) \(count) on \(workers)")
                    XCTAssertTrue(sizes.allSatisfy { $0 >= 1 }, "\(strategy) \(count) on \(workers)")
                }
                for count in [Int.max, Int.max - 1, Int.max / 2 + 1] where !"\(strategy)".hasPrefix("cpython") {
                    var sizer = strategy.makeSizer(for: ChunkingContext(workers: workers, count: count))
                    var remaining = count
                    var chunks = 0
                    while remaining > 0 && chunks < 20_000 {
                        let size = min(max(sizer.nextChunkSize(remaining: remaining), 1), remaining)
                        remaining -= size
                        chunks += 1
                    }
                    // Strategies whose chunks are bounded by a constant (fixed(3), trapezoid(40…5), measured
                    // probes) would need ~Int.max / constant chunks: only the no-trap part applies.
                    let bounded = ["measured", "fixed(3)", "trapezoid(40"].contains { "\(strategy)".hasPrefix($0) }
                    if !bounded {
                        XCTAssertEqual(remaining, 0, "\(strategy) \(count) on \(workers): \(chunks) chunks")
                    }
                    var lazy = strategy.makeSizer(for: ChunkingContext(workers: workers, count: nil))
                    for _ in 0..<100 { XCTAssertGreaterThanOrEqual(lazy.nextChunkSize(remaining: nil), 1) }
                }
            }
        }
        // A measuring sizer fed extreme measurements does not trap.
        for probes in [2, 3, 64] {
            for workers in [1, 2, 64] {
                var sizer = MeasuredFixedChunkSizer(probes: probes, workers: workers)
                for i in 0..<probes {
                    let size = sizer.nextChunkSize(remaining: Int.max)
                    let stage = [Duration.zero, .nanoseconds(1), .seconds(Int64.max / 4)][i % 3]
                    sizer.chunkFinished(ChunkMeasurement(items: size, duration: stage,
                                                         stages: ChunkStages(dispatch: stage, arguments: .zero, bodies: stage, results: stage)))
                }
                XCTAssertGreaterThanOrEqual(sizer.nextChunkSize(remaining: Int.max), 1)
                var adaptive = AdaptiveChunkSizer(target: .seconds(Int64.max / 2), workers: workers)
                for _ in 0..<10 {
                    let size = adaptive.nextChunkSize(remaining: Int.max)
                    adaptive.chunkFinished(items: size, duration: .zero)
                }
                XCTAssertGreaterThanOrEqual(adaptive.nextChunkSize(remaining: 1), 1)
            }
        }
    }
}
