import Foundation
import XCTest
@testable import WorkerPool

final class PoolApplyTests: PoolTestCase {
    func testApplyEveryCodec() throws {
        for codec in [TaskCodec.binary, .json, .passthrough, .custom(PropertyListTaskCoder())] {
            try withPool(workers: 2, codec: codec) { pool in
                XCTAssertEqual(try pool.apply(21) { $0 * 2 }, 42, "\(codec)")
                XCTAssertEqual(try pool.apply("abc") { $0.uppercased() }, "ABC", "\(codec)")
                XCTAssertEqual(try pool.apply([1, 2, 3]) { $0.reduce(0, +) }, 6, "\(codec)")
            }
        }
    }

    func testApplyRunsOnAWorkerThread() throws {
        try withPool(workers: 2) { pool in
            XCTAssertNil(Pool.currentWorkerID)
            let id = try pool.apply(0) { _ in Pool.currentWorkerID ?? -1 }
            XCTAssertGreaterThan(id, 0)
            let pair = try pool.apply(0) { _ in [String(Pool.currentWorkerID ?? -1), Thread.current.name ?? ""] }
            XCTAssertEqual(pair[1], "WPool.\(pair[0])")
        }
    }

    func testBodyErrorIsRethrownUnwrapped() throws {
        try withPool(workers: 2) { pool in
            do {
                _ = try pool.apply(7) { (x: Int) -> Int in throw TestError.boom(x) }
                XCTFail("no error")
            } catch TestError.boom(let x) {
                XCTAssertEqual(x, 7)
            }
            let result = try pool.applyAsync(3) { (x: Int) -> Int in throw TestError.boom(x) }
            XCTAssertThrowsError(try result.get()) { XCTAssertEqual($0 as? TestError, .boom(3)) }
            XCTAssertFalse(try result.isSuccessful)
            // The worker survived the error.
            XCTAssertEqual(try pool.apply(1) { $0 + 1 }, 2)
        }
    }

    func testAsyncResultStates() throws {
        try withPool(workers: 1) { pool in
            let release = Event()
            let result = try pool.applyAsync(5) { (x: Int) -> Int in
                release.wait()
                return x * 10
            }
            XCTAssertFalse(result.isReady)
            XCTAssertThrowsPoolError(.notReady, try result.isSuccessful)
            XCTAssertFalse(result.wait(timeout: .milliseconds(10)))
            XCTAssertFalse(result.wait(timeout: .zero))
            release.set()
            XCTAssertTrue(result.wait(timeout: generous))
            XCTAssertTrue(result.isReady)
            XCTAssertTrue(try result.isSuccessful)
            XCTAssertEqual(try result.get(), 50)
            XCTAssertEqual(try result.get(timeout: .zero), 50)
        }
    }

    func testGetTimeoutThrowsAndResultStaysUsable() throws {
        try withPool(workers: 1) { pool in
            let release = Event()
            let result = try pool.applyAsync(1) { (x: Int) -> Int in
                release.wait()
                return x
            }
            let start = Deadline.now()
            XCTAssertThrowsPoolError(.timeout, try result.get(timeout: .milliseconds(100)))
            let elapsed = Deadline.now().nanoseconds - start.nanoseconds
            XCTAssertGreaterThanOrEqual(elapsed, 90_000_000, "returned before the timeout")
            XCTAssertLessThan(elapsed, 30_000_000_000, "far beyond the timeout")
            release.set()
            XCTAssertEqual(try result.get(timeout: generous), 1)
        }
    }

    func testCallbacksRunOnceOffWorkersOneAtATimeBeforeGetReturns() throws {
        let calls = Counter()
        let onWorker = Counter()
        let probe = ConcurrencyProbe()
        let finished = Recorder<Int>()
        try withPool(workers: 2) { pool in
            var results: [AsyncResult<Int>] = []
            for i in 0..<200 {
                results.append(try pool.applyAsync(i) { $0 * 2 } callback: { value in
                    probe.enter()
                    calls.increment()
                    if Pool.currentWorkerID != nil { onWorker.increment() }
                    finished.append(value)
                    probe.leave()
                })
            }
            for (i, result) in results.enumerated() {
                let value = try result.get(timeout: generous)
                XCTAssertEqual(value, i * 2)
                // The callback of this result has finished before get() returned.
                XCTAssertTrue(finished.values.contains(value))
            }
        }
        XCTAssertEqual(calls.value, 200)
        XCTAssertEqual(onWorker.value, 0)
        XCTAssertEqual(probe.peak, 1)
        XCTAssertEqual(finished.values.sorted(), (0..<200).map { $0 * 2 })
    }

    func testErrorCallbackGetsTheBodyError() throws {
        let errors = Recorder<TestError>()
        let successes = Counter()
        try withPool(workers: 2) { pool in
            let result = try pool.applyAsync(9) { (x: Int) -> Int in throw TestError.boom(x) } callback: { _ in
                successes.increment()
            } errorCallback: { error in
                errors.append(error as! TestError)
            }
            XCTAssertTrue(result.wait(timeout: generous))
            XCTAssertEqual(errors.values, [.boom(9)])
        }
        XCTAssertEqual(successes.value, 0)
        XCTAssertEqual(errors.values, [.boom(9)])
    }

    func testCallbacksOnAUserQueue() throws {
        let queue = DispatchQueue(label: "user.callbacks")
        let key = DispatchSpecificKey<String>()
        queue.setSpecific(key: key, value: "user")
        let seen = Recorder<String?>()
        try withPool(workers: 2, callbackQueue: queue) { pool in
            let result = try pool.applyAsync(1) { $0 } callback: { _ in
                seen.append(DispatchQueue.getSpecific(key: key))
            }
            XCTAssertEqual(try result.get(timeout: generous), 1)
        }
        XCTAssertEqual(seen.values, ["user"])
    }

    func testAsyncValueAndAsyncApply() async throws {
        try await withPool(workers: 2) { pool in
            let result = try await pool.applyAsync(4) { $0 * $0 }
            let value = try await result.value
            XCTAssertEqual(value, 16)
            let direct = try await pool.apply(5) { $0 + 1 }
            XCTAssertEqual(direct, 6)
            do {
                _ = try await pool.apply(2) { (x: Int) -> Int in throw TestError.boom(x) }
                XCTFail("no error")
            } catch TestError.boom(let x) {
                XCTAssertEqual(x, 2)
            }
        }
    }

    func testManyAwaitedApplies() async throws {
        try await withPool(workers: 2) { pool in
            let sum = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<500 {
                    group.addTask { try await pool.apply(i) { $0 } }
                }
                return try await group.reduce(0, +)
            }
            XCTAssertEqual(sum, (0..<500).reduce(0, +))
        }
    }
}
