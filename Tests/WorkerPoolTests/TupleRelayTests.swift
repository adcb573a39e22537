import Foundation
import XCTest
@testable import WorkerPool

/// Review of `Pool+Tuples.swift`: the `applyAsync` forms that return tuples deliver through a
/// `RelayResult` that the task's *hidden* callbacks settle, so the tuple result becomes ready only
/// once the pool's callback queue has run that hidden callback, even when the caller gave no
/// callbacks. The one-value form without callbacks is ready as soon as a worker delivers it.
final class TupleRelayTests: PoolTestCase {
    /// `Pool(callbackQueue: .main)` and a caller on the main thread that waits for a result it gave
    /// no callbacks to: the one-value form is ready without the main queue; the tuple form is not
    /// (its relay is settled by a block queued on the main queue, which the waiting thread is).
    func testATupleApplyWithoutCallbacksIsReadyWhileTheCallbackQueueIsBusy() throws {
        XCTAssertTrue(Thread.isMainThread, "XCTest runs tests on the main thread")
        let pool = try Pool(workers: 1, callbackQueue: .main)
        defer { drainMainQueueAndJoin(pool) }

        XCTAssertEqual(try pool.applyAsync(3) { $0 * 2 }.get(timeout: .seconds(5)), 6,
                       "the one-value form needs no callback queue")

        let tuple = try pool.applyAsync(3) { ($0, $0 * 2) }
        let outcome: String
        do {
            let value = try tuple.get(timeout: .seconds(5))
            outcome = "\(value.0),\(value.1)"
        } catch {
            outcome = "\(error)"
        }
        XCTAssertEqual(outcome, "3,6", "a tuple applyAsync without callbacks waited for the (blocked) callback queue")
    }

    /// The same dependency from a callback of the same pool: a callback that reads a tuple result
    /// it submitted without callbacks. The one-value form works there; the tuple form cannot be
    /// settled while the callback queue is occupied by the waiting callback.
    func testATupleApplyWithoutCallbacksCanBeReadFromAnotherCallback() throws {
        try withPool(workers: 2) { pool in
            let oneValue = Recorder<String>()
            let tuple = Recorder<String>()
            let done = Event()
            _ = try pool.applyAsync(0, { $0 }, callback: { _ in
                do { oneValue.append("\(try pool.applyAsync(5) { $0 + 1 }.get(timeout: .seconds(3)))") } catch { oneValue.append("\(error)") }
                do {
                    let pair = try pool.applyAsync(5) { ($0, $0 + 1) }.get(timeout: .seconds(3))
                    tuple.append("\(pair.0),\(pair.1)")
                } catch {
                    tuple.append("\(error)")
                }
                done.set()
            })
            XCTAssertTrue(done.wait(timeout: generous))
            XCTAssertEqual(oneValue.values, ["6"])
            XCTAssertEqual(tuple.values, ["5,6"], "the tuple result waited behind the callback that reads it")
        }
    }

    /// Cancelling a tuple result while its body runs, then letting the body finish: one error
    /// callback, no success callback, CancellationError, and the statistics balance.
    func testCancellingARunningTupleApplyRunsOneCallbackAndBalances() throws {
        try withPool(workers: 1) { pool in
            let started = Event()
            let release = Event()
            let successes = Counter()
            let failures = Recorder<String>()
            let result = try pool.applyAsync(1, { (x: Int) -> (Int, String) in
                started.set()
                release.wait(timeout: generous)
                return (x, "x")
            }, callback: { _ in successes.increment() }, errorCallback: { failures.append("\($0)") })
            XCTAssertTrue(started.wait(timeout: generous))
            result.cancel()
            XCTAssertThrowsError(try result.get(timeout: generous)) { XCTAssertTrue($0 is CancellationError, "\($0)") }
            XCTAssertEqual(failures.values.count, 1, "the error callback ran before the result was ready")
            release.set()
            XCTAssertEqual(try pool.apply(2) { ($0, $0) }.1, 2)
            result.cancel()  // a finished result: nothing
            XCTAssertEqual(successes.value, 0)
            XCTAssertEqual(failures.values.count, 1)
            let stats = pool.statistics
            XCTAssertEqual(stats.jobsInCache, 0, "\(stats)")
            XCTAssertEqual(stats.itemsSubmitted, stats.itemsCompleted + stats.itemsFailed + stats.itemsCancelled, "\(stats)")
        }
    }

    /// Many tuple applies with callbacks, terminated mid-flight: every result becomes ready, each
    /// exactly one callback, and join() returns.
    func testTerminateWithManyTupleAppliesInFlight() throws {
        let pool = try Pool(workers: 2)
        let callbacks = Counter()
        var results: [AsyncResult<(Int, String)>] = []
        for i in 0..<200 {
            results.append(try pool.applyAsync(i, { (x: Int) -> (Int, String) in
                if x % 50 == 0 { Thread.sleep(forTimeInterval: 0.005) }
                return (x, String(x))
            }, callback: { _ in callbacks.increment() }, errorCallback: { _ in callbacks.increment() }))
        }
        pool.terminate()
        for (i, result) in results.enumerated() {
            do {
                let value = try result.get(timeout: generous)
                XCTAssertEqual(value.0, i)
            } catch PoolError.terminated {
            } catch {
                XCTFail("\(i): \(error)")
            }
        }
        try pool.join()
        XCTAssertEqual(callbacks.value, 200, "each tuple result ran exactly one callback")
    }

    /// With the relay settled on the delivering thread, the caller's callbacks still run on the
    /// pool's callback queue, exactly once, and before the tuple result is ready.
    func testTupleCallbacksStillRunOnTheCallbackQueueBeforeTheResultIsReady() throws {
        let key = DispatchSpecificKey<String>()
        let target = DispatchQueue(label: "review.target")
        target.setSpecific(key: key, value: "target")
        try withPool(workers: 2, callbackQueue: target) { pool in
            let seen = Recorder<String>()
            let holder = LockedBox<AsyncResult<(Int, String)>?>.make(nil)
            let gate = Event()
            let result = try pool.applyAsync(4, { (x: Int) -> (Int, String) in
                gate.wait(timeout: generous)
                return (x, "four")
            }, callback: { value in
                let ready = holder.withLockedValue { $0?.isReady }
                seen.append("\(DispatchQueue.getSpecific(key: key) ?? "elsewhere") \(value.1) ready=\(String(describing: ready))")
            })
            holder.withLockedValue { $0 = result }
            gate.set()
            XCTAssertEqual(try result.get(timeout: generous).1, "four")
            XCTAssertEqual(seen.values, ["target four ready=Optional(false)"])
            let failed = Recorder<String>()
            let failing = try pool.applyAsync(1, { (_: Int) -> (Int, Int) in throw TestError.boom(1) },
                                              errorCallback: { _ in failed.append(DispatchQueue.getSpecific(key: key) ?? "elsewhere") })
            XCTAssertThrowsError(try failing.get(timeout: generous))
            XCTAssertEqual(failed.values, ["target"])
        }
    }

    /// Runs the main queue until `pool`'s callbacks have all run, then joins it from another thread.
    private func drainMainQueueAndJoin(_ pool: Pool) {
        pool.close()
        let joined = Event()
        Thread.detachNewThread {
            try? pool.join()
            joined.set()
        }
        let deadline = Date() + 30
        while !joined.isSet && Date() < deadline { RunLoop.main.run(until: Date() + 0.02) }
        XCTAssertTrue(joined.isSet, "join() did not return")
    }
}
