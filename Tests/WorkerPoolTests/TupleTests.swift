import Foundation
import XCTest
@testable import WorkerPool

/// A user's own `TaskCoder`: JSON with sorted keys, written here as a user would write one.
struct SortedJSONCoder: TaskCoder {
    var name: String { "sorted-json" }
    func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try encoder.encode(value)
    }
    func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T { try JSONDecoder().decode(type, from: data) }
}

/// Every codec a tuple must cross: the built-in three, the library's property-list coder and a
/// coder written in the tests.
let everyCodec: [TaskCodec] = [.binary, .json, .passthrough, .custom(PropertyListTaskCoder()), .custom(SortedJSONCoder())]

/// Drains an iterator, recording each item's value or error in order.
func drainOutcomes<R>(_ iterator: IMapIterator<R>) -> [Result<R, any Error>] {
    var outcomes: [Result<R, any Error>] = []
    while true {
        do {
            guard let value = try iterator.next(timeout: generous) else { return outcomes }
            outcomes.append(.success(value))
        } catch {
            outcomes.append(.failure(error))
        }
    }
}

/// Takes any value, as `print` does, and keeps its description.
final class AnySink: @unchecked Sendable {  // `box` is guarded by its own lock
    private let box = LockedBox.make([String]())
    func take(_ value: Any) {
        let text = String(describing: value)
        box.withLockedValue { $0.append(text) }
    }
    var descriptions: [String] { box.withLockedValue { $0 } }
}

final class TupleResultTests: PoolTestCase {
    func testApplyReturnsTuplesThroughEveryCodec() throws {
        for codec in everyCodec {
            try withPool(workers: 2, codec: codec) { pool in
                let (quotient, remainder) = try pool.apply(17) { ($0 / 5, $0 % 5) }
                XCTAssertEqual(quotient, 3, "\(codec)")
                XCTAssertEqual(remainder, 2, "\(codec)")
                let triple = try pool.apply("abc") { ($0, $0.count, [$0.uppercased()]) }
                XCTAssertEqual(triple.0, "abc")
                XCTAssertEqual(triple.1, 3)
                XCTAssertEqual(triple.2, ["ABC"])

                let called = Recorder<String>()
                let result = try pool.applyAsync(Record(id: 1, name: "r", score: 0.5)) { ($0.name, $0.score * 2) } callback: {
                    called.append("\($0.0) \($0.1)")
                }
                let value = try result.get(timeout: generous)
                XCTAssertEqual(value.0, "r")
                XCTAssertEqual(value.1, 1.0)
                XCTAssertEqual(called.values, ["r 1.0"], "the callback ran before get() returned")
                XCTAssertTrue(try result.isSuccessful)
            }
        }
    }

    func testMapStarmapAndImapReturnTuplesThroughEveryCodec() throws {
        let words = ["the", "cat", "sat", "on", "the", "mat"]
        for codec in everyCodec {
            try withPool(workers: 2, codec: codec) { pool in
                let pairs = try pool.map(words, chunksize: 2) { ($0, 1) }
                XCTAssertEqual(pairs.map(\.0), words, "\(codec)")
                XCTAssertEqual(pairs.map(\.1), Array(repeating: 1, count: words.count))

                let called = Recorder<Int>()
                let lengths = try pool.mapAsync(words) { ($0.count, $0, Double($0.count) / 2) } callback: { called.append($0.count) }
                let got = try lengths.get(timeout: generous)
                XCTAssertEqual(got.map(\.0), words.map(\.count))
                XCTAssertEqual(got.map(\.1), words)
                XCTAssertEqual(got.map(\.2), words.map { Double($0.count) / 2 })
                XCTAssertEqual(called.values, [words.count])

                let swapped = try pool.starmap([(1, "a"), (2, "b"), (3, "c")], chunksize: 2) { n, s in (s, n * 10) }
                XCTAssertEqual(swapped.map(\.0), ["a", "b", "c"])
                XCTAssertEqual(swapped.map(\.1), [10, 20, 30])
                let star = try pool.starmapAsync([(1, 2.5, "x")]) { n, d, s in (s + "\(n)", d) }.get(timeout: generous)
                XCTAssertEqual(star.map(\.0), ["x1"])
                XCTAssertEqual(star.map(\.1), [2.5])

                let ordered = try pool.imap(0..<20, chunksize: 3) { ($0, String($0)) }
                let inOrder = drainOutcomes(ordered).map { try! $0.get() }
                XCTAssertEqual(inOrder.map(\.0), Array(0..<20))
                XCTAssertEqual(inOrder.map(\.1), (0..<20).map(String.init))

                let unordered = try pool.imapUnordered(0..<20, buffersize: 1) { ($0, $0 * $0) }
                let anyOrder = drainOutcomes(unordered).map { try! $0.get() }.sorted { $0.0 < $1.0 }
                XCTAssertEqual(anyOrder.map(\.0), Array(0..<20))
                XCTAssertEqual(anyOrder.map(\.1), (0..<20).map { $0 * $0 })
            }
        }
    }

    func testTupleJobsInFlightWhileWorkersAreReplaced() throws {
        // Worker replacement (`maxTasksPerWorker: 1`) with every tuple form in flight at once, on
        // a bounded pool, with callbacks on a caller's queue: every result arrives, once, right.
        let callbacks = DispatchQueue(label: "tuple-replacement-callbacks")
        for codec in [TaskCodec.binary, .passthrough, .json] {
            let pool = try Pool(workers: 2, maxTasksPerWorker: 1, codec: codec, maxQueuedChunks: 3, callbackQueue: callbacks)
            let called = Counter()
            let applies = try (0..<20).map { i in
                try pool.applyAsync(i) { ($0, String($0), $0 * 2) } callback: { _ in called.increment() }
            }
            let map = try pool.mapAsync(Array(0..<50), chunksize: 3) { ($0, $0 % 7) } callback: { _ in called.increment() }
            let star = try pool.starmapAsync((0..<30).map { ($0, "s\($0)") }, chunksize: 4) { n, s in (s, n + 1) }
            let stream = try pool.imap(0..<40, chunksize: 5) { ($0, -$0) }
            for (i, result) in applies.enumerated() {
                let value = try result.get(timeout: generous)
                XCTAssertEqual(value.0, i, "\(codec)")
                XCTAssertEqual(value.1, String(i))
                XCTAssertEqual(value.2, i * 2)
            }
            let mapped = try map.get(timeout: generous)
            XCTAssertEqual(mapped.map(\.0), Array(0..<50), "\(codec)")
            XCTAssertEqual(mapped.map(\.1), (0..<50).map { $0 % 7 })
            let starred = try star.get(timeout: generous)
            XCTAssertEqual(starred.map(\.0), (0..<30).map { "s\($0)" })
            XCTAssertEqual(starred.map(\.1), Array(1...30))
            let streamed = drainOutcomes(stream).map { try! $0.get() }
            XCTAssertEqual(streamed.map(\.0), Array(0..<40))
            XCTAssertEqual(streamed.map(\.1), (0..<40).map { -$0 })
            pool.close()
            try pool.join()
            XCTAssertEqual(called.value, 21, "\(codec): each callback exactly once")
            let statistics = pool.statistics
            XCTAssertGreaterThan(statistics.workerRestarts, 10, "\(codec): workers were replaced while tuple jobs were in flight")
            XCTAssertEqual(statistics.itemsSubmitted, 140)
            XCTAssertEqual(statistics.itemsCompleted, 140)
            XCTAssertEqual(statistics.jobsInCache, 0)
        }
    }

    func testCallbacksOfThreeAndFourElementResultsAreClosureLiterals() throws {
        // These closure literals crashed the compiler (signal 11) before the fixed-arity overloads.
        try withPool(workers: 2) { pool in
            let seen = Recorder<String>()
            let three = try pool.applyAsync(7) { ($0, String($0), $0 * 2) } callback: { seen.append("3: \($0.0) \($0.1) \($0.2)") }
            let four = try pool.applyAsync(8) { ($0, "x", 0.5, [$0]) } callback: { a, b, c, d in seen.append("4: \(a) \(b) \(c) \(d)") }
            XCTAssertEqual(try three.get(timeout: generous).1, "7")
            XCTAssertEqual(try four.get(timeout: generous).3, [8])
            XCTAssertEqual(Set(seen.values), ["3: 7 7 14", "4: 8 x 0.5 [8]"], "each callback ran before its result was ready")
        }
    }

    func testSingleExpressionCallbacksThatTakeAnyTypeCheckAndRunOnce() throws {
        // `{ sink.take($0.count) }` hands a value to an `Any` parameter, as `{ print($0.count) }`
        // does: on the variadic forms alone this failed to type-check ("'(Int, Int)' cannot conform
        // to 'Decodable'").
        let sink = AnySink()
        try withPool(workers: 2, maxQueuedChunks: 4) { pool in
            let pair = try pool.applyAsync(3) { ($0, $0 * 2) } callback: { sink.take($0.1) }
            let rows = try pool.mapAsync(["a", "bb", "ccc"], chunksize: 1) { ($0, $0.count) } callback: { sink.take($0.count) }
            let triples = try pool.mapAsync([1, 2]) { ($0, $0 + 1, [$0]) } callback: { sink.take($0.map(\.2)) }
            let spread = try pool.starmapAsync([(1, "x"), (2, "y")]) { n, s in (s, n) } callback: { sink.take($0.map(\.0)) }
            let spreadTriples = try pool.starmapAsync([(1, 2)], chunksize: 1) { a, b in (a, b, a + b) } callback: { sink.take($0[0].2) }
            XCTAssertEqual(try pair.get(timeout: generous).1, 6)
            XCTAssertEqual(try rows.get(timeout: generous).map(\.1), [1, 2, 3])
            XCTAssertEqual(try triples.get(timeout: generous).map(\.2), [[1], [2]])
            XCTAssertEqual(try spread.get(timeout: generous).map(\.0), ["x", "y"])
            XCTAssertEqual(try spreadTriples.get(timeout: generous)[0].2, 3)
        }
        XCTAssertEqual(Set(sink.descriptions), ["6", "3", "[[1], [2]]", "[\"x\", \"y\"]", "3"])
        XCTAssertEqual(sink.descriptions.count, 5, "each callback exactly once")
    }

    func testAwaitedSingleExpressionCallbacksThatTakeAnyTypeCheckAndRunOnce() async throws {
        let sink = AnySink()
        let pool = try Pool(workers: 2)
        let pair = try await pool.applyAsync(3) { ($0, $0 * 2) } callback: { sink.take($0.0) }
        let rows = try await pool.mapAsync(["a", "bb"]) { ($0, $0.count) } callback: { sink.take($0.count) }
        let spread = try await pool.starmapAsync([(1, 2)]) { a, b in (a, b, a * b) } callback: { sink.take($0[0].2) }
        let pairValue = try await pair.value
        let rowsValue = try await rows.value
        let spreadValue = try await spread.value
        XCTAssertEqual(pairValue.0, 3)
        XCTAssertEqual(rowsValue.map(\.1), [1, 2])
        XCTAssertEqual(spreadValue[0].2, 2)
        XCTAssertEqual(sink.descriptions.sorted(), ["2", "2", "3"])
        pool.close()
        try await pool.joined()
    }

    func testAnEmptyMapOfTuplesIsReadyAtOnce() throws {
        try withPool(workers: 2) { pool in
            let called = Recorder<Int>()
            let result = try pool.mapAsync([Int]()) { ($0, $0) } callback: { called.append($0.count) }
            XCTAssertEqual(try result.get(timeout: generous).count, 0)
            XCTAssertEqual(called.values, [0])
        }
    }

    func testErrorsSurfaceAtTheirPosition() throws {
        try withPool(workers: 2) { pool in
            XCTAssertThrowsError(try pool.apply(4) { (x: Int) -> (Int, Int) in throw TestError.boom(x) }) {
                XCTAssertEqual($0 as? TestError, .boom(4))
            }
            let failed = Recorder<TestError>()
            let result = try pool.applyAsync(5, { (x: Int) -> (Int, String) in throw TestError.boom(x) },
                                             errorCallback: { failed.append($0 as! TestError) })
            XCTAssertThrowsError(try result.get(timeout: generous)) { XCTAssertEqual($0 as? TestError, .boom(5)) }
            XCTAssertEqual(failed.values, [.boom(5)])
            XCTAssertFalse(try result.isSuccessful)

            XCTAssertThrowsError(try pool.map(Array(0..<40), chunksize: 4) { (x: Int) -> (Int, Int) in
                if x == 7 { throw TestError.boom(x) }
                return (x, x)
            }) { XCTAssertEqual($0 as? TestError, .boom(7)) }
            XCTAssertThrowsError(try pool.starmap([(1, 1), (2, 2)]) { (a: Int, b: Int) -> (Int, Int) in
                if a == 2 { throw TestError.boom(a + b) }
                return (a, b)
            }) { XCTAssertEqual($0 as? TestError, .boom(4)) }

            let iterator = try pool.imap(Array(0..<10), chunksize: 3) { (x: Int) -> (Int, Int) in
                if x == 3 || x == 5 { throw TestError.boom(x) }
                return (x, -x)
            }
            let outcomes = drainOutcomes(iterator)
            XCTAssertEqual(outcomes.count, 10)
            for (position, outcome) in outcomes.enumerated() {
                switch outcome {
                case .success(let value):
                    XCTAssertFalse([3, 5].contains(position))
                    XCTAssertEqual(value.0, position)
                case .failure(let error):
                    XCTAssertEqual(error as? TestError, .boom(position))
                }
            }
        }
    }

    func testAnElementThatCannotCrossFailsOnlyItsItem() throws {
        for codec in [TaskCodec.binary, .json, .custom(PropertyListTaskCoder()), .custom(SortedJSONCoder())] {
            try withPool(workers: 2, codec: codec) { pool in
                XCTAssertThrowsError(try pool.apply(13) { ($0, Fragile(value: $0)) }) {
                    XCTAssertTrue(isEncodingFailure($0), "\(codec): \($0)")
                }
                XCTAssertThrowsError(try pool.applyAsync(13) { ("x", Fragile(value: $0)) }.get(timeout: generous)) {
                    XCTAssertTrue(isEncodingFailure($0), "\(codec): \($0)")
                }
                XCTAssertThrowsError(try pool.map(Array(0..<30), chunksize: 5) { ($0, Fragile(value: $0)) }) { error in
                    guard case .encodingFailed(let message)? = error as? PoolError else { return XCTFail("\(codec): \(error)") }
                    XCTAssertTrue(message.contains("result of type (Int, Fragile)"), message)
                }
                let outcomes = drainOutcomes(try pool.imap(Array(0..<30), chunksize: 5) { (Fragile(value: $0), $0) })
                XCTAssertEqual(outcomes.count, 30)
                for (position, outcome) in outcomes.enumerated() {
                    switch outcome {
                    case .success(let value): XCTAssertEqual(value.1, position)
                    case .failure(let error):
                        XCTAssertEqual(position, 13, "only the item whose result failed")
                        XCTAssertTrue(isEncodingFailure(error), "\(error)")
                    }
                }
                // An argument element that cannot cross fails only its item too.
                let arguments = (0..<20).lazy.map { ($0, Fragile(value: $0)) }
                let spread = drainOutcomes(try pool.imap(arguments, chunksize: 4) { n, fragile in n + fragile.value })
                XCTAssertEqual(spread.count, 20)
                for (position, outcome) in spread.enumerated() {
                    switch outcome {
                    case .success(let value): XCTAssertEqual(value, 2 * position)
                    case .failure(let error):
                        XCTAssertEqual(position, 13)
                        XCTAssertTrue(isEncodingFailure(error), "\(error)")
                    }
                }
                XCTAssertEqual(try pool.apply(1) { ($0, $0 + 1) }.1, 2, "the pool goes on")
            }
        }
    }

    func testCancellingATupleApplyCancelsItsTask() throws {
        try withPool(workers: 1) { pool in
            let gate = Event()
            let started = Event()
            let blocker = try pool.applyAsync(0) { (x: Int) -> Int in
                started.set()
                gate.wait(timeout: generous)
                return x
            }
            XCTAssertTrue(started.wait(timeout: generous))
            let ran = Counter()
            let failed = Recorder<Bool>()
            let queued = try pool.applyAsync(1, { (x: Int) -> (Int, Int) in ran.increment(); return (x, x) },
                                             errorCallback: { failed.append($0 is CancellationError) })
            queued.cancel()
            XCTAssertThrowsError(try queued.get(timeout: generous)) { XCTAssertTrue($0 is CancellationError, "\($0)") }
            XCTAssertEqual(failed.values, [true])
            gate.set()
            XCTAssertEqual(try blocker.get(timeout: generous), 0)
            XCTAssertEqual(try pool.apply(2) { ($0, $0) }.0, 2)
            XCTAssertEqual(ran.value, 0, "the cancelled task never ran")
        }
    }

    func testTerminateFailsAPendingTupleApply() throws {
        let pool = try Pool(workers: 1)
        let gate = Event()
        let started = Event()
        _ = try pool.applyAsync(0) { (x: Int) -> Int in
            started.set()
            gate.wait(timeout: generous)
            return x
        }
        XCTAssertTrue(started.wait(timeout: generous))
        let queued = try pool.applyAsync(1) { ($0, $0) }
        pool.terminate()
        XCTAssertThrowsPoolError(.terminated, try queued.get(timeout: generous))
        gate.set()
        try pool.join()
        XCTAssertThrowsPoolError(.notRunning, try pool.applyAsync(1) { ($0, $0) })
    }

    func testAwaitApplyReturnsATuple() async throws {
        let pool = try Pool(workers: 2)
        let (a, b) = try await pool.apply(6) { ($0 * 7, "x") }
        XCTAssertEqual(a, 42)
        XCTAssertEqual(b, "x")
        pool.close()
        try await pool.joined()
    }

    func testAwaitApplyAsyncReturnsATuple() async throws {
        let pool = try Pool(workers: 2)
        let viaResult = try await pool.applyAsync(2) { ($0, $0 * 2) }.value
        XCTAssertEqual(viaResult.1, 4)
        pool.close()
        try await pool.joined()
    }

    func testAwaitMapReturnsTuples() async throws {
        let pool = try Pool(workers: 2)
        let mapped = try await pool.map([1, 2, 3]) { ($0, $0 * $0) }
        XCTAssertEqual(mapped.map(\.1), [1, 4, 9])
        let mappedLater = try await pool.mapAsync([1, 2, 3]) { ($0, String($0)) }.value
        XCTAssertEqual(mappedLater.map(\.1), ["1", "2", "3"])
        do {
            _ = try await pool.map([1, 2, 3]) { (x: Int) -> (Int, Int) in
                if x == 2 { throw TestError.boom(x) }
                return (x, x)
            }
            XCTFail("no error")
        } catch TestError.boom(let x) {
            XCTAssertEqual(x, 2)
        }
        pool.close()
        try await pool.joined()
    }

    func testAwaitStarmapReturnsTuples() async throws {
        let pool = try Pool(workers: 2)
        let star = try await pool.starmap([(1, 2), (3, 4)]) { x, y in (x + y, x * y) }
        XCTAssertEqual(star.map(\.0), [3, 7])
        XCTAssertEqual(star.map(\.1), [2, 12])
        let starLater = try await pool.starmapAsync([(1, "a")]) { n, s in (s, n) }.value
        XCTAssertEqual(starLater.map(\.0), ["a"])
        pool.close()
        try await pool.joined()
    }

    func testCancellingAnAwaitedTupleApplyCancelsItsTask() async throws {
        let pool = try Pool(workers: 1)
        let gate = Event()
        let started = Event()
        let blocker = try await pool.applyAsync(0) { (x: Int) -> Int in
            started.set()
            gate.wait(timeout: generous)
            return x
        }
        let didStart = await awaitEvent(started)
        XCTAssertTrue(didStart)
        let ran = Counter()
        let task = Task { try await pool.apply(1) { (x: Int) -> (Int, Int) in ran.increment(); return (x, x) } }
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("the cancelled await returned")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        gate.set()
        let unblocked = try await blocker.value
        XCTAssertEqual(unblocked, 0)
        pool.close()
        try await pool.joined()
        XCTAssertEqual(ran.value, 0, "the cancelled task never ran")
    }

    func testImapOfTuplesIsAnAsyncSequence() async throws {
        let pool = try Pool(workers: 2)
        var streamed: [Int] = []
        for try await (x, square) in try pool.imap(0..<10, { ($0, $0 * $0) }) {
            XCTAssertEqual(square, x * x)
            streamed.append(x)
        }
        XCTAssertEqual(streamed, Array(0..<10))
        var spread: [String] = []
        for try await text in try pool.imap([(1, "a"), (2, "b")], { n, s in "\(s)\(n)" }) {
            spread.append(text)
        }
        XCTAssertEqual(spread, ["a1", "b2"])
        pool.close()
        try await pool.joined()
    }
}

final class TupleArgumentTests: PoolTestCase {
    func testImapSpreadsTuplesThroughEveryCodec() throws {
        for codec in everyCodec {
            try withPool(workers: 2, codec: codec) { pool in
                let rows = (0..<25).map { ($0, "row", Double($0) / 4) }
                let ordered = drainOutcomes(try pool.imap(rows, chunksize: 4) { y, name, scale in "\(name)\(y):\(scale)" })
                XCTAssertEqual(ordered.map { try! $0.get() }, rows.map { "\($0.1)\($0.0):\($0.2)" }, "\(codec)")
                let unordered = drainOutcomes(try pool.imapUnordered(rows.map { ($0.0, $0.0) }) { a, b in a + b })
                XCTAssertEqual(unordered.map { try! $0.get() }.sorted(), (0..<25).map { 2 * $0 })
            }
        }
    }

    func testImapSpreadsTuplesAndReturnsTuplesThroughEveryCodec() throws {
        for codec in everyCodec {
            try withPool(workers: 2, codec: codec) { pool in
                // The Mandelbrot shape: (y, n) in, (y, row) out, in completion order, put back in place.
                let n = 12
                let rows = drainOutcomes(try pool.imapUnordered((0..<n).lazy.map { ($0, n) }) { y, n in
                    (y, [UInt8](repeating: UInt8(y), count: n))
                })
                var ordered = [[UInt8]?](repeating: nil, count: n)
                for row in rows.map({ try! $0.get() }) { ordered[row.0] = row.1 }
                XCTAssertEqual(ordered, (0..<n).map { [UInt8](repeating: UInt8($0), count: n) }, "\(codec)")
                let inOrder = drainOutcomes(try pool.imap([(1, "a"), (2, "b")], chunksize: 2) { n, s in (s, n, [n]) })
                XCTAssertEqual(inOrder.map { try! $0.get().0 }, ["a", "b"])
                XCTAssertEqual(inOrder.map { try! $0.get().2 }, [[1], [2]])
            }
        }
    }

    func testImapReadsATupleInputLazilyAndBoundedlyAhead() throws {
        let workers = 2, buffersize = 2
        try withPool(workers: workers) { pool in
            for chunksize in [1, 5] {
                let read = Counter()
                // An endless input of tuples, as Python's generator of `(y, width)` rows.
                let rows = CountingSequence(counter: read, limit: nil).lazy.map { ($0, 10) }
                let iterator = try pool.imap(rows, chunksize: chunksize, buffersize: buffersize) { y, width in y * width }
                for consumed in 1...100 {
                    XCTAssertEqual(try iterator.next(timeout: generous), (consumed - 1) * 10)
                    let bound = consumed + (workers + buffersize + 1) * chunksize
                    XCTAssertLessThanOrEqual(read.value, bound, "read \(read.value) after consuming \(consumed)")
                }
                iterator.cancel()
            }
        }
    }

    func testImapOfTuplesErrorsAtTheirPosition() throws {
        try withPool(workers: 2) { pool in
            let outcomes = drainOutcomes(try pool.imap((0..<12).map { ($0, $0 % 4) }, chunksize: 3) { (x: Int, m: Int) -> Int in
                if m == 0 { throw TestError.boom(x) }
                return x
            })
            XCTAssertEqual(outcomes.count, 12)
            for (position, outcome) in outcomes.enumerated() {
                switch outcome {
                case .success(let value): XCTAssertEqual(value, position)
                case .failure(let error): XCTAssertEqual(error as? TestError, .boom(position))
                }
            }
        }
    }

    func testBadArgumentsNameTheArgument() throws {
        try withPool(workers: 2) { pool in
            XCTAssertInvalidArgument("chunksize", try pool.imap([(1, 2)], chunksize: 0) { a, b in a + b })
            XCTAssertInvalidArgument("buffersize", try pool.imapUnordered([(1, 2)], buffersize: 0) { a, b in a + b })
            XCTAssertInvalidArgument("chunksize", try pool.map([1], chunksize: 0) { ($0, $0) })
            XCTAssertInvalidArgument("chunksize", try pool.starmap([(1, 2)], chunksize: -1) { a, b in (a, b) })
            XCTAssertInvalidArgument("buffersize", try pool.imap([1], buffersize: 0) { ($0, $0) })
        }
    }

    func testAClosedPoolRefusesTheTupleForms() throws {
        let pool = try Pool(workers: 1)
        pool.close()
        XCTAssertThrowsPoolError(.notRunning, try pool.imap([(1, 2)]) { a, b in a + b })
        XCTAssertThrowsPoolError(.notRunning, try pool.mapAsync([1]) { ($0, $0) })
        XCTAssertThrowsPoolError(.notRunning, try pool.starmapAsync([(1, 2)]) { a, b in (a, b) })
        try pool.join()
    }
}

final class WorkerNameTests: PoolTestCase {
    func testCurrentWorkerNameIsTheThreadsName() throws {
        XCTAssertNil(Pool.currentWorkerName, "nil off the workers")
        try withPool(workers: 2) { pool in
            let (name, id) = try pool.apply(0) { _ in (Pool.currentWorkerName ?? "none", Pool.currentWorkerID ?? -1) }
            XCTAssertEqual(name, "WPool.\(id)")
            XCTAssertTrue(threadNames().contains(name), "\(name) not among \(threadNames())")
            let callbackName = Recorder<String?>()
            _ = try pool.applyAsync(0, { $0 }, callback: { _ in callbackName.append(Pool.currentWorkerName) }).get(timeout: generous)
            XCTAssertEqual(callbackName.values, [nil], "callbacks never run on a worker")
        }
    }

    func testTheInitializerSeesItsWorkersName() throws {
        let names = Recorder<String?>()
        try withPool(workers: 2, initializer: { names.append(Pool.currentWorkerName) }) { pool in
            _ = try pool.map(Array(0..<4), chunksize: 1) { $0 }
        }
        XCTAssertEqual(names.values.count, 2)
        for name in names.values {
            XCTAssertTrue(name?.hasPrefix("WPool.") == true, "\(String(describing: name))")
        }
        XCTAssertEqual(Set(names.values).count, 2, "one name per worker")
    }
}
