import Foundation
import XCTest
@testable import WorkerPool

/// The intent of CPython's `test_imap`, `test_imap_unordered`, `test_imap_handle_iterable_exception`,
/// `test_imap_buffersize`.
final class IMapTests: PoolTestCase {
    private func drain<R>(_ iterator: IMapIterator<R>) throws -> [R] {
        var values: [R] = []
        while let value = try iterator.next(timeout: generous) { values.append(value) }
        return values
    }

    func testIMapInOrderForChunksizes() throws {
        try withPool(workers: 3) { pool in
            for chunksize in [1, 10] {
                let iterator = try pool.imap(Array(0..<1000), chunksize: chunksize) { $0 * $0 }
                XCTAssertEqual(try drain(iterator), (0..<1000).map { $0 * $0 })
                XCTAssertNil(try iterator.next(timeout: .zero), "stays at the end")
            }
        }
    }

    func testIMapUnorderedSameMultiset() throws {
        try withPool(workers: 3) { pool in
            for chunksize in [1, 10] {
                let iterator = try pool.imapUnordered(0..<1000, chunksize: chunksize) { $0 * 3 }
                XCTAssertEqual(try drain(iterator).sorted(), (0..<1000).map { $0 * 3 })
            }
        }
    }

    func testIMapUnorderedYieldsInCompletionOrder() throws {
        try withPool(workers: 2) { pool in
            let releaseFirst = Event()
            let iterator = try pool.imapUnordered([0, 1], chunksize: 1) { (x: Int) -> Int in
                if x == 0 { releaseFirst.wait(timeout: generous) }
                return x
            }
            XCTAssertEqual(try iterator.next(timeout: generous), 1, "the later item finished first")
            releaseFirst.set()
            XCTAssertEqual(try iterator.next(timeout: generous), 0)
            XCTAssertNil(try iterator.next(timeout: generous))
        }
    }

    func testIMapHoldsEarlyResultsUntilTheirTurn() throws {
        try withPool(workers: 2) { pool in
            let releaseFirst = Event()
            let secondDone = Event()
            let iterator = try pool.imap([0, 1], chunksize: 1) { (x: Int) -> Int in
                if x == 0 { releaseFirst.wait(timeout: generous) } else { secondDone.set() }
                return x
            }
            XCTAssertTrue(secondDone.wait(timeout: generous))
            XCTAssertThrowsPoolError(.timeout, try iterator.next(timeout: .milliseconds(20)))
            releaseFirst.set()
            XCTAssertEqual(try iterator.next(timeout: generous), 0)
            XCTAssertEqual(try iterator.next(timeout: generous), 1)
            XCTAssertNil(try iterator.next(timeout: generous))
        }
    }

    func testBodyErrorThrowsAtItsPositionAndIterationContinues() throws {
        try withPool(workers: 2) { pool in
            for chunksize in [1, 10] {
                for ordered in [true, false] {
                    let input = Array(0..<100)
                    let body: @Sendable (Int) throws -> Int = { x in
                        if x == 37 { throw TestError.boom(x) }
                        return x
                    }
                    let iterator = ordered ? try pool.imap(input, chunksize: chunksize, body) : try pool.imapUnordered(input, chunksize: chunksize, body)
                    var values: [Int] = []
                    var errors: [TestError] = []
                    var positionOfError: Int?
                    while true {
                        do {
                            guard let value = try iterator.next(timeout: generous) else { break }
                            values.append(value)
                        } catch let error as TestError {
                            errors.append(error)
                            positionOfError = values.count
                        }
                    }
                    XCTAssertEqual(errors, [.boom(37)])
                    XCTAssertEqual(values.sorted(), input.filter { $0 != 37 })
                    if ordered {
                        XCTAssertEqual(positionOfError, 37, "thrown at the failed item's position")
                        XCTAssertEqual(values, input.filter { $0 != 37 })
                    }
                }
            }
        }
    }

    /// Every chunk fails entirely, so each worker builds an empty result array
    /// at the same moment as the other. Regression test for a ThreadSanitizer
    /// report: building those arrays with a capacity of zero wrote into the
    /// process-wide empty-array storage from both workers at once. Meaningful
    /// under `--sanitize=thread` (CI runs the suite that way).
    func testChunksWhereEveryItemFailsOnBothWorkers() throws {
        try withPool(workers: 2) { pool in
            for ordered in [true, false] {
                let input = Array(0..<2000)
                let body: @Sendable (Int) throws -> Int = { throw TestError.boom($0) }
                let iterator = ordered
                    ? try pool.imap(input, chunksize: 1, body)
                    : try pool.imapUnordered(input, chunksize: 1, body)
                var failed: [Int] = []
                while true {
                    do {
                        guard let value = try iterator.next(timeout: generous) else { break }
                        XCTFail("no item can succeed, got \(value)")
                    } catch TestError.boom(let x) {
                        failed.append(x)
                    }
                }
                XCTAssertEqual(ordered ? failed : failed.sorted(), input)
                // The map path builds its array once per job; empty results go through the same helper.
                XCTAssertEqual(try pool.map([Int](), chunksize: 1) { $0 }, [])
            }
        }
    }

    func testNextTimeoutLeavesTheIteratorUsable() throws {
        try withPool(workers: 1) { pool in
            let release = Event()
            let iterator = try pool.imap([5], chunksize: 1) { (x: Int) -> Int in
                release.wait(timeout: generous)
                return x
            }
            let start = Deadline.now()
            XCTAssertThrowsPoolError(.timeout, try iterator.next(timeout: .milliseconds(50)))
            XCTAssertGreaterThanOrEqual(Deadline.now().nanoseconds - start.nanoseconds, 40_000_000)
            XCTAssertThrowsPoolError(.timeout, try iterator.next(timeout: .zero))
            release.set()
            XCTAssertEqual(try iterator.next(timeout: generous), 5)
            XCTAssertNil(try iterator.next(timeout: generous))
        }
    }

    func testEndlessInputIsReadBoundedlyAhead() throws {
        let workers = 2, buffersize = 2
        try withPool(workers: workers) { pool in
            for chunksize in [1, 5] {
                let read = Counter()
                let iterator = try pool.imap(CountingSequence(counter: read, limit: nil), chunksize: chunksize, buffersize: buffersize) { $0 + 1 }
                for consumed in 1...300 {
                    XCTAssertEqual(try iterator.next(timeout: generous), consumed)
                    // The window: workers + buffersize chunks cut and not yet fully consumed.
                    let bound = consumed + (workers + buffersize + 1) * chunksize
                    XCTAssertLessThanOrEqual(read.value, bound, "read \(read.value) after consuming \(consumed)")
                }
                iterator.cancel()
            }
        }
    }

    func testAConsumerThatStopsParksTheInput() throws {
        try withPool(workers: 2) { pool in
            let read = Counter()
            let ran = Counter()
            let windowFull = Event()
            let oneMore = Event()
            // window = workers + buffersize = 5 chunks of one item.
            let iterator = try pool.imap(CountingSequence(counter: read, limit: nil), buffersize: 3) { (x: Int) -> Int in
                let count = ran.increment()
                if count == 5 { windowFull.set() }
                if count == 6 { oneMore.set() }
                return x
            }
            XCTAssertTrue(windowFull.wait(timeout: generous))
            // The 5th cut parked the input: nothing more is read until the consumer takes a chunk.
            XCTAssertEqual(read.value, 5)
            XCTAssertFalse(oneMore.isSet)
            XCTAssertEqual(try iterator.next(timeout: generous), 0)
            XCTAssertTrue(oneMore.wait(timeout: generous))
            XCTAssertEqual(read.value, 6)
            iterator.cancel()
            XCTAssertThrowsError(try drain(iterator)) { XCTAssertTrue($0 is CancellationError) }
        }
    }

    func testCloseStopsReadingAnEndlessInputWithBuffersizeAndJoinReturns() throws {
        let pool = try Pool(workers: 2)
        let read = Counter()
        let iterator = try pool.imap(CountingSequence(counter: read, limit: nil), chunksize: 3, buffersize: 2) { $0 * 2 }
        XCTAssertEqual(try iterator.next(timeout: generous), 0)
        pool.close()
        try pool.join()  // does not wait on the consumer or the endless input
        // Every item read before the close is delivered, in order; then the stream says it was cut
        // short instead of ending as if complete.
        var values = [0]
        do {
            while let value = try iterator.next(timeout: generous) { values.append(value) }
            XCTFail("the stream ended with nil after close() cut it short")
        } catch PoolError.notRunning {
        }
        XCTAssertEqual(values, (0..<read.value).map { $0 * 2 })
        XCTAssertThrowsPoolError(.notRunning, try iterator.next(timeout: .zero))
    }

    func testTerminateDuringIMap() throws {
        let pool = try Pool(workers: 2)
        let release = Event()
        let iterator = try pool.imap(Array(0..<100), chunksize: 1) { (x: Int) -> Int in
            if x >= 3 { release.wait(timeout: generous) }
            return x
        }
        XCTAssertEqual(try iterator.next(timeout: generous), 0)
        let waiter = Event()
        let outcome = Recorder<PoolError?>()
        Thread.detachNewThread {
            do {
                while try iterator.next(timeout: generous) != nil {}
                outcome.append(nil)
            } catch {
                outcome.append(error as? PoolError)
            }
            waiter.set()
        }
        pool.terminate()
        XCTAssertTrue(waiter.wait(timeout: generous), "the consumer was released")
        XCTAssertEqual(outcome.values, [.terminated])
        XCTAssertThrowsPoolError(.terminated, try iterator.next(timeout: .zero))  // sticky
        release.set()
        try pool.join()
    }

    func testAsyncSequence() async throws {
        try await withPool(workers: 2) { pool in
            var values: [Int] = []
            let results = try pool.imap(Array(0..<500), chunksize: 7) { $0 - 1 }
            for try await value in results {
                values.append(value)
            }
            XCTAssertEqual(values, (0..<500).map { $0 - 1 })
            var count = 0
            let unordered = try pool.imapUnordered(0..<100) { $0 }
            for try await _ in unordered { count += 1 }
            XCTAssertEqual(count, 100)
        }
    }

    func testIMapInvalidArguments() throws {
        try withPool(workers: 1) { pool in
            XCTAssertInvalidArgument("chunksize", try pool.imap([1], chunksize: 0) { $0 })
            XCTAssertInvalidArgument("buffersize", try pool.imap([1], buffersize: 0) { $0 })
            XCTAssertInvalidArgument("buffersize", try pool.imapUnordered([1], buffersize: -2) { $0 })
            XCTAssertInvalidArgument("chunking", try pool.imap([1], chunking: .fixed(-1)) { $0 })
            let empty = try pool.imap([Int]()) { $0 }
            XCTAssertNil(try empty.next(timeout: generous))
        }
    }

    func testEveryItemOnceThroughIMap() throws {
        let calls = Counter()
        try withPool(workers: 3) { pool in
            let iterator = try pool.imapUnordered(Array(0..<5000), chunksize: 7) { (x: Int) -> Int in
                calls.increment()
                return x
            }
            XCTAssertEqual(try drain(iterator).sorted(), Array(0..<5000))
        }
        XCTAssertEqual(calls.value, 5000)
    }
}
