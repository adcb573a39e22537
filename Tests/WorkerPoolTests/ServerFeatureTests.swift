import Foundation
import XCTest
@testable import WorkerPool

/// Async use from a server, cancellation, bounded submission and statistics.
final class ServerFeatureTests: PoolTestCase {
    /// 1,000 awaited applies while every body is held until a task on the cooperative pool opens a
    /// gate. If an await blocked a cooperative thread, the few threads of Swift's pool would all be
    /// stuck and the gate would never open.
    func testThousandAwaitedAppliesDoNotBlockTheCooperativePool() async throws {
        let pool = try Pool(workers: 2)
        let gate = Event()
        let opened = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<1000 {
                group.addTask {
                    try await pool.apply(i) { _ in gate.wait(timeout: .seconds(60)) }
                }
            }
            // Submitted from the cooperative pool after the 1,000 awaits are in flight.
            group.addTask {
                await Task.yield()
                gate.set()
                return true
            }
            var all: [Bool] = []
            for try await value in group { all.append(value) }
            return all
        }
        XCTAssertEqual(opened.count, 1001)
        XCTAssertTrue(opened.allSatisfy { $0 }, "a body waited for the gate until its timeout")
        pool.close()
        try await pool.joined()
    }

    func testCancellingAQueuedMapSkipsItsChunks() throws {
        let pool = try Pool(workers: 1)
        let release = Event()
        let running = Event()
        let blocker = try pool.applyAsync(0) { (x: Int) -> Int in
            running.set()
            release.wait(timeout: generous)
            return x
        }
        XCTAssertTrue(running.wait(timeout: generous))
        let calls = Counter()
        let errors = Recorder<Bool>()
        let mapped = try pool.mapAsync(Array(0..<100), chunksize: 10) { (x: Int) -> Int in
            calls.increment()
            return x
        } errorCallback: { errors.append($0 is CancellationError) }
        // Chunks are cut as workers ask: the map is one queued entry until a worker takes it.
        XCTAssertEqual(pool.statistics.chunksQueued, 1)
        mapped.cancel()
        XCTAssertThrowsError(try mapped.get(timeout: generous)) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        XCTAssertEqual(errors.values, [true])
        XCTAssertEqual(pool.statistics.jobsInCache, 1, "the map left the cache; the blocker is still in it")
        release.set()
        XCTAssertEqual(try blocker.get(timeout: generous), 0)
        pool.close()
        try pool.join()
        XCTAssertEqual(calls.value, 0, "no body of a skipped chunk ran")
        let stats = pool.statistics
        XCTAssertEqual(stats.itemsCancelled, 100)
        XCTAssertEqual(stats.itemsCompleted + stats.itemsFailed + stats.itemsCancelled, stats.itemsSubmitted)
        mapped.cancel()  // cancelling a finished result does nothing
    }

    func testCancellingAnAwaitingTaskCancelsTheJob() async throws {
        let pool = try Pool(workers: 1)
        let started = Event()
        let calls = Counter()
        let task = Task {
            try await pool.map(Array(0..<200), chunksize: 1) { (x: Int) -> Int in
                calls.increment()
                started.set()
                // A long body that stops early once its job is cancelled.
                let deadline = Deadline.after(.seconds(30))
                while !Pool.isCurrentTaskCancelled && !deadline.hasPassed {}
                return x
            }
        }
        let startedFired = await awaitEvent(started)
        XCTAssertTrue(startedFired)
        task.cancel()
        let outcome = await task.result
        XCTAssertThrowsError(try outcome.get()) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        pool.close()
        try await pool.joined()
        // The running body saw the cancellation; the chunks after it never ran.
        XCTAssertLessThanOrEqual(calls.value, 2)
        XCTAssertGreaterThanOrEqual(pool.statistics.itemsCancelled, 198)
    }

    func testCancellingAnIMapMidStreamStopsReadingItsInput() throws {
        try withPool(workers: 2) { pool in
            let read = Counter()
            let iterator = try pool.imap(CountingSequence(counter: read, limit: nil), buffersize: 2) { $0 * 10 }
            for expected in 0..<20 { XCTAssertEqual(try iterator.next(timeout: generous), expected * 10) }
            iterator.cancel()
            var afterCancel = 0
            XCTAssertThrowsError(try {
                while try iterator.next(timeout: generous) != nil { afterCancel += 1 }
            }()) { XCTAssertTrue($0 is CancellationError, "\($0)") }
            XCTAssertLessThanOrEqual(afterCancel, 2 + 2, "only items already computed")
            let readAtCancel = read.value
            XCTAssertThrowsError(try iterator.next(timeout: .zero)) { XCTAssertTrue($0 is CancellationError) }
            XCTAssertLessThanOrEqual(read.value, readAtCancel + 1)
            XCTAssertEqual(pool.statistics.jobsInCache, 0)
        }
    }

    func testCancellingAnAsyncIMapLoop() async throws {
        let pool = try Pool(workers: 2)
        let read = Counter()
        let reachedTen = Event()
        let task = Task {
            var seen = 0
            let results = try pool.imap(CountingSequence(counter: read, limit: nil)) { $0 }
            for try await _ in results {
                seen += 1
                if seen == 10 { reachedTen.set() }
            }
            return seen
        }
        let reachedTenFired = await awaitEvent(reachedTen)
        XCTAssertTrue(reachedTenFired)
        task.cancel()
        let outcome = await task.result
        XCTAssertThrowsError(try outcome.get()) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        pool.close()
        try await pool.joined()
    }

    func testBoundedSubmissionBlocksAndUnblocks() throws {
        let pool = try Pool(workers: 1, maxQueuedChunks: 2)
        let release = Event()
        let running = Event()
        _ = try pool.applyAsync(0) { (x: Int) -> Int in
            running.set()
            release.wait(timeout: generous)
            return x
        }
        XCTAssertTrue(running.wait(timeout: generous))  // started: its chunk no longer counts as queued
        let first = try pool.applyAsync(1) { $0 }
        let second = try pool.applyAsync(2) { $0 }
        XCTAssertEqual(pool.statistics.chunksQueued, 2)
        let submitted = Event()
        let third = Recorder<AsyncResult<Int>>()
        Thread.detachNewThread {
            if let result = try? pool.applyAsync(3, { $0 }) { third.append(result) }
            submitted.set()
        }
        XCTAssertFalse(submitted.wait(timeout: .milliseconds(100)), "the third submission waits for room")
        release.set()  // the queued chunks start, room frees, the third submission goes in
        XCTAssertTrue(submitted.wait(timeout: generous))
        XCTAssertEqual(try first.get(timeout: generous), 1)
        XCTAssertEqual(try second.get(timeout: generous), 2)
        XCTAssertEqual(try third.values.first?.get(timeout: generous), 3)
        pool.close()
        try pool.join()
    }

    func testBoundedSubmissionRefusesWaitersWhenThePoolStops() throws {
        let pool = try Pool(workers: 1, maxQueuedChunks: 1)
        let release = Event()
        let running = Event()
        _ = try pool.applyAsync(0) { (x: Int) -> Int in running.set(); release.wait(timeout: generous); return x }
        XCTAssertTrue(running.wait(timeout: generous))
        _ = try pool.applyAsync(1) { $0 }
        let outcome = Recorder<PoolError?>()
        let done = Event()
        Thread.detachNewThread {
            do { _ = try pool.mapAsync([1, 2, 3]) { $0 }; outcome.append(nil) } catch { outcome.append(error as? PoolError) }
            done.set()
        }
        XCTAssertFalse(done.wait(timeout: .milliseconds(50)))
        pool.terminate()
        XCTAssertTrue(done.wait(timeout: generous))
        XCTAssertEqual(outcome.values, [.notRunning])
        release.set()
        try pool.join()
    }

    func testBoundedAsyncSubmissionSuspendsAndCanBeCancelled() async throws {
        let pool = try Pool(workers: 1, maxQueuedChunks: 1)
        let release = Event()
        let running = Event()
        _ = try await pool.applyAsync(0) { (x: Int) -> Int in running.set(); release.wait(timeout: generous); return x }
        let runningFired = await awaitEvent(running)
        XCTAssertTrue(runningFired)
        _ = try await pool.applyAsync(1) { $0 }
        let waiting = Task { try await pool.apply(2) { $0 } }
        let refused = Task { try await pool.applyAsync(3) { $0 } }
        refused.cancel()
        let refusedOutcome = await refused.result
        XCTAssertThrowsError(try refusedOutcome.get()) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        release.set()
        let value = try await waiting.value
        XCTAssertEqual(value, 2)
        pool.close()
        try await pool.joined()
    }

    func testStatisticsAddUpAfterAMixedRun() throws {
        let pool = try Pool(workers: 3, maxTasksPerWorker: 7)
        var results: [AsyncResult<Int>] = []
        for i in 0..<200 {
            results.append(try pool.applyAsync(i) { (x: Int) -> Int in
                if x % 17 == 0 { throw TestError.boom(x) }
                return x
            })
        }
        let mapped = try pool.mapAsync(Array(0..<1000), chunksize: 9) { (x: Int) -> Int in
            if x == 500 { throw TestError.boom(x) }
            return x
        }
        let iterator = try pool.imapUnordered(Array(0..<300), chunksize: 4) { (x: Int) -> Int in
            if x % 50 == 0 { throw TestError.boom(x) }
            return x
        }
        var imapErrors = 0
        var imapValues = 0
        while true {
            do {
                guard try iterator.next(timeout: generous) != nil else { break }
                imapValues += 1
            } catch {
                imapErrors += 1
            }
        }
        let cancelled = try pool.mapAsync(Array(0..<50)) { $0 }
        cancelled.cancel()
        for result in results { _ = result.wait(timeout: generous) }
        _ = mapped.wait(timeout: generous)
        pool.close()
        try pool.join()
        let stats = pool.statistics
        XCTAssertEqual(stats.itemsSubmitted, 200 + 1000 + 300 + 50)
        XCTAssertEqual(stats.itemsCompleted + stats.itemsFailed + stats.itemsCancelled, stats.itemsSubmitted, "\(stats)")
        XCTAssertEqual(imapErrors, 6)
        XCTAssertEqual(imapValues, 294)
        XCTAssertGreaterThanOrEqual(stats.itemsFailed, 12 + 1 + 6)
        XCTAssertGreaterThan(stats.workerRestarts, 0)
        XCTAssertEqual(stats.workersAlive, 0)
        XCTAssertEqual(stats.workersBusy, 0)
        XCTAssertEqual(stats.jobsInCache, 0)
        XCTAssertEqual(stats.chunksQueued, 0)
        XCTAssertFalse(stats.description.isEmpty)
    }

    func testAdaptiveMapWithManyWorkersAndChunks() throws {
        // A sizer is touched by one worker at a time; this runs many small adaptive chunks on
        // several workers so that ThreadSanitizer sees any overlap.
        try withPool(workers: 4) { pool in
            let input = Array(0..<20_000)
            for strategy in [ChunkingStrategy.adaptive(target: .microseconds(20)), .guided(minimum: 1)] {
                XCTAssertEqual(try pool.map(input, chunking: strategy) { $0 &* 3 }, input.map { $0 &* 3 })
                let iterator = try pool.imap(input, chunking: strategy) { $0 + 1 }
                var count = 0
                while try iterator.next(timeout: generous) != nil { count += 1 }
                XCTAssertEqual(count, input.count)
            }
        }
    }
}
