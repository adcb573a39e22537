import Foundation
import XCTest
@testable import WorkerPool

/// A stand-in job: counts what the iterator tells it.
private final class FakeJob: IMapFeedback, @unchecked Sendable {
    let consumed = Counter()
    let cancelled = Counter()
    func consumedChunk() { consumed.increment() }
    func cancel() { cancelled.increment() }
}

private enum Outcome: Equatable, Sendable {
    case value(Int)
    case failure(Int)
}

/// The consumer side of an imap: several consumers on one stream (threads and tasks), the chunk
/// being consumed read item by item, what the job is told, cancellation and shutdown mid-stream.
final class IMapConsumerTests: PoolTestCase {
    /// Several threads (and tasks) share one stream: every position comes out exactly once, a
    /// failure at its own position, in increasing order per consumer for imap, with a read-ahead
    /// window of one chunk (a lost consumedChunk would hang).
    func testConcurrentConsumersShareOneStreamExactlyOnce() throws {
        let n = 600
        try withPool(workers: 2) { pool in
            for round in 0..<30 {
                for ordered in [true, false] {
                    let chunksize = [1, 3, 7][round % 3]
                    let body: @Sendable (Int) throws -> Int = { x in
                        if x % 11 == 0 { throw TestError.boom(x) }
                        return x
                    }
                    let iterator = ordered
                        ? try pool.imap(CountingSequence(counter: Counter(), limit: n), chunksize: chunksize, buffersize: 1, body)
                        : try pool.imapUnordered(CountingSequence(counter: Counter(), limit: n), chunksize: chunksize, buffersize: 1, body)
                    let consumers = 4
                    let seen = (0..<consumers).map { _ in Recorder<Outcome>() }
                    let errors = Recorder<String>()
                    let done = (0..<consumers).map { _ in Event() }
                    for c in 0..<consumers {
                        Thread.detachNewThread {
                            defer { done[c].set() }
                            while true {
                                do {
                                    guard let v = try iterator.next(timeout: generous) else { return }
                                    seen[c].append(.value(v))
                                } catch TestError.boom(let x) {
                                    seen[c].append(.failure(x))
                                } catch {
                                    errors.append("\(error)")
                                    return
                                }
                            }
                        }
                    }
                    for event in done { XCTAssertTrue(event.wait(timeout: generous), "a consumer hung") }
                    XCTAssertEqual(errors.values, [])
                    let all = seen.flatMap(\.values)
                    let positions = all.map { o -> Int in
                        switch o {
                        case .value(let x): XCTAssertNotEqual(x % 11, 0); return x
                        case .failure(let x): XCTAssertEqual(x % 11, 0); return x
                        }
                    }
                    XCTAssertEqual(positions.sorted(), Array(0..<n), "ordered \(ordered) chunksize \(chunksize)")
                    if ordered {
                        for s in seen {
                            let p = s.values.map { o -> Int in if case .value(let x) = o { return x }; if case .failure(let x) = o { return x }; return -1 }
                            XCTAssertEqual(p, p.sorted())
                        }
                    }
                }
            }
        }
    }

    /// Async consumers and a thread share one stream with a window of one chunk.
    func testAsyncAndThreadConsumersTogether() async throws {
        let n = 2000
        let pool = try Pool(workers: 2)
        for ordered in [true, false] {
            let body: @Sendable (Int) throws -> Int = { x in
                if x % 13 == 5 { throw TestError.boom(x) }
                return x
            }
            let iterator = ordered
                ? try pool.imap(CountingSequence(counter: Counter(), limit: n), chunksize: 5, buffersize: 1, body)
                : try pool.imapUnordered(CountingSequence(counter: Counter(), limit: n), chunksize: 5, buffersize: 1, body)
            let threadSeen = Recorder<Int>()
            let threadDone = Event()
            Thread.detachNewThread {
                defer { threadDone.set() }
                while true {
                    do {
                        guard let v = try iterator.next(timeout: generous) else { return }
                        threadSeen.append(v)
                    } catch TestError.boom(let x) {
                        threadSeen.append(x)
                    } catch {
                        threadSeen.append(-1_000_000)
                        return
                    }
                }
            }
            let taskSeen = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        var got: [Int] = []
                        var it = iterator.makeAsyncIterator()
                        while true {
                            do {
                                guard let v = try await it.next() else { return got }
                                got.append(v)
                            } catch TestError.boom(let x) {
                                got.append(x)
                            }
                        }
                    }
                }
                var all: [Int] = []
                for try await part in group { all += part }
                return all
            }
            let fired = await awaitEvent(threadDone)
            XCTAssertTrue(fired)
            XCTAssertEqual((taskSeen + threadSeen.values).sorted(), Array(0..<n))
        }
        pool.close()
        try await pool.joined()
    }

    /// An iterator driven by hand, its job a stand-in. Chunks: [F0, 1, F2], [3, 4], [F5], [6, 7]
    /// (F: a failure). The first item of a chunk goes the slow way (`nextStep`), the others the
    /// inlined fast step, and a chunk's last item is a failure in chunk 0, a value in chunk 1 (the
    /// fast step must tell the job), alone in chunk 2, and after the job detached in chunk 3.
    private func handDrivenIterator(ordered: Bool, pool: Pool) -> (IMapIterator<Int>, FakeJob) {
        let iterator = IMapIterator<Int>(ordered: ordered, core: pool.core)
        let job = FakeJob()
        iterator.attach(job)
        iterator.deliver(ChunkResults(values: [1], failures: [ItemFailure(index: 0, error: TestError.boom(0)), ItemFailure(index: 2, error: TestError.boom(2))], count: 3), index: 0)
        iterator.deliver(ChunkResults(values: [3, 4], failures: [], count: 2), index: 1)
        iterator.deliver(ChunkResults(values: [], failures: [ItemFailure(index: 0, error: TestError.boom(5))], count: 1), index: 2)
        iterator.deliver(ChunkResults(values: [6, 7], failures: [], count: 2), index: 3)
        iterator.setTotal(4, items: 8, endedEarly: false)
        return (iterator, job)
    }

    private let handDrivenOutcomes: [Outcome] = [.failure(0), .value(1), .failure(2), .value(3), .value(4), .failure(5), .value(6), .value(7)]
    /// The chunks the job was told of after each item: once per chunk, never after it detached
    /// (after the seventh item).
    private let handDrivenConsumed = [0, 0, 1, 1, 2, 3, 3, 3]

    /// Driven by hand with `next(timeout:)`: one consumedChunk per chunk, failures at their
    /// positions (first, middle, last of a chunk), none after the job detached.
    func testConsumedChunkOncePerChunkAndFailurePositions() throws {
        let pool = try Pool(workers: 1)
        defer { pool.close(); try? pool.join() }
        for ordered in [true, false] {
            let (iterator, job) = handDrivenIterator(ordered: ordered, pool: pool)
            var got: [Outcome] = []
            var consumedAfter: [Int] = []
            for _ in 0..<8 {
                do { got.append(.value(try iterator.next(timeout: .zero)!)) }
                catch TestError.boom(let x) { got.append(.failure(x)) }
                consumedAfter.append(job.consumed.value)
                if got.count == 7 { iterator.detachJob() }
            }
            XCTAssertEqual(got, handDrivenOutcomes)
            XCTAssertEqual(consumedAfter, handDrivenConsumed)
            XCTAssertNil(try iterator.next(timeout: .zero))
            XCTAssertNil(try iterator.next(timeout: .zero))
        }
    }

    /// The same, through the `AsyncIterator`, whose fast step is its own inlined copy.
    func testConsumedChunkOncePerChunkWhenAwaited() async throws {
        let pool = try Pool(workers: 1)
        for ordered in [true, false] {
            let (iterator, job) = handDrivenIterator(ordered: ordered, pool: pool)
            var results = iterator.makeAsyncIterator()
            var got: [Outcome] = []
            var consumedAfter: [Int] = []
            for _ in 0..<8 {
                do { got.append(.value(try await results.next()!)) }
                catch TestError.boom(let x) { got.append(.failure(x)) }
                consumedAfter.append(job.consumed.value)
                if got.count == 7 { iterator.detachJob() }
            }
            XCTAssertEqual(got, handDrivenOutcomes)
            XCTAssertEqual(consumedAfter, handDrivenConsumed)
            let end = try await results.next()
            XCTAssertNil(end)
        }
        pool.close()
        try await pool.joined()
    }

    /// A cancelled task still gets the items of the chunk being consumed (as before), then
    /// CancellationError when it would wait, and, being the only waiter, cancels the job.
    func testCancelledTaskMidChunk() async throws {
        let pool = try Pool(workers: 1)
        let iterator = IMapIterator<Int>(ordered: true, core: pool.core)
        let job = FakeJob()
        iterator.attach(job)
        iterator.deliver(ChunkResults(values: [10, 11, 12], failures: [], count: 3), index: 0)
        let started = Event()
        let go = Event()
        let task = Task { () -> [String] in
            var it = iterator.makeAsyncIterator()
            var log: [String] = []
            log.append("\(try await it.next()!)")
            started.set()
            _ = await awaitEvent(go)
            XCTAssertTrue(Task.isCancelled)
            do {
                while let v = try await it.next() { log.append("\(v)") }
                log.append("nil")
            } catch {
                log.append("\(type(of: error))")
            }
            return log
        }
        let s = await awaitEvent(started)
        XCTAssertTrue(s)
        task.cancel()
        go.set()
        let log = try await task.value
        XCTAssertEqual(log, ["10", "11", "12", "CancellationError"])
        XCTAssertEqual(job.consumed.value, 1)
        XCTAssertEqual(job.cancelled.value, 1)
        pool.close()
        try await pool.joined()
    }

    /// close() (buffersize) and terminate() with several consumers mid-stream: each ends with the
    /// stream's error after the items computed, none hangs, nothing is duplicated.
    func testCloseAndTerminateWithSeveralConsumers() throws {
        for terminate in [false, true] {
            for _ in 0..<10 {
                let pool = try Pool(workers: 2)
                let read = Counter()
                let iterator = try pool.imap(CountingSequence(counter: read, limit: nil), chunksize: 4, buffersize: 2) { $0 }
                let consumers = 3
                let seen = (0..<consumers).map { _ in Recorder<Int>() }
                let endings = Recorder<String>()
                let started = (0..<consumers).map { _ in Event() }
                let done = (0..<consumers).map { _ in Event() }
                for c in 0..<consumers {
                    Thread.detachNewThread {
                        defer { done[c].set() }
                        do {
                            while let v = try iterator.next(timeout: generous) {
                                seen[c].append(v)
                                if seen[c].values.count == 20 { started[c].set() }
                            }
                            endings.append("nil")
                        } catch {
                            endings.append("\(error)")
                        }
                    }
                }
                for e in started { XCTAssertTrue(e.wait(timeout: generous)) }
                if terminate { pool.terminate() } else { pool.close() }
                for e in done { XCTAssertTrue(e.wait(timeout: generous), "a consumer hung") }
                try pool.join()
                let all = seen.flatMap(\.values).sorted()
                XCTAssertEqual(all, Array(0..<all.count), "duplicated or lost")
                if !terminate { XCTAssertEqual(all.count, read.value) }
                XCTAssertEqual(endings.values.count, consumers)
                XCTAssertTrue(endings.values.allSatisfy { $0 == (terminate ? "\(PoolError.terminated)" : "\(PoolError.notRunning)") }, "\(endings.values)")
            }
        }
    }
}
