import Dispatch
import Foundation
import XCTest
@testable import WorkerPool

/// Features used together, the way server code uses them: each test is the regression test of a
/// defect that only a combination reached (each failed before its fix).
final class CombinationDefectTests: PoolTestCase {
    // MARK: 1. A bounded pool's room, for every chunking strategy

    /// Every strategy a bounded pool may run a map with, including one that cuts odd sizes.
    static let strategies: [ChunkingStrategy] = [
        .cpython, .fixed(7), .fixed(Int.max), .guided(minimum: 500), .guided(minimum: 1),
        .adaptive(target: .milliseconds(1)), .adaptive(target: .microseconds(50)),
        .custom(name: "odd") { _ in OddSizer() },
    ]

    func testABoundedPoolGivesBackAllItsRoomWithEveryStrategy() throws {
        for strategy in Self.strategies {
            let pool = try Pool(workers: 2, chunking: strategy, maxQueuedChunks: 4)
            // More maps than the pool has room: a leak of even one unit per map would block one.
            for round in 0..<40 {
                let result = try submitWithin(generous) { try pool.mapAsync(Array(0..<1000)) { $0 + round } }
                XCTAssertEqual(try result.get(timeout: generous), (0..<1000).map { $0 + round }, "\(strategy)")
            }
            XCTAssertEqual(pool.core.channel.roomHeld, 0, "\(strategy): room still held after every map finished")
            pool.close()
            try pool.join()
        }
    }

    /// The bound counts what is queued and not started, exactly, whatever the chunks turn out to be:
    /// a sampler that reads the channel while maps and applies run never sees more than the limit.
    func testTheBoundIsExactWhileMapsCutMoreChunksThanEstimated() throws {
        let limit = 3
        let pool = try Pool(workers: 2, chunking: .custom(name: "ones") { _ in FixedChunkSizer(size: 1) }, maxQueuedChunks: limit)
        let stop = Event()
        let peak = Counter()
        let sampler = Thread {
            while !stop.isSet {
                let held = pool.core.channel.roomHeld
                if held > peak.value { peak.increment(by: held - peak.value) }
            }
        }
        sampler.start()
        var results: [MapResult<Int>] = []
        for _ in 0..<8 {
            results.append(try pool.mapAsync(Array(0..<200)) { $0 })
            _ = try pool.applyAsync(1) { $0 }
        }
        for result in results { XCTAssertEqual(try result.get(timeout: generous).count, 200) }
        stop.set()
        pool.close()
        try pool.join()
        XCTAssertLessThanOrEqual(peak.value, limit)
        XCTAssertEqual(pool.core.channel.roomHeld, 0)
    }

    // MARK: 2. Reading statistics during maps of huge chunks

    func testStatisticsAreSafeToReadDuringMapsOfHugeChunks() throws {
        let pool = try Pool(workers: 2)
        let stop = Event()
        let reads = Counter()
        let reader = Thread {
            while !stop.isSet {
                _ = pool.statistics.description
                reads.increment()
            }
        }
        reader.start()
        for _ in 0..<20 {
            XCTAssertEqual(try pool.map(Array(0..<500), chunksize: Int.max) { $0 }.count, 500)
            XCTAssertEqual(try pool.map(Array(0..<500), chunking: .fixed(Int.max)) { $0 }.count, 500)
            XCTAssertEqual(try pool.starmap((0..<500).map { ($0, $0) }, chunksize: Int.max) { $0 + $1 }.count, 500)
        }
        stop.set()
        pool.close()
        try pool.join()
        XCTAssertGreaterThan(reads.value, 0)
    }

    // MARK: 3. imap, then close()

    func testAnIMapWithoutBuffersizeYieldsEverythingAfterClose() throws {
        let pool = try Pool(workers: 2)
        let ordered = try pool.imap(Array(0..<100)) { $0 * 2 }
        let unordered = try pool.imapUnordered(Array(0..<100), chunksize: 7) { $0 * 2 }
        pool.close()
        var values: [Int] = []
        while let value = try ordered.next(timeout: generous) { values.append(value) }
        XCTAssertEqual(values, (0..<100).map { $0 * 2 }, "Python's `pool.close(); for r in it` yields everything")
        var others: [Int] = []
        while let value = try unordered.next(timeout: generous) { others.append(value) }
        XCTAssertEqual(others.sorted(), (0..<100).map { $0 * 2 })
        try pool.join()
    }

    func testJoinAfterCloseDoesNotWaitForAnIMapConsumer() throws {
        let pool = try Pool(workers: 2)
        let iterator = try pool.imap(Array(0..<200), chunksize: 3) { $0 + 1 }
        pool.close()
        try pool.join()  // the items are computed; nobody has read them yet
        XCTAssertEqual(pool.statistics.itemsCompleted, 200)
        var values: [Int] = []
        while let value = try iterator.next(timeout: generous) { values.append(value) }
        XCTAssertEqual(values, Array(1...200), "the results waited in the iterator")
    }

    func testAnIMapWithBuffersizeCutShortByCloseSaysSo() throws {
        let pool = try Pool(workers: 2)
        let read = Counter()
        let iterator = try pool.imap(CountingSequence(counter: read, limit: 10_000), buffersize: 1) { $0 }
        XCTAssertEqual(try iterator.next(timeout: generous), 0)
        pool.close()
        var values = [0]
        XCTAssertThrowsPoolError(.notRunning, try { while let value = try iterator.next(timeout: generous) { values.append(value) } }())
        XCTAssertEqual(values, Array(0..<read.value), "every item read before the close, in order")
        XCTAssertLessThan(read.value, 10_000)
        try pool.join()
    }

    func testAnIMapWithBuffersizeWhoseInputEndedBeforeCloseIsComplete() throws {
        let pool = try Pool(workers: 2)
        let iterator = try pool.imap(Array(0..<5), buffersize: 100) { $0 }
        XCTAssertEqual(try iterator.next(timeout: generous), 0)
        // Wait until the whole input has been read: nothing is cut short by the close.
        XCTAssertTrue(pollUntil { pool.statistics.itemsSubmitted == 5 })
        pool.close()
        var values = [0]
        while let value = try iterator.next(timeout: generous) { values.append(value) }
        XCTAssertEqual(values, Array(0..<5))
        try pool.join()
    }

    // MARK: 4. Releasing the pool (see also PoolLifecycleTests)

    func testReleasingABoundedPoolWithWorkInFlightDeliversEverything() throws {
        var results: [MapResult<Int>] = []
        var applies: [AsyncResult<Int>] = []
        let callbacks = Counter()
        let queue = DispatchQueue(label: "caller")
        let gate = Event()
        do {
            let pool = try Pool(workers: 2, chunking: .guided(minimum: 3), maxQueuedChunks: 16, callbackQueue: queue)
            // Both workers wait at the gate, so everything below is still queued at the release.
            let held = try (0..<2).map { _ in try pool.applyAsync(0) { (x: Int) -> Int in gate.wait(timeout: generous); return x } }
            applies += held
            for i in 0..<6 {
                results.append(try pool.mapAsync(Array(0..<100), { $0 + i }, callback: { _ in callbacks.increment() }))
                applies.append(try pool.applyAsync(i, { $0 * 2 }, callback: { _ in callbacks.increment() }))
            }
        }  // the last handle goes here, with the work still queued
        gate.set()
        for (i, result) in results.enumerated() { XCTAssertEqual(try result.get(timeout: generous), (0..<100).map { $0 + i }) }
        XCTAssertEqual(try applies[0].get(timeout: generous), 0)
        XCTAssertEqual(try applies[1].get(timeout: generous), 0)
        for (i, apply) in applies.dropFirst(2).enumerated() { XCTAssertEqual(try apply.get(timeout: generous), i * 2) }
        XCTAssertTrue(pollUntil { callbacks.value == 12 }, "every callback ran: \(callbacks.value)")
        XCTAssertTrue(pollUntil { poolThreadCount() == 0 })
    }

    // MARK: 5. join() where the callbacks it waits for would have to run

    func testJoinOnTheQueueTheCallbacksTargetIsRefused() throws {
        let queue = DispatchQueue(label: "server")
        let pool = try Pool(workers: 1, callbackQueue: queue)
        let result = try pool.applyAsync(1, { $0 }, callback: { _ in })
        pool.close()
        let outcome = Recorder<PoolError?>()
        let done = Event()
        queue.async {
            do { try pool.join(); outcome.append(nil) } catch { outcome.append(error as? PoolError) }
            done.set()
        }
        XCTAssertTrue(done.wait(timeout: generous), "join() on the callbacks' queue deadlocked")
        guard case .invalidArgument(let message)? = outcome.values.first ?? nil else {
            return XCTFail("expected invalidArgument, got \(outcome.values)")
        }
        XCTAssertTrue(message.contains("callbackQueue"), message)
        XCTAssertEqual(try result.get(timeout: generous), 1)
        try pool.join()  // from elsewhere it works
    }

    func testJoinOnTheMainThreadWithMainQueueCallbacksIsRefused() throws {
        XCTAssertTrue(Thread.isMainThread, "XCTest runs tests on the main thread")
        let pool = try Pool(workers: 1, callbackQueue: .main)
        pool.close()
        XCTAssertInvalidArgument("callbackQueue", try pool.join())
        let joined = Event()
        Thread.detachNewThread {
            try? pool.join()
            joined.set()
        }
        XCTAssertTrue(joined.wait(timeout: generous))
    }

    func testAnotherPoolsTargetQueueDoesNotRefuseJoin() throws {
        let queue = DispatchQueue(label: "other")
        let other = try Pool(workers: 1, callbackQueue: queue)
        let pool = try Pool(workers: 1)
        pool.close()
        let failed = Recorder<String>()
        let done = Event()
        queue.async {
            do { try pool.join() } catch { failed.append("\(error)") }
            done.set()
        }
        XCTAssertTrue(done.wait(timeout: generous))
        XCTAssertEqual(failed.values, [])
        other.close()
        try other.join()
    }

    // MARK: 6. Values smaller than their stride through every coder

    func testValuesSmallerThanTheirStrideCrossEveryCodec() throws {
        for codec in [TaskCodec.binary, .json, .passthrough, .custom(PropertyListTaskCoder())] {
            let pool = try Pool(workers: 2, codec: codec)
            XCTAssertEqual(try pool.apply(UInt64?.some(7)) { $0.map { $0 + 1 } }, 8, "\(codec)")
            XCTAssertEqual(try pool.apply(Bool?.some(true)) { $0 }, true, "\(codec)")
            XCTAssertEqual(try pool.apply(Int8?.none) { $0 }, nil, "\(codec)")
            XCTAssertEqual(try pool.map([UInt64?.some(1), nil, 3]) { $0 }, [1, nil, 3], "\(codec)")
            XCTAssertEqual(try pool.starmap([(Bool?.some(false), UInt16?.some(9))]) { a, b in b.map { $0 + (a == false ? 1 : 0) } }, [10], "\(codec)")
            pool.close()
            try pool.join()
        }
    }

    // MARK: 7. Collections that lie about their count

    func testACollectionThatEndsBeforeItsCountFailsTheMapNamingBothNumbers() throws {
        for chunking in [ChunkingStrategy.cpython, .fixed(1), .guided(minimum: 2), .adaptive(target: .milliseconds(1))] {
            let pool = try Pool(workers: 2, chunking: chunking, maxQueuedChunks: 4)
            let short = LyingCollection(count: 100, yields: 37)
            let result = try pool.mapAsync(short) { $0 }
            XCTAssertThrowsError(try result.get(timeout: generous), "\(chunking)") { error in
                guard case .invalidArgument(let message)? = error as? PoolError else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains("37") && message.contains("100"), message)
            }
            // A short read racing with chunks that finish meanwhile: the job may only finish with the
            // failure (the random stress caught it finishing as a success with unfilled slots).
            for _ in 0..<50 {
                XCTAssertThrowsError(try pool.map(LyingCollection(count: 60, yields: 31), chunksize: 3) { $0 }, "\(chunking)")
            }
            // The workers are free, the room is back, and the counts add up.
            XCTAssertEqual(try pool.map(Array(0..<10)) { $0 }, Array(0..<10))
            pool.close()
            try pool.join()
            let statistics = pool.statistics
            XCTAssertEqual(statistics.itemsSubmitted, statistics.itemsCompleted + statistics.itemsFailed + statistics.itemsCancelled, "\(statistics)")
            XCTAssertEqual(pool.core.channel.roomHeld, 0)
        }
    }

    func testACollectionThatYieldsMoreThanItsCountIsReadUpToItsCount() throws {
        let pool = try Pool(workers: 2)
        XCTAssertEqual(try pool.map(LyingCollection(count: 20, yields: 1000), chunksize: 3) { $0 }, Array(0..<20))
        XCTAssertEqual(try pool.map(LyingCollection(count: 0, yields: 5)) { $0 }, [])
        pool.close()
        try pool.join()
    }

    // MARK: 8. A broken initializer and submitters waiting for room

    func testSubmittersWaitingForRoomGetBrokenWhenTheInitializerThrows() throws {
        let start = Event()
        let pool = try Pool(workers: 1, maxQueuedChunks: 1, initializer: {
            start.wait(timeout: generous)
            throw TestError.boom(7)
        })
        let first = try pool.applyAsync(1) { $0 }  // takes the only room
        let outcome = Recorder<PoolError?>()
        let done = Event()
        Thread.detachNewThread {
            do { _ = try pool.applyAsync(2) { $0 }; outcome.append(nil) } catch { outcome.append(error as? PoolError) }
            done.set()
        }
        XCTAssertTrue(pollUntil { pool.core.channel.waitingForRoom == 1 })
        start.set()
        XCTAssertTrue(done.wait(timeout: generous))
        guard case .broken(let reason)?? = outcome.values.first else { return XCTFail("\(outcome.values)") }
        XCTAssertTrue(reason.contains("boom"), reason)
        XCTAssertThrowsError(try first.get(timeout: generous)) { XCTAssertEqual(($0 as? PoolError).map { "\($0)" }?.hasPrefix("PoolError.broken"), true) }
        try pool.join()
    }

    // MARK: 9. Long finite timeouts

    func testAFiniteTimeoutBeyondInt64NanosecondsNeitherTrapsNorExpires() throws {
        let far = Deadline.after(.seconds(10_000_000_000))
        XCTAssertFalse(far.isDistantFuture)
        XCTAssertGreaterThan(far.remaining, .seconds(1_000_000_000))  // Darwin's timed waits start from this
        let pool = try Pool(workers: 1)
        XCTAssertEqual(try pool.applyAsync(3) { $0 }.get(timeout: .seconds(10_000_000_000)), 3)
        let iterator = try pool.imap([1, 2]) { $0 }
        XCTAssertEqual(try iterator.next(timeout: .seconds(Int64.max)), 1)
        XCTAssertTrue(Event().wait(timeout: .zero) == false)
        pool.close()
        try pool.join()
    }

    // MARK: 10. A chunk whose results fail to encode, next to a body that throws

    func testTheLowestFailingPositionWinsAndItemsThatRanAreNeverCountedCancelled() throws {
        let pool = try Pool(workers: 1, codec: .binary)
        // Item 2's result cannot be encoded; item 5's body throws; the chunk holds items 0..<10.
        let result = try pool.mapAsync(Array(0..<10), chunksize: 10) { (x: Int) -> RefusingResult in
            if x == 5 { throw TestError.boom(5) }
            return RefusingResult(value: x, failsToEncode: x == 2)
        }
        XCTAssertThrowsError(try result.get(timeout: generous)) { error in
            guard case .encodingFailed(let message)? = error as? PoolError else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("RefusingResult"), message)
            XCTAssertTrue((error as? PoolError)?.underlyingError is EncodingError, "the codec's own error stays reachable")
        }
        // And the other way round: the body's error is at the lower position.
        let other = try pool.mapAsync(Array(0..<10), chunksize: 10) { (x: Int) -> RefusingResult in
            if x == 1 { throw TestError.boom(1) }
            return RefusingResult(value: x, failsToEncode: x == 0)
        }
        XCTAssertThrowsError(try other.get(timeout: generous)) { error in
            guard case .encodingFailed? = error as? PoolError else { return XCTFail("item 0's encoding failure is first: \(error)") }
        }
        let third = try pool.mapAsync(Array(0..<10), chunksize: 10) { (x: Int) -> RefusingResult in
            if x == 1 { throw TestError.boom(1) }
            return RefusingResult(value: x, failsToEncode: x == 3)
        }
        XCTAssertThrowsError(try third.get(timeout: generous)) { XCTAssertEqual($0 as? TestError, .boom(1)) }
        pool.close()
        try pool.join()
        let statistics = pool.statistics
        // First map: 0, 1, 3, 4 ran and crossed (completed); 2 (encoding) and 5 (body) failed; 6-9 never ran.
        // Second: 0 failed to encode, 1 threw; 2-9 never ran. Third: 0 completed, 1 threw; 2-9 never ran.
        XCTAssertEqual(statistics.itemsCompleted, 4 + 0 + 1, "\(statistics)")
        XCTAssertEqual(statistics.itemsFailed, 2 + 2 + 1, "\(statistics)")
        XCTAssertEqual(statistics.itemsCancelled, 4 + 8 + 8, "\(statistics)")
        XCTAssertEqual(statistics.itemsSubmitted, 30)
    }

    // MARK: Helpers

    /// Runs a submission on another thread and fails (instead of hanging) if it does not return.
    private func submitWithin<R: Sendable>(_ timeout: Duration, _ submit: @escaping @Sendable () throws -> R) throws -> R {
        let box = LockedBox.make(Result<R, any Error>?.none)
        let done = Event()
        Thread.detachNewThread {
            let outcome = Result { try submit() }
            box.withLockedValue { $0 = outcome }
            done.set()
        }
        guard done.wait(timeout: timeout), let outcome = box.withLockedValue({ $0 }) else {
            XCTFail("the submission blocked for \(timeout): the pool's room was never given back")
            throw PoolError.timeout
        }
        return try outcome.get()
    }
}

/// A sizer that cuts odd sizes: 1, 3, 5, ... 19, then again.
struct OddSizer: ChunkSizer {
    private var next = 1
    mutating func nextChunkSize(remaining: Int?) -> Int {
        defer { next = next >= 19 ? 1 : next + 2 }
        return next
    }
}

/// A collection whose `count` says one thing and whose iteration another (a buggy user type);
/// with `yields == count`, an honest collection that is not an array. A `counter`, if given,
/// counts the items its iterators hand out.
struct LyingCollection: Collection, Sendable {
    let count: Int
    let yields: Int
    var counter: Counter? = nil

    var startIndex: Int { 0 }
    var endIndex: Int { count }
    func index(after i: Int) -> Int { i + 1 }
    subscript(position: Int) -> Int { position }

    struct Iterator: IteratorProtocol {
        let yields: Int
        let counter: Counter?
        var position = 0
        mutating func next() -> Int? {
            guard position < yields else { return nil }
            defer { position += 1 }
            counter?.increment()
            return position
        }
    }

    func makeIterator() -> Iterator { Iterator(yields: yields, counter: counter) }
}

/// A result that refuses to encode when asked to.
struct RefusingResult: Codable, Sendable, Equatable {
    let value: Int
    let failsToEncode: Bool

    func encode(to encoder: any Encoder) throws {
        if failsToEncode {
            throw EncodingError.invalidValue(value, .init(codingPath: encoder.codingPath, debugDescription: "refused on purpose"))
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(value, forKey: .value)
        try container.encode(failsToEncode, forKey: .failsToEncode)
    }
}
