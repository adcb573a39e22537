import Foundation
import XCTest
@testable import WorkerPool

final class PoolLifecycleTests: PoolTestCase {
    func testInvalidArguments() {
        XCTAssertInvalidArgument("workers", try Pool(workers: 0))
        XCTAssertInvalidArgument("workers", try Pool(workers: -1))
        XCTAssertInvalidArgument("maxTasksPerWorker", try Pool(workers: 1, maxTasksPerWorker: 0))
        XCTAssertInvalidArgument("maxTasksPerWorker", try Pool(workers: 1, maxTasksPerWorker: -5))
        XCTAssertInvalidArgument("maxQueuedChunks", try Pool(workers: 1, maxQueuedChunks: 0))
        XCTAssertInvalidArgument("chunking", try Pool(workers: 1, chunking: .fixed(0)))
        XCTAssertInvalidArgument("workers", try withPool(workers: 0) { _ in 1 })
    }

    func testDefaultWorkerCountIsTheProcessorCount() throws {
        let pool = try Pool()
        XCTAssertEqual(pool.workerCount, ProcessInfo.processInfo.activeProcessorCount)
        pool.close()
        try pool.join()
    }

    func testJoinBeforeCloseThrowsStillRunning() throws {
        let pool = try Pool(workers: 1)
        XCTAssertThrowsPoolError(.stillRunning, try pool.join())
        pool.close()
        try pool.join()
        try pool.join()  // idempotent
        pool.close()
        pool.terminate()
        try pool.join()
    }

    func testSubmissionsAfterCloseOrTerminateThrowNotRunning() throws {
        let pool = try Pool(workers: 1)
        pool.close()
        XCTAssertThrowsPoolError(.notRunning, try pool.applyAsync(1) { $0 })
        XCTAssertThrowsPoolError(.notRunning, try pool.mapAsync([1]) { $0 })
        XCTAssertThrowsPoolError(.notRunning, try pool.mapAsync([Int]()) { $0 })
        XCTAssertThrowsPoolError(.notRunning, try pool.imap([1]) { $0 })
        XCTAssertThrowsPoolError(.notRunning, try pool.starmapAsync([(1, 2)]) { $0 + $1 })
        XCTAssertFalse(pool.isRunning)
        try pool.join()

        let terminated = try Pool(workers: 1)
        terminated.terminate()
        XCTAssertThrowsPoolError(.notRunning, try terminated.apply(1) { $0 })
        try terminated.join()
    }

    func testCloseLetsQueuedWorkFinish() throws {
        let pool = try Pool(workers: 2)
        let results = try (0..<50).map { i in try pool.applyAsync(i) { $0 + 1 } }
        let mapped = try pool.mapAsync(Array(0..<1000)) { $0 * 3 }
        pool.close()
        try pool.join()
        for (i, result) in results.enumerated() { XCTAssertEqual(try result.get(timeout: .zero), i + 1) }
        XCTAssertEqual(try mapped.get(timeout: .zero), (0..<1000).map { $0 * 3 })
        XCTAssertEqual(pool.statistics.jobsInCache, 0)
    }

    func testTerminateFailsPendingResultsPromptly() throws {
        let pool = try Pool(workers: 1)
        let running = Event()
        let release = Event()
        let sawTermination = Event()
        let first = try pool.applyAsync(0) { (x: Int) -> Int in
            running.set()
            release.wait()
            if Pool.isCurrentTaskCancelled { sawTermination.set() }
            return x
        }
        XCTAssertTrue(running.wait(timeout: generous))
        let errorCallbacks = Counter()
        let queued = try (1...20).map { i in
            try pool.applyAsync(i) { $0 } errorCallback: { error in
                if error as? PoolError == .terminated { errorCallbacks.increment() }
            }
        }
        let mapped = try pool.mapAsync(Array(0..<100)) { $0 }
        pool.terminate()
        // Every result fails at once, the running one included, while its body is still blocked.
        XCTAssertThrowsPoolError(.terminated, try first.get(timeout: generous))
        for result in queued { XCTAssertThrowsPoolError(.terminated, try result.get(timeout: generous)) }
        XCTAssertThrowsPoolError(.terminated, try mapped.get(timeout: generous))
        release.set()
        try pool.join()
        XCTAssertEqual(errorCallbacks.value, 20)
        XCTAssertTrue(sawTermination.isSet, "a running body sees Pool.isCurrentTaskCancelled after terminate()")
        XCTAssertEqual(poolThreadCount(), 0)
        pool.terminate()  // idempotent
        try pool.join()
    }

    func testNoThreadLeftAfterJoin() throws {
        XCTAssertEqual(poolThreadCount(), 0)
        let pool = try Pool(workers: 3)
        XCTAssertEqual(try pool.map(Array(0..<100)) { $0 }, Array(0..<100))
        XCTAssertEqual(poolThreadCount(), 3)
        // A thread names itself first thing, but a worker that has not run yet still has its
        // creator's name: wait for the three names rather than assume they are there.
        XCTAssertTrue(pollUntil { ProcessProbe.threadCount(named: WorkerContext.namePrefix) >= 3 }, "\(threadNames())")
        pool.close()
        try pool.join()
        XCTAssertEqual(poolThreadCount(), 0)
    }

    func testAThreadThatABodyStartsIsNotAPoolThread() throws {
        // On Linux a new thread takes its creator's name, so a thread started from a worker (by a
        // body, or by libdispatch to run a callback) is also called `WPool.<id>` and may outlive
        // the pool. The random stress once counted such a thread as a leaked worker.
        let pool = try Pool(workers: 1)
        let started = Event()
        let release = Event()
        defer { release.set() }
        _ = try pool.apply(0) { (x: Int) -> Int in
            Thread.detachNewThread { started.set(); release.wait(timeout: generous) }
            return x
        }
        XCTAssertTrue(started.wait(timeout: generous))
        pool.close()
        try pool.join()
        XCTAssertEqual(poolThreadCount(), 0, "the pool's own thread is gone")
        #if os(Linux)
        XCTAssertGreaterThanOrEqual(ProcessProbe.threadCount(named: WorkerContext.namePrefix), 1,
                                    "the body's thread carries the worker's name: counting by name would call it a leak")
        #endif
    }

    func testMaxTasksPerWorkerReplacesWorkersAndRerunsTheInitializer() throws {
        let initializers = Counter()
        let initializerWorkers = Recorder<Int>()
        let pool = try Pool(workers: 2, maxTasksPerWorker: 1, initializer: {
            initializers.increment()
            initializerWorkers.append(Pool.currentWorkerID ?? -1)
        })
        let ids = try (0..<20).map { _ in try pool.apply(0) { _ in Pool.currentWorkerID ?? -1 } }
        XCTAssertEqual(Set(ids).count, 20, "each task ran on a fresh worker")
        XCTAssertFalse(ids.contains(-1))
        pool.close()
        try pool.join()
        // Every worker that ran a task was replaced, except those that reached their exit after
        // close(): a worker exits after delivering its result, so the last task's worker and the
        // one before it (the other of the two) may both still be on their way out when close()
        // comes, and a closed pool replaces no one. Each worker ran the initializer once.
        let restarts = pool.statistics.workerRestarts
        XCTAssertTrue((18...20).contains(restarts), "\(restarts) restarts")
        XCTAssertEqual(initializers.value, 2 + restarts)
        XCTAssertEqual(Set(initializerWorkers.values).count, 2 + restarts)
        XCTAssertTrue(Set(ids).isSubset(of: Set(initializerWorkers.values)))
        XCTAssertEqual(poolThreadCount(), 0)
    }

    func testInitializerFailureBreaksThePool() throws {
        struct InitFailed: Error {}
        let pool = try Pool(workers: 2, initializer: { throw InitFailed() })
        // Whichever comes first, the submission or the failure, the result ends broken.
        do {
            let result = try pool.applyAsync(1) { $0 }
            XCTAssertThrowsError(try result.get(timeout: generous)) { error in
                guard case .broken(let reason)? = error as? PoolError else { return XCTFail("\(error)") }
                XCTAssertTrue(reason.contains("InitFailed"), reason)
            }
        } catch {
            guard case .broken? = error as? PoolError else { return XCTFail("\(error)") }
        }
        // From now on every submission is refused, fast, with the reason.
        XCTAssertThrowsError(try pool.applyAsync(1) { $0 }) { error in
            guard case .broken(let reason)? = error as? PoolError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("initializer"), reason)
        }
        XCTAssertThrowsError(try pool.map([1, 2]) { $0 })
        try pool.join()  // a broken pool is stopped: join needs no close
        XCTAssertEqual(poolThreadCount(), 0)
    }

    func testInitializerFailingOnALaterWorker() throws {
        let starts = Counter()
        let pool = try Pool(workers: 1, maxTasksPerWorker: 2, initializer: {
            if starts.increment() == 2 { throw TestError.boom(2) }
        })
        XCTAssertEqual(try pool.apply(1) { $0 }, 1)
        XCTAssertEqual(try pool.apply(2) { $0 }, 2)  // the first worker retires after this one
        XCTAssertThrowsError(try pool.apply(3) { $0 }) { error in
            guard case .broken(let reason)? = error as? PoolError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.contains("boom(2)"), reason)
        }
        try pool.join()
        XCTAssertEqual(starts.value, 2, "no restart loop")
    }

    func testReleasingTheLastReferenceActsAsClose() throws {
        var pool: Pool? = try Pool(workers: 1)
        let release = Event()
        let running = Event()
        let result = try pool!.applyAsync(1) { (x: Int) -> Int in
            running.set()
            release.wait(timeout: generous)
            return x
        }
        let pending = try pool!.applyAsync(2) { $0 }
        let callbackRan = Event()
        _ = try pool!.applyAsync(3, { $0 }, callback: { _ in callbackRan.set() })  // fire and forget
        XCTAssertTrue(running.wait(timeout: generous))
        pool = nil  // must not block, and must not discard the work
        release.set()
        XCTAssertEqual(try result.get(timeout: generous), 1)
        XCTAssertEqual(try pending.get(timeout: generous), 2)
        XCTAssertTrue(callbackRan.wait(timeout: generous), "a fire-and-forget callback still runs")
        XCTAssertTrue(pollUntil { poolThreadCount() == 0 }, "the threads exit once the work is done")
    }

    func testAPoolMadeForOneCallStillDeliversIt() throws {
        // Python: `Pool().map_async(f, xs).get()` works; so does the Swift spelling.
        XCTAssertEqual(try Pool(workers: 2).mapAsync(Array(0..<1000)) { $0 * 2 }.get(timeout: generous), (0..<1000).map { $0 * 2 })
        func submitCloseAndReturn() throws -> MapResult<Int> {
            let pool = try Pool(workers: 2)
            let result = try pool.mapAsync(Array(0..<100), chunksize: 1) { $0 + 1 }
            pool.close()
            return result
        }
        XCTAssertEqual(try submitCloseAndReturn().get(timeout: generous), Array(1...100))
        let iterator = try Pool(workers: 2).imap(Array(0..<50)) { $0 * 3 }
        var values: [Int] = []
        while let value = try iterator.next(timeout: generous) { values.append(value) }
        XCTAssertEqual(values, (0..<50).map { $0 * 3 }, "an imap without buffersize reads on after the release")
        XCTAssertTrue(pollUntil { poolThreadCount() == 0 })
    }

    func testWithPoolClosesAndJoinsOnReturn() throws {
        var unawaited: MapResult<Int>?
        let value = try withPool(workers: 2) { pool -> Int in
            unawaited = try pool.mapAsync(Array(0..<500)) { $0 + 1 }
            return 7
        }
        XCTAssertEqual(value, 7)
        // Un-awaited work finished (CPython's `with` would have terminated it).
        XCTAssertEqual(try unawaited?.get(timeout: .zero), Array(1...500))
        XCTAssertEqual(poolThreadCount(), 0)
    }

    func testWithPoolTerminatesOnThrow() throws {
        let release = Event()
        var pending: AsyncResult<Int>?
        XCTAssertThrowsError(try withPool(workers: 1) { pool -> Int in
            let running = Event()
            // The only worker stays busy until the queued task has failed, which only the
            // terminate() of withPool can do.
            _ = try pool.applyAsync(0) { (x: Int) -> Int in
                running.set()
                release.wait(timeout: generous)
                return x
            }
            running.wait(timeout: generous)
            pending = try pool.applyAsync(1) { $0 } errorCallback: { _ in release.set() }
            throw TestError.boom(0)
        }) { error in
            XCTAssertEqual(error as? TestError, .boom(0))
        }
        XCTAssertThrowsPoolError(.terminated, try pending?.get(timeout: .zero))
        XCTAssertEqual(poolThreadCount(), 0)
    }

    func testJoinFromTwoThreads() throws {
        let pool = try Pool(workers: 2)
        let release = Event()
        _ = try pool.applyAsync(0) { (x: Int) -> Int in release.wait(); return x }
        pool.close()
        let joined = Counter()
        let bothJoined = Event()
        for _ in 0..<2 {
            Thread.detachNewThread {
                if (try? pool.join()) != nil, joined.increment() == 2 { bothJoined.set() }
            }
        }
        XCTAssertFalse(bothJoined.wait(timeout: .milliseconds(20)))
        release.set()
        XCTAssertTrue(bothJoined.wait(timeout: generous))
    }

    func testJoinFromACallbackIsRefused() throws {
        let other = try Pool(workers: 1)
        let refused = Recorder<Bool>()
        let result = try other.applyAsync(0) { $0 } callback: { _ in
            other.close()
            do { try other.join(); refused.append(false) } catch { refused.append(isInvalid(error)) }
        }
        _ = try result.get(timeout: generous)
        XCTAssertEqual(refused.values, [true])
        try other.join()
    }

    func testJoinFromAWorkerThrowsInvalidArgument() throws {
        let pool = try Pool(workers: 1)
        let outcome = try pool.apply(0) { _ -> Bool in
            do { try pool.join(); return false } catch { return isInvalid(error) }
        }
        XCTAssertTrue(outcome)
        pool.close()
        try pool.join()
    }

    func testJoinedAsync() async throws {
        let pool = try Pool(workers: 2)
        let value = try await pool.map(Array(0..<10)) { $0 }
        XCTAssertEqual(value, Array(0..<10))
        pool.close()
        try await pool.joined()
        XCTAssertEqual(poolThreadCount(), 0)
    }
}

private func isInvalid(_ error: any Error) -> Bool {
    if case .invalidArgument? = error as? PoolError { return true }
    return false
}
