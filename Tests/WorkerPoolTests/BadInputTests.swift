import Foundation
import XCTest
@testable import WorkerPool

/// Every argument of every public call with its bad values, each with the outcome that
/// `docs/reliability.md` documents. Each row's `call` and `input` appear in that page's table
/// (checked by `testEveryRowIsDocumented`), so the page and the behaviour cannot drift apart.
final class BadInputTests: PoolTestCase {
    /// What a row expects.
    enum Outcome: Equatable, CustomStringConvertible {
        /// `PoolError.invalidArgument` whose message names the argument.
        case invalid(String)
        /// Exactly this `PoolError`.
        case error(PoolError)
        /// `ChannelError.closed`.
        case channelClosed
        /// No error; the call returned this value (described).
        case value(String)

        var description: String {
            switch self {
            case .invalid(let argument): return "invalidArgument naming \(argument)"
            case .error(let error): return "\(error)"
            case .channelClosed: return "ChannelError.closed"
            case .value(let value): return "value \(value)"
            }
        }
    }

    struct Row {
        let call: String
        let input: String
        let expected: Outcome
        let run: () throws -> String
    }

    /// Runs `row` and reduces what happened to an `Outcome` comparable with the expected one.
    private func outcome(of row: Row) -> Outcome {
        do {
            return .value(try row.run())
        } catch let error as PoolError {
            if case .invalidArgument(let message) = error, case .invalid(let argument) = row.expected,
               message.contains(argument) {
                return .invalid(argument)
            }
            return .error(error)
        } catch ChannelError.closed {
            return .channelClosed
        } catch {
            return .value("threw \(error)")
        }
    }

    private func check(_ rows: [Row], file: StaticString = #filePath, line: UInt = #line) {
        for row in rows {
            let got = outcome(of: row)
            XCTAssertEqual(got, row.expected, "\(row.call) with \(row.input): expected \(row.expected), got \(got)",
                           file: file, line: line)
        }
    }

    /// Pool and withPool configuration.
    static func configurationRows() -> [Row] {
        func made(_ make: @escaping () throws -> Pool) -> () throws -> String {
            { let pool = try make(); pool.terminate(); try pool.join(); return "a pool" }
        }
        return [
            Row(call: "Pool(workers:)", input: "0", expected: .invalid("workers"), run: made { try Pool(workers: 0) }),
            Row(call: "Pool(workers:)", input: "-1", expected: .invalid("workers"), run: made { try Pool(workers: -1) }),
            Row(call: "Pool(workers:)", input: "4097", expected: .invalid("workers"), run: made { try Pool(workers: 4097) }),
            Row(call: "Pool(maxTasksPerWorker:)", input: "0", expected: .invalid("maxTasksPerWorker"),
                run: made { try Pool(workers: 1, maxTasksPerWorker: 0) }),
            Row(call: "Pool(maxTasksPerWorker:)", input: "-5", expected: .invalid("maxTasksPerWorker"),
                run: made { try Pool(workers: 1, maxTasksPerWorker: -5) }),
            Row(call: "Pool(maxQueuedChunks:)", input: "0", expected: .invalid("maxQueuedChunks"),
                run: made { try Pool(workers: 1, maxQueuedChunks: 0) }),
            Row(call: "Pool(maxQueuedChunks:)", input: "-1", expected: .invalid("maxQueuedChunks"),
                run: made { try Pool(workers: 1, maxQueuedChunks: -1) }),
            Row(call: "Pool(chunking:)", input: ".fixed(0)", expected: .invalid("chunking"),
                run: made { try Pool(workers: 1, chunking: .fixed(0)) }),
            Row(call: "Pool(chunking:)", input: ".guided(minimum: 0)", expected: .invalid("chunking"),
                run: made { try Pool(workers: 1, chunking: .guided(minimum: 0)) }),
            Row(call: "Pool(chunking:)", input: ".adaptive(target: .zero)", expected: .invalid("chunking"),
                run: made { try Pool(workers: 1, chunking: .adaptive(target: .zero)) }),
            Row(call: "Pool(chunking:)", input: ".adaptive(target: -1 s)", expected: .invalid("chunking"),
                run: made { try Pool(workers: 1, chunking: .adaptive(target: .seconds(-1))) }),
            Row(call: "Pool(chunking:)", input: ".factoring(minimum: 0)", expected: .invalid("chunking"),
                run: made { try Pool(workers: 1, chunking: .factoring(minimum: 0)) }),
            Row(call: "Pool(chunking:)", input: ".trapezoid(last: 0)", expected: .invalid("chunking"),
                run: made { try Pool(workers: 1, chunking: .trapezoid(last: 0)) }),
            Row(call: "Pool(chunking:)", input: ".trapezoid(first: 2, last: 5)", expected: .invalid("chunking"),
                run: made { try Pool(workers: 1, chunking: .trapezoid(first: 2, last: 5)) }),
            Row(call: "Pool(chunking:)", input: ".measuredFixed(probes: 1)", expected: .invalid("chunking"),
                run: made { try Pool(workers: 1, chunking: .measuredFixed(probes: 1)) }),
            Row(call: "withPool(workers:)", input: "0", expected: .invalid("workers"),
                run: { try withPool(workers: 0) { _ in "ran" } }),
        ]
    }

    /// The map family on a running pool of two workers.
    static func mapRows(_ pool: Pool) -> [Row] {
        let huge = Int.max
        return [
            Row(call: "map", input: "chunksize: 0", expected: .invalid("chunksize"),
                run: { "\(try pool.map([1, 2], chunksize: 0) { $0 })" }),
            Row(call: "map", input: "chunksize: -1", expected: .invalid("chunksize"),
                run: { "\(try pool.map([1, 2], chunksize: -1) { $0 })" }),
            Row(call: "map", input: "chunksize: Int.max", expected: .value("[2, 4, 6]"),
                run: { "\(try pool.map([1, 2, 3], chunksize: huge) { $0 * 2 })" }),
            Row(call: "map", input: "chunking: .fixed(-1)", expected: .invalid("chunking"),
                run: { "\(try pool.map([1], chunking: .fixed(-1)) { $0 })" }),
            Row(call: "map", input: "chunking: .fixed(Int.max)", expected: .value("[2, 4, 6]"),
                run: { "\(try pool.map([1, 2, 3], chunking: .fixed(huge)) { $0 * 2 })" }),
            Row(call: "map", input: "chunking: .factoring(minimum: -1)", expected: .invalid("chunking"),
                run: { "\(try pool.map([1], chunking: .factoring(minimum: -1)) { $0 })" }),
            Row(call: "map", input: "chunking: .factoring(minimum: Int.max)", expected: .value("[2, 4, 6]"),
                run: { "\(try pool.map([1, 2, 3], chunking: .factoring(minimum: huge)) { $0 * 2 })" }),
            Row(call: "map", input: "chunking: .trapezoid(first: Int.max)", expected: .value("[2, 4, 6]"),
                run: { "\(try pool.map([1, 2, 3], chunking: .trapezoid(first: huge)) { $0 * 2 })" }),
            Row(call: "map", input: "chunking: .measuredFixed(probes: 0)", expected: .invalid("chunking"),
                run: { "\(try pool.map([1], chunking: .measuredFixed(probes: 0)) { $0 })" }),
            Row(call: "map", input: "chunking: .measuredFixed(probes: Int.max)", expected: .value("[2, 4, 6]"),
                run: { "\(try pool.map([1, 2, 3], chunking: .measuredFixed(probes: huge)) { $0 * 2 })" }),
            Row(call: "map", input: "empty input", expected: .value("[]"),
                run: { "\(try pool.map([Int]()) { $0 })" }),
            Row(call: "map", input: "empty lazy input", expected: .value("[]"),
                run: { "\(try pool.map((0..<10).lazy.filter { $0 > 100 }) { $0 })" }),
            Row(call: "map", input: "a collection whose iteration ends before its count", expected: .invalid("count"),
                run: { "\(try pool.map(LyingCollection(count: 10, yields: 3)) { $0 })" }),
            Row(call: "map", input: "a collection whose iteration goes past its count", expected: .value("[0, 1, 2]"),
                run: { "\(try pool.map(LyingCollection(count: 3, yields: 10)) { $0 })" }),
            Row(call: "mapAsync", input: "chunksize: 0", expected: .invalid("chunksize"),
                run: { "\(try pool.mapAsync([1], chunksize: 0) { $0 })" }),
            Row(call: "mapAsync", input: "empty input", expected: .value("[], callback got []"),
                run: {
                    let seen = Recorder<[Int]>()
                    let result = try pool.mapAsync([Int]()) { $0 } callback: { seen.append($0) }
                    return "\(try result.get(timeout: generous)), callback got \(seen.values.map { "\($0)" }.joined(separator: " and "))"
                }),
            Row(call: "starmap", input: "chunksize: 0", expected: .invalid("chunksize"),
                run: { "\(try pool.starmap([(1, 2)], chunksize: 0) { $0 + $1 })" }),
            Row(call: "starmap", input: "empty input", expected: .value("[]"),
                run: { "\(try pool.starmap([(Int, Int)]()) { $0 + $1 })" }),
            Row(call: "starmapAsync", input: "chunking: .guided(minimum: -3)", expected: .invalid("chunking"),
                run: { "\(try pool.starmapAsync([(1, 2)], chunking: .guided(minimum: -3)) { $0 + $1 })" }),
            Row(call: "imap", input: "chunksize: 0", expected: .invalid("chunksize"),
                run: { "\(try pool.imap([1], chunksize: 0) { $0 })" }),
            Row(call: "imap", input: "buffersize: 0", expected: .invalid("buffersize"),
                run: { "\(try pool.imap([1], buffersize: 0) { $0 })" }),
            Row(call: "imap", input: "buffersize: -1", expected: .invalid("buffersize"),
                run: { "\(try pool.imap([1], buffersize: -1) { $0 })" }),
            Row(call: "imap", input: "chunksize: Int.max", expected: .value("[1, 2, 3]"),
                run: { try drain(pool.imap([1, 2, 3], chunksize: huge) { $0 }) }),
            Row(call: "imap", input: "buffersize: Int.max", expected: .value("[1, 2, 3]"),
                run: { try drain(pool.imap([1, 2, 3], buffersize: huge) { $0 }) }),
            Row(call: "imap", input: "empty input", expected: .value("[]"),
                run: { try drain(pool.imap([Int]()) { $0 }) }),
            Row(call: "imapUnordered", input: "chunking: .adaptive(target: .zero)", expected: .invalid("chunking"),
                run: { "\(try pool.imapUnordered([1], chunking: .adaptive(target: .zero)) { $0 })" }),
            Row(call: "imap", input: "chunking: .trapezoid(first: 0)", expected: .invalid("chunking"),
                run: { "\(try pool.imap([1], chunking: .trapezoid(first: 0)) { $0 })" }),
            Row(call: "imapUnordered", input: "empty input", expected: .value("[]"),
                run: { try drain(pool.imapUnordered([Int]()) { $0 }) }),
            Row(call: "custom ChunkSizer", input: "returns 0, -7 or Int.max", expected: .value("[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"),
                run: {
                    let wild = ChunkingStrategy.custom(name: "wild") { _ in WildSizer() }
                    let mapped = try pool.map(Array(0..<10), chunking: wild) { $0 }
                    let streamed = try drain(pool.imap(Array(0..<10), chunking: wild) { $0 })
                    return mapped.description == streamed ? streamed : "map \(mapped) imap \(streamed)"
                }),
        ]
    }

    /// Timeouts of zero and negative durations, on results that are and are not ready.
    static func timeoutRows(pending: AsyncResult<Int>, ready: AsyncResult<Int>, iterator: IMapIterator<Int>) -> [Row] {
        [
            Row(call: "AsyncResult.get(timeout:)", input: ".zero, not ready", expected: .error(.timeout),
                run: { "\(try pending.get(timeout: .zero))" }),
            Row(call: "AsyncResult.get(timeout:)", input: "-1 s, not ready", expected: .error(.timeout),
                run: { "\(try pending.get(timeout: .seconds(-1)))" }),
            Row(call: "AsyncResult.get(timeout:)", input: ".zero, ready", expected: .value("42"),
                run: { "\(try ready.get(timeout: .zero))" }),
            Row(call: "AsyncResult.get(timeout:)", input: "-1 s, ready", expected: .value("42"),
                run: { "\(try ready.get(timeout: .seconds(-1)))" }),
            Row(call: "AsyncResult.wait(timeout:)", input: "-1 s, not ready", expected: .value("false"),
                run: { "\(pending.wait(timeout: .seconds(-1)))" }),
            Row(call: "AsyncResult.isSuccessful", input: "not ready", expected: .error(.notReady),
                run: { "\(try pending.isSuccessful)" }),
            Row(call: "IMapIterator.next(timeout:)", input: ".zero, nothing arrived", expected: .error(.timeout),
                run: { "\(String(describing: try iterator.next(timeout: .zero)))" }),
            Row(call: "IMapIterator.next(timeout:)", input: "-1 s, nothing arrived", expected: .error(.timeout),
                run: { "\(String(describing: try iterator.next(timeout: .seconds(-1))))" }),
        ]
    }

    /// Channel and Event.
    static func primitiveRows() throws -> [Row] {
        let empty = try Channel<Int>()
        let closed = try Channel<Int>()
        closed.close()
        let unset = Event()
        let set = Event()
        set.set()
        return [
            Row(call: "Channel(capacity:)", input: "0", expected: .invalid("capacity"), run: { "\(try Channel<Int>(capacity: 0))" }),
            Row(call: "Channel(capacity:)", input: "-3", expected: .invalid("capacity"), run: { "\(try Channel<Int>(capacity: -3))" }),
            Row(call: "Channel.receive(timeout:)", input: ".zero, empty", expected: .error(.timeout),
                run: { "\(String(describing: try empty.receive(timeout: .zero)))" }),
            Row(call: "Channel.receive(timeout:)", input: "-1 s, empty", expected: .error(.timeout),
                run: { "\(String(describing: try empty.receive(timeout: .seconds(-1))))" }),
            Row(call: "Channel.receive(timeout:)", input: ".zero, closed and drained", expected: .value("nil"),
                run: { "\(String(describing: try closed.receive(timeout: .zero)))" }),
            Row(call: "Channel.send", input: "after close()", expected: .channelClosed, run: { try closed.send(1); return "sent" }),
            Row(call: "Event.wait(timeout:)", input: "-5 s, not set", expected: .value("false"), run: { "\(unset.wait(timeout: .seconds(-5)))" }),
            Row(call: "Event.wait(timeout:)", input: "-5 s, set", expected: .value("true"), run: { "\(set.wait(timeout: .seconds(-5)))" }),
        ]
    }

    /// Every submitting call on a closed pool, and join misuse.
    static func lifecycleRows(closed: Pool, running: Pool) -> [Row] {
        [
            Row(call: "apply", input: "after close()", expected: .error(.notRunning), run: { "\(try closed.apply(1) { $0 })" }),
            Row(call: "applyAsync", input: "after close()", expected: .error(.notRunning), run: { "\(try closed.applyAsync(1) { $0 })" }),
            Row(call: "map", input: "after close()", expected: .error(.notRunning), run: { "\(try closed.map([1]) { $0 })" }),
            Row(call: "map", input: "empty input after close()", expected: .error(.notRunning), run: { "\(try closed.map([Int]()) { $0 })" }),
            Row(call: "mapAsync", input: "after close()", expected: .error(.notRunning), run: { "\(try closed.mapAsync([1]) { $0 })" }),
            Row(call: "starmap", input: "after close()", expected: .error(.notRunning), run: { "\(try closed.starmap([(1, 2)]) { $0 + $1 })" }),
            Row(call: "starmapAsync", input: "after close()", expected: .error(.notRunning),
                run: { "\(try closed.starmapAsync([(1, 2)]) { $0 + $1 })" }),
            Row(call: "imap", input: "after close()", expected: .error(.notRunning), run: { "\(try closed.imap([1]) { $0 })" }),
            Row(call: "imapUnordered", input: "after close()", expected: .error(.notRunning),
                run: { "\(try closed.imapUnordered([1]) { $0 })" }),
            Row(call: "join", input: "before close() or terminate()", expected: .error(.stillRunning), run: { try running.join(); return "joined" }),
            Row(call: "join", input: "from one of the pool's workers", expected: .invalid("join"),
                run: { try running.apply(0) { _ in try running.join(); return "joined" } }),
        ]
    }

    func testConfiguration() {
        check(Self.configurationRows())
    }

    func testMapFamily() throws {
        try withPool(workers: 2) { pool in check(Self.mapRows(pool)) }
    }

    func testTimeouts() throws {
        try withPool(workers: 1) { pool in
            let release = Event()
            let ready = try pool.applyAsync(21) { $0 * 2 }
            XCTAssertEqual(try ready.get(timeout: generous), 42)
            let pending = try pool.applyAsync(1) { (x: Int) -> Int in release.wait(timeout: generous); return x }
            let iterator = try pool.imap([1]) { $0 }  // queued behind `pending` on the only worker
            check(Self.timeoutRows(pending: pending, ready: ready, iterator: iterator))
            release.set()
            XCTAssertEqual(try pending.get(timeout: generous), 1)
            XCTAssertEqual(try iterator.next(timeout: generous), 1, "a timed-out iterator stays usable")
        }
    }

    func testChannelAndEvent() throws {
        check(try Self.primitiveRows())
    }

    func testLifecycle() throws {
        let closed = try Pool(workers: 1)
        closed.close()
        let running = try Pool(workers: 1)
        check(Self.lifecycleRows(closed: closed, running: running))
        try closed.join()
        running.close()
        try running.join()
        try running.join()  // idempotent
    }

    func testAsyncCallsOnAClosedPool() async throws {
        let pool = try Pool(workers: 1)
        pool.close()
        do { _ = try await pool.apply(1) { $0 }; XCTFail("async apply ran") } catch { XCTAssertEqual(error as? PoolError, .notRunning) }
        do { _ = try await pool.map([1]) { $0 }; XCTFail("async map ran") } catch { XCTAssertEqual(error as? PoolError, .notRunning) }
        do { _ = try await pool.starmap([(1, 2)]) { $0 + $1 }; XCTFail("async starmap ran") } catch {
            XCTAssertEqual(error as? PoolError, .notRunning)
        }
        try await pool.joined()
    }

    func testAsyncBadArguments() async throws {
        let pool = try Pool(workers: 1)
        do { _ = try await pool.map([1], chunksize: 0) { $0 }; XCTFail("took chunksize 0") } catch {
            guard case .invalidArgument(let message)? = error as? PoolError else { return XCTFail("got \(error)") }
            XCTAssertTrue(message.contains("chunksize"), message)
        }
        do { _ = try await pool.starmap([(1, 2)], chunking: .fixed(0)) { $0 + $1 }; XCTFail("took .fixed(0)") } catch {
            guard case .invalidArgument(let message)? = error as? PoolError else { return XCTFail("got \(error)") }
            XCTAssertTrue(message.contains("chunking"), message)
        }
        let empty: [Int] = try await pool.map([Int]()) { $0 }
        XCTAssertEqual(empty, [])
        pool.close()
        try await pool.joined()
    }

    /// Each row's call and input appear together on one line of the table in docs/reliability.md.
    func testEveryRowIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let page = try String(contentsOf: root.appendingPathComponent("docs/reliability.md"), encoding: .utf8)
        let lines = page.split(separator: "\n").filter { $0.hasPrefix("|") }
        // The rows are only built here, not run: their closures capture a pool, a result and an
        // iterator, and this test reads only their `call` and `input`.
        let pool = try Pool(workers: 1)
        let result = try pool.applyAsync(1) { $0 }
        let iterator = try pool.imap([1]) { $0 }
        let rows = Self.configurationRows() + Self.mapRows(pool) + (try Self.primitiveRows())
            + Self.lifecycleRows(closed: pool, running: pool)
            + Self.timeoutRows(pending: result, ready: result, iterator: iterator)
        XCTAssertGreaterThan(rows.count, 50)
        for row in rows {
            let documented = lines.contains { $0.contains("`\(row.call)`") && $0.contains(row.input) }
            XCTAssertTrue(documented, "docs/reliability.md has no table line with `\(row.call)` and \(row.input)")
        }
        XCTAssertEqual(try drain(iterator), "[1]")
        pool.close()
        try pool.join()
    }
}

/// Drains an iterator into a description of its values.
private func drain(_ iterator: IMapIterator<Int>) throws -> String {
    var values: [Int] = []
    while let value = try iterator.next(timeout: generous) { values.append(value) }
    return "\(values)"
}

/// A user sizer that asks for nonsense: 0, then negative, then Int.max. The pool clamps each to
/// at least 1 and at most what is left.
private struct WildSizer: ChunkSizer {
    private var calls = 0
    mutating func nextChunkSize(remaining: Int?) -> Int {
        calls += 1
        return [0, -7, Int.max][calls % 3]
    }
}
