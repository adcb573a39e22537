import Foundation
import XCTest
@testable import WorkerPool

/// The fixed-arity tuple forms with a callback (Pool+TupleCallbacks.swift), tested with what a
/// server does to them: callback queues, errors, cancellation, terminate, bounded pools, nesting.
final class FixedArityTupleCallbackTests: PoolTestCase {
    private let key = DispatchSpecificKey<String>()

    private func labelledQueue() -> DispatchQueue {
        let queue = DispatchQueue(label: "tuple-callbacks")
        queue.setSpecific(key: key, value: "callbacks")
        return queue
    }

    // MARK: Callbacks: once, on the callback queue, before the result is ready

    func testFixedArityCallbacksRunOnceOnTheCallbackQueueBeforeTheResultIsReady() throws {
        let queue = labelledQueue()
        let key = self.key
        try withPool(workers: 2, callbackQueue: queue) { pool in
            let seen = Recorder<String>()
            let entered3 = Event(), entered4 = Event(), gate = Event()
            let three = try pool.applyAsync(3) { ($0, String($0), $0 * 2) } callback: { value in
                seen.append("3 \(DispatchQueue.getSpecific(key: key) ?? "elsewhere") \(value.0) \(value.1) \(value.2)")
                entered3.set()
                gate.wait(timeout: generous)
            } errorCallback: { seen.append("3 error \($0)") }
            let four = try pool.applyAsync(4) { ($0, "x", 0.5, [$0]) } callback: { a, b, c, d in
                seen.append("4 \(DispatchQueue.getSpecific(key: key) ?? "elsewhere") \(a) \(b) \(c) \(d)")
                entered4.set()
                gate.wait(timeout: generous)
            }
            // The callback queue is serial: whichever callback runs first holds it at the gate.
            XCTAssertTrue(pollUntil { entered3.isSet || entered4.isSet })
            if entered3.isSet {
                XCTAssertFalse(three.isReady, "ready while its callback is still running")
                XCTAssertFalse(three.wait(timeout: .milliseconds(50)))
            } else {
                XCTAssertFalse(four.isReady, "ready while its callback is still running")
                XCTAssertFalse(four.wait(timeout: .milliseconds(50)))
            }
            gate.set()
            XCTAssertTrue(entered3.wait(timeout: generous))
            XCTAssertTrue(entered4.wait(timeout: generous))
            let t = try three.get(timeout: generous)
            let f = try four.get(timeout: generous)
            XCTAssertEqual(t.1, "3")
            XCTAssertEqual(f.3, [4])
            XCTAssertEqual(Set(seen.values), ["3 callbacks 3 3 6", "4 callbacks 4 x 0.5 [4]"])
        }
    }

    func testAwaitedFixedArityCallbacksRunOnceOnTheCallbackQueueBeforeTheResultIsReady() async throws {
        let queue = labelledQueue()
        let key = self.key
        let pool = try Pool(workers: 2, callbackQueue: queue)
        let seen = Recorder<String>()
        let holder3 = LockedBox<AsyncResult<(Int, Int, Int)>?>.make(nil)
        let holder4 = LockedBox<AsyncResult<(Int, Int, Int, Int)>?>.make(nil)
        let submitted = Event()
        let three = try await pool.applyAsync(5) { ($0, $0 + 1, $0 + 2) } callback: { value in
            submitted.wait(timeout: generous)
            let ready = holder3.withLockedValue { $0?.isReady }
            seen.append("3 \(DispatchQueue.getSpecific(key: key) ?? "elsewhere") \(value.2) ready=\(String(describing: ready))")
        }
        let four = try await pool.applyAsync(6) { ($0, $0, $0, $0 + 3) } callback: { value in
            submitted.wait(timeout: generous)
            let ready = holder4.withLockedValue { $0?.isReady }
            seen.append("4 \(DispatchQueue.getSpecific(key: key) ?? "elsewhere") \(value.3) ready=\(String(describing: ready))")
        } errorCallback: { seen.append("4 error \($0)") }
        holder3.withLockedValue { $0 = three }
        holder4.withLockedValue { $0 = four }
        submitted.set()
        let t = try await three.value
        let f = try await four.value
        XCTAssertEqual(t.2, 7)
        XCTAssertEqual(f.3, 9)
        XCTAssertEqual(Set(seen.values), ["3 callbacks 7 ready=Optional(false)", "4 callbacks 9 ready=Optional(false)"])
        pool.close()
        try await pool.joined()
        XCTAssertEqual(seen.values.count, 2)
    }

    func testFixedArityErrorCallbackRunsOnceForABodyThatThrows() throws {
        let queue = labelledQueue()
        let key = self.key
        try withPool(workers: 2, callbackQueue: queue) { pool in
            let seen = Recorder<String>()
            let three = try pool.applyAsync(1, { (_: Int) -> (Int, Int, Int) in throw TestError.boom(3) },
                                            callback: { _ in seen.append("3 success") },
                                            errorCallback: { seen.append("3 \(DispatchQueue.getSpecific(key: key) ?? "elsewhere") \($0)") })
            let four = try pool.applyAsync(1, { (_: Int) -> (Int, Int, Int, Int) in throw TestError.boom(4) },
                                           callback: { _ in seen.append("4 success") },
                                           errorCallback: { seen.append("4 \(DispatchQueue.getSpecific(key: key) ?? "elsewhere") \($0)") })
            XCTAssertThrowsError(try three.get(timeout: generous)) { XCTAssertEqual($0 as? TestError, .boom(3)) }
            XCTAssertThrowsError(try four.get(timeout: generous)) { XCTAssertEqual($0 as? TestError, .boom(4)) }
            XCTAssertEqual(Set(seen.values), ["3 callbacks boom(3)", "4 callbacks boom(4)"])
        }
    }

    func testFixedArityArgumentThatCannotBeEncodedFailsThroughTheErrorCallback() throws {
        for codec in [TaskCodec.binary, .json] {
            try withPool(workers: 1, codec: codec) { pool in
                let seen = Recorder<String>()
                let three = try pool.applyAsync(Fragile(value: 13), { ($0.value, $0.value, $0.value) },
                                                callback: { _ in seen.append("success") },
                                                errorCallback: { seen.append(isEncodingFailure($0) ? "encoding" : "\($0)") })
                XCTAssertThrowsError(try three.get(timeout: generous)) { XCTAssertTrue(isEncodingFailure($0), "\(codec): \($0)") }
                XCTAssertEqual(seen.values, ["encoding"], "\(codec)")
            }
        }
    }

    // MARK: Cancellation and terminate

    func testCancellingARunningFixedArityApplyRunsOnlyTheErrorCallbackOnce() throws {
        try withPool(workers: 1) { pool in
            let started = Event(), release = Event(), finished = Event()
            let seen = Recorder<String>()
            let three = try pool.applyAsync(1, { (x: Int) -> (Int, Int, Int) in
                started.set()
                release.wait(timeout: generous)
                finished.set()
                return (x, x, x)
            }, callback: { _ in seen.append("success") }, errorCallback: { seen.append($0 is CancellationError ? "cancelled" : "\($0)") })
            // A queued one behind it, cancelled before it starts.
            let four = try pool.applyAsync(2, { (x: Int) -> (Int, Int, Int, Int) in seen.append("four ran"); return (x, x, x, x) },
                                           callback: { _ in seen.append("four success") },
                                           errorCallback: { seen.append($0 is CancellationError ? "four cancelled" : "\($0)") })
            XCTAssertTrue(started.wait(timeout: generous))
            three.cancel()
            four.cancel()
            XCTAssertThrowsError(try three.get(timeout: generous)) { XCTAssertTrue($0 is CancellationError, "\($0)") }
            XCTAssertThrowsError(try four.get(timeout: generous)) { XCTAssertTrue($0 is CancellationError, "\($0)") }
            three.cancel()
            release.set()
            XCTAssertTrue(finished.wait(timeout: generous))
            // A later task through the same single worker: the cancelled body's delivery is behind us.
            let later: (Int, Int, Int) = try pool.apply(9) { ($0, $0, $0) }
            XCTAssertEqual(later.2, 9)
            XCTAssertEqual(Set(seen.values), ["cancelled", "four cancelled"])
            XCTAssertEqual(seen.values.count, 2)
        }
    }

    func testTerminateFailsQueuedFixedArityAppliesWithOneErrorCallbackEach() throws {
        let pool = try Pool(workers: 1)
        let started = Event(), release = Event()
        let successes = Counter(), failures = Counter(), others = Recorder<String>()
        _ = try pool.applyAsync(0) { (x: Int) -> Int in started.set(); release.wait(timeout: generous); return x }
        XCTAssertTrue(started.wait(timeout: generous))
        var threes: [AsyncResult<(Int, Int, Int)>] = []
        var fours: [AsyncResult<(Int, String, Int, Int)>] = []
        for i in 0..<50 {
            threes.append(try pool.applyAsync(i) { ($0, $0, $0) } callback: { _ in successes.increment() } errorCallback: { error in
                if error as? PoolError == .terminated { failures.increment() } else { others.append("\(error)") }
            })
            fours.append(try pool.applyAsync(i) { ($0, "s", $0, $0) } callback: { _ in successes.increment() } errorCallback: { error in
                if error as? PoolError == .terminated { failures.increment() } else { others.append("\(error)") }
            })
        }
        pool.terminate()
        release.set()
        for result in threes { XCTAssertThrowsError(try result.get(timeout: generous)) { XCTAssertEqual($0 as? PoolError, .terminated) } }
        for result in fours { XCTAssertThrowsError(try result.get(timeout: generous)) { XCTAssertEqual($0 as? PoolError, .terminated) } }
        try pool.join()
        XCTAssertEqual(successes.value, 0)
        XCTAssertEqual(failures.value, 100)
        XCTAssertEqual(others.values, [])
        XCTAssertEqual(pool.statistics.jobsInCache, 0)
    }

    func testCancellingTheLastAwaiterOfAFixedArityResultCancelsItsTask() async throws {
        let pool = try Pool(workers: 1)
        let started = Event(), release = Event()
        let seen = Recorder<String>()
        let three = try await pool.applyAsync(1, { (x: Int) -> (Int, Int, Int) in
            started.set()
            release.wait(timeout: generous)
            return (x, x, x)
        }, callback: { _ in seen.append("success") }, errorCallback: { seen.append($0 is CancellationError ? "cancelled" : "\($0)") })
        let startedInTime = await awaitEvent(started)
        XCTAssertTrue(startedInTime)
        let waiter = Task { try await three.value }
        XCTAssertTrue(pollUntil { WaitRegistry.count(for: ObjectIdentifier(three)) == 1 })
        waiter.cancel()
        let outcome = await waiter.result
        XCTAssertThrowsError(try outcome.get()) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        do {
            _ = try await three.value
            XCTFail("the task was not cancelled")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        release.set()
        pool.close()
        try await pool.joined()
        XCTAssertEqual(seen.values, ["cancelled"])
    }

    // MARK: Bounded pools

    /// One worker, room for one entry: the worker busy and the room taken.
    private func fullPool(callbackQueue: DispatchQueue? = nil) async throws -> (Pool, release: Event) {
        let pool = try Pool(workers: 1, maxQueuedChunks: 1, callbackQueue: callbackQueue)
        let release = Event(), running = Event()
        _ = try await pool.applyAsync(-1) { (x: Int) -> Int in running.set(); release.wait(timeout: generous); return x }
        let started = await awaitEvent(running)
        XCTAssertTrue(started)
        _ = try await pool.applyAsync(-2) { $0 }
        return (pool, release)
    }

    func testAwaitedFixedArityAppliesWaitForRoomInOrderAndCanBeCancelled() async throws {
        let (pool, release) = try await fullPool()
        let order = Recorder<Int>()
        let callbacks = Recorder<String>()
        var requests: [Task<String, any Error>] = []
        for i in 0..<4 {
            if i % 2 == 0 {
                requests.append(Task {
                    let r = try await pool.applyAsync(i) { (x: Int) -> (Int, Int, Int) in order.append(x); return (x, x + 1, x + 2) } callback: {
                        callbacks.append("3:\($0.0)")
                    }
                    let v = try await r.value
                    return "\(v.0),\(v.1),\(v.2)"
                })
            } else {
                requests.append(Task {
                    let r = try await pool.applyAsync(i) { (x: Int) -> (Int, Int, Int, Int) in order.append(x); return (x, x, x, x) } callback: {
                        callbacks.append("4:\($0.0)")
                    }
                    let v = try await r.value
                    return "\(v.0),\(v.3)"
                })
            }
            XCTAssertTrue(pollUntil { pool.core.channel.waitingForRoom == i + 1 }, "request \(i) never reached the line")
        }
        requests[1].cancel()
        let cancelled = await requests[1].result
        XCTAssertThrowsError(try cancelled.get()) { XCTAssertTrue($0 is CancellationError, "\($0)") }
        XCTAssertEqual(pool.core.channel.waitingForRoom, 3)
        release.set()
        let a = try await requests[0].value
        let c = try await requests[2].value
        let d = try await requests[3].value
        XCTAssertEqual([a, c, d], ["0,1,2", "2,3,4", "3,3"])
        XCTAssertEqual(order.values, [0, 2, 3])
        pool.close()
        try await pool.joined()
        XCTAssertEqual(Set(callbacks.values), ["3:0", "3:2", "4:3"])
        XCTAssertEqual(callbacks.values.count, 3)
        XCTAssertEqual(pool.core.channel.roomHeld, 0)
        let statistics = pool.statistics
        XCTAssertEqual(statistics.itemsSubmitted, 5)
        XCTAssertEqual(statistics.itemsCompleted, 5)
    }

    func testAwaitedFixedArityAppliesInLineAreRefusedByCloseAndTerminate() async throws {
        for terminate in [false, true] {
            let (pool, release) = try await fullPool()
            let callbacks = Counter()
            var requests: [Task<Void, any Error>] = []
            for i in 0..<3 {
                requests.append(Task {
                    _ = try await pool.applyAsync(i) { ($0, $0, $0, $0) } callback: { _ in callbacks.increment() } errorCallback: { _ in
                        callbacks.increment()
                    }
                })
                XCTAssertTrue(pollUntil { pool.core.channel.waitingForRoom == i + 1 })
            }
            if terminate { pool.terminate() } else { pool.close() }
            for request in requests {
                let outcome = await request.result
                XCTAssertThrowsError(try outcome.get()) { XCTAssertEqual($0 as? PoolError, .notRunning, "terminate=\(terminate)") }
            }
            release.set()
            try await pool.joined()
            XCTAssertEqual(callbacks.value, 0, "a refused submitter has no result and runs no callback")
            XCTAssertEqual(pool.core.channel.roomHeld, 0)
            XCTAssertEqual(pool.statistics.jobsInCache, 0)
        }
    }

    func testBlockingFixedArityAppliesInABoundedPoolDeliverEverything() throws {
        let callbacks = Counter()
        try withPool(workers: 2, maxQueuedChunks: 2) { pool in
            var threes: [AsyncResult<(Int, Int, Int)>] = []
            var fours: [AsyncResult<(Int, Int, Int, Int)>] = []
            for i in 0..<100 {
                threes.append(try pool.applyAsync(i) { ($0, $0 * 2, $0 * 3) } callback: { _ in callbacks.increment() })
                fours.append(try pool.applyAsync(i) { ($0, $0, $0, $0 * 4) } callback: { _ in callbacks.increment() })
            }
            for (i, r) in threes.enumerated() { XCTAssertEqual(try r.get(timeout: generous).2, i * 3) }
            for (i, r) in fours.enumerated() { XCTAssertEqual(try r.get(timeout: generous).3, i * 4) }
            XCTAssertLessThanOrEqual(pool.core.channel.roomHeld, 2)
        }
        XCTAssertEqual(callbacks.value, 200)
    }

    func testFixedArityAppliesFromAWorkerOfAFullBoundedPoolDoNotDeadlock() throws {
        try withPool(workers: 1, maxQueuedChunks: 1) { pool in
            let outer = try pool.applyAsync(10) { (x: Int) -> Int in
                var total = 0
                for i in 0..<5 {
                    let inner = try pool.applyAsync(i) { ($0, $0, $0 + x) } callback: { _ in }
                    total += try inner.get(timeout: generous).2
                }
                return total
            }
            XCTAssertEqual(try outer.get(timeout: generous), 60)
        }
    }

    // MARK: Documentation claims of the diff

    /// PoolStatistics.chunksQueued (as re-documented): an apply is one entry; a map is one entry
    /// at a time, however many chunks it still has.
    func testChunksQueuedCountsAnApplyAsOneEntryAndAMapAsOne() throws {
        try withPool(workers: 1) { pool in
            let started = Event(), release = Event()
            let blocker = try pool.applyAsync(0) { (x: Int) -> Int in started.set(); release.wait(timeout: generous); return x }
            XCTAssertTrue(started.wait(timeout: generous))
            let map = try pool.mapAsync(Array(0..<100), chunksize: 1) { $0 }
            let three = try pool.applyAsync(1) { ($0, $0, $0) } callback: { _ in }
            let two = try pool.applyAsync(2) { ($0, $0) }
            XCTAssertEqual(pool.statistics.chunksQueued, 3, "\(pool.statistics)")
            release.set()
            XCTAssertEqual(try blocker.get(timeout: generous), 0)
            XCTAssertEqual(try map.get(timeout: generous).count, 100)
            XCTAssertEqual(try three.get(timeout: generous).2, 1)
            XCTAssertEqual(try two.get(timeout: generous).1, 2)
            XCTAssertEqual(pool.statistics.chunksQueued, 0)
        }
    }

    // MARK: Stress: cancel and terminate racing deliveries

    /// Fixed-arity tuple applies with callbacks, cancelled from another thread while workers
    /// deliver them, then a terminate: every result runs exactly one callback, and the callback
    /// agrees with what `get()` reports.
    func testCancelAndTerminateRacingFixedArityDeliveriesRunOneMatchingCallbackEach() throws {
        for round in 0..<20 {
            let pool = try Pool(workers: 2, maxQueuedChunks: round % 2 == 0 ? nil : 8)
            let outcomes = LockedBox<[Int: [String]]>.make([:])
            @Sendable func record(_ i: Int, _ what: String) { outcomes.withLockedValue { $0[i, default: []].append(what) } }
            var threes: [(Int, AsyncResult<(Int, Int, Int)>)] = []
            var fours: [(Int, AsyncResult<(Int, Int, Int, Int)>)] = []
            let cancelled = LockedBox<[AsyncResult<(Int, Int, Int)>]>.make([])
            let cancelledFours = LockedBox<[AsyncResult<(Int, Int, Int, Int)>]>.make([])
            let cancellerDone = Event()
            let canceller = Thread {
                defer { cancellerDone.set() }
                for _ in 0..<400 {
                    for r in cancelled.withLockedValue({ let all = $0; $0 = []; return all }) { r.cancel() }
                    for r in cancelledFours.withLockedValue({ let all = $0; $0 = []; return all }) { r.cancel() }
                    sched_yield()
                }
            }
            canceller.start()
            for i in 0..<200 {
                if i % 2 == 0 {
                    let r = try pool.applyAsync(i) { (x: Int) -> (Int, Int, Int) in (x, x + 1, x + 2) } callback: { v in
                        record(v.0, "ok \(v.2 - v.0)")
                    } errorCallback: { e in record(i, e is CancellationError ? "cancelled" : "\(e)") }
                    threes.append((i, r))
                    if i % 3 == 0 { cancelled.withLockedValue { $0.append(r) } }
                } else {
                    let r = try pool.applyAsync(i) { (x: Int) -> (Int, Int, Int, Int) in (x, x, x, x + 3) } callback: { v in
                        record(v.0, "ok \(v.3 - v.0)")
                    } errorCallback: { e in record(i, e is CancellationError ? "cancelled" : "\(e)") }
                    fours.append((i, r))
                    if i % 3 == 0 { cancelledFours.withLockedValue { $0.append(r) } }
                }
                if i == 150 { pool.terminate(); break }
            }
            func check(_ i: Int, _ outcome: Result<Int, any Error>) {
                let seen = outcomes.withLockedValue { $0[i] ?? [] }
                XCTAssertEqual(seen.count, 1, "round \(round) item \(i): callbacks \(seen)")
                switch outcome {
                case .success(let delta): XCTAssertEqual(seen.first, "ok \(delta)", "round \(round) item \(i)")
                case .failure(let error):
                    XCTAssertEqual(seen.first, error is CancellationError ? "cancelled" : "\(error)", "round \(round) item \(i)")
                }
            }
            for (i, r) in threes { check(i, Result { let v = try r.get(timeout: generous); XCTAssertEqual(v.0, i); return v.2 - v.0 }) }
            for (i, r) in fours { check(i, Result { let v = try r.get(timeout: generous); XCTAssertEqual(v.0, i); return v.3 - v.0 }) }
            try pool.join()
            XCTAssertTrue(cancellerDone.wait(timeout: generous))
            XCTAssertEqual(pool.statistics.jobsInCache, 0)
            XCTAssertEqual(pool.core.channel.roomHeld, 0)
        }
    }
}
