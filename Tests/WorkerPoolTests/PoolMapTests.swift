import Foundation
import XCTest
@testable import WorkerPool

/// The intent of CPython's `test_map`, `test_starmap`, `test_map_async*`, `test_map_chunksize`.
final class PoolMapTests: PoolTestCase {
    /// A collection that is not an array is read lazily, chunk by chunk as workers take work,
    /// not collected first: with both workers held inside their first chunks, at most a few
    /// chunks have been read; after the gate opens, every item exactly once.
    func testACollectionIsReadChunkByChunk() throws {
        let pool = try Pool(workers: 2)
        defer { pool.terminate() }
        let counter = Counter()
        let gate = Event()
        let started = Counter()
        let result = try pool.mapAsync(LyingCollection(count: 1000, yields: 1000, counter: counter), chunksize: 10) { (x: Int) -> Int in
            if x % 10 == 0 && x < 20 {
                started.increment()
                gate.wait(timeout: generous)
            }
            return x
        }
        XCTAssertTrue(pollUntil { started.value == 2 }, "both workers inside their first chunk")
        XCTAssertLessThanOrEqual(counter.value, 3 * 10, "read ahead of the workers: \(counter.value) items")
        gate.set()
        XCTAssertEqual(try result.get(timeout: generous), Array(0..<1000))
        XCTAssertEqual(counter.value, 1000, "every item read exactly once")
    }

    func testMapEqualsSerialMapForSizesAndChunksizes() throws {
        let workers = 3
        try withPool(workers: workers) { pool in
            for size in [0, 1, workers - 1, 1000, 100_003] {
                let input = (0..<size).map { $0 &* 7 &- 3 }
                let expected = input.map { $0 &* $0 }
                for chunksize in [1, 7, 1000, nil] as [Int?] {
                    if size == 100_003 && chunksize == 1 { continue }  // covered below with a lazy input
                    XCTAssertEqual(try pool.map(input, chunksize: chunksize) { $0 &* $0 }, expected, "size \(size), chunksize \(String(describing: chunksize))")
                }
            }
            // 100,003 single-item chunks, read lazily from a range.
            XCTAssertEqual(try pool.map(0..<100_003, chunksize: 1) { $0 + 1 }, Array(1...100_003))
        }
    }

    func testMapEveryCodec() throws {
        for codec in [TaskCodec.binary, .json, .passthrough, .custom(PropertyListTaskCoder())] {
            try withPool(workers: 2, codec: codec) { pool in
                let words = (0..<300).map { "w\($0)" }
                XCTAssertEqual(try pool.map(words, chunksize: 16) { $0.count }, words.map(\.count), "\(codec)")
                XCTAssertEqual(try pool.map(Array(0..<1000)) { Double($0) / 2 }, (0..<1000).map { Double($0) / 2 }, "\(codec)")
            }
        }
    }

    func testMapReadsLazyCollectionsAndCollectsOtherSequences() throws {
        try withPool(workers: 2) { pool in
            XCTAssertEqual(try pool.map(stride(from: 0, to: 100, by: 3)) { $0 }, Array(stride(from: 0, to: 100, by: 3)))
            let counter = Counter()
            XCTAssertEqual(try pool.map(CountingSequence(counter: counter, limit: 500), chunksize: 9) { $0 * 2 }, (0..<500).map { $0 * 2 })
            XCTAssertEqual(counter.value, 500)
            XCTAssertEqual(try pool.map((0..<50).lazy.map { $0 * 10 }) { $0 + 1 }, (0..<50).map { $0 * 10 + 1 })
            XCTAssertEqual(try pool.map(Set([1, 2, 3])) { $0 }.sorted(), [1, 2, 3])
        }
    }

    func testEveryItemComputedExactlyOnce() throws {
        let calls = Counter()
        let seen = Recorder<Int>()
        try withPool(workers: 3) { pool in
            let result = try pool.map(Array(0..<10_007), chunksize: 13) { (x: Int) -> Int in
                calls.increment()
                seen.append(x)
                return x
            }
            XCTAssertEqual(result, Array(0..<10_007))
        }
        XCTAssertEqual(calls.value, 10_007)
        XCTAssertEqual(seen.values.sorted(), Array(0..<10_007))
    }

    func testEmptyInputIsReadyAtOnceAndRunsTheCallback() throws {
        let callbackValues = Recorder<[Int]>()
        try withPool(workers: 2) { pool in
            let result = try pool.mapAsync([Int]()) { $0 } callback: { callbackValues.append($0) }
            XCTAssertEqual(try result.get(timeout: generous), [])
            XCTAssertEqual(callbackValues.values, [[]])
            XCTAssertEqual(try pool.map([String]()) { $0 }, [])
            XCTAssertEqual(try pool.starmap([(Int, Int)]()) { $0 + $1 }, [])
        }
    }

    func testStarmapTwoAndThreeArguments() throws {
        for codec in [TaskCodec.binary, .json, .passthrough] {
            try withPool(workers: 2, codec: codec) { pool in
                let pairs = (0..<500).map { ($0, $0 * 2) }
                XCTAssertEqual(try pool.starmap(pairs, chunksize: 7) { $0 + $1 }, pairs.map { $0 + $1 }, "\(codec)")
                let triples = (0..<200).map { (i: Int) in (i, "s\(i)", Double(i) / 4) }
                XCTAssertEqual(try pool.starmap(triples) { n, s, d in "\(n)\(s)\(d)" }, triples.map { "\($0.0)\($0.1)\($0.2)" }, "\(codec)")
            }
        }
    }

    func testStarmapAsyncWithCallback() throws {
        let delivered = Recorder<[Int]>()
        try withPool(workers: 2) { pool in
            let result = try pool.starmapAsync([(1, 2), (3, 4)]) { $0 * $1 } callback: { delivered.append($0) }
            XCTAssertEqual(try result.get(timeout: generous), [2, 12])
        }
        XCTAssertEqual(delivered.values, [[2, 12]])
    }

    func testBodyThrowingAtItemKFailsTheMapWithThatError() throws {
        try withPool(workers: 2) { pool in
            for chunksize in [1, 7, nil] as [Int?] {
                do {
                    _ = try pool.map(Array(0..<1000), chunksize: chunksize) { (x: Int) -> Int in
                        if x == 517 { throw TestError.boom(x) }
                        return x
                    }
                    XCTFail("no error")
                } catch TestError.boom(let x) {
                    XCTAssertEqual(x, 517)
                }
            }
            let errors = Recorder<TestError>()
            let result = try pool.mapAsync(Array(0..<100), chunksize: 10) { (x: Int) -> Int in
                if x % 10 == 3 { throw TestError.boom(x) }
                return x
            } errorCallback: { errors.append($0 as! TestError) }
            XCTAssertThrowsError(try result.get(timeout: generous))
            XCTAssertFalse(try result.isSuccessful)
            XCTAssertEqual(errors.values.count, 1, "one error callback, with the first error")
        }
    }

    func testFirstFailureSkipsChunksNotYetStarted() throws {
        let calls = Counter()
        try withPool(workers: 1) { pool in
            XCTAssertThrowsError(try pool.map(Array(0..<100), chunksize: 10) { (x: Int) -> Int in
                calls.increment()
                if x == 5 { throw TestError.boom(x) }
                return x
            })
            // One worker: the failing first chunk stops at item 5; at most the next chunk (cut
            // before the failure arrived) may still run; the rest are skipped.
            XCTAssertLessThanOrEqual(calls.value, 16)
            let stats = pool.statistics
            XCTAssertEqual(stats.itemsCompleted + stats.itemsFailed + stats.itemsCancelled, stats.itemsSubmitted)
        }
    }

    func testMapInvalidArguments() throws {
        try withPool(workers: 1) { pool in
            XCTAssertInvalidArgument("chunksize", try pool.map([1, 2], chunksize: 0) { $0 })
            XCTAssertInvalidArgument("chunksize", try pool.mapAsync([1, 2], chunksize: -1) { $0 })
            XCTAssertInvalidArgument("chunksize", try pool.starmap([(1, 2)], chunksize: 0) { $0 + $1 })
            XCTAssertInvalidArgument("chunking", try pool.map([1], chunking: .fixed(0)) { $0 })
            XCTAssertInvalidArgument("chunking", try pool.map([1], chunking: .guided(minimum: 0)) { $0 })
            XCTAssertInvalidArgument("chunking", try pool.map([1], chunking: .adaptive(target: .zero)) { $0 })
            // A huge chunksize is fine: one chunk.
            XCTAssertEqual(try pool.map([1, 2, 3], chunksize: Int.max) { $0 }, [1, 2, 3])
        }
    }

    func testTerminateDuringMap() throws {
        let pool = try Pool(workers: 2)
        let started = Event()
        let release = Event()
        let result = try pool.mapAsync(Array(0..<1000), chunksize: 1) { (x: Int) -> Int in
            started.set()
            release.wait(timeout: generous)
            return x
        }
        XCTAssertTrue(started.wait(timeout: generous))
        let waiter = Event()
        let outcome = Recorder<PoolError?>()
        Thread.detachNewThread {
            do { _ = try result.get(timeout: generous); outcome.append(nil) } catch { outcome.append(error as? PoolError) }
            waiter.set()
        }
        pool.terminate()
        XCTAssertTrue(waiter.wait(timeout: generous), "the blocked consumer was released")
        XCTAssertEqual(outcome.values, [.terminated])
        release.set()
        try pool.join()
        let stats = pool.statistics
        XCTAssertEqual(stats.itemsCompleted + stats.itemsFailed + stats.itemsCancelled, 1000)
        XCTAssertEqual(stats.jobsInCache, 0)
    }

    func testOneChunkIsOneTask() throws {
        try withPool(workers: 2, codec: .json) { pool in
            let result = try pool.map(Array(0..<200), chunksize: 50) { [$0] }
            XCTAssertEqual(result, (0..<200).map { [$0] })
            XCTAssertEqual(pool.statistics.chunksCompleted, 4)
        }
    }

    func testAsyncMapAndStarmap() async throws {
        try await withPool(workers: 2) { pool in
            let doubled = try await pool.map(Array(0..<1000), chunksize: 33) { $0 * 2 }
            XCTAssertEqual(doubled, (0..<1000).map { $0 * 2 })
            let sums = try await pool.starmap([(1, 2), (3, 4)]) { $0 + $1 }
            XCTAssertEqual(sums, [3, 7])
            let pending = try await pool.mapAsync([1, 2, 3]) { $0 }
            let values = try await pending.value
            XCTAssertEqual(values, [1, 2, 3])
        }
    }
}

